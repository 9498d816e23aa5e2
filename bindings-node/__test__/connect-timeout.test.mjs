// 1. A connect that never completes: a loopback listener whose accept queue is full (it never
// accepts, and the queue is filled first) drops further SYNs, so connecting hangs. The driver
// reports the connect deadline the core gave; the core ends with connect_failed (no fallback).

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { createRequire } from 'node:module'
import { performance } from 'node:perf_hooks'
import { cleanEnv, startMock } from './mock.mjs'

const require = createRequire(import.meta.url)
const { fromInstanceMetadata } = require('../lib/index.js')

// Python's socket module can listen without accepting; Node's net.Server always accepts.
const STALLED_LISTENER = `
import socket, sys
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(0)
port = server.getsockname()[1]
queued = []
for _ in range(3):
    c = socket.socket()
    c.setblocking(False)
    try:
        c.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    queued.append(c)
print(port, flush=True)
sys.stdin.read()
`

test('a connect that never completes fails with connect_failed at the connect deadline', async (t) => {
  const listener = spawn('python3', ['-c', STALLED_LISTENER], { stdio: ['pipe', 'pipe', 'inherit'] })
  t.after(() => listener.stdin.end())
  const port = await new Promise((resolve, reject) => {
    createInterface({ input: listener.stdout }).once('line', (line) => resolve(Number(line)))
    listener.once('error', reject)
  })
  const seen = []
  const logger = { debug: (m) => seen.push(m), info: (m) => seen.push(m), warn: (m) => seen.push(m) }
  const provider = fromInstanceMetadata({ endpoint: `http://127.0.0.1:${port}`, timeout: 0.2, env: cleanEnv(), logger })
  await assert.rejects(provider(), { code: 'connect_failed', message: /could not connect to IMDS/ })
  // Nothing was sent, and no IMDSv1 fallback was tried.
  assert.deepEqual(seen.filter((m) => m.includes('> ')), [])
  assert.ok(!seen.some((m) => m.includes('IMDSv1')), seen.join('\n'))
})

// 2. A process starved of CPU (hundreds of processes on two cores: make bench-fleet): the connect
// completes in the kernel while the event loop is held past the deadline. When the loop runs
// again, its timers come before its I/O; the driver must not call the connect timed out when the
// connection is there.
test('a connect that completed while the event loop was held past its deadline is not a timeout', async (t) => {
  const mock = await startMock({})
  t.after(() => mock.stop())
  const provider = fromInstanceMetadata({ endpoint: mock.endpoint, timeout: 0.1, env: cleanEnv() })
  const fetching = provider()
  const heldUntil = performance.now() + 300
  while (performance.now() < heldUntil) {
    // The event loop is held: the connect (already started) completes in the kernel meanwhile.
  }
  const credentials = await fetching
  assert.equal(credentials.accessKeyId, 'ASIAMOCKEXAMPLE00001')
  provider.close()
})
