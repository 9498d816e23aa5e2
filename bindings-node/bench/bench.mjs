// `make bench-node`: imds next to @smithy/credential-provider-imds (what AWS SDK v3 uses), on the
// same imds-mock, in the same run. A program that prints figures, not a test.
//
// 1. Per fetch, in this process: a full IMDSv2 exchange (token, role, credentials) with each
//    provider, alternating blocks, >= 1,000 timed iterations each after a warm-up. Also shown:
//    imds's long-lived provider refreshing with its cached token and role (one request).
// 2. Per process: `node bin/imds.js` next to a script that prints the same JSON with @smithy,
//    wall time and peak RSS of each run (measured by python3's os.wait4, which reports the child's
//    own maximum resident set size).

import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'
import { performance } from 'node:perf_hooks'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const repoDir = path.resolve(packageDir, '..')

const WARMUP = Number(process.env.BENCH_WARMUP || 300)
const ITERATIONS = Number(process.env.BENCH_ITERATIONS || 2000)
const BLOCKS = 4
const PROCESS_RUNS = Number(process.env.BENCH_PROCESS_RUNS || 30)

function mockBinary() {
  if (process.env.IMDS_MOCK) return process.env.IMDS_MOCK
  return path.join(process.env.CARGO_TARGET_DIR || path.join(repoDir, 'target'), 'release', 'imds-mock')
}

async function startMock() {
  const child = spawn(mockBinary(), ['--until-stdin-closes'], { stdio: ['pipe', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout })
  const first = await new Promise((resolve, reject) => {
    lines.once('line', resolve)
    child.once('error', reject)
  })
  lines.close()
  const [, host, port] = /^listening (.*):(\d+)$/.exec(first)
  const exited = new Promise((resolve) => child.once('exit', resolve))
  return {
    endpoint: `http://${host}:${port}`,
    async stop() {
      child.stdin.end()
      await exited
    },
  }
}

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length
  return { n: sorted.length, median: at(0.5), p90: at(0.9), mean }
}

function fmt(value, digits = 1) {
  return value.toFixed(digits).padStart(8)
}

// @smithy fetches token, role and credentials on every call, over Node's keep-alive agent (no
// new connection once warm). A full exchange with imds happens on a provider's first fetch (or
// after `reset()`), and the core forgets its connection on `reset()`, so that row connects anew
// each time. A long-lived imds provider refreshes with one request (it knows the token and the
// role) on the connection it kept from the last fetch.
const FULL = 'imds: token+role+credentials, new conn'
const SMITHY = '@smithy: token+role+credentials, kept conn'
const REFRESH = 'imds provider refresh: 1 request, kept conn'

async function perFetch(endpoint, home) {
  const imds = require('../lib/index.js')
  const { fromInstanceMetadata: smithyFromInstanceMetadata } = require('@smithy/credential-provider-imds')
  const env = { HOME: home }
  const settings = imds.loadSettings({ endpoint, env })

  // A full exchange, as @smithy makes on every call: one long-lived core client whose caches
  // are forgotten (`reset()`, which also closes its connection) before each fetch, so every fetch
  // is a new connection, then token, role, credentials.
  const client = new imds.Client(settings)
  const imdsFull = async () => {
    client.reset()
    client.startCredentials(performance.now())
    await imds.drive(client)
    return client.credentials()
  }
  process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = endpoint
  const smithyProvider = smithyFromInstanceMetadata({ timeout: 1000, maxRetries: 0 })
  // A long-lived imds provider whose credentials are always inside the refresh window, so every
  // call refreshes with the cached token and role: one request.
  const refreshing = fromRefreshing(imds, endpoint, env)
  const closeAll = () => {
    client.reset()
    refreshing.close()
  }

  const contenders = [
    [FULL, imdsFull],
    [SMITHY, () => smithyProvider()],
    [REFRESH, refreshing],
  ]
  for (const [, fetch] of contenders) {
    for (let i = 0; i < WARMUP; i++) await fetch()
  }
  const samples = new Map(contenders.map(([name]) => [name, []]))
  for (let block = 0; block < BLOCKS; block++) {
    for (const [name, fetch] of contenders) {
      const out = samples.get(name)
      for (let i = 0; i < ITERATIONS / BLOCKS; i++) {
        const start = performance.now()
        const credentials = await fetch()
        out.push((performance.now() - start) * 1000)
        if (!credentials.accessKeyId) throw new Error(`${name}: no credentials`)
      }
    }
  }
  closeAll()
  return new Map([...samples].map(([name, s]) => [name, stats(s)]))
}

function fromRefreshing(imds, endpoint, env) {
  // The mock's credentials expire at 2030-01-01T00:00:00Z; a wall clock one minute before that is
  // inside the refresh window (5 minutes), so every call refreshes.
  const wall = Date.parse('2030-01-01T00:00:00Z') - 60_000
  return imds.fromInstanceMetadata({ endpoint, env, clock: () => wall })
}

/** Runs each command `runs` times, alternating, and returns per-command wall ms and peak RSS KiB. */
function perProcess(commands, env, runs) {
  const helper = `
import json, os, sys, time
commands = json.loads(sys.argv[1]); runs = int(sys.argv[2])
results = {name: {"wall_ms": [], "maxrss_kib": []} for name in commands}
for i in range(runs + 2):
    for name, argv in commands.items():
        start = time.perf_counter()
        pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)])
        _, status, usage = os.wait4(pid, 0)
        wall = (time.perf_counter() - start) * 1000
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"{name} failed with {status}")
        if i >= 2:
            results[name]["wall_ms"].append(wall)
            results[name]["maxrss_kib"].append(usage.ru_maxrss)
print(json.dumps(results))
`
  const result = spawnSync('python3', ['-c', helper, JSON.stringify(commands), String(runs)], {
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  if (result.status !== 0) throw new Error(`per-process measurement failed (${result.status})`)
  return JSON.parse(result.stdout)
}

async function main() {
  const mock = await startMock()
  const home = mkdtempSync(path.join(tmpdir(), 'imds-node-bench-'))
  try {
    console.log(`imds-mock at ${mock.endpoint}; node ${process.version}; ${WARMUP} warm-up and ${ITERATIONS} timed fetches per provider`)
    console.log('')
    console.log(`${'per fetch (µs)'.padEnd(46)}  median      p90     mean`)
    const fetches = await perFetch(mock.endpoint, home)
    for (const [name, s] of fetches) console.log(`${name.padEnd(46)}${fmt(s.median)} ${fmt(s.p90)} ${fmt(s.mean)}`)
    const smithy = fetches.get(SMITHY).median
    console.log(`ratio to @smithy (median): full exchange ${(fetches.get(FULL).median / smithy).toFixed(2)}x, provider refresh ${(fetches.get(REFRESH).median / smithy).toFixed(2)}x (target <= 1.0x)`)
    console.log('')

    const node = process.execPath
    const commands = {
      'imds (node bin/imds.js)': [node, path.join(packageDir, 'bin', 'imds.js'), 'credentials'],
      '@smithy script': [node, path.join(packageDir, 'bench', 'smithy-credentials.js')],
      'node -e 0 (Node start-up alone)': [node, '-e', '0'],
    }
    const env = { PATH: process.env.PATH, HOME: home, AWS_EC2_METADATA_SERVICE_ENDPOINT: mock.endpoint }
    const processes = perProcess(commands, env, PROCESS_RUNS)
    console.log(`${`per process (${PROCESS_RUNS} runs each)`.padEnd(46)}wall ms median   peak RSS MiB median`)
    const summary = {}
    for (const [name, r] of Object.entries(processes)) {
      const wall = stats(r.wall_ms)
      const rss = stats(r.maxrss_kib.map((k) => k / 1024))
      summary[name] = { wall, rss }
      console.log(`${name.padEnd(46)}${fmt(wall.median)}          ${fmt(rss.median)}`)
    }
    const a = summary['imds (node bin/imds.js)']
    const b = summary['@smithy script']
    console.log(`ratio imds / @smithy: wall ${(a.wall.median / b.wall.median).toFixed(2)}x, peak RSS ${(a.rss.median / b.rss.median).toFixed(2)}x (target <= 0.9x)`)
  } finally {
    await mock.stop()
    rmSync(home, { recursive: true, force: true })
  }
}

await main()
