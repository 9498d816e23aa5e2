'use strict'
// The core's sans-IO `Client` (from the addon), with `reset()` and `cancel()` also closing the
// connection `drive` keeps for it: the core forgets that connection on both.

const native = require('./native.js')
const { closeConnection } = require('./driver.js')

class Client extends native.Client {
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

module.exports = { Client }
