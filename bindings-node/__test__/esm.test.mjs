// The package as its users load it, by name from a node_modules folder: `import` from an ES
// module gives every name `require` gives, and both fetch credentials from imds-mock. The npm
// package carries its README and types.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { spawnSync } from 'node:child_process'
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import { packageDir, makeTempDir, removeTempDir, startMock, cleanEnv } from './mock.mjs'

const require = createRequire(import.meta.url)
const exported = Object.keys(require('../lib/index.js')).sort()

/** A folder whose node_modules/imds is this package. */
function project(t) {
  const dir = makeTempDir('imds-node-esm-')
  t.after(() => removeTempDir(dir))
  mkdirSync(path.join(dir, 'node_modules'))
  symlinkSync(packageDir, path.join(dir, 'node_modules', 'imds'), 'dir')
  return dir
}

/** Runs `file` with node in `dir`; its stdout is JSON. */
function runJson(dir, file) {
  const result = spawnSync(process.execPath, [file], { cwd: dir, encoding: 'utf8', timeout: 30000 })
  assert.equal(result.status, 0, result.stderr)
  return JSON.parse(result.stdout)
}

const PROGRAM = (endpoint, env) => `
  const credentials = await fromInstanceMetadata({ endpoint: ${JSON.stringify(endpoint)}, env: ${JSON.stringify(env)} })()
  console.log(JSON.stringify({ names, accessKeyId: credentials.accessKeyId }))
`

test('import from an ES module and require give the same names, and both fetch credentials', async (t) => {
  const dir = project(t)
  const mock = await startMock({})
  t.after(() => mock.stop())
  writeFileSync(
    path.join(dir, 'use.mjs'),
    `import * as imds from 'imds'\nimport { fromInstanceMetadata } from 'imds'\n` +
      `const names = Object.keys(imds).filter((name) => name !== 'default').sort()\n` +
      PROGRAM(mock.endpoint, cleanEnv()),
  )
  writeFileSync(
    path.join(dir, 'use.cjs'),
    `const imds = require('imds')\nconst { fromInstanceMetadata } = imds\n` +
      `const names = Object.keys(imds).sort()\n;(async () => {${PROGRAM(mock.endpoint, cleanEnv())}})()\n`,
  )
  const esm = runJson(dir, 'use.mjs')
  const cjs = runJson(dir, 'use.cjs')
  assert.deepEqual(esm.names, exported)
  assert.deepEqual(cjs.names, exported)
  assert.ok(exported.includes('fromInstanceMetadata') && exported.includes('Client'))
  assert.equal(esm.accessKeyId, 'ASIAMOCKEXAMPLE00001')
  assert.equal(cjs.accessKeyId, 'ASIAMOCKEXAMPLE00001')
})

test('the npm package carries its README, types, loader and command', () => {
  const result = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: packageDir,
    encoding: 'utf8',
    env: { ...process.env, npm_config_loglevel: 'silent', npm_config_offline: 'true' },
  })
  assert.equal(result.status, 0, result.stderr)
  const files = JSON.parse(result.stdout)[0].files.map((f) => f.path)
  for (const file of ['README.md', 'package.json', 'index.d.ts', 'lib/native.js', 'lib/index.js', 'lib/index.d.ts', 'bin/imds.js']) {
    assert.ok(files.includes(file), `${file} missing from ${files.join(', ')}`)
  }
  // The addons travel in the platform packages (imds-linux-x64-gnu, ...), never in this one.
  assert.ok(!files.some((f) => f.startsWith('__test__/') || f.startsWith('src/') || f.endsWith('.node')), files.join(', '))
})
