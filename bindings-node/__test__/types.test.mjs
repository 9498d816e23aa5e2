// The TypeScript types: `tsc --strict` compiles __test__/types/usage.ts, which uses the package as
// a TypeScript program would (and marks what must not compile with @ts-expect-error).

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import { packageDir, makeTempDir, removeTempDir } from './mock.mjs'

const require = createRequire(import.meta.url)

test('the TypeScript types compile in strict mode and refuse wrong options', (t) => {
  const dir = makeTempDir('imds-node-types-')
  t.after(() => removeTempDir(dir))
  mkdirSync(path.join(dir, 'node_modules'))
  symlinkSync(packageDir, path.join(dir, 'node_modules', 'imds'), 'dir')
  copyFileSync(path.join(packageDir, '__test__', 'types', 'usage.ts'), path.join(dir, 'usage.ts'))
  writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        target: 'es2022',
        module: 'commonjs',
        moduleResolution: 'node10',
        types: ['node'],
        typeRoots: [path.join(packageDir, 'node_modules', '@types')],
        baseUrl: '.',
        paths: { '*': [path.join(packageDir, 'node_modules', '*')] },
        skipLibCheck: true,
      },
      files: ['usage.ts'],
    }),
  )
  const tsc = require.resolve('typescript/bin/tsc')
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(dir, 'tsconfig.json')], { cwd: dir, encoding: 'utf8' })
  assert.equal(result.status, 0, result.stdout + result.stderr)
})

test('the types compile where Node\'s types are not loaded automatically (`types: []`), library files checked', (t) => {
  // The declarations use Buffer: they reference Node's types themselves, as a TypeScript program
  // that lists no `types` (or other ones) must still compile against them.
  const dir = makeTempDir('imds-node-types-bare-')
  t.after(() => removeTempDir(dir))
  mkdirSync(path.join(dir, 'node_modules'))
  symlinkSync(packageDir, path.join(dir, 'node_modules', 'imds'), 'dir')
  writeFileSync(
    path.join(dir, 'bare.ts'),
    [
      "import { fromInstanceMetadata, Client, Settings } from 'imds'",
      "import type { ImdsProviderError } from 'imds'",
      'const client = new Client(Settings.load())',
      'const body = client.body()',
      'const length: number | undefined = body?.length',
      'const provider = fromInstanceMetadata({ timeout: 0.5 })',
      'const check = (e: ImdsProviderError): boolean => e.tryNextLink',
      'void length, provider, check',
      '',
    ].join('\n'),
  )
  writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, target: 'es2022', module: 'commonjs', moduleResolution: 'node10', types: [], skipLibCheck: false },
      files: ['bare.ts'],
    }),
  )
  const tsc = require.resolve('typescript/bin/tsc')
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(dir, 'tsconfig.json')], { cwd: dir, encoding: 'utf8' })
  assert.equal(result.status, 0, result.stdout + result.stderr)
})
