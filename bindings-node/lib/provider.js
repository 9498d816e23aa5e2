'use strict'
// `fromInstanceMetadata`: an AWS SDK for JavaScript v3 credential provider over one long-lived
// core client. The core decides whether its cached credentials are still good (refresh window,
// static stability); this layer only shares one in-flight fetch between concurrent callers.

const { performance } = require('node:perf_hooks')
const native = require('./native.js')
const { Client, inspectWithout, CREDENTIAL_SECRETS } = require('./client.js')
const { drive, closeConnection } = require('./driver.js')
const { explicitSettings, loadSettings } = require('./settings.js')

const LOG_METHODS = { trace: 'debug', info: 'info', warn: 'warn' }

/** The `name` the AWS SDK's chains give their provider errors (`CredentialsProviderError`). */
const PROVIDER_ERROR_NAME = 'CredentialsProviderError'

/**
 * Gives `error` the AWS SDK's credential provider error contract (that of `CredentialsProviderError`
 * in `@smithy/property-provider`, on which every SDK v3 chain is built): `name`, and
 * `tryNextLink`, which the chains read to go on to the next provider. The core decides (see
 * `imds_core::chain`): true when IMDS cannot give credentials (unreachable, disabled, no role, an
 * error answer, bad data), false for an invalid setting, which must not hide behind "no
 * credentials". An error without one of the core's codes (a bug) stops the chain too.
 */
function asProviderError(error) {
  if (!(error instanceof Error)) error = new Error(`imds: ${String(error)}`)
  const outcome = typeof error.code === 'string' ? native.chainOutcome(error.code) : null
  error.name = PROVIDER_ERROR_NAME
  error.tryNextLink = outcome !== null && outcome !== 'stop'
  return error
}

/**
 * Logs why a fetch gave no credentials: once per provider at `warn` when IMDS answered with an
 * error (the next provider's credentials may not be the ones expected), else at `debug`.
 */
function logFailure(logger, error, state) {
  if (!logger) return
  const outcome = typeof error.code === 'string' ? native.chainOutcome(error.code) : null
  const level = outcome === 'next_provider_with_warning' && !state.warned ? 'warn' : 'debug'
  if (level === 'warn') state.warned = true
  const method = logger[level]
  if (typeof method === 'function') method.call(logger, `imds: no credentials from IMDS: ${error.message}`)
}

/** A function that hands every queued diagnostic of `client` to `logger` (or `undefined` without a logger). */
function diagnosticsTo(logger, client) {
  if (!logger) return undefined
  return () => {
    for (let d = client.pollDiagnostic(); d !== null && d !== undefined; d = client.pollDiagnostic()) {
      const method = logger[LOG_METHODS[d.level]]
      if (typeof method === 'function') method.call(logger, `imds: ${d.message}`)
    }
  }
}

/** The SDK's credential identity for the core's credentials (inspecting it shows the secrets' lengths only). */
function identity(credentials) {
  const result = {
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    sessionToken: credentials.sessionToken,
    expiration: credentials.expiration,
  }
  if (credentials.accountId !== undefined && credentials.accountId !== null) result.accountId = credentials.accountId
  return inspectWithout(result, CREDENTIAL_SECRETS)
}

/**
 * A credential provider for the instance's role: `() => Promise<{accessKeyId, secretAccessKey,
 * sessionToken, expiration, accountId?}>`, usable as `credentials` in any AWS SDK v3 client.
 *
 * Settings resolve once, on the first call, from `options` (camelCase: `endpoint`,
 * `endpointMode`, `v1Disabled`, `timeout` in seconds, `attempts`, `instanceProfileName`,
 * `tokenTtl`, `credentialsApi`, `refreshWindow`, `disabled`), then the environment (`options.env`
 * or `process.env`), then the config file. Credentials are reused until `refreshWindow` seconds
 * before they expire; concurrent calls share one fetch. Errors carry the core's `code`, and
 * behave as the AWS SDK's `CredentialsProviderError`: `name` is `'CredentialsProviderError'` and
 * `tryNextLink` tells a credential chain (`chain()` of `@smithy/property-provider`, the SDK's
 * default chain) to go on to its next provider when IMDS cannot give credentials, or to stop for
 * an invalid setting. When IMDS answered with an error, `options.logger.warn` hears of it once per
 * provider (later failures, and an absent IMDS, go to `logger.debug`). An option that is not a
 * setting throws at once (`code` `invalid_argument`).
 *
 * The connection to IMDS is kept between fetches (never holding the process open) and closed
 * after a few idle seconds; while idle, a new provider or `get` for the same endpoint takes it
 * instead of connecting. `provider.close()` closes it now (the cache is kept).
 */
function fromInstanceMetadata(options = {}) {
  // A misspelt option is a programming error: say so now, not at the first fetch.
  explicitSettings(options)
  const wallClock = options.clock || Date.now
  let client = null
  let drain
  let inflight = null
  const logState = { warned: false }

  async function fetchCredentials() {
    if (client === null) {
      const settings = loadSettings(options)
      client = new Client(settings)
      drain = diagnosticsTo(options.logger, client)
    }
    try {
      client.startCredentials(performance.now(), wallClock())
    } catch (error) {
      if (drain) drain()
      throw error
    }
    await drive(client, drain)
    return identity(client.credentials())
  }

  async function fetchForChain() {
    try {
      return await fetchCredentials()
    } catch (thrown) {
      const error = asProviderError(thrown)
      logFailure(options.logger, error, logState)
      throw error
    }
  }

  function imdsCredentials() {
    if (inflight === null) {
      inflight = fetchForChain()
      const clear = () => {
        inflight = null
      }
      inflight.then(clear, clear)
    }
    return inflight
  }
  imdsCredentials.close = function close() {
    if (client !== null) closeConnection(client)
  }
  return imdsCredentials
}

/**
 * Reads one metadata path (`placement/region`, `instance-id`, or an absolute `/latest/...`) and
 * resolves with its body as text. Takes the same options as `fromInstanceMetadata`. Its
 * connection stays idle for the next client to the same endpoint (closed after a few seconds).
 */
async function get(path, options = {}) {
  const settings = loadSettings(options)
  const client = new Client(settings)
  const drain = diagnosticsTo(options.logger, client)
  try {
    client.startGet(performance.now(), path)
  } catch (error) {
    if (drain) drain()
    throw error
  }
  // The connection stays idle for the next client to the same endpoint (never holding the process).
  await drive(client, drain)
  return client.body().toString('utf8')
}

module.exports = { fromInstanceMetadata, get }
