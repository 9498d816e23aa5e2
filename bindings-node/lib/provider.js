'use strict'
// `fromInstanceMetadata`: an AWS SDK for JavaScript v3 credential provider over one long-lived
// core client. The core decides whether its cached credentials are still good (refresh window,
// static stability); this layer only shares one in-flight fetch between concurrent callers.

const { performance } = require('node:perf_hooks')
const { Client } = require('./client.js')
const { drive, closeConnection } = require('./driver.js')
const { explicitSettings, loadSettings } = require('./settings.js')

const LOG_METHODS = { trace: 'debug', info: 'info', warn: 'warn' }

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

/** The SDK's credential identity for the core's credentials. */
function identity(credentials) {
  const result = {
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    sessionToken: credentials.sessionToken,
    expiration: credentials.expiration,
  }
  if (credentials.accountId !== undefined && credentials.accountId !== null) result.accountId = credentials.accountId
  return result
}

/**
 * A credential provider for the instance's role: `() => Promise<{accessKeyId, secretAccessKey,
 * sessionToken, expiration, accountId?}>`, usable as `credentials` in any AWS SDK v3 client.
 *
 * Settings resolve once, on the first call, from `options` (camelCase: `endpoint`,
 * `endpointMode`, `v1Disabled`, `timeout` in seconds, `attempts`, `instanceProfileName`,
 * `tokenTtl`, `credentialsApi`, `refreshWindow`, `disabled`), then the environment (`options.env`
 * or `process.env`), then the config file. Credentials are reused until `refreshWindow` seconds
 * before they expire; concurrent calls share one fetch. Errors carry the core's `code`. An
 * option that is not a setting throws at once (`code` `invalid_argument`).
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

  function imdsCredentials() {
    if (inflight === null) {
      inflight = fetchCredentials()
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
