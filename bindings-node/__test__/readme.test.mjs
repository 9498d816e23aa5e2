// The README's Node usage example, extracted from between its markers and run as written, as a
// program that installed `imds` would run it, against imds-mock.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { startMock, packageDir, repoDir, makeTempDir, removeTempDir, runNode, closedPort } from './mock.mjs'

function readmeExample() {
  const readme = readFileSync(path.join(repoDir, 'README.md'), 'utf8')
  const match = /<!-- node example begin -->\s*```js\n([\s\S]*?)```\s*<!-- node example end -->/.exec(readme)
  assert.ok(match, 'README.md has no Node example between its markers')
  return match[1]
}

test('the README example runs as written against imds-mock', async (t) => {
  const mock = await startMock({ metadata: { 'placement/region': 'sa-east-1' }, credentials: { Expiration: '2032-05-06T07:08:09Z' } })
  t.after(() => mock.stop())
  const dir = makeTempDir('imds-node-readme-')
  t.after(() => removeTempDir(dir))
  mkdirSync(path.join(dir, 'node_modules'))
  symlinkSync(packageDir, path.join(dir, 'node_modules', 'imds'), 'dir')
  writeFileSync(path.join(dir, 'example.js'), readmeExample())

  const result = await runNode(['example.js'], {
    cwd: dir,
    env: {
      HOME: dir,
      NODE_PATH: path.join(packageDir, 'node_modules'),
      AWS_EC2_METADATA_SERVICE_ENDPOINT: mock.endpoint,
      AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING: '1',
    },
  })
  assert.equal(result.status, 0, result.stderr)
  assert.match(result.stdout, /^access key ASIAMOCKEXAMPLE00001, expires 2032-05-06T07:08:09\.000Z$/m)
  assert.match(result.stdout, /^region sa-east-1$/m)
  assert.match(result.stdout, /^imds: > PUT \/latest\/api\/token$/m)
  assert.ok(!result.stdout.includes('mockSecret'))
})

/** The package README's example (bindings-node/README.md), an ES module. */
function packageReadmeExample() {
  const readme = readFileSync(path.join(packageDir, 'README.md'), 'utf8')
  const match = /<!-- node package example begin -->\s*```js\n([\s\S]*?)```\s*<!-- node package example end -->/.exec(readme)
  assert.ok(match, 'bindings-node/README.md has no example between its markers')
  return match[1]
}

test("the package README's chain example gets IMDS's credentials, or the environment's where IMDS has none", async (t) => {
  const mock = await startMock({ credentials: { Expiration: '2032-05-06T07:08:09Z' } })
  t.after(() => mock.stop())
  const dir = makeTempDir('imds-node-package-readme-')
  t.after(() => removeTempDir(dir))
  // ES modules ignore NODE_PATH: the example's imports are linked in as an install would put them.
  mkdirSync(path.join(dir, 'node_modules'))
  symlinkSync(packageDir, path.join(dir, 'node_modules', 'imds'), 'dir')
  for (const scope of ['@aws-sdk', '@smithy']) {
    symlinkSync(path.join(packageDir, 'node_modules', scope), path.join(dir, 'node_modules', scope), 'dir')
  }
  writeFileSync(path.join(dir, 'example.mjs'), packageReadmeExample())

  const onEc2 = await runNode(['example.mjs'], { cwd: dir, env: { HOME: dir, AWS_EC2_METADATA_SERVICE_ENDPOINT: mock.endpoint } })
  assert.equal(onEc2.status, 0, onEc2.stderr)
  assert.equal(onEc2.stdout, 'access key ASIAMOCKEXAMPLE00001, expires 2032-05-06T07:08:09.000Z\n')

  // Nothing listens at the endpoint: IMDS is unreachable, the chain goes on.
  const offEc2 = await runNode(['example.mjs'], {
    cwd: dir,
    env: {
      HOME: dir,
      AWS_EC2_METADATA_SERVICE_ENDPOINT: `http://127.0.0.1:${await closedPort()}`,
      AWS_ACCESS_KEY_ID: 'AKIAFROMTHEENVIRONMT',
      AWS_SECRET_ACCESS_KEY: 'secret-from-the-environment',
    },
  })
  assert.equal(offEc2.status, 0, offEc2.stderr)
  assert.equal(offEc2.stdout, 'access key AKIAFROMTHEENVIRONMT, expires never\n')
  assert.equal(mock.summary().length, 3, 'the second run did not reach the mock')
})
