'use strict'
// The `imds` package: EC2 instance metadata credentials for Node over the sans-IO imds core.
//
// One `exports.NAME = ...` per export, so that Node's CommonJS export detection gives ES modules
// every name: `import { fromInstanceMetadata } from 'imds'` works as well as `require('imds')`.

const native = require('./native.js')
const { fromInstanceMetadata, get } = require('./provider.js')
const { drive, closeConnection } = require('./driver.js')
const { Client } = require('./client.js')
const { loadSettings } = require('./settings.js')

exports.fromInstanceMetadata = fromInstanceMetadata
exports.get = get
exports.Client = Client
exports.Settings = native.Settings
exports.loadSettings = loadSettings
exports.drive = drive
exports.closeConnection = closeConnection
exports.errorCodes = native.errorCodes
exports.version = native.version
