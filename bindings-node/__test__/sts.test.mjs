// End to end with a real AWS SDK client: @aws-sdk/client-sts signs GetCallerIdentity with the
// credentials `fromInstanceMetadata` fetched from imds-mock, against a local moto server, and gets
// back the ARN of the IAM user whose access key moto created and imds-mock served.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { createRequire } from 'node:module'
import { startMock, repoDir, cleanEnv, fullExchange } from './mock.mjs'

const require = createRequire(import.meta.url)
const { fromInstanceMetadata } = require('../lib/index.js')
const { STSClient, GetCallerIdentityCommand } = require('@aws-sdk/client-sts')
const { IAMClient, CreateUserCommand, CreateAccessKeyCommand } = require('@aws-sdk/client-iam')

const MOTO_SERVER = process.env.MOTO_SERVER || path.join(process.env.IMDS_REPO_ROOT || repoDir, '.venv', 'bin', 'moto_server')

/** Starts moto_server on 127.0.0.1 (a free port) and resolves with its endpoint once it listens. */
async function startMoto() {
  const child = spawn(MOTO_SERVER, ['-H', '127.0.0.1', '-p', '0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { PATH: process.env.PATH, HOME: process.env.HOME || '/tmp' },
  })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  const endpoint = await new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stderr })
    lines.on('line', (line) => {
      const match = /Running on (http:\/\/127\.0\.0\.1:\d+)/.exec(line)
      if (match) resolve(match[1])
    })
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`moto_server exited with ${code} before listening`)))
  })
  return {
    endpoint,
    async stop() {
      child.kill('SIGTERM')
      await exited
    },
  }
}

// `make test` installs moto (deps-python) and sets IMDS_REQUIRE_MOTO, so there a missing moto
// fails; a bare `node --test` without it skips this test and says why.
const motoMissing = !existsSync(MOTO_SERVER) && `${MOTO_SERVER} not installed (make deps-python installs moto)`

test('STS GetCallerIdentity, signed with credentials from fromInstanceMetadata, names the IAM user', { skip: process.env.IMDS_REQUIRE_MOTO ? false : motoMissing }, async (t) => {
  const moto = await startMoto()
  t.after(() => moto.stop())
  const region = 'us-east-1'
  const dummy = { accessKeyId: 'AKIAADMINDUMMY000000', secretAccessKey: 'dummy-admin-secret' }

  // An IAM user with an access key, made on moto with dummy administrator credentials.
  const iam = new IAMClient({ region, endpoint: moto.endpoint, credentials: dummy })
  const { User } = await iam.send(new CreateUserCommand({ UserName: 'imds-node-e2e' }))
  const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'imds-node-e2e' }))
  iam.destroy()

  // imds-mock serves that key as the instance role's credentials.
  const mock = await startMock({
    credentials: {
      AccessKeyId: AccessKey.AccessKeyId,
      SecretAccessKey: AccessKey.SecretAccessKey,
      Token: 'session-token-from-imds-mock',
      Expiration: '2035-01-01T00:00:00Z',
    },
  })
  t.after(() => mock.stop())

  const credentials = fromInstanceMetadata({ endpoint: mock.endpoint, env: cleanEnv() })
  const sts = new STSClient({ region, endpoint: moto.endpoint, credentials })
  const identity = await sts.send(new GetCallerIdentityCommand({}))
  sts.destroy()
  credentials.close()

  assert.equal(identity.Arn, User.Arn)
  assert.match(identity.Arn, /:user\/imds-node-e2e$/)
  assert.deepEqual(mock.summary(), fullExchange())
})
