'use strict'
// The `imds` package: EC2 instance metadata credentials for Node over the sans-IO imds core.

const native = require('./native.js')
const { fromInstanceMetadata, get } = require('./provider.js')
const { drive, closeConnection } = require('./driver.js')
const { Client } = require('./client.js')
const { loadSettings } = require('./settings.js')

module.exports = {
  fromInstanceMetadata,
  get,
  Client,
  Settings: native.Settings,
  loadSettings,
  drive,
  closeConnection,
  errorCodes: native.errorCodes,
  version: native.version,
}
