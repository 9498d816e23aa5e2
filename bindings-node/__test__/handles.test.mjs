// No open handles once the provider's promise settles: a child process that fetches once (or
// fails once, or fetches twice on a kept connection) and does nothing else must exit by itself,
// with no timer or socket keeping it up.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { spawn } from 'node:child_process'
import path from 'node:path'
import { createRequire } from 'node:module'
import { startMock, packageDir } from './mock.mjs'

const { IDLE_MS } = createRequire(import.meta.url)('../lib/driver.js')

// The child is killed if it outlives this: before the idle period after which the driver closes a
// kept connection (IDLE_MS) would end, so a child held by that connection or its timer until then
// fails (killed, not exited by itself with its own status). That is the only bound on time here.
const HANG_GUARD_MS = IDLE_MS - 1000

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

// Two fetches, the second on the connection the first kept (the clock puts the credentials inside
// the refresh window, so the second call makes a request). The kept connection and its idle timer
// must not hold the process: it exits at once, not when the idle period closes the connection.
const FETCH_TWICE = `
const { fromInstanceMetadata } = require(${JSON.stringify(path.join(packageDir, 'lib', 'index.js'))})
const wall = Date.parse('2030-01-01T00:00:00Z') - 60000
const provider = fromInstanceMetadata({ endpoint: process.env.ENDPOINT, clock: () => wall })
provider()
  .then(() => provider())
  .then(
    (c) => console.log('ok ' + c.accessKeyId),
    (e) => console.log('error ' + e.code),
  )
`

test('the process exits by itself after two fetches on a kept connection, without waiting for the idle period', async (t) => {
  const mock = await startMock({})
  t.after(() => mock.stop())
  const result = await runScript(FETCH_TWICE, { ENDPOINT: mock.endpoint })
  assert.deepEqual(result, { status: 0, signal: null, stdout: 'ok ASIAMOCKEXAMPLE00001\n' })
  assert.deepEqual(
    mock.requests().map((r) => r.connection),
    [1, 1, 1, 1],
  )
})

// Two fresh providers in sequence, the second on the connection the first kept (taken from the
// idle pool): the process still exits at once.
const TWO_PROVIDERS = `
const { fromInstanceMetadata } = require(${JSON.stringify(path.join(packageDir, 'lib', 'index.js'))})
fromInstanceMetadata({ endpoint: process.env.ENDPOINT })()
  .then(() => fromInstanceMetadata({ endpoint: process.env.ENDPOINT })())
  .then(
    (c) => console.log('ok ' + c.accessKeyId),
    (e) => console.log('error ' + e.code),
  )
`

test('the process exits by itself after two fresh providers share a pooled connection', async (t) => {
  const mock = await startMock({})
  t.after(() => mock.stop())
  const result = await runScript(TWO_PROVIDERS, { ENDPOINT: mock.endpoint })
  assert.deepEqual(result, { status: 0, signal: null, stdout: 'ok ASIAMOCKEXAMPLE00001\n' })
  assert.deepEqual(
    mock.requests().map((r) => r.connection),
    [1, 1, 1, 1, 1, 1],
  )
})
