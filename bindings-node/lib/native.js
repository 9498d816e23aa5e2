'use strict'
// The addon, `imds.<platform>.node`, for this very platform (`linux-x64-gnu`, `linux-arm64-musl`,
// ...). Taken from, in this order:
//   1. the file NAPI_RS_NATIVE_LIBRARY_PATH names;
//   2. this package's own folder, where `napi build --platform` puts it in a checkout;
//   3. the package `imds-<platform>`, which `npm install imds` adds as an optional dependency
//      (npm installs only the one whose os, cpu and libc match this machine).
// Where none is found, the error names the platform and says how to get or build the addon.

const fs = require('node:fs')
const path = require('node:path')

/** The platforms with a prebuilt addon on npm, in the package `imds-<platform>`. */
const PREBUILT = ['linux-x64-gnu', 'linux-arm64-gnu', 'linux-x64-musl', 'linux-arm64-musl']

/** `gnu` or `musl` on Linux (what this Node is linked against), `null` elsewhere. */
function linuxLibc() {
  try {
    // As napi-rs's loader does: ldd is a script on glibc systems, musl's own loader on musl ones.
    return fs.readFileSync('/usr/bin/ldd', 'latin1').includes('musl') ? 'musl' : 'gnu'
  } catch {
    // No ldd (a slim container): the runtime report says whether glibc is there (~10 ms).
    const report = typeof process.report?.getReport === 'function' ? process.report.getReport() : null
    return report?.header?.glibcVersionRuntime ? 'gnu' : 'musl'
  }
}

function platformName() {
  const libc = process.platform === 'linux' ? linuxLibc() : null
  return [process.platform, process.arch, libc].filter(Boolean).join('-')
}

function packageVersion() {
  try {
    return require('../package.json').version
  } catch {
    return 'the same version as imds'
  }
}

function howToBuild(platform) {
  return (
    'To build it from source (Rust >= 1.88, Node >= 20), in a clone of the imds repository: ' +
    '`cd bindings-node && npm ci && npm run build`, then set ' +
    `NAPI_RS_NATIVE_LIBRARY_PATH to the imds.${platform}.node it makes, or copy that file into ` +
    `${path.dirname(__dirname)}.`
  )
}

function notFound(platform) {
  const version = packageVersion()
  const message = PREBUILT.includes(platform)
    ? `imds: the addon for ${platform} is not installed: the npm package imds-${platform}@${version} ` +
      'is missing (npm skips optional dependencies with --omit=optional, and a package-lock.json ' +
      `made on another platform may lack it). Install it with \`npm install imds-${platform}@${version}\`. ` +
      howToBuild(platform)
    : `imds: no prebuilt addon for ${platform} (Node ${process.version}); prebuilt addons exist for ` +
      `${PREBUILT.join(', ')}. ${howToBuild(platform)}`
  const error = new Error(message)
  error.code = 'ERR_IMDS_ADDON_NOT_FOUND'
  return error
}

/** Loads `file`, or throws an error that says which addon failed to load and why. */
function load(file, platform) {
  try {
    return require(file)
  } catch (cause) {
    const error = new Error(
      `imds: the addon ${file} for ${platform} did not load: ${cause && cause.message}. ` + howToBuild(platform),
    )
    error.code = 'ERR_IMDS_ADDON_LOAD'
    error.cause = cause
    throw error
  }
}

function loadNative() {
  const platform = platformName()
  const override = process.env.NAPI_RS_NATIVE_LIBRARY_PATH
  if (override) return load(path.resolve(override), platform)
  const local = path.join(__dirname, '..', `imds.${platform}.node`)
  if (fs.existsSync(local)) return load(local, platform)
  let installed
  try {
    installed = require.resolve(`imds-${platform}`)
  } catch {
    throw notFound(platform)
  }
  return load(installed, platform)
}

module.exports = loadNative()
