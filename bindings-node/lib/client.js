'use strict'
// The core's sans-IO `Client` (from the addon), with `reset()` and `cancel()` also closing the
// connection `drive` keeps for it: the core forgets that connection on both. Credentials and
// `send` actions show the secrets they carry by length only when inspected (`console.log`,
// `util.inspect`, the REPL), as the core's `Debug` does.

const { inspect } = require('node:util')
const native = require('./native.js')
const { closeConnection } = require('./driver.js')

/**
 * Gives `object` a (non-enumerable) `util.inspect.custom` that shows the values of `keys` as
 * `<redacted, N bytes>`: the object itself, its properties and JSON are unchanged. Returns it.
 */
function inspectWithout(object, keys) {
  Object.defineProperty(object, inspect.custom, {
    value(depth, options) {
      const shown = { ...object }
      for (const key of keys) {
        // Secrets are ASCII and requests latin1: one character per byte.
        if (typeof shown[key] === 'string') shown[key] = new Redacted(shown[key].length)
      }
      return inspect(shown, options)
    },
    enumerable: false,
  })
  return object
}

/** A secret's stand-in in inspected objects. */
class Redacted {
  constructor(length) {
    this.length = length
  }

  [inspect.custom]() {
    return `<redacted, ${this.length} bytes>`
  }
}

/** The secrets of a credentials object (the core's, or the SDK identity built from them). */
const CREDENTIAL_SECRETS = ['secretAccessKey', 'sessionToken']

class Client extends native.Client {
  /** What to do next (the core's `poll`); a `send` action shows its bytes (they carry the token) by length. */
  poll(now) {
    const action = super.poll(now)
    return action.kind === 'send' ? inspectWithout(action, ['data']) : action
  }

  /** The credentials of the last successful credentials operation, or `null`; inspecting them shows the secrets' lengths only. */
  credentials() {
    const credentials = super.credentials()
    return credentials ? inspectWithout(credentials, CREDENTIAL_SECRETS) : credentials
  }

  /** Forgets everything learned from IMDS (the core's `reset`) and closes the kept connection. */
  reset() {
    super.reset()
    closeConnection(this)
  }

  /** Abandons the running operation, keeping caches (the core's `cancel`), and closes the kept connection. */
  cancel() {
    super.cancel()
    closeConnection(this)
  }
}

module.exports = { Client, inspectWithout, CREDENTIAL_SECRETS }
