// The sans-IO Client mirrored from the core, driven step by step by hand over a real socket:
// the actions it asks for, their deadlines, the data it wants written, and what it returns.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import net from 'node:net'
import { once } from 'node:events'
import { createRequire } from 'node:module'
import { startMock, cleanEnv, fullExchange } from './mock.mjs'

const require = createRequire(import.meta.url)
const { Client, loadSettings } = require('../lib/index.js')

/** Reads from `socket` until the core stops asking to receive; returns the next action. */
async function receiveUntilDone(client, socket, now) {
  for (;;) {
    const action = client.poll(now())
    if (action.kind !== 'receive') return action
    const [chunk] = await once(socket, 'data')
    client.handleData(now(), chunk)
  }
}

test('a host drives the client by hand: connect, send, receive, done', async (t) => {
  const mock = await startMock({})
  t.after(() => mock.stop())
  // A fake clock: the host decides what time it is.
  let clock = 1000
  const now = () => clock
  const client = new Client(loadSettings({ endpoint: mock.endpoint, timeout: 2, env: cleanEnv() }))
  assert.deepEqual(client.settings.endpoint, { value: mock.endpoint, source: 'code' })

  client.startCredentials(now(), Date.parse('2029-01-01T00:00:00Z'))
  const connect = client.poll(now())
  assert.deepEqual(connect, { kind: 'connect', host: '127.0.0.1', port: mock.port, tls: false, deadline: 3000 })
  const socket = net.connect({ host: connect.host, port: connect.port })
  t.after(() => socket.destroy())
  await once(socket, 'connect')
  clock += 5
  client.handleConnected(now())

  const sends = []
  let action = client.poll(now())
  while (action.kind === 'send') {
    assert.equal(typeof action.data, 'string')
    assert.ok(action.deadline > now())
    sends.push(action.data)
    socket.write(action.data, 'latin1')
    action = await receiveUntilDone(client, socket, now)
  }
  assert.equal(action.kind, 'done')
  assert.equal(sends.length, 3)
  assert.match(sends[0], /^PUT \/latest\/api\/token HTTP\/1\.1\r\n/)
  assert.match(sends[0], /\r\nx-aws-ec2-metadata-token-ttl-seconds: 21600\r\n/i)
  assert.match(sends[0], /\r\nuser-agent: imds\/[0-9.]+ \(node\)\r\n/i)
  assert.match(sends[2], /^GET \/latest\/meta-data\/iam\/security-credentials\/demo-role HTTP\/1\.1\r\n/)
  assert.deepEqual(mock.summary(), fullExchange())

  const credentials = client.credentials()
  assert.equal(credentials.accessKeyId, 'ASIAMOCKEXAMPLE00001')
  assert.deepEqual(credentials.expiration, new Date('2030-01-01T00:00:00Z'))
  assert.equal(
    client.processJson(),
    '{"Version":1,"AccessKeyId":"ASIAMOCKEXAMPLE00001","SecretAccessKey":"mockSecret/EXAMPLE+Key0123456789abcdefghi",' +
      '"SessionToken":"mockSessionToken/EXAMPLE+Token0123456789==","Expiration":"2030-01-01T00:00:00Z"}',
  )
  const diagnostics = client.diagnostics()
  assert.deepEqual(
    diagnostics.filter((d) => d.level === 'trace').map((d) => d.line),
    [
      'imds: trace: > PUT /latest/api/token\n',
      'imds: trace: < 200\n',
      'imds: trace: > GET /latest/meta-data/iam/security-credentials/ (token)\n',
      'imds: trace: < 200\n',
      'imds: trace: > GET /latest/meta-data/iam/security-credentials/demo-role (token)\n',
      'imds: trace: < 200\n',
    ],
  )
  assert.equal(client.pollDiagnostic(), null)

  // Fresh credentials: the next operation is answered from the cache, without an action.
  client.startCredentials(now(), Date.parse('2029-01-01T00:00:00Z'))
  assert.deepEqual(client.poll(now()), { kind: 'done' })
  assert.equal(mock.requests().length, 3)
  socket.destroy()
})

test('a receive deadline that passes is reported with handleTimeout', async (t) => {
  const mock = await startMock({ responses: [{ path: '/latest/meta-data/placement/region', delay_ms: 5000 }] })
  t.after(() => mock.stop())
  let clock = 0
  const now = () => clock
  const client = new Client(loadSettings({ endpoint: mock.endpoint, timeout: 1, attempts: 1, env: cleanEnv() }))
  client.startGet(now(), 'placement/region')
  const connect = client.poll(now())
  const socket = net.connect({ host: connect.host, port: connect.port })
  t.after(() => socket.destroy())
  await once(socket, 'connect')
  client.handleConnected(now())
  let action = client.poll(now())
  // The token request goes through; the metadata read is delayed past its deadline.
  socket.write(action.data, 'latin1')
  action = await receiveUntilDone(client, socket, now)
  assert.equal(action.kind, 'send')
  socket.write(action.data, 'latin1')
  const receive = client.poll(now())
  assert.deepEqual(receive, { kind: 'receive', deadline: 1000 })
  clock = receive.deadline
  client.handleTimeout(now())
  assert.throws(() => client.poll(now()), { code: 'timeout' })
})

test('get returns the body as a Buffer', async (t) => {
  const mock = await startMock({ metadata: { 'instance-id': 'i-0abc' } })
  t.after(() => mock.stop())
  const { drive } = require('../lib/index.js')
  const client = new Client(loadSettings({ endpoint: mock.endpoint, env: cleanEnv() }))
  client.startGet(0, 'instance-id')
  await drive(client)
  assert.deepEqual(client.body(), Buffer.from('i-0abc'))
  client.reset()
})

test('User-Agent names node, or the name given to setBinding', async (t) => {
  const { drive, version: versionOf } = require('../lib/index.js')
  const version = versionOf()
  const mock = await startMock({})
  t.after(() => mock.stop())
  const client = new Client(loadSettings({ endpoint: mock.endpoint, env: cleanEnv() }))
  const { performance } = require('node:perf_hooks')
  client.startGet(performance.now(), 'placement/region')
  await drive(client)
  client.setBinding('my-agent/1.2')
  client.startGet(performance.now(), 'placement/region')
  await drive(client)
  client.reset()
  assert.deepEqual(
    mock.requests().map((r) => r.user_agent),
    [`imds/${version} (node)`, `imds/${version} (node)`, `imds/${version} (my-agent/1.2)`],
  )
})

test('handleClosed is accepted while the client is not using the connection, not while it is', () => {
  const client = new Client(loadSettings({ endpoint: 'http://127.0.0.1:9', env: cleanEnv() }))
  client.handleClosed()
  client.startGet(0, 'instance-id')
  client.handleClosed()
  assert.equal(client.poll(0).kind, 'connect')
  assert.throws(() => client.handleClosed(), (error) => error.code === 'invalid_state')
  client.cancel()
})
