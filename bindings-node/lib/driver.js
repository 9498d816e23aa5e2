'use strict'
// The host loop over `node:net`: carries out the actions the core's client asks for, with the
// deadlines it gives, and feeds back what happened. It holds no protocol logic: which request to
// send, how to read a response, when to retry, fall back or close is all the core's.
//
// Times are `performance.now()` milliseconds (monotonic). One operation per call. When the core
// ends an operation with `done` and has not asked to close, the connection is kept, as Node's
// keep-alive agent keeps its sockets: the client's next operation uses it, and while it is idle any
// client asked to connect to the same host, port and scheme takes it instead of connecting (so a
// new provider per fetch does not connect per fetch; the client it came from is told, and connects
// anew next time). While idle it is unref'd (it never keeps the process alive), and it is closed
// after IDLE_MS, by `closeConnection`, when more than MAX_IDLE are idle, or when the server closes
// it. Whenever the server closes a connection kept between operations, the core is told
// (`handleClosed`), so the next request connects anew. Whatever arrives while the core is not
// reading (bytes no request asked for, between operations or during a back-off; an end or an error
// during a back-off) is held and reported to the core before the next request is written, instead
// of writing it, as its `send` action asks: the core judges it (it closes the connection, and
// sends the request on a new one). Only a close the event loop has not seen yet goes unnoticed:
// the request fails on the connection before any byte comes back, and the core re-sends it once
// on a new one.

const net = require('node:net')
const { performance } = require('node:perf_hooks')

let tls = null

/** How long a kept connection may stay idle before it is closed (as Node's keep-alive agent). */
const IDLE_MS = 5000

/**
 * At most this many idle connections in the process: a program that makes a new provider per
 * fetch must not pile up sockets for IDLE_MS each. Beyond it, the longest idle one is closed.
 */
const MAX_IDLE = 16

/** The connection each client is using or keeping (at most one per client). */
const connections = new WeakMap()

/** The idle connections, longest idle first. */
const idleConnections = new Set()

/** What a connection is to: connections are shared only between equal keys. */
function endpointKey(host, port, tls) {
  return `${tls ? 'https' : 'http'} ${host} ${port}`
}

/** The most recently idle connection to `key` still open (as Node's agent, last in, first out), or `null`. */
function takeIdle(key) {
  let found = null
  for (const connection of idleConnections) {
    if (connection.key === key && connection.reusable()) found = connection
  }
  return found
}

/**
 * The core's I/O error classes for a Node socket error. A reset is a reset even while connecting
 * (IMDS accepted, then dropped the connection as the connect completed): not a connect failure.
 */
function ioErrorKind(error, connecting) {
  const code = error && error.code
  if (code === 'ECONNREFUSED') return 'connectionRefused'
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED') return 'connectionReset'
  if (connecting) return 'connectFailed'
  return 'other'
}

/** Milliseconds until `deadline`, rounded up and one more, so that `now() >= deadline` when the timer fires. */
function delayUntil(deadline) {
  return Math.max(0, Math.ceil(deadline - performance.now())) + 1
}

function ignore() {}

/**
 * A client's socket. Its events go to the operation using it (`use`); while it is kept between
 * operations (`keep`), any event means it can no longer be used, and so does the idle timer.
 */
class Connection {
  constructor(client, socket, key) {
    this.client = client
    this.socket = socket
    this.key = key
    this.operation = null
    this.idleTimer = null
    this.closeWhenDone = false
    // Bytes that arrived while the connection was kept between operations: no request asked for
    // them. Its client's next operation reports them to the core; no other client takes it.
    this.unsolicited = []
    socket.on('data', (chunk) => this.event({ kind: 'data', chunk }))
    socket.on('end', () => this.event({ kind: 'eof' }))
    socket.on('error', (error) => this.event({ kind: 'error', error }))
    socket.on('drain', () => {
      if (this.operation !== null) this.operation.onDrain()
    })
    connections.set(client, this)
  }

  get idle() {
    return this.operation === null
  }

  event(event) {
    if (this.operation !== null) this.operation.onEvent(event)
    else if (event.kind === 'data') this.unsolicited.push(event)
    else this.closeIdle()
  }

  /** Hands the socket's events to `operation` (`{onEvent, onDrain}`); the socket holds the process again. */
  use(operation) {
    this.stopIdling()
    this.operation = operation
    this.socket.ref()
  }

  /** Whether the socket can carry another request (for any client: nothing unsolicited on it). */
  reusable() {
    return this.open() && this.unsolicited.length === 0
  }

  /** Whether the socket is open and not to be closed once its operation ends. */
  open() {
    return !this.closeWhenDone && !this.socket.destroyed && this.socket.readyState === 'open'
  }

  /** Keeps the socket for the next operation, without holding the process, for at most IDLE_MS. */
  keep() {
    this.operation = null
    this.socket.unref()
    this.idleTimer = setTimeout(() => this.closeIdle(), IDLE_MS)
    this.idleTimer.unref()
    idleConnections.add(this)
    if (idleConnections.size > MAX_IDLE) idleConnections.values().next().value.closeIdle()
  }

  /**
   * Moves this idle connection to `client`. The client it was kept for is told it is gone, so
   * that its next operation connects (and takes an idle connection in turn).
   */
  adopt(client) {
    const previous = this.client
    if (previous !== client && connections.get(previous) === this) {
      connections.delete(previous)
      try {
        previous.handleClosed()
      } catch {
        // As in closeIdle.
      }
    }
    this.client = client
    connections.set(client, this)
  }

  stopIdling() {
    idleConnections.delete(this)
    if (this.idleTimer !== null) {
      clearTimeout(this.idleTimer)
      this.idleTimer = null
    }
  }

  destroy() {
    this.stopIdling()
    this.operation = null
    this.socket.removeAllListeners()
    // A late error on a socket we dropped must not become an uncaught exception.
    this.socket.on('error', ignore)
    this.socket.destroy()
    if (connections.get(this.client) === this) connections.delete(this.client)
  }

  /** Closes the kept socket and tells the core, so that the next operation connects anew. */
  closeIdle() {
    this.destroy()
    try {
      // Accepted between operations and after an operation started, before it is driven: the
      // core is not using a kept connection then.
      this.client.handleClosed()
    } catch {
      // Not expected; this runs from socket events and timers, where a throw would crash Node.
    }
  }
}

/**
 * Closes the connection kept for `client`: now when it is idle, else when its operation ends.
 * The next operation connects anew.
 */
function closeConnection(client) {
  const connection = connections.get(client)
  if (connection === undefined) return
  if (connection.idle) connection.closeIdle()
  else connection.closeWhenDone = true
}

/**
 * Runs the operation already started on `client` to its end. Resolves when the core says `done`;
 * rejects with the core's error (an `Error` whose `code` is the core's error kind). `onStep`, when
 * given, is called whenever the loop yields (to drain diagnostics as they happen).
 */
function drive(client, onStep) {
  return new Promise((resolve, reject) => {
    const now = () => performance.now()
    let connection = null
    let connecting = false
    let receiving = false
    let draining = false
    let timer = null
    // What arrived while the core was not waiting for it, in order.
    const pending = []
    let finished = false
    const operation = { onEvent, onDrain }

    function finish(error) {
      if (finished) return
      finished = true
      clearTimer()
      if (error === null && connection !== null && pending.length === 0 && connection.reusable()) {
        // The core may use the connection again (it would have asked to close it otherwise).
        connection.keep()
        connection = null
      } else {
        closeSocket()
        // Tell the core the connection is gone, so that the next operation connects anew. If
        // the operation is still running (this loop gave up, not the core), abandon it.
        try {
          client.handleClosed()
        } catch {
          client.cancel()
        }
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
      if (connection !== null) {
        connection.destroy()
        connection = null
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
    // Counts `arm` calls, so that a deferred expiry knows whether its deadline still stands.
    let armings = 0

    function onTimer() {
      timer = null
      if (expiry === null) return
      if (performance.now() < deadlineAt) {
        timerAt = deadlineAt
        timer = setTimeout(onTimer, delayUntil(deadlineAt))
        return
      }
      // The loop runs expired timers before it polls for I/O: after the process was held (CPU
      // starvation, a long synchronous task) the connect or the data may already be there.
      // Expire only after this turn's I/O was delivered, if that I/O did not move the operation on.
      const armed = armings
      setImmediate(() => {
        if (expiry === null || armed !== armings) return
        const handler = expiry
        expiry = null
        handler()
      })
    }

    function arm(deadline, onExpiry) {
      armings += 1
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

    function onDrain() {
      if (!draining) return
      draining = false
      disarm()
      step()
    }

    function deliver(event) {
      if (event.kind === 'data') client.handleData(now(), event.chunk)
      else if (event.kind === 'eof') client.handleEof(now())
      else client.handleIoError(now(), event.ioError)
    }

    function onEvent(event) {
      if (event.kind === 'error') event = { kind: 'error', ioError: ioErrorKind(event.error, connecting) }
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
        // The core is waiting out a back-off: reported before its next request is written.
        pending.push(event)
      }
    }

    function openSocket(action) {
      const options = { host: action.host, port: action.port }
      connecting = true
      let socket
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
      connection = new Connection(client, socket, endpointKey(action.host, action.port, action.tls))
      connection.use(operation)
      arm(action.deadline, onTimeout)
    }

    // An idle connection to the endpoint of `action`, taken for this client: it is connected now.
    function takeConnection(action) {
      const idle = takeIdle(endpointKey(action.host, action.port, action.tls))
      if (idle === null) return false
      idle.adopt(client)
      connection = idle
      connection.use(operation)
      return true
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
            if (takeConnection(action)) {
              feed(() => client.handleConnectedReused(now()))
              return
            }
            openSocket(action)
            return
          case 'send': {
            // What came while the core was not reading is reported instead of writing.
            const event = connection === null ? { kind: 'error', ioError: 'connectionReset' } : pending.shift()
            if (event !== undefined) {
              try {
                deliver(event)
              } catch (error) {
                finish(error)
                return
              }
              continue
            }
            if (!connection.socket.write(action.data, 'latin1')) {
              draining = true
              arm(action.deadline, onTimeout)
              return
            }
            continue
          }
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
            // The request's trace line, queued by this poll, goes out before the answer is awaited.
            if (onStep) onStep()
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

    // The connection kept from the client's last operation, unless the server closed it; what
    // arrived on it meanwhile is reported before the first request.
    const kept = connections.get(client)
    if (kept !== undefined && kept.idle) {
      if (kept.open()) {
        connection = kept
        connection.use(operation)
        pending.push(...kept.unsolicited.splice(0))
      } else {
        kept.closeIdle()
      }
    }
    step()
  })
}

module.exports = { drive, closeConnection, IDLE_MS, MAX_IDLE }
