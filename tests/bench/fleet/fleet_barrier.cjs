'use strict'
// The fleet barrier for Node programs (see tests/bench/fleet.py), as a preload:
//
//   node -r fleet_barrier.cjs PROGRAM.js [ARGS...]
//
// Before PROGRAM runs, requires the modules named in FLEET_PRELOAD (comma-separated, resolved from
// PROGRAM's folder: what PROGRAM loads at start-up, the addon included), reports `ready` and blocks
// on the barrier (a FIFO the harness holds open for writing: FLEET_BARRIER). When the harness
// closes it, Node goes on to run PROGRAM itself, unchanged, with its own argv; its `require`s find
// the preloaded modules in the cache. When the process is about to exit, the time it was released
// and the time PROGRAM finished (the `exit` event, process.hrtime: CLOCK_MONOTONIC) and its exit
// code are reported on FLEET_REPORT.

const fs = require('node:fs')
const path = require('node:path')

const programDir = path.dirname(path.resolve(process.argv[1]))
for (const name of (process.env.FLEET_PRELOAD || '').split(',').filter(Boolean)) {
  require(require.resolve(name, { paths: [programDir] }))
}
const id = process.env.FLEET_ID
const report = fs.openSync(process.env.FLEET_REPORT, fs.constants.O_WRONLY)
const barrier = fs.openSync(process.env.FLEET_BARRIER, fs.constants.O_RDONLY)
fs.writeSync(report, `ready ${id}\n`)
const byte = Buffer.alloc(1)
while (fs.readSync(barrier, byte, 0, 1, null) > 0);
const released = process.hrtime.bigint()
fs.closeSync(barrier)
process.on('exit', (code) => {
  const done = process.hrtime.bigint()
  fs.writeSync(report, `done ${id} ${released} ${done} ${code}\n`)
})
