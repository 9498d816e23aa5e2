// No open handles once the provider's promise settles: a child process that fetches once (or
// fails once) and does nothing else must exit by itself, with no timer or socket keeping it up.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { spawn } from 'node:child_process'
import path from 'node:path'
import { startMock, packageDir } from './mock.mjs'

// The child is killed if it outlives this (that only stops a hung child; the assertion is that it
// exited by itself, with its own status).
const HANG_GUARD_MS = 20000

function runScript(source, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', source], {
      cwd: packageDir,
      env: { PATH: process.env.PATH, HOME: '/nonexistent', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let stdout = ''
    child.stdout.on('data', (d) => (stdout += d))
    const guard = setTimeout(() => child.kill('SIGKILL'), HANG_GUARD_MS)
    child.on('error', reject)
    child.on('exit', (status, signal) => {
      clearTimeout(guard)
      resolve({ status, signal, stdout })
    })
  })
}

const FETCH_ONCE = `
const { fromInstanceMetadata } = require(${JSON.stringify(path.join(packageDir, 'lib', 'index.js'))})
fromInstanceMetadata({ endpoint: process.env.ENDPOINT, timeout: 0.3, attempts: 1 })().then(
  (c) => console.log('ok ' + c.accessKeyId),
  (e) => console.log('error ' + e.code),
)
`

test('the process exits by itself after a successful fetch', async (t) => {
  const mock = await startMock({})
  t.after(() => mock.stop())
  const result = await runScript(FETCH_ONCE, { ENDPOINT: mock.endpoint })
  assert.deepEqual(result, { status: 0, signal: null, stdout: 'ok ASIAMOCKEXAMPLE00001\n' })
})

test('the process exits by itself after a timeout (no timer or socket left)', async (t) => {
  const mock = await startMock({ responses: [{ path: '/latest/meta-data/iam/security-credentials/demo-role', delay_ms: 5000, times: 0 }] })
  t.after(() => mock.stop())
  const result = await runScript(FETCH_ONCE, { ENDPOINT: mock.endpoint })
  assert.deepEqual(result, { status: 0, signal: null, stdout: 'error timeout\n' })
})

test('the process exits by itself after a refused connection', async () => {
  const result = await runScript(FETCH_ONCE, { ENDPOINT: 'http://127.0.0.1:9' })
  assert.deepEqual(result, { status: 0, signal: null, stdout: 'error connect_failed\n' })
})
