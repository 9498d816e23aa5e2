'use strict'
// Options in camelCase, mapped to the core's settings by code name (`v1Disabled` -> `v1_disabled`).
// The core parses and validates every value; this only turns option values into the text the core
// reads from every other source.

const native = require('./native.js')

/** Options of `fromInstanceMetadata` and `get` that are not settings. */
const NON_SETTING_OPTIONS = new Set(['logger', 'env', 'clock'])

/** Alternative spellings, as the AWS SDKs name the setting. */
const ALIASES = { ec2MetadataV1Disabled: 'v1_disabled' }

const SETTING_NAMES = new Set(native.settingNames())

function codeName(option) {
  if (Object.prototype.hasOwnProperty.call(ALIASES, option)) return ALIASES[option]
  return option.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)
}

function invalidArgument(message) {
  const error = new TypeError(message)
  error.code = 'invalid_argument'
  return error
}

/**
 * The explicit settings (`{code_name: text}`) for `options`. Throws an error with `code`
 * `invalid_argument` for an option that is not a setting, or a value that is neither a string, a
 * number nor a boolean. `undefined` and `null` leave the setting to the other sources.
 */
function explicitSettings(options) {
  const explicit = {}
  for (const [option, value] of Object.entries(options || {})) {
    if (NON_SETTING_OPTIONS.has(option) || value === undefined || value === null) continue
    const name = codeName(option)
    if (!SETTING_NAMES.has(name)) {
      throw invalidArgument(`unknown option \`${option}\`; expected one of ${[...SETTING_NAMES].map(camelName).join(', ')}, logger, env, clock`)
    }
    if (typeof value === 'string') explicit[name] = value
    else if (typeof value === 'number' || typeof value === 'boolean') explicit[name] = String(value)
    else throw invalidArgument(`option \`${option}\` must be a string, a number or a boolean`)
  }
  return explicit
}

function camelName(codeName) {
  return codeName.replace(/_([a-z0-9])/g, (_, letter) => letter.toUpperCase())
}

/** Resolves settings for `options`: code, then `options.env` (else the process environment), then the config file. */
function loadSettings(options) {
  const env = options && options.env ? definedOnly(options.env) : undefined
  return native.Settings.load(explicitSettings(options), env)
}

function definedOnly(env) {
  const copy = {}
  for (const [name, value] of Object.entries(env)) {
    if (typeof value === 'string') copy[name] = value
  }
  return copy
}

module.exports = { loadSettings, explicitSettings }
