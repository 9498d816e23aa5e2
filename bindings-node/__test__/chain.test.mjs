// fromInstanceMetadata inside a real AWS SDK credential chain (`chain` of @smithy/property-provider,
// on which the SDK's default chain is built), against imds-mock over loopback TCP: when IMDS cannot
// give credentials the chain goes on to the next provider; an invalid setting stops it with the
// configuration error. An error answer from IMDS reaches `logger.warn` once per provider.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createRequire } from 'node:module'
import { startMock, cleanEnv, fullExchange, closedPort } from './mock.mjs'

const require = createRequire(import.meta.url)
const { fromInstanceMetadata } = require('../lib/index.js')
const { chain, fromStatic, CredentialsProviderError } = require('@smithy/property-provider')

const NEXT = { accessKeyId: 'AKIANEXTPROVIDER0001', secretAccessKey: 'next-provider-secret' }

/** The next link of the chain: static credentials, counting how often it was asked. */
function nextProvider() {
  const provider = fromStatic(NEXT)
  const counted = async () => {
    counted.calls += 1
    return provider()
  }
  counted.calls = 0
  return counted
}

/** A logger that records what it was told, by level. */
function recordingLogger() {
  const lines = { debug: [], info: [], warn: [] }
  return {
    lines,
    debug: (message) => lines.debug.push(message),
    info: (message) => lines.info.push(message),
    warn: (message) => lines.warn.push(message),
  }
}

async function withMock(t, script) {
  const mock = await startMock(script)
  t.after(() => mock.stop())
  return mock
}

test('IMDS answering: the chain stops at imds with the served credentials', async (t) => {
  const mock = await withMock(t, {})
  const imds = fromInstanceMetadata({ endpoint: mock.endpoint, env: cleanEnv() })
  const next = nextProvider()
  const credentials = await chain(imds, next)()
  imds.close() // before the mock stops, which waits for its connections to end
  assert.equal(credentials.accessKeyId, 'ASIAMOCKEXAMPLE00001')
  assert.equal(next.calls, 0)
  assert.deepEqual(mock.summary(), fullExchange())
})

// Each case: options for fromInstanceMetadata (a mock started from `script` when given), the
// code the provider rejects with, and whether the error answer is worth a warning.
const fallThrough = {
  'IMDS down (connection refused)': { options: async () => ({ endpoint: `http://127.0.0.1:${await closedPort()}` }), code: 'connect_failed', warns: false },
  'IMDS disabled': { options: async () => ({ env: cleanEnv({ AWS_EC2_METADATA_DISABLED: 'true' }), endpoint: 'http://127.0.0.1:9' }), code: 'disabled', warns: false },
  'no role attached': { script: { role: null }, code: 'no_role', warns: false },
  'IMDS refuses the credentials': {
    script: { credentials: { Code: 'AssumeRoleUnauthorizedAccess', Message: 'not authorized' } },
    code: 'credentials_rejected',
    warns: true,
  },
  'IMDS answers 500 to every attempt': {
    script: { responses: [{ path: '/latest/meta-data/iam/security-credentials/demo-role', status: 500, times: 0 }] },
    extra: { attempts: 2 },
    code: 'http_status',
    warns: true,
  },
  'IMDS sends a broken credentials document': {
    script: { responses: [{ path: '/latest/meta-data/iam/security-credentials/demo-role', body: '{"Code": "Success", "AccessKeyId": ', times: 0 }] },
    code: 'malformed_credentials',
    warns: true,
  },
}

for (const [name, { script, options, extra, code, warns }] of Object.entries(fallThrough)) {
  test(`${name}: the chain goes on to the next provider's credentials`, async (t) => {
    const mock = script ? await withMock(t, script) : null
    const settings = mock ? { endpoint: mock.endpoint, env: cleanEnv() } : await options()
    const logger = recordingLogger()
    const imds = fromInstanceMetadata({ env: cleanEnv(), ...settings, ...extra, logger })
    t.after(() => imds.close())
    const next = nextProvider()
    const credentials = await chain(imds, next)()
    assert.deepEqual(credentials, NEXT)
    assert.equal(next.calls, 1)

    // What the chain saw: the SDK's provider error contract, with the core's code.
    const error = await imds().then(
      () => assert.fail('expected the provider to reject'),
      (e) => e,
    )
    assert.equal(error.name, 'CredentialsProviderError')
    assert.equal(error.tryNextLink, true)
    assert.equal(error.code, code, error.message)
    assert.ok(error instanceof Error)

    // Two failed fetches: an error answer is one warning, never repeated; an absent IMDS none.
    const failures = logger.lines.debug.filter((line) => line.startsWith('imds: no credentials from IMDS: '))
    if (warns) {
      assert.equal(logger.lines.warn.filter((line) => line === `imds: no credentials from IMDS: ${error.message}`).length, 1, logger.lines.warn.join('\n'))
      assert.equal(failures.length, 1)
    } else {
      assert.deepEqual(logger.lines.warn, [])
      assert.equal(failures.length, 2)
    }
  })
}

const configurationErrors = {
  'an invalid AWS_EC2_METADATA_DISABLED': { env: { AWS_EC2_METADATA_DISABLED: 'yes' }, message: /^invalid AWS_EC2_METADATA_DISABLED \(env\): `yes`/ },
  'an invalid attempts setting': { env: { AWS_METADATA_SERVICE_NUM_ATTEMPTS: 'many' }, message: /^invalid AWS_METADATA_SERVICE_NUM_ATTEMPTS \(env\): `many`/ },
  'an endpoint that is not a URL': { options: { endpoint: 'ftp://127.0.0.1:1338' }, message: /^invalid endpoint \(code\): `ftp:\/\/127\.0\.0\.1:1338`/ },
}

for (const [name, { env, options, message }] of Object.entries(configurationErrors)) {
  test(`${name} stops the chain with the configuration error`, async (t) => {
    const mock = await withMock(t, {})
    const imds = fromInstanceMetadata({ endpoint: mock.endpoint, ...options, env: cleanEnv(env) })
    t.after(() => imds.close())
    const next = nextProvider()
    await assert.rejects(chain(imds, next)(), (error) => {
      assert.equal(error.name, 'CredentialsProviderError')
      assert.equal(error.tryNextLink, false)
      assert.equal(error.code, 'invalid_setting')
      assert.match(error.message, message)
      return true
    })
    assert.equal(next.calls, 0, 'the next provider was not asked')
    assert.deepEqual(mock.summary(), [], 'no request was made')
  })
}

test('the provider errors are what @smithy builds its own chain errors from', async () => {
  // The SDK's own class sets the same two properties the chains read.
  const sdk = new CredentialsProviderError('x', { tryNextLink: false })
  const imds = fromInstanceMetadata({ env: cleanEnv({ AWS_EC2_METADATA_DISABLED: 'yes' }) })
  const error = await imds().then(
    () => assert.fail('expected a configuration error'),
    (e) => e,
  )
  assert.equal(error.name, sdk.name)
  assert.equal(typeof error.tryNextLink, typeof sdk.tryNextLink)
})
