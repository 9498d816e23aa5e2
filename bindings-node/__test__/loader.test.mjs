// lib/native.js, the addon loader: where no addon fits, the error names the platform and says how
// to get one (never napi-rs's generic "npm has a bug related to optional dependencies").

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { spawnSync } from 'node:child_process'
import { cpSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import { packageDir, makeTempDir, removeTempDir } from './mock.mjs'

const { version } = createRequire(import.meta.url)('../package.json')

/** Requires `native.js` of `dir` in a child Node (after `preload`); returns what it printed. */
function requireNative(dir, { preload = '', env = {} } = {}) {
  const source = `${preload}
try {
  require(${JSON.stringify(path.join(dir, 'lib', 'native.js'))})
  console.log(JSON.stringify({ loaded: true }))
} catch (error) {
  console.log(JSON.stringify({ message: error.message, code: error.code, cause: String(error.cause) }))
}`
  const result = spawnSync(process.execPath, ['-e', source], {
    env: { PATH: process.env.PATH, ...env },
    encoding: 'utf8',
  })
  assert.equal(result.status, 0, result.stderr)
  return JSON.parse(result.stdout)
}

/** A copy of the package without any addon: its lib/ and package.json. */
function packageWithoutAddon(t) {
  const dir = makeTempDir('imds-node-loader-')
  t.after(() => removeTempDir(dir))
  cpSync(path.join(packageDir, 'lib'), path.join(dir, 'lib'), { recursive: true })
  cpSync(path.join(packageDir, 'package.json'), path.join(dir, 'package.json'))
  return dir
}

test('loads the addon built in the package folder', () => {
  assert.deepEqual(requireNative(packageDir), { loaded: true })
})

test('a platform with no prebuilt addon: names it and says how to build one', (t) => {
  const result = requireNative(packageWithoutAddon(t), {
    preload: "Object.defineProperty(process, 'arch', { value: 'riscv64' })",
  })
  assert.equal(result.code, 'ERR_IMDS_ADDON_NOT_FOUND')
  assert.match(result.message, /^imds: no prebuilt addon for linux-riscv64-(gnu|musl) \(Node v/)
  assert.match(result.message, /prebuilt addons exist for linux-x64-gnu, linux-arm64-gnu, linux-x64-musl, linux-arm64-musl/)
  assert.match(result.message, /`cd bindings-node && npm ci && npm run build`/)
  assert.match(result.message, /NAPI_RS_NATIVE_LIBRARY_PATH to the imds\.linux-riscv64-(gnu|musl)\.node/)
  assert.doesNotMatch(result.message, /npm has a bug/)
})

test('a prebuilt platform whose package is missing: names the package to install', (t) => {
  const result = requireNative(packageWithoutAddon(t))
  assert.equal(result.code, 'ERR_IMDS_ADDON_NOT_FOUND')
  const platform = `${process.platform}-${process.arch}-gnu`
  assert.match(result.message, new RegExp(`^imds: the addon for ${platform} is not installed`))
  assert.ok(result.message.includes(`npm install imds-${platform}@${version}`), result.message)
  assert.ok(result.message.includes('--omit=optional'), result.message)
})

test('an addon that does not load: the error says which file and why', (t) => {
  const dir = packageWithoutAddon(t)
  const notAnAddon = path.join(dir, 'broken.node')
  writeFileSync(notAnAddon, 'not an ELF file\n'.repeat(16))
  const result = requireNative(dir, { env: { NAPI_RS_NATIVE_LIBRARY_PATH: notAnAddon } })
  assert.equal(result.code, 'ERR_IMDS_ADDON_LOAD')
  assert.ok(result.message.startsWith(`imds: the addon ${notAnAddon} for `), result.message)
  assert.match(result.message, /did not load: .*invalid ELF header/)
  assert.match(result.cause, /invalid ELF header/)
})
