// bin/imds.js, the Node `imds` command, run as a child process against imds-mock: the output
// contract (stdout, stderr lines, exit statuses) and that it exits by itself.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import path from 'node:path'
import { createRequire } from 'node:module'
import { startMock, packageDir, fullExchange, runNode } from './mock.mjs'

const require = createRequire(import.meta.url)

const COMMAND = path.join(packageDir, 'bin', 'imds.js')

/** Runs `node bin/imds.js ...args` with only `env` (plus PATH) and collects what it printed. */
function run(args, env = {}) {
  return runNode([COMMAND, ...args], { env })
}

test('credentials prints the credential_process JSON and exits 0', async (t) => {
  const mock = await startMock({ credentials: { Expiration: '2031-02-03T04:05:06Z' } })
  t.after(() => mock.stop())
  const result = await run([], { AWS_EC2_METADATA_SERVICE_ENDPOINT: mock.endpoint })
  assert.equal(result.stderr, '')
  assert.equal(result.status, 0)
  assert.equal(
    result.stdout,
    '{"Version":1,"AccessKeyId":"ASIAMOCKEXAMPLE00001","SecretAccessKey":"mockSecret/EXAMPLE+Key0123456789abcdefghi",' +
      '"SessionToken":"mockSessionToken/EXAMPLE+Token0123456789==","Expiration":"2031-02-03T04:05:06Z"}\n',
  )
  assert.deepEqual(mock.summary(), fullExchange())
})

test('get PATH prints the body and a newline', async (t) => {
  const mock = await startMock({ metadata: { 'placement/region': 'ap-southeast-2' } })
  t.after(() => mock.stop())
  const result = await run(['get', 'placement/region'], { AWS_EC2_METADATA_SERVICE_ENDPOINT: mock.endpoint })
  assert.deepEqual(result, { status: 0, stdout: 'ap-southeast-2\n', stderr: '' })
})

test('--trace shows each request and status on stderr, never a secret', async (t) => {
  const mock = await startMock({})
  t.after(() => mock.stop())
  const result = await run(['--trace', 'credentials'], { AWS_EC2_METADATA_SERVICE_ENDPOINT: mock.endpoint })
  assert.equal(result.status, 0)
  const lines = result.stderr.split('\n').filter((l) => l)
  assert.deepEqual(lines.filter((l) => l.includes('> ')), [
    'imds: trace: > PUT /latest/api/token',
    'imds: trace: > GET /latest/meta-data/iam/security-credentials/ (token)',
    'imds: trace: > GET /latest/meta-data/iam/security-credentials/demo-role (token)',
  ])
  for (const secret of ['mockSecret/EXAMPLE', 'mockSessionToken/EXAMPLE', 'mock-imds-token']) {
    assert.ok(!result.stderr.includes(secret), `stderr shows ${secret}`)
  }
})

test('settings prints the report without a request', async () => {
  const result = await run(['settings'], { AWS_EC2_METADATA_SERVICE_ENDPOINT: 'http://127.0.0.1:1338', AWS_METADATA_SERVICE_NUM_ATTEMPTS: '2' })
  assert.equal(result.status, 0)
  assert.equal(result.stderr, '')
  assert.match(result.stdout, /^endpoint = http:\/\/127\.0\.0\.1:1338 \(env\b/m)
  assert.match(result.stdout, /^attempts = 2 \(env\b/m)
  assert.match(result.stdout, /^disabled = false \(default/m)
})

test('exit statuses: 1 fetch failed, 2 usage or invalid settings, 3 disabled', async (t) => {
  const mock = await startMock({ role: null })
  t.after(() => mock.stop())
  const noRole = await run([], { AWS_EC2_METADATA_SERVICE_ENDPOINT: mock.endpoint })
  assert.equal(noRole.status, 1)
  assert.equal(noRole.stdout, '')
  assert.match(noRole.stderr, /^imds: no IAM role is attached to this instance/)
  assert.equal(noRole.stderr.split('\n').length, 2)

  const usage = await run(['frobnicate'])
  assert.equal(usage.status, 2)
  assert.equal(usage.stderr, 'imds: unknown command `frobnicate`; usage: imds [--trace] [credentials | settings | get PATH]\n')

  const invalid = await run([], { AWS_METADATA_SERVICE_TIMEOUT: 'abc' })
  assert.equal(invalid.status, 2)
  assert.match(invalid.stderr, /^imds: invalid AWS_METADATA_SERVICE_TIMEOUT \(env\): `abc`/)

  const disabled = await run([], { AWS_EC2_METADATA_DISABLED: 'true' })
  assert.equal(disabled.status, 3)
  assert.match(disabled.stderr, /^imds: IMDS is disabled by AWS_EC2_METADATA_DISABLED \(env\)/)

  const help = await run(['--help'])
  assert.equal(help.status, 0)
  assert.equal(help.stderr, '')
  assert.ok(help.stdout.startsWith('usage: imds [--trace] [credentials | settings | get PATH]\n\n'), help.stdout)
  for (const line of ['  --version      print the version', '      env AWS_METADATA_SERVICE_NUM_ATTEMPTS', '  3  IMDS is disabled (AWS_EC2_METADATA_DISABLED=true)']) {
    assert.ok(help.stdout.includes(`\n${line}\n`), line)
  }

  const version = await run(['--version'])
  assert.deepEqual(version, { status: 0, stdout: `imds ${require('../lib/index.js').version()}\n`, stderr: '' })
})
