// Secrets by length only: the credentials the client and the provider return, and the `send`
// actions (whose bytes carry the IMDSv2 token), show no secret when inspected, while their
// properties stay what the AWS SDK reads.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { inspect } from 'node:util'
import { createRequire } from 'node:module'
import { startMock, cleanEnv } from './mock.mjs'

const require = createRequire(import.meta.url)
const { Client, drive, loadSettings, fromInstanceMetadata } = require('../lib/index.js')

const SECRET_ACCESS_KEY = 'mockSecret/EXAMPLE+Key0123456789abcdefghi'
const SESSION_TOKEN = 'mockSessionToken/EXAMPLE+Token0123456789=='

function assertShowsLengthsOnly(credentials) {
  assert.equal(credentials.secretAccessKey, SECRET_ACCESS_KEY)
  assert.equal(credentials.sessionToken, SESSION_TOKEN)
  for (const shown of [inspect(credentials), inspect(credentials, { depth: 0 }), inspect([credentials])]) {
    assert.ok(!shown.includes(SECRET_ACCESS_KEY) && !shown.includes(SESSION_TOKEN), shown)
    assert.ok(shown.includes("accessKeyId: 'ASIAMOCKEXAMPLE00001'"), shown)
    assert.ok(shown.includes(`secretAccessKey: <redacted, ${SECRET_ACCESS_KEY.length} bytes>`), shown)
    assert.ok(shown.includes(`sessionToken: <redacted, ${SESSION_TOKEN.length} bytes>`), shown)
  }
  assert.deepEqual(Object.keys(credentials).slice(0, 3), ['accessKeyId', 'secretAccessKey', 'sessionToken'])
}

test("the client's and the provider's credentials show their secrets' lengths only", async (t) => {
  const mock = await startMock({})
  t.after(() => mock.stop())
  const settings = loadSettings({ endpoint: mock.endpoint, env: cleanEnv() })
  const client = new Client(settings)
  t.after(() => client.reset())
  client.startCredentials(performance.now())
  await drive(client)
  assertShowsLengthsOnly(client.credentials())

  const provider = fromInstanceMetadata({ endpoint: mock.endpoint, env: cleanEnv() })
  assertShowsLengthsOnly(await provider())
})

test('a send action shows the length of its bytes, not the token they carry', async (t) => {
  const mock = await startMock({})
  t.after(() => mock.stop())
  const client = new Client(loadSettings({ endpoint: mock.endpoint, env: cleanEnv() }))
  t.after(() => client.reset())
  client.startGet(performance.now(), 'instance-id')
  await drive(client)
  // The next operation's first request carries the cached token.
  client.startGet(performance.now(), 'placement/region')
  let action = client.poll(performance.now())
  if (action.kind === 'connect') {
    client.handleConnected(performance.now())
    action = client.poll(performance.now())
  }
  assert.equal(action.kind, 'send')
  assert.match(action.data, /x-aws-ec2-metadata-token: mock-imds-token-1\r\n/)
  const shown = inspect(action)
  assert.ok(!shown.includes('mock-imds-token'), shown)
  assert.ok(shown.includes(`data: <redacted, ${action.data.length} bytes>`), shown)
  client.cancel()
})
