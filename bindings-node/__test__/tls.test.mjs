// An https endpoint: the Node driver speaks TLS itself (node:tls) when the core asks for it. A
// loopback TLS server with a test certificate (fixtures/, for 127.0.0.1 and ::1 only) forwards to
// imds-mock; the command trusts that certificate through NODE_EXTRA_CA_CERTS.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import net from 'node:net'
import tls from 'node:tls'
import path from 'node:path'
import { readFileSync } from 'node:fs'
import { startMock, packageDir, runNode } from './mock.mjs'

const CERT = path.join(packageDir, '__test__', 'fixtures', 'tls-test-cert.pem')
const KEY = path.join(packageDir, '__test__', 'fixtures', 'tls-test-key.pem')

async function startTlsForwarder(targetPort) {
  let handshakes = 0
  const server = tls.createServer({ cert: readFileSync(CERT), key: readFileSync(KEY) }, (clear) => {
    handshakes += 1
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort })
    clear.pipe(upstream).pipe(clear)
    clear.on('error', () => upstream.destroy())
    upstream.on('error', () => clear.destroy())
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    endpoint: `https://127.0.0.1:${server.address().port}`,
    handshakes: () => handshakes,
    close: () => new Promise((resolve) => server.close(resolve)),
  }
}

function runCommand(env) {
  return runNode([path.join(packageDir, 'bin', 'imds.js'), 'get', 'placement/region'], { env })
}

test('an https endpoint is reached over TLS, with certificate verification', async (t) => {
  const mock = await startMock({ metadata: { 'placement/region': 'ca-central-1' } })
  t.after(() => mock.stop())
  const forwarder = await startTlsForwarder(mock.port)
  t.after(() => forwarder.close())

  const trusted = await runCommand({ AWS_EC2_METADATA_SERVICE_ENDPOINT: forwarder.endpoint, NODE_EXTRA_CA_CERTS: CERT })
  assert.deepEqual(trusted, { status: 0, stdout: 'ca-central-1\n', stderr: '' })
  assert.deepEqual(mock.summary(), ['PUT /latest/api/token', 'GET /latest/meta-data/placement/region'])
  assert.equal(forwarder.handshakes(), 1)

  // Without trusting the test certificate, the handshake fails and nothing reaches IMDS.
  const untrusted = await runCommand({ AWS_EC2_METADATA_SERVICE_ENDPOINT: forwarder.endpoint })
  assert.equal(untrusted.status, 1)
  assert.equal(untrusted.stdout, '')
  assert.match(untrusted.stderr, /^imds: could not connect to IMDS/)
  assert.equal(mock.requests().length, 2)
})
