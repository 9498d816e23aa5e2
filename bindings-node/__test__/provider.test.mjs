// fromInstanceMetadata over real sockets against imds-mock: memoization, refresh, one shared
// fetch for concurrent callers, timeouts, diagnostics to a logger. Tests close their provider's
// kept connection when done (the mock, stopping, would wait a grace period for it).

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createRequire } from 'node:module'
import { startMock, fullExchange, cleanEnv } from './mock.mjs'

const require = createRequire(import.meta.url)
const { fromInstanceMetadata, get } = require('../lib/index.js')

const HOUR_MS = 3600 * 1000

function isoSeconds(ms) {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z')
}

test('returns the credentials IMDS serves, in the shape AWS SDK v3 expects', async (t) => {
  const mock = await startMock({ credentials: { AccessKeyId: 'ASIAPROVIDERTEST0001', SecretAccessKey: 'secret-1', Token: 'token-1', Expiration: '2031-02-03T04:05:06Z' } })
  t.after(() => mock.stop())
  const provider = fromInstanceMetadata({ endpoint: mock.endpoint, env: cleanEnv() })
  const credentials = await provider()
  assert.deepEqual(credentials, {
    accessKeyId: 'ASIAPROVIDERTEST0001',
    secretAccessKey: 'secret-1',
    sessionToken: 'token-1',
    expiration: new Date('2031-02-03T04:05:06Z'),
  })
  assert.ok(credentials.expiration instanceof Date)
  assert.deepEqual(mock.summary(), fullExchange())
  provider.close()
})

test('carries accountId when IMDS sends one (extended API)', async (t) => {
  const mock = await startMock({ extended_api: true, credentials: { AccountId: '210987654321' } })
  t.after(() => mock.stop())
  const provider = fromInstanceMetadata({ endpoint: mock.endpoint, credentialsApi: 'extended', env: cleanEnv() })
  const credentials = await provider()
  assert.equal(credentials.accountId, '210987654321')
  assert.ok(mock.summary().includes('GET /latest/meta-data/iam/security-credentials-extended/demo-role'))
  provider.close()
})

test('memoizes: a second call within the refresh window makes no request', async (t) => {
  const wall = Date.now()
  const mock = await startMock({ credentials: { Expiration: isoSeconds(wall + 6 * HOUR_MS) } })
  t.after(() => mock.stop())
  const provider = fromInstanceMetadata({ endpoint: mock.endpoint, env: cleanEnv(), clock: () => wall })
  const first = await provider()
  const second = await provider()
  assert.deepEqual(second, first)
  assert.deepEqual(mock.summary(), fullExchange())
  provider.close()
})

test('refreshes once the refresh window before expiration is reached', async (t) => {
  let wall = Date.now()
  const expiration = wall + HOUR_MS
  const mock = await startMock({
    credentials: { AccessKeyId: 'ASIASECONDKEY0000002', Expiration: isoSeconds(expiration + 6 * HOUR_MS) },
    responses: [
      {
        path: '/latest/meta-data/iam/security-credentials/demo-role',
        body: JSON.stringify({ Code: 'Success', AccessKeyId: 'ASIAFIRSTKEY00000001', SecretAccessKey: 's1', Token: 't1', Expiration: isoSeconds(expiration) }),
      },
    ],
  })
  t.after(() => mock.stop())
  const provider = fromInstanceMetadata({ endpoint: mock.endpoint, env: cleanEnv(), refreshWindow: 600, clock: () => wall })
  assert.equal((await provider()).accessKeyId, 'ASIAFIRSTKEY00000001')
  wall = expiration - 601 * 1000 // just outside the refresh window: still cached
  assert.equal((await provider()).accessKeyId, 'ASIAFIRSTKEY00000001')
  assert.equal(mock.requests().length, 3)
  wall = expiration - 599 * 1000 // inside the refresh window: fetched again, with the cached token and role
  assert.equal((await provider()).accessKeyId, 'ASIASECONDKEY0000002')
  assert.deepEqual(mock.summary(), [...fullExchange(), 'GET /latest/meta-data/iam/security-credentials/demo-role'])
  provider.close()
})

test('100 concurrent callers share one fetch', async (t) => {
  const mock = await startMock({ responses: [{ path: '/latest/api/token', delay_ms: 50 }] })
  t.after(() => mock.stop())
  const provider = fromInstanceMetadata({ endpoint: mock.endpoint, env: cleanEnv() })
  const results = await Promise.all(Array.from({ length: 100 }, () => provider()))
  assert.equal(results.length, 100)
  for (const credentials of results) assert.equal(credentials, results[0])
  assert.deepEqual(mock.summary(), fullExchange())
  provider.close()
})

test('a failed fetch is not memoized: the next call tries again', async (t) => {
  const mock = await startMock({ responses: [{ path: '/latest/meta-data/iam/security-credentials/', status: 404 }] })
  t.after(() => mock.stop())
  const provider = fromInstanceMetadata({ endpoint: mock.endpoint, env: cleanEnv() })
  await assert.rejects(provider(), { code: 'no_role' })
  const credentials = await provider()
  assert.equal(credentials.accessKeyId, 'ASIAMOCKEXAMPLE00001')
  provider.close()
})

test('times out on a read with the configured timeout (seconds, as the setting)', async (t) => {
  const mock = await startMock({ responses: [{ path: '/latest/meta-data/iam/security-credentials/demo-role', delay_ms: 3000, times: 0 }] })
  t.after(() => mock.stop())
  const provider = fromInstanceMetadata({ endpoint: mock.endpoint, timeout: 0.2, attempts: 1, env: cleanEnv() })
  const error = await provider().then(
    () => assert.fail('expected a timeout'),
    (e) => e,
  )
  assert.equal(error.code, 'timeout')
  assert.match(error.message, /timed out/)
})

test('diagnostics go to the logger, at their level, without secrets', async (t) => {
  const mock = await startMock({ responses: [{ path: '/latest/api/token', status: 403 }] })
  t.after(() => mock.stop())
  const seen = { debug: [], info: [], warn: [] }
  const logger = {
    debug: (m) => seen.debug.push(m),
    info: (m) => seen.info.push(m),
    warn: (m) => seen.warn.push(m),
  }
  const provider = fromInstanceMetadata({ endpoint: mock.endpoint, env: cleanEnv(), logger })
  await provider()
  assert.ok(seen.debug.some((m) => m.includes('> PUT /latest/api/token')), seen.debug.join('\n'))
  assert.ok(seen.warn.some((m) => /IMDSv1/.test(m)), seen.warn.join('\n'))
  const all = [...seen.debug, ...seen.info, ...seen.warn].join('\n')
  assert.ok(!all.includes('mockSecret'))
  assert.ok(!all.includes('mockSessionToken'))
  provider.close()
})

test('get reads a metadata path', async (t) => {
  const mock = await startMock({ metadata: { 'placement/region': 'eu-west-3' } })
  t.after(() => mock.stop())
  assert.equal(await get('placement/region', { endpoint: mock.endpoint, env: cleanEnv() }), 'eu-west-3')
  assert.deepEqual(mock.summary(), ['PUT /latest/api/token', 'GET /latest/meta-data/placement/region'])
})

test('works against a mock on [::1]', async (t) => {
  const mock = await startMock({}, { bind: '::1' })
  t.after(() => mock.stop())
  const provider = fromInstanceMetadata({ endpoint: mock.endpoint, env: cleanEnv() })
  const credentials = await provider()
  assert.equal(credentials.accessKeyId, 'ASIAMOCKEXAMPLE00001')
  provider.close()
})

test('options in camelCase reach the core as settings with source code', async () => {
  const { loadSettings } = require('../lib/index.js')
  const settings = loadSettings({
    endpoint: 'http://127.0.0.1:1338',
    v1Disabled: true,
    timeout: 0.5,
    attempts: 2,
    instanceProfileName: 'my-role',
    tokenTtl: 600,
    credentialsApi: 'extended',
    refreshWindow: 120,
    env: cleanEnv({ AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: 'IPv6' }),
  })
  assert.deepEqual(settings.endpoint, { value: 'http://127.0.0.1:1338', source: 'code' })
  assert.deepEqual(settings.v1Disabled, { value: true, source: 'code' })
  assert.deepEqual(settings.timeout, { value: 0.5, source: 'code' })
  assert.deepEqual(settings.attempts, { value: 2, source: 'code' })
  assert.deepEqual(settings.instanceProfileName, { value: 'my-role', source: 'code' })
  assert.deepEqual(settings.tokenTtl, { value: 600, source: 'code' })
  assert.deepEqual(settings.credentialsApi, { value: 'extended', source: 'code' })
  assert.deepEqual(settings.refreshWindow, { value: 120, source: 'code' })
  assert.deepEqual(settings.endpointMode, { value: 'IPv6', source: 'env' })
  assert.deepEqual(settings.disabled, { value: false, source: 'default' })
  assert.deepEqual(loadSettings({ ec2MetadataV1Disabled: 'true', env: cleanEnv() }).v1Disabled, { value: true, source: 'code' })
})

test('an unknown option is refused at once with code invalid_argument', () => {
  assert.throws(() => fromInstanceMetadata({ endpont: 'http://127.0.0.1:1' }), { code: 'invalid_argument', message: /unknown option `endpont`/ })
  assert.throws(() => fromInstanceMetadata({ timeout: { seconds: 1 } }), { code: 'invalid_argument', message: /`timeout` must be a string, a number or a boolean/ })
})

test('retries 5xx after the back-off the core asks for (wait actions), then succeeds', async (t) => {
  const mock = await startMock({ responses: [{ path: '/latest/api/token', status: 503, times: 2 }] })
  t.after(() => mock.stop())
  const seen = []
  const logger = { debug() {}, info: (m) => seen.push(m), warn() {} }
  const provider = fromInstanceMetadata({ endpoint: mock.endpoint, env: cleanEnv(), logger })
  const credentials = await provider()
  provider.close()
  assert.equal(credentials.accessKeyId, 'ASIAMOCKEXAMPLE00001')
  assert.deepEqual(mock.summary(), ['PUT /latest/api/token', 'PUT /latest/api/token', ...fullExchange()])
  assert.equal(seen.filter((m) => /token request attempt \d failed \(503\); retrying in \d+ ms/.test(m)).length, 2, seen.join('\n'))
})
