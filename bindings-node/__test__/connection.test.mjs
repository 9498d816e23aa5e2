// The connection the driver keeps between a client's operations: reused by the next operation
// (the mock logs which connection each request came on), connected anew when the server closed it
// while idle or as it was reused, and closed by `provider.close()` and `client.reset()`. Tests
// close what they kept before the mock stops (it would wait a grace period for it).

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { once } from 'node:events'
import { createRequire } from 'node:module'
import { performance } from 'node:perf_hooks'
import { startMock, startForwarder, cleanEnv, fullExchange } from './mock.mjs'

const require = createRequire(import.meta.url)
const { fromInstanceMetadata, get, Client, loadSettings, drive } = require('../lib/index.js')

const CREDENTIALS = 'GET /latest/meta-data/iam/security-credentials/demo-role'
// The mock's credentials expire at 2030-01-01T00:00:00Z; one minute before is inside the refresh
// window (5 minutes), so every call of a provider with this clock fetches the credentials again
// (one request, with the cached token and role).
const DUE_FOR_REFRESH = Date.parse('2030-01-01T00:00:00Z') - 60_000

function refreshingProvider(endpoint, logger) {
  return fromInstanceMetadata({ endpoint, env: cleanEnv(), clock: () => DUE_FOR_REFRESH, logger })
}

/** `connection METHOD path` of every request the mock logged. */
function byConnection(mock) {
  return mock.requests().map((r) => `${r.connection} ${r.method} ${r.path}`)
}

/** A logger that keeps the request lines (`> GET ...`) the core traces. */
function requestLog() {
  const lines = []
  return { lines, logger: { debug: (m) => /^imds: > /.test(m) && lines.push(m.slice('imds: > '.length)) } }
}

test('the next operation reuses the connection the last one kept', async (t) => {
  const mock = await startMock({})
  t.after(() => mock.stop())
  const provider = refreshingProvider(mock.endpoint)
  await provider()
  await provider()
  await provider()
  provider.close()
  assert.deepEqual(byConnection(mock), [
    ...fullExchange().map((request) => `1 ${request}`),
    `1 ${CREDENTIALS}`,
    `1 ${CREDENTIALS}`,
  ])
})

test('operations driven on a Client by hand share one connection too', async (t) => {
  const mock = await startMock({ metadata: { 'instance-id': 'i-0kept' } })
  t.after(() => mock.stop())
  const client = new Client(loadSettings({ endpoint: mock.endpoint, env: cleanEnv() }))
  client.startGet(performance.now(), 'placement/region')
  await drive(client)
  client.startGet(performance.now(), 'instance-id')
  await drive(client)
  assert.deepEqual(client.body(), Buffer.from('i-0kept'))
  client.reset()
  assert.deepEqual(byConnection(mock), [
    '1 PUT /latest/api/token',
    '1 GET /latest/meta-data/placement/region',
    '1 GET /latest/meta-data/instance-id',
  ])
})

test('when the server closes the idle connection, the next fetch connects anew and succeeds', async (t) => {
  const mock = await startMock({})
  const forwarder = await startForwarder(mock.port)
  t.after(async () => {
    await forwarder.close()
    await mock.stop()
  })
  const { lines, logger } = requestLog()
  const provider = refreshingProvider(forwarder.endpoint, logger)

  await provider()
  assert.equal(forwarder.sockets.length, 1)
  // The server side closes the kept connection; once it is fully closed, the driver has seen the
  // close (it closes its own side in answer).
  const [idle] = forwarder.sockets
  idle.end()
  await once(idle, 'close')

  const credentials = await provider()
  provider.close()
  assert.equal(credentials.accessKeyId, 'ASIAMOCKEXAMPLE00001')
  assert.equal(forwarder.accepted(), 2)
  assert.deepEqual(byConnection(mock), [...fullExchange().map((request) => `1 ${request}`), `2 ${CREDENTIALS}`])
  // The core was told: the request went out once, on the new connection, not first on the
  // closed one (a re-send would show twice).
  assert.deepEqual(lines.slice(3), ['GET /latest/meta-data/iam/security-credentials/demo-role (token)'])
})

/** Lets the event loop turn twice: bytes already on a socket have been read by then. */
async function loopTurns() {
  for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve))
}

test('an answer nobody asked for, arriving on the kept connection between operations, is discarded: the next request goes on a new connection, with a new token', async (t) => {
  const mock = await startMock({ metadata: { 'instance-id': 'i-0fresh' } })
  const forwarder = await startForwarder(mock.port)
  t.after(async () => {
    await forwarder.close()
    await mock.stop()
  })
  const client = new Client(loadSettings({ endpoint: forwarder.endpoint, env: cleanEnv() }))
  const messages = []
  const drain = () => {
    for (let d = client.pollDiagnostic(); d; d = client.pollDiagnostic()) messages.push(d.message)
  }
  client.startGet(performance.now(), 'placement/region')
  await drive(client, drain)
  const [kept] = forwarder.sockets
  // Sent at once (Nagle would hold it until the driver acknowledged the last answer), then read
  // by the driver's idle socket within the loop's next turns.
  kept.setNoDelay(true)
  const unsolicited = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nearly'
  await new Promise((resolve) => kept.write(unsolicited, resolve))
  await loopTurns()
  client.startGet(performance.now(), 'instance-id')
  await drive(client, drain)
  assert.deepEqual(client.body(), Buffer.from('i-0fresh'), 'the real answer, not the unsolicited one')
  client.reset()
  assert.deepEqual(byConnection(mock), [
    '1 PUT /latest/api/token',
    '1 GET /latest/meta-data/placement/region',
    // The token came on the connection that brought the stray answer: it is dropped with it.
    '2 PUT /latest/api/token',
    '2 GET /latest/meta-data/instance-id',
  ])
  assert.deepEqual(
    messages.filter((m) => /no request asked for/.test(m)),
    [
      `IMDS sent ${unsolicited.length} bytes that no request asked for: closed the connection, discarded them and dropped the token that came on it`,
    ],
  )
})

test('when the server closes the kept connection as a request arrives, the core re-sends it on a new one', async (t) => {
  const mock = await startMock({
    metadata: { 'instance-id': 'i-0resent' },
    responses: [{ path: '/latest/meta-data/instance-id', close_without_response: true }],
  })
  t.after(() => mock.stop())
  const client = new Client(loadSettings({ endpoint: mock.endpoint, env: cleanEnv() }))
  client.startGet(performance.now(), 'placement/region')
  await drive(client)
  client.startGet(performance.now(), 'instance-id')
  await drive(client)
  assert.deepEqual(client.body(), Buffer.from('i-0resent'))
  client.reset()
  assert.deepEqual(byConnection(mock), [
    '1 PUT /latest/api/token',
    '1 GET /latest/meta-data/placement/region',
    '1 GET /latest/meta-data/instance-id',
    '2 GET /latest/meta-data/instance-id',
  ])
})

test('the server asking to close (Connection: close) is honoured: the next fetch connects anew', async (t) => {
  const mock = await startMock({ responses: [{ path: '/latest/meta-data/iam/security-credentials/demo-role', connection_close: true }] })
  t.after(() => mock.stop())
  const { lines, logger } = requestLog()
  const provider = refreshingProvider(mock.endpoint, logger)
  await provider()
  await provider()
  provider.close()
  assert.deepEqual(byConnection(mock), [...fullExchange().map((request) => `1 ${request}`), `2 ${CREDENTIALS}`])
  assert.equal(lines.length, 4)
})

test('provider.close() closes the kept connection now; the cache stays and the next fetch connects anew', { timeout: 4000 }, async (t) => {
  const mock = await startMock({})
  const forwarder = await startForwarder(mock.port)
  t.after(async () => {
    await forwarder.close()
    await mock.stop()
  })
  const { lines, logger } = requestLog()
  const provider = refreshingProvider(forwarder.endpoint, logger)
  await provider()
  const [kept] = forwarder.sockets
  const closed = once(kept, 'end')
  provider.close()
  // The close reaches the server side (without it the kept connection would stay open for the
  // idle period, 5 s, past this test's timeout).
  await closed

  await provider()
  provider.close()
  assert.deepEqual(byConnection(mock), [...fullExchange().map((request) => `1 ${request}`), `2 ${CREDENTIALS}`])
  assert.deepEqual(lines.slice(3), ['GET /latest/meta-data/iam/security-credentials/demo-role (token)'])
})

test('client.reset() closes the kept connection now', { timeout: 4000 }, async (t) => {
  const mock = await startMock({})
  const forwarder = await startForwarder(mock.port)
  t.after(async () => {
    await forwarder.close()
    await mock.stop()
  })
  const client = new Client(loadSettings({ endpoint: forwarder.endpoint, env: cleanEnv() }))
  client.startGet(performance.now(), 'placement/region')
  await drive(client)
  const [kept] = forwarder.sockets
  const closed = once(kept, 'end')
  client.reset()
  // As for provider.close(): without it, the connection would stay open past this test's timeout.
  await closed
  client.startGet(performance.now(), 'placement/region')
  await drive(client)
  client.reset()
  assert.deepEqual(byConnection(mock), [
    '1 PUT /latest/api/token',
    '1 GET /latest/meta-data/placement/region',
    '2 PUT /latest/api/token',
    '2 GET /latest/meta-data/placement/region',
  ])
})

test('at most MAX_IDLE connections stay idle: concurrent providers do not pile up sockets', { timeout: 4000 }, async (t) => {
  const { MAX_IDLE } = require('../lib/driver.js')
  const mock = await startMock({})
  const forwarder = await startForwarder(mock.port)
  t.after(async () => {
    await forwarder.close()
    await mock.stop()
  })
  // Started together, none finds an idle connection to take: each connects.
  const providers = Array.from({ length: MAX_IDLE + 1 }, () => fromInstanceMetadata({ endpoint: forwarder.endpoint, env: cleanEnv() }))
  await Promise.all(providers.map((provider) => provider()))
  assert.equal(forwarder.accepted(), MAX_IDLE + 1)
  // One more idle connection than allowed: the longest idle one is closed (without this, it
  // would stay open for the idle period, past this test's timeout).
  while (forwarder.sockets.length > MAX_IDLE) await once(forwarder.events, 'close')
  for (const provider of providers) provider.close()
})

test('fresh providers in sequence share one connection, as with Node\'s keep-alive agent', async (t) => {
  const mock = await startMock({ metadata: { 'instance-id': 'i-0shared' } })
  t.after(() => mock.stop())
  const { lines, logger } = requestLog()
  const first = refreshingProvider(mock.endpoint, logger)
  const second = fromInstanceMetadata({ endpoint: mock.endpoint, env: cleanEnv() })
  assert.equal((await first()).accessKeyId, 'ASIAMOCKEXAMPLE00001')
  assert.equal((await second()).accessKeyId, 'ASIAMOCKEXAMPLE00001')
  assert.equal(await get('instance-id', { endpoint: mock.endpoint, env: cleanEnv() }), 'i-0shared')
  // Each took the idle connection the one before kept; the first takes it back for its refresh,
  // with its cached token and role.
  assert.equal((await first()).accessKeyId, 'ASIAMOCKEXAMPLE00001')
  first.close()
  assert.deepEqual(byConnection(mock), [
    ...fullExchange().map((request) => `1 ${request}`),
    ...fullExchange().map((request) => `1 ${request}`),
    '1 PUT /latest/api/token',
    '1 GET /latest/meta-data/instance-id',
    `1 ${CREDENTIALS}`,
  ])
  assert.deepEqual(lines.slice(3), ['GET /latest/meta-data/iam/security-credentials/demo-role (token)'])
})

test('a connection is shared only with clients of the same endpoint', async (t) => {
  const mock = await startMock({})
  const forwarder = await startForwarder(mock.port)
  t.after(async () => {
    await forwarder.close()
    await mock.stop()
  })
  const direct = fromInstanceMetadata({ endpoint: mock.endpoint, env: cleanEnv() })
  await direct()
  const forwarded = fromInstanceMetadata({ endpoint: forwarder.endpoint, env: cleanEnv() })
  await forwarded()
  direct.close()
  forwarded.close()
  assert.equal(forwarder.accepted(), 1)
  assert.deepEqual(
    mock.requests().map((r) => r.connection),
    [1, 1, 1, 2, 2, 2],
  )
})

test('when the server closed the pooled connection while idle, the next fresh provider connects anew', async (t) => {
  const mock = await startMock({})
  const forwarder = await startForwarder(mock.port)
  t.after(async () => {
    await forwarder.close()
    await mock.stop()
  })
  await fromInstanceMetadata({ endpoint: forwarder.endpoint, env: cleanEnv() })()
  const [idle] = forwarder.sockets
  idle.end()
  await once(idle, 'close')

  const { lines, logger } = requestLog()
  const fresh = fromInstanceMetadata({ endpoint: forwarder.endpoint, env: cleanEnv(), logger })
  assert.equal((await fresh()).accessKeyId, 'ASIAMOCKEXAMPLE00001')
  fresh.close()
  assert.equal(forwarder.accepted(), 2)
  assert.deepEqual(byConnection(mock), [...fullExchange().map((request) => `1 ${request}`), ...fullExchange().map((request) => `2 ${request}`)])
  // Seen closed before it was taken: nothing was sent on it.
  assert.equal(lines.length, 3)
})

test('a pooled connection the server closed unnoticed fails before any byte: the request is re-sent on a new one', async (t) => {
  const mock = await startMock({})
  const forwarder = await startForwarder(mock.port)
  t.after(async () => {
    await forwarder.close()
    await mock.stop()
  })
  await fromInstanceMetadata({ endpoint: forwarder.endpoint, env: cleanEnv() })()
  const { lines, logger } = requestLog()
  const fresh = fromInstanceMetadata({ endpoint: forwarder.endpoint, env: cleanEnv(), logger })
  // The server side closes the idle connection, and the fresh provider starts at once, before
  // the event loop could see the close: it takes the connection and sends on it.
  forwarder.sockets[0].destroy()
  const credentials = await fresh()
  fresh.close()
  assert.equal(credentials.accessKeyId, 'ASIAMOCKEXAMPLE00001')
  assert.equal(forwarder.accepted(), 2)
  // The token request twice: on the pooled connection, then on the new one.
  assert.equal(lines.length, 4)
  assert.match(lines[0], /^PUT \/latest\/api\/token/)
  assert.equal(lines[1], lines[0])
  // The first token request never reached the server; the exchange ran on the new connection.
  assert.deepEqual(byConnection(mock), [...fullExchange().map((request) => `1 ${request}`), ...fullExchange().map((request) => `2 ${request}`)])
})

test('provider.close() during a fetch lets it finish, then closes the connection', { timeout: 4000 }, async (t) => {
  const mock = await startMock({ responses: [{ path: '/latest/meta-data/iam/security-credentials/demo-role', delay_ms: 50 }] })
  const forwarder = await startForwarder(mock.port)
  t.after(async () => {
    await forwarder.close()
    await mock.stop()
  })
  const provider = fromInstanceMetadata({ endpoint: forwarder.endpoint, env: cleanEnv() })
  const fetching = provider()
  provider.close()
  const credentials = await fetching
  assert.equal(credentials.accessKeyId, 'ASIAMOCKEXAMPLE00001')
  assert.equal(forwarder.accepted(), 1)
  const [used] = forwarder.sockets
  // Closed once the fetch ended (without it, it would stay open past this test's timeout).
  if (used !== undefined) await once(used, 'close')
  assert.deepEqual(byConnection(mock), fullExchange().map((request) => `1 ${request}`))
})
