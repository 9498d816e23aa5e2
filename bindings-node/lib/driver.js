'use strict'
// The host loop over `node:net`: carries out the actions the core's client asks for, with the
// deadlines it gives, and feeds back what happened. It holds no protocol logic: which request to
// send, how to read a response, when to retry or fall back is all the core's.
//
// Times are `performance.now()` milliseconds (monotonic). One operation per call; the connection
// is closed when the operation ends, so nothing keeps the event loop alive afterwards.

const net = require('node:net')
const { performance } = require('node:perf_hooks')

let tls = null

/** The core's I/O error classes for a Node socket error. */
function ioErrorKind(error, connecting) {
  const code = error && error.code
  if (code === 'ECONNREFUSED') return 'connectionRefused'
  if (connecting) return 'connectFailed'
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED') return 'connectionReset'
  return 'other'
}

/** Milliseconds until `deadline`, rounded up and one more, so that `now() >= deadline` when the timer fires. */
function delayUntil(deadline) {
  return Math.max(0, Math.ceil(deadline - performance.now())) + 1
}

/**
 * Runs the operation already started on `client` to its end. Resolves when the core says `done`;
 * rejects with the core's error (an `Error` whose `code` is the core's error kind). `onStep`, when
 * given, is called whenever the loop yields (to drain diagnostics as they happen).
 */
function drive(client, onStep) {
  return new Promise((resolve, reject) => {
    const now = () => performance.now()
    let socket = null
    let connecting = false
    let receiving = false
    let draining = false
    let timer = null
    // What arrived while the core was not waiting for it, in order.
    const pending = []
    let finished = false

    function finish(error) {
      if (finished) return
      finished = true
      clearTimer()
      closeSocket()
      // The connection is not kept between operations (nothing may keep the process alive):
      // tell the core, so that the next operation connects anew. If the operation is still
      // running (this loop gave up, not the core), abandon it.
      try {
        client.handleClosed()
      } catch {
        client.cancel()
      }
      if (onStep) onStep()
      if (error) reject(error)
      else resolve()
    }

    // Disarms the deadline; the timer itself stays for the next one (finish() clears it).
    function disarm() {
      expiry = null
    }

    function clearTimer() {
      expiry = null
      if (timer !== null) {
        clearTimeout(timer)
        timer = null
      }
    }

    function closeSocket() {
      if (socket !== null) {
        socket.removeAllListeners()
        // A late error on a socket we dropped must not become an uncaught exception.
        socket.on('error', () => {})
        socket.destroy()
        socket = null
      }
      connecting = receiving = draining = false
      pending.length = 0
    }

    // Calls a `handle*` method, then lets the core say what comes next.
    function feed(handle) {
      try {
        handle()
      } catch (error) {
        finish(error)
        return
      }
      step()
    }

    // One timer for the whole operation. Deadlines mostly move later (each receive gets `now +
    // timeout`), so an armed timer that fires no later than the new deadline is kept: when it
    // fires early it is armed again for what is left. That spares a timer per action.
    let expiry = null
    let deadlineAt = 0
    let timerAt = 0

    function onTimer() {
      timer = null
      if (expiry === null) return
      if (performance.now() < deadlineAt) {
        timerAt = deadlineAt
        timer = setTimeout(onTimer, delayUntil(deadlineAt))
        return
      }
      const handler = expiry
      expiry = null
      handler()
    }

    function arm(deadline, onExpiry) {
      expiry = onExpiry
      deadlineAt = deadline
      if (timer !== null && timerAt <= deadline) return
      if (timer !== null) clearTimeout(timer)
      timerAt = deadline
      timer = setTimeout(onTimer, delayUntil(deadline))
    }

    function onTimeout() {
      connecting = receiving = draining = false
      feed(() => client.handleTimeout(now()))
    }

    function onConnect() {
      if (!connecting) return
      connecting = false
      disarm()
      feed(() => client.handleConnected(now()))
    }

    function deliver(event) {
      if (event.kind === 'data') client.handleData(now(), event.chunk)
      else if (event.kind === 'eof') client.handleEof(now())
      else client.handleIoError(now(), event.ioError)
    }

    function onEvent(event) {
      if (receiving) {
        receiving = false
        disarm()
        feed(() => deliver(event))
      } else if (connecting || draining) {
        if (event.kind === 'data') {
          pending.push(event)
          return
        }
        connecting = draining = false
        disarm()
        feed(() => deliver(event))
      } else {
        pending.push(event)
      }
    }

    function openSocket(action) {
      const options = { host: action.host, port: action.port }
      connecting = true
      if (action.tls) {
        tls = tls || require('node:tls')
        if (!net.isIP(action.host)) options.servername = action.host
        socket = tls.connect(options)
        socket.once('secureConnect', onConnect)
      } else {
        socket = net.connect(options)
        socket.once('connect', onConnect)
      }
      socket.setNoDelay(true)
      socket.on('data', (chunk) => onEvent({ kind: 'data', chunk }))
      socket.on('end', () => onEvent({ kind: 'eof' }))
      socket.on('error', (error) => {
        const ioError = ioErrorKind(error, connecting)
        onEvent({ kind: 'error', ioError })
      })
      socket.on('drain', () => {
        if (!draining) return
        draining = false
        disarm()
        step()
      })
      arm(action.deadline, onTimeout)
    }

    function step() {
      if (onStep) onStep()
      for (;;) {
        let action
        try {
          action = client.poll(now())
        } catch (error) {
          finish(error)
          return
        }
        switch (action.kind) {
          case 'connect':
            closeSocket()
            openSocket(action)
            return
          case 'send':
            if (socket === null) {
              try {
                client.handleIoError(now(), 'connectionReset')
              } catch (error) {
                finish(error)
                return
              }
              continue
            }
            if (!socket.write(action.data, 'latin1')) {
              draining = true
              arm(action.deadline, onTimeout)
              return
            }
            continue
          case 'receive': {
            const event = pending.shift()
            if (event !== undefined) {
              try {
                deliver(event)
              } catch (error) {
                finish(error)
                return
              }
              continue
            }
            receiving = true
            arm(action.deadline, onTimeout)
            return
          }
          case 'close':
            closeSocket()
            continue
          case 'wait':
            arm(action.until, step)
            return
          case 'done':
            finish(null)
            return
          default:
            finish(new Error(`imds: unknown action kind \`${action.kind}\``))
            return
        }
      }
    }

    step()
  })
}

module.exports = { drive }
