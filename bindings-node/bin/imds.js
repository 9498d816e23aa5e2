#!/usr/bin/env node
'use strict'
// `imds [--trace] [credentials | settings | get PATH]` (and `--help`, `--version`): the Node
// implementation of the `imds` command. Arguments, settings, the exchange, every line printed and
// the exit status come from the core (through the addon), so its output is the Rust, C and Python
// commands' byte for byte.

const { performance } = require('node:perf_hooks')
const native = require('../lib/native.js')

function write(stream, text) {
  return new Promise((resolve) => {
    if (text.length === 0) resolve()
    else stream.write(text, () => resolve())
  })
}

/** The `imds: …` line for an error, from the core's writer when the core raised it. */
function errorLine(error) {
  if (error && typeof error.code === 'string' && native.exitCodeFor(error.code) !== null) {
    // The line the core wrote for the last error it raised, if that is this error.
    const line = native.lastErrorLine()
    if (line !== null && line.includes(error.message)) return line
  }
  return `imds: ${error && error.message ? error.message : String(error)}\n`
}

function exitStatus(error) {
  const status = error && typeof error.code === 'string' ? native.exitCodeFor(error.code) : null
  return status === null ? native.EXIT_FETCH_FAILED : status
}

async function runRequest(invocation, settings) {
  settings.checkEnabled()
  const client = new native.Client(settings)
  const trace = invocation.trace
    ? () => {
        for (let d = client.pollDiagnostic(); d !== null && d !== undefined; d = client.pollDiagnostic()) {
          process.stderr.write(d.line)
        }
      }
    : undefined
  try {
    if (invocation.command === 'get') client.startGet(performance.now(), invocation.path)
    else client.startCredentials(performance.now())
  } catch (error) {
    if (trace) trace()
    throw error
  }
  // Loaded only when a request is made: `imds settings` and usage errors stay light.
  const { drive, closeConnection } = require('../lib/driver.js')
  try {
    await drive(client, trace)
  } finally {
    // One operation per command: nothing would use the connection again.
    closeConnection(client)
  }
  if (invocation.command === 'get') return Buffer.concat([client.body(), Buffer.from('\n')])
  return `${client.processJson()}\n`
}

async function main() {
  const invocation = native.parseArgs(process.argv.slice(2))
  if (invocation.command === 'usageError') {
    await write(process.stderr, invocation.errorLine)
    return native.EXIT_USAGE
  }
  if (invocation.command === 'help' || invocation.command === 'version') {
    await write(process.stdout, invocation.command === 'help' ? native.helpText() : native.versionLine())
    return native.EXIT_SUCCESS
  }
  try {
    const settings = native.Settings.load()
    const output = invocation.command === 'settings' ? settings.report() : await runRequest(invocation, settings)
    await write(process.stdout, output)
    return native.EXIT_SUCCESS
  } catch (error) {
    await write(process.stderr, errorLine(error))
    return exitStatus(error)
  }
}

main().then(
  (status) => {
    process.exitCode = status
  },
  (error) => {
    process.stderr.write(`imds: ${error && error.stack ? error.stack : error}\n`)
    process.exitCode = native.EXIT_FETCH_FAILED
  },
)
