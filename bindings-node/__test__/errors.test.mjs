// Every error kind of the core reaches JavaScript as an Error whose `code` is the core's
// `ErrorKind::as_str()` and whose message is the core's sentence, over real sockets where the
// error comes from the network.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import net from 'node:net'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import { performance } from 'node:perf_hooks'
import { startMock, cleanEnv, makeTempDir, removeTempDir, closedPort } from './mock.mjs'

const require = createRequire(import.meta.url)
const imds = require('../lib/index.js')
const { fromInstanceMetadata, get, Client, loadSettings, drive, errorCodes } = imds

const CREDENTIALS_PATH = '/latest/meta-data/iam/security-credentials/demo-role'

async function withMock(script, run) {
  const mock = await startMock(script)
  try {
    return await run(mock)
  } finally {
    await mock.stop()
  }
}

/** Runs a one-off server on 127.0.0.1 that treats each connection with `onConnection`. */
async function withServer(onConnection, run) {
  const server = net.createServer(onConnection)
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    return await run(`http://127.0.0.1:${server.address().port}`)
  } finally {
    await new Promise((resolve) => server.close(resolve))
  }
}

function credentialsWith(options) {
  return fromInstanceMetadata({ env: cleanEnv(), ...options })()
}

// Each case makes the error happen and returns the promise that must reject with it.
const cases = {
  disabled: () => credentialsWith({ disabled: true, endpoint: 'http://127.0.0.1:9' }),
  invalid_setting: () => credentialsWith({ endpoint: 'ftp://127.0.0.1:1338' }),
  config_file: async () => {
    const dir = makeTempDir('imds-node-config-')
    try {
      const file = path.join(dir, 'config')
      writeFileSync(file, 'ec2_metadata_service_endpoint = http://127.0.0.1:9\n')
      return await fromInstanceMetadata({ env: { AWS_CONFIG_FILE: file } })()
    } finally {
      removeTempDir(dir)
    }
  },
  invalid_state: async () => {
    const client = new Client(loadSettings({ endpoint: 'http://127.0.0.1:9', env: cleanEnv() }))
    client.startCredentials(performance.now())
    client.startCredentials(performance.now())
  },
  invalid_argument: () => get('placement/region with spaces', { endpoint: 'http://127.0.0.1:9', env: cleanEnv() }),
  connect_failed: async () => credentialsWith({ endpoint: `http://127.0.0.1:${await closedPort()}` }),
  timeout: () =>
    withMock({ responses: [{ path: CREDENTIALS_PATH, delay_ms: 2000 }] }, (mock) =>
      credentialsWith({ endpoint: mock.endpoint, timeout: 0.1, attempts: 1 }),
    ),
  // An I/O error the driver cannot class (no loopback server makes one): fed by hand.
  io: async () => {
    const client = new Client(loadSettings({ endpoint: 'http://127.0.0.1:9', env: cleanEnv() }))
    client.startCredentials(performance.now())
    assert.equal(client.poll(performance.now()).kind, 'connect')
    client.handleConnected(performance.now())
    assert.equal(client.poll(performance.now()).kind, 'send')
    client.handleIoError(performance.now(), 'other')
    client.poll(performance.now())
  },
  connection_closed: () =>
    withMock({ responses: [{ path: CREDENTIALS_PATH, cut_off: true, times: 0 }] }, (mock) =>
      credentialsWith({ endpoint: mock.endpoint }),
    ),
  malformed_response: () =>
    withServer(
      (socket) => socket.once('data', () => socket.end('this is not HTTP\r\n\r\n')),
      (endpoint) => credentialsWith({ endpoint }),
    ),
  response_too_large: () =>
    withMock({ responses: [{ path: CREDENTIALS_PATH, oversize: 20000 }] }, (mock) => credentialsWith({ endpoint: mock.endpoint })),
  http_status: () =>
    withMock({ responses: [{ path: '/latest/api/token', status: 400 }] }, (mock) => credentialsWith({ endpoint: mock.endpoint })),
  invalid_token: () =>
    withMock({ responses: [{ path: '/latest/api/token', body: '' }] }, (mock) => credentialsWith({ endpoint: mock.endpoint })),
  v1_fallback_blocked: () =>
    withMock({ responses: [{ path: '/latest/api/token', status: 403 }] }, (mock) =>
      credentialsWith({ endpoint: mock.endpoint, v1Disabled: true }),
    ),
  no_role: () => withMock({ role: null }, (mock) => credentialsWith({ endpoint: mock.endpoint })),
  invalid_role_name: () =>
    withMock({ responses: [{ path: '/latest/meta-data/iam/security-credentials/', body: 'not a role/name' }] }, (mock) =>
      credentialsWith({ endpoint: mock.endpoint }),
    ),
  role_unstable: () =>
    withMock({ responses: [{ path: CREDENTIALS_PATH, status: 404, times: 0 }] }, (mock) => credentialsWith({ endpoint: mock.endpoint })),
  invalid_instance_profile: () =>
    withMock({}, (mock) => credentialsWith({ endpoint: mock.endpoint, instanceProfileName: 'some-other-role' })),
  credentials_rejected: () =>
    withMock({ credentials: { Code: 'AssumeRoleUnauthorizedAccess', Message: 'not authorized' } }, (mock) =>
      credentialsWith({ endpoint: mock.endpoint }),
    ),
  malformed_credentials: () =>
    withMock({ responses: [{ path: CREDENTIALS_PATH, body: '{"Code": "Success", "AccessKeyId": ' }] }, (mock) =>
      credentialsWith({ endpoint: mock.endpoint }),
    ),
}

// `unsupported` is what a host that cannot do what the settings need reports (a plain-TCP driver
// given an https endpoint); the Node driver speaks TLS itself, so nothing in it raises that kind.
const NOT_RAISED_BY_NODE = ['unsupported']

test('the cases below cover every error code the core defines', () => {
  assert.deepEqual([...Object.keys(cases), ...NOT_RAISED_BY_NODE].sort(), [...errorCodes()].sort())
})

for (const [code, cause] of Object.entries(cases)) {
  test(`error code ${code}`, async () => {
    const error = await cause().then(
      () => assert.fail(`expected an error with code ${code}`),
      (e) => e,
    )
    assert.ok(error instanceof Error)
    assert.equal(error.code, code, error.message)
    assert.ok(error.message.length > 0)
    assert.ok(!/mockSecret|mockSessionToken|mock-imds-token/.test(error.message))
  })
}

test('messages are the core sentences, naming the setting and its source', async () => {
  await assert.rejects(credentialsWith({ endpoint: 'ftp://127.0.0.1:1338' }), {
    message: 'invalid endpoint (code): `ftp://127.0.0.1:1338` expected an http:// or https:// URL',
  })
  await assert.rejects(fromInstanceMetadata({ env: cleanEnv({ AWS_EC2_METADATA_DISABLED: 'TRUE' }) })(), {
    code: 'disabled',
    message: /AWS_EC2_METADATA_DISABLED \(env\)/,
  })
  await withMock({ credentials: { Code: 'AssumeRoleUnauthorizedAccess', Message: 'not authorized' } }, (mock) =>
    assert.rejects(credentialsWith({ endpoint: mock.endpoint }), {
      message: 'IMDS refused credentials: [AssumeRoleUnauthorizedAccess] not authorized (hint: does the role have a trust relationship with EC2?)',
    }),
  )
})

test('a driver can feed an I/O error itself and get the core error for it', async () => {
  const client = new Client(loadSettings({ endpoint: 'http://127.0.0.1:9', env: cleanEnv() }))
  client.startCredentials(performance.now())
  const action = client.poll(performance.now())
  assert.equal(action.kind, 'connect')
  // Unreachable: final at once. (A refused connection is retried after a back-off.)
  client.handleIoError(performance.now(), 'connectFailed')
  assert.throws(() => client.poll(performance.now()), {
    code: 'connect_failed',
    message: 'could not connect to IMDS at http://127.0.0.1:9 (unreachable); is this an EC2 instance, and is the endpoint right?',
  })
  assert.throws(() => client.handleIoError(performance.now(), 'bogus'), { code: 'invalid_argument' })
  // The client stays usable for the next operation.
  client.startCredentials(performance.now())
  await assert.rejects(drive(client), { code: 'connect_failed' })
})

test('a reset right after accept is connection_closed, with the one message every driver gives', async () => {
  await withServer(
    (socket) => socket.resetAndDestroy(),
    (endpoint) =>
      assert.rejects(credentialsWith({ endpoint }), {
        code: 'connection_closed',
        message: 'IMDS closed or reset the connection before the response was complete in the token request',
      }),
  )
})

test('a refused connection is retried within the attempts, then names the endpoint', async () => {
  const port = await closedPort()
  const seen = []
  const logger = { info: (m) => seen.push(m), debug() {}, warn() {}, error() {} }
  await assert.rejects(credentialsWith({ endpoint: `http://127.0.0.1:${port}`, logger }), {
    code: 'connect_failed',
    message: `could not connect to IMDS at http://127.0.0.1:${port} (connection refused); is this an EC2 instance, and is the endpoint right?`,
  })
  assert.deepEqual(
    seen.map((m) => m.replace(/\d+ ms$/, 'N ms')),
    [1, 2, 3].map((n) => `imds: token request attempt ${n} failed; retrying in N ms`),
  )
})
