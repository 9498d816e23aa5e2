// Runner for the Node contenders behind the bench runner protocol (see tests/bench/bench.py).
// Besides `cold N`, `prime`, `warm N`: `connect N` times a bare TCP connect and close.
//
//   node runner_node.mjs imds|imds-new-connection|net-floor|smithy http://127.0.0.1:PORT
//
// imds: cold is a new `fromInstanceMetadata({ endpoint })` provider per fetch; warm is one
// long-lived provider whose refresh window (3600 s) covers the mock's credentials (they expire
// 30 min after the bench starts), so every call refreshes with the cached token and role. imds
// keeps a connection idle between operations (unref'd, closed after 5 s): the client's next
// operation uses it, and a fresh client for the same endpoint takes an idle one instead of
// connecting, as @smithy's requests share Node's global keep-alive agent.
//
// imds-new-connection: the same cold fetch as the C and Python runners and the plain-socket floor:
// settings resolved once, then per fetch a new core client (`new Client(settings)`), `drive`, and
// its connection closed (`closeConnection`): connect, token, role, credentials, close.
//
// net-floor: the plain-socket floor written for node:net (what any Node client pays for the
// event loop and node:net): cold = connect, token, role, credentials, close, with minimal
// parsing; warm = one GET on a kept connection with the token and role it learnt once.
//
// smithy: @smithy/credential-provider-imds `fromInstanceMetadata()`, the provider AWS SDK v3
// uses. It reads its endpoint only from AWS_EC2_METADATA_SERVICE_ENDPOINT / the config file (it
// has no endpoint option): the harness sets both. Cold: a new provider per fetch; warm: one
// long-lived provider called again (it keeps no token or role between calls).

import { createRequire } from 'node:module'
import net from 'node:net'
import { performance } from 'node:perf_hooks'
import { createInterface } from 'node:readline'

const [name, endpoint] = process.argv.slice(2)
if (!/^http:\/\/(127\.0\.0\.1|\[::1\]):\d+$/.test(endpoint || '') || !['imds', 'imds-new-connection', 'net-floor', 'smithy'].includes(name)) {
  console.error('usage: runner_node.mjs imds|imds-new-connection|net-floor|smithy http://127.0.0.1:PORT (loopback only)')
  process.exit(2)
}
const require = createRequire(process.env.BENCH_NODE_PACKAGE_DIR + '/package.json')
const expected = process.env.BENCH_EXPECT_KEY

let cold, warm
if (name === 'imds' || name === 'imds-new-connection') {
  const imds = require('./lib/index.js')
  const env = { HOME: process.env.HOME, AWS_CONFIG_FILE: process.env.AWS_CONFIG_FILE }
  if (name === 'imds') {
    cold = () => imds.fromInstanceMetadata({ endpoint, env })()
  } else {
    const settings = imds.loadSettings({ endpoint, env })
    cold = async () => {
      const client = new imds.Client(settings)
      client.startCredentials(performance.now())
      try {
        await imds.drive(client)
      } finally {
        imds.closeConnection(client)
      }
      return client.credentials()
    }
  }
  warm = imds.fromInstanceMetadata({ endpoint, env, refreshWindow: 3600 })
} else if (name === 'net-floor') {
  ;({ cold, warm } = netFloor())
} else {
  if (process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT !== endpoint) {
    console.error('runner_node: AWS_EC2_METADATA_SERVICE_ENDPOINT must be the endpoint argument')
    process.exit(2)
  }
  const { fromInstanceMetadata } = require('@smithy/credential-provider-imds')
  cold = () => fromInstanceMetadata({ timeout: 1000, maxRetries: 0 })()
  warm = fromInstanceMetadata({ timeout: 1000, maxRetries: 0 })
}

/** The node:net floor: three requests on one connection, bodies found by Content-Length. */
function netFloor() {
  const { hostname, port } = new URL(endpoint)
  const host = hostname.replace(/^\[|\]$/g, '')
  const hostHeader = `Host: ${hostname}:${port}\r\n`
  // Sends `request` on `socket` and resolves with the body of the answer.
  function exchange(socket, request) {
    return new Promise((resolve, reject) => {
      let data = ''
      const onData = (chunk) => {
        data += chunk
        const end = data.indexOf('\r\n\r\n')
        if (end < 0) return
        const length = Number(/content-length: *(\d+)/i.exec(data.slice(0, end))[1])
        if (data.length < end + 4 + length) return
        socket.off('data', onData)
        socket.off('error', reject)
        resolve(data.slice(end + 4, end + 4 + length))
      }
      socket.on('data', onData)
      socket.once('error', reject)
      socket.write(request, 'latin1')
    })
  }
  const token = (socket) =>
    exchange(socket, `PUT /latest/api/token HTTP/1.1\r\n${hostHeader}x-aws-ec2-metadata-token-ttl-seconds: 21600\r\n\r\n`)
  const get = (socket, path, tokenValue) =>
    exchange(socket, `GET ${path} HTTP/1.1\r\n${hostHeader}x-aws-ec2-metadata-token: ${tokenValue}\r\n\r\n`)
  const roles = '/latest/meta-data/iam/security-credentials/'
  function open() {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port: Number(port), noDelay: true })
      socket.setEncoding('latin1')
      socket.once('connect', () => resolve(socket))
      socket.once('error', reject)
    })
  }
  const keyOf = (body) => /"AccessKeyId" *: *"([^"]*)"/.exec(body)[1]
  let kept = null
  return {
    cold: async () => {
      const socket = await open()
      try {
        const t = await token(socket)
        const role = await get(socket, roles, t)
        return { accessKeyId: keyOf(await get(socket, roles + role, t)) }
      } finally {
        socket.destroy()
      }
    },
    warm: async () => {
      if (kept === null) {
        const socket = await open()
        const t = await token(socket)
        kept = { socket, token: t, role: await get(socket, roles, t) }
      }
      return { accessKeyId: keyOf(await get(kept.socket, roles + kept.role, kept.token)) }
    },
  }
}

// `connect N` (context for the notes, not a contender): a TCP connect to the mock and its close,
// as the Node event loop sees them, N times.
function connectOnce() {
  const { hostname, port } = new URL(endpoint)
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port), noDelay: true })
    socket.once('connect', () => {
      socket.destroy()
      resolve({ accessKeyId: expected })
    })
    socket.once('error', reject)
  })
}

async function run(fetch, count) {
  const samples = []
  for (let i = 0; i < count; i++) {
    const start = performance.now()
    let credentials
    try {
      credentials = await fetch()
    } catch (error) {
      return { error: `${error.name}: ${error.message}`.slice(0, 300) }
    }
    samples.push(Math.round((performance.now() - start) * 100000) / 100)
    if (expected && credentials.accessKeyId !== expected) {
      return { error: `unexpected access key id ${credentials.accessKeyId}` }
    }
  }
  return { us: samples }
}

for await (const line of createInterface({ input: process.stdin })) {
  const [command, n] = line.trim().split(/\s+/)
  if (!command || command === 'quit') break
  const count = Number(n || 1)
  let reply
  // The long-lived provider's idle connection would serve the next fresh provider: close it.
  if (command === 'cold' && name === 'imds-new-connection') warm.close()
  if (command === 'cold') reply = await run(cold, count)
  else if (command === 'warm' || command === 'prime') reply = await run(warm, count)
  else if (command === 'connect') reply = await run(connectOnce, count)
  else reply = { error: `unknown command ${command}` }
  process.stdout.write(`${JSON.stringify(reply)}\n`)
}
process.exit(0)
