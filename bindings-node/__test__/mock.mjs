// Test helpers: start `imds-mock` (the test kit's loopback mock IMDS) as a child process with a
// JSON script, read its port from its first line, and read back the requests it logged.

import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

export const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const repoDir = path.resolve(packageDir, '..')

/** The `imds-mock` binary: `$IMDS_MOCK`, else the cargo target directory's debug build. */
export function mockBinary() {
  if (process.env.IMDS_MOCK) return process.env.IMDS_MOCK
  const targetDir = process.env.CARGO_TARGET_DIR || path.join(repoDir, 'target')
  const binary = path.join(targetDir, 'debug', 'imds-mock')
  if (!existsSync(binary)) {
    throw new Error(`${binary} not found: build it with \`cargo build -p imds-testkit --bin imds-mock\` or set IMDS_MOCK`)
  }
  return binary
}

/**
 * Starts a mock serving `script` (see tests/src/script.rs) on 127.0.0.1 (or `bind`).
 * Resolves with `{endpoint, port, requests(), stop()}`.
 */
export async function startMock(script = {}, { bind = '127.0.0.1' } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'imds-node-test-'))
  const log = path.join(dir, 'requests.jsonl')
  const child = spawn(mockBinary(), ['--bind', bind, '--script-json', JSON.stringify(script), '--log', log, '--until-stdin-closes'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const lines = createInterface({ input: child.stdout })
  const first = await new Promise((resolve, reject) => {
    lines.once('line', resolve)
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`imds-mock exited with ${code} before listening`)))
  })
  lines.close()
  const match = /^listening (.*):(\d+)$/.exec(first)
  if (!match) throw new Error(`unexpected first line from imds-mock: ${first}`)
  const port = Number(match[2])
  const host = bind.includes(':') ? `[${bind}]` : bind
  const exited = new Promise((resolve) => child.once('exit', resolve))
  return {
    port,
    endpoint: `http://${host}:${port}`,
    /** Every request the mock answered so far: `{connection, method, path, token_sent, ttl, status}`. */
    requests() {
      if (!existsSync(log)) return []
      return readFileSync(log, 'utf8')
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => JSON.parse(line))
    },
    /** `METHOD path` of every request, in order. */
    summary() {
      return this.requests().map((r) => `${r.method} ${r.path}`)
    },
    async stop() {
      child.stdin.end()
      await exited
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** The three requests of a full IMDSv2 credentials exchange for `role`. */
export function fullExchange(role = 'demo-role') {
  return [
    'PUT /latest/api/token',
    'GET /latest/meta-data/iam/security-credentials/',
    `GET /latest/meta-data/iam/security-credentials/${role}`,
  ]
}

/** An environment with no IMDS settings and no config file, so only explicit options count. */
export function cleanEnv(extra = {}) {
  return { AWS_CONFIG_FILE: path.join(packageDir, '__test__', 'no-such-config-file'), ...extra }
}
