'use strict'
// The addon. The napi-generated `index.js` probes the C library (musl or glibc) before loading;
// where the addon built by `napi build --platform` sits next to this package for this very
// platform, load it directly: it saves the probe on every start of `imds`.

function loadNative() {
  if (process.platform === 'linux' && process.arch === 'x64' && !process.env.NAPI_RS_NATIVE_LIBRARY_PATH) {
    try {
      return require('../imds.linux-x64-gnu.node')
    } catch {
      // Not built here, or not a glibc system: let the generated loader find the right one.
    }
  }
  return require('../index.js')
}

module.exports = loadNative()
