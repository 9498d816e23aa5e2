// Test helpers: start `imds-mock` (the test kit's loopback mock IMDS) as a child process with a
// JSON script, read its port from its first line, and read back the requests it logged.

import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import net from 'node:net'
import { EventEmitter } from 'node:events'
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

// Temporary directories this test process made and has not removed yet: removed on exit too, so
// that a test that fails before its own clean-up runs leaves nothing behind in the temp dir.
const liveDirs = new Set()
process.on('exit', () => {
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true })
})

/** A new directory under the temp dir, removed by `removeTempDir` (or when the process exits). */
export function makeTempDir(prefix) {
  const dir = mkdtempSync(path.join(tmpdir(), prefix))
  liveDirs.add(dir)
  return dir
}

/** Removes a directory `makeTempDir` made, with everything in it. */
export function removeTempDir(dir) {
  rmSync(dir, { recursive: true, force: true })
  liveDirs.delete(dir)
}

/**
 * Starts a mock serving `script` (see tests/src/script.rs) on 127.0.0.1 (or `bind`).
 * Resolves with `{endpoint, port, requests(), stop()}`.
 */
export async function startMock(script = {}, { bind = '127.0.0.1' } = {}) {
  const dir = makeTempDir('imds-node-test-')
  const log = path.join(dir, 'requests.jsonl')
  let child
  let first
  try {
    child = spawn(mockBinary(), ['--bind', bind, '--script-json', JSON.stringify(script), '--log', log, '--until-stdin-closes'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    })
    const lines = createInterface({ input: child.stdout })
    first = await new Promise((resolve, reject) => {
      lines.once('line', resolve)
      child.once('error', reject)
      child.once('exit', (code) => reject(new Error(`imds-mock exited with ${code} before listening`)))
    })
    lines.close()
  } catch (error) {
    if (child) child.kill('SIGKILL')
    removeTempDir(dir)
    throw error
  }
  const match = /^listening (.*):(\d+)$/.exec(first)
  if (!match) {
    child.kill('SIGKILL')
    removeTempDir(dir)
    throw new Error(`unexpected first line from imds-mock: ${first}`)
  }
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
      try {
        child.stdin.end()
        await exited
      } finally {
        removeTempDir(dir)
      }
    },
  }
}

/**
 * A loopback TCP forwarder to `port` (the mock) whose client-side sockets the test can see and
 * close: `{endpoint, sockets, accepted(), events, close()}`. `sockets` holds the open ones,
 * oldest first; `events` emits `close` whenever one of them closes.
 */
export async function startForwarder(port) {
  const sockets = []
  const events = new EventEmitter()
  let accepted = 0
  const server = net.createServer((client) => {
    accepted += 1
    sockets.push(client)
    const upstream = net.connect({ host: '127.0.0.1', port })
    client.pipe(upstream).pipe(client)
    client.on('error', () => upstream.destroy())
    upstream.on('error', () => client.destroy())
    client.on('close', () => {
      upstream.destroy()
      sockets.splice(sockets.indexOf(client), 1)
      events.emit('close')
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    endpoint: `http://127.0.0.1:${server.address().port}`,
    sockets,
    accepted: () => accepted,
    events,
    close() {
      for (const socket of sockets) socket.destroy()
      return new Promise((resolve) => server.close(resolve))
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

/** A port on 127.0.0.1 where nothing listens (connections to it are refused). */
export async function closedPort() {
  const server = net.createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

/**
 * Runs `node ...args` with only `env` (plus PATH, and HOME unless `env` sets it) in `cwd`, and
 * resolves with `{status, stdout, stderr}` once it has exited.
 */
export function runNode(args, { env = {}, cwd } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd,
      env: { PATH: process.env.PATH, HOME: '/nonexistent', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (status) => resolve({ status, stdout, stderr }))
  })
}
