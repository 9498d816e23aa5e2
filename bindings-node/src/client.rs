//! `Client`: the core's sans-IO client, mirrored. JavaScript drives it exactly as a C or Rust host
//! does: start an operation, `poll(now)` for the next [`Action`], carry it out, feed back what
//! happened with the `handle*` methods, until `poll` returns `{kind: 'done'}` or throws.

use imds_core::client::IoError;
use imds_core::{Instant, UnixTime};
use napi::JsDate;
use napi::bindgen_prelude::{Buffer, BufferSlice, Env, ObjectFinalize};
use napi_derive::napi;

use crate::diagnostic::{Diagnostic, drain_into};
use crate::error::{Result, from_napi, invalid_argument, to_js};
use crate::settings::Settings;

/// What the host must do next (the core's `Action`; read each kind's instruction there).
/// Times are milliseconds on the host's monotonic clock (`performance.now()`).
#[napi(
    discriminant = "kind",
    discriminant_case = "lowercase",
    object_from_js = false
)]
pub enum Action {
    /// Open a TCP connection (TLS for `tls`); then `handleConnected`, or `handleIoError`, or
    /// `handleTimeout` once `deadline` passes.
    Connect {
        /// Host name or IP literal, without brackets.
        host: String,
        /// TCP port.
        port: u32,
        /// Whether the endpoint is `https`.
        tls: bool,
        /// Give up connecting at this time.
        deadline: f64,
    },
    /// First report what already came on the connection and was not read (bytes, an end, an
    /// error: `handleData` / `handleEof` / `handleIoError`) instead of writing, then `poll` again
    /// (no request asked for it: the client closes the connection and sends the request on a new
    /// one). Otherwise write all of `data`, then `poll` again.
    Send {
        /// The request, one character per byte (`socket.write(data, 'latin1')` writes the exact
        /// bytes; requests are ASCII).
        data: String,
        /// The request's deadline: give up writing at this time.
        deadline: f64,
    },
    /// Read; feed `handleData` / `handleEof`, or `handleTimeout` once `deadline` (the request's:
    /// the same for every `receive` of one response) passes before the response is whole.
    Receive {
        /// Give up reading at this time.
        deadline: f64,
    },
    /// Close the connection, then `poll` again.
    Close,
    /// Poll again at `until` (retry back-off).
    Wait {
        /// When to poll again.
        until: f64,
    },
    /// The operation succeeded: read `credentials()` or `body()`.
    Done,
}

/// Credentials as the core returned them. `secretAccessKey` and `sessionToken` are secrets.
#[napi(object, object_from_js = false)]
pub struct Credentials<'env> {
    /// The access key id (`ASIA…`).
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
    /// The session token.
    pub session_token: String,
    /// When the credentials expire.
    pub expiration: JsDate<'env>,
    /// The AWS account id, when IMDS sent one.
    pub account_id: Option<String>,
}

/// The IMDS client (the core's `Client`): long-lived, one operation at a time, caches the token,
/// the role name and the last good credentials. Not thread-safe; one per provider.
#[napi(custom_finalize)]
pub struct Client {
    inner: imds_core::Client,
}

/// The native memory a `Client` holds (its fixed buffers), reported to V8 so that garbage
/// collection accounts for it: without this, V8 sees a small object and lets thousands of
/// abandoned clients pile up.
const CLIENT_SIZE: i64 = std::mem::size_of::<imds_core::Client>() as i64;

impl ObjectFinalize for Client {
    fn finalize(self, env: Env) -> napi::Result<()> {
        env.adjust_external_memory(-CLIENT_SIZE)?;
        Ok(())
    }
}

/// Milliseconds from `performance.now()` as the core's [`Instant`] (negative or NaN count as 0).
fn instant(now: f64) -> Instant {
    // `as` saturates: NaN and negatives become 0, huge values the end of time.
    Instant::from_millis(now as u64)
}

fn millis(instant: Instant) -> f64 {
    instant.as_millis() as f64
}

fn random_seed() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(0x696d_6473_u64)
}

#[napi]
impl Client {
    /// A client for `settings`. `seed` (optional) is randomness for back-off jitter; by default a
    /// random one.
    #[napi(constructor, catch_unwind)]
    pub fn new(env: Env, settings: &Settings, seed: Option<f64>) -> Result<Self> {
        let seed = seed.map_or_else(random_seed, |seed| seed as u64);
        env.adjust_external_memory(CLIENT_SIZE).map_err(from_napi)?;
        let mut inner = imds_core::Client::new(&settings.inner, seed);
        inner.set_binding("node");
        Ok(Self { inner })
    }

    /// The settings this client uses.
    #[napi(getter, catch_unwind)]
    pub fn settings(&self) -> Settings {
        Settings {
            inner: self.inner.settings().clone(),
        }
    }

    /// Names the program in `User-Agent: imds/<version> (<name>)` (a new client says `node`).
    /// Characters other than ASCII letters, digits and `.-_/+` are dropped; at most 32 are kept.
    #[napi(catch_unwind)]
    pub fn set_binding(&mut self, name: String) {
        self.inner.set_binding(&name);
    }

    /// Starts fetching credentials. `wallMs` is the wall-clock time (`Date.now()`) against which
    /// expirations are compared; by default the system clock.
    #[napi(catch_unwind)]
    pub fn start_credentials(&mut self, now: f64, wall_ms: Option<f64>) -> Result<()> {
        let wall_ms = wall_ms.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_millis() as f64)
        });
        let wall = UnixTime::from_secs((wall_ms / 1000.0).floor() as i64);
        self.inner
            .start_credentials(instant(now), wall)
            .map_err(to_js)
    }

    /// Starts reading a metadata path: relative to `/latest/meta-data/` (`placement/region`), or
    /// absolute when it starts with `/latest/`.
    #[napi(catch_unwind)]
    pub fn start_get(&mut self, now: f64, path: String) -> Result<()> {
        self.inner.start_get(instant(now), &path).map_err(to_js)
    }

    /// What to do next. Throws when the operation failed (terminal for it; the client stays
    /// usable).
    #[napi(catch_unwind)]
    pub fn poll(&mut self, now: f64) -> Result<Action> {
        use imds_core::Action as Core;
        let action = self.inner.poll(instant(now)).map_err(to_js)?;
        Ok(match action {
            Core::Connect {
                host,
                port,
                tls,
                deadline,
            } => Action::Connect {
                host: host.to_owned(),
                port: u32::from(port),
                tls,
                deadline: millis(deadline),
            },
            Core::Send { data, deadline } => Action::Send {
                data: data.iter().map(|&byte| char::from(byte)).collect(),
                deadline: millis(deadline),
            },
            Core::Receive { deadline } => Action::Receive {
                deadline: millis(deadline),
            },
            Core::Close => Action::Close,
            Core::Wait { until } => Action::Wait {
                until: millis(until),
            },
            Core::Done => Action::Done,
            _ => {
                return Err(invalid_argument(
                    "the core asked for an action this binding does not know; update imds".into(),
                ));
            }
        })
    }

    /// The connection asked for by `connect` is open.
    #[napi(catch_unwind)]
    pub fn handle_connected(&mut self, now: f64) -> Result<()> {
        self.inner.handle_connected(instant(now)).map_err(to_js)
    }

    /// Instead of connecting for `connect`, the host took an open keep-alive connection it kept
    /// to the same host, port and scheme (a pool shared by clients): as `handleConnected`, but a
    /// request that fails on it before any byte comes back is re-sent once on a new connection.
    #[napi(catch_unwind)]
    pub fn handle_connected_reused(&mut self, now: f64) -> Result<()> {
        self.inner
            .handle_connected_reused(instant(now))
            .map_err(to_js)
    }

    /// Bytes arrived on the connection (while `send` is pending: bytes that came before the
    /// request was written; no request asked for them).
    #[napi(catch_unwind)]
    pub fn handle_data(&mut self, now: f64, data: BufferSlice) -> Result<()> {
        self.inner.handle_data(instant(now), &data).map_err(to_js)
    }

    /// The peer closed the connection (while `send` is pending: before the request was written).
    #[napi(catch_unwind)]
    pub fn handle_eof(&mut self, now: f64) -> Result<()> {
        self.inner.handle_eof(instant(now)).map_err(to_js)
    }

    /// Connecting, sending or receiving failed: `kind` is `connectionRefused` (retried),
    /// `connectFailed` (unreachable network or host, name not found: final unless attempts was
    /// set), `connectionReset` (`ECONNRESET`, `EPIPE`, `ECONNABORTED`, even while connecting:
    /// retried) or `other` (final unless attempts was set).
    #[napi(catch_unwind)]
    pub fn handle_io_error(
        &mut self,
        now: f64,
        #[napi(
            ts_arg_type = "'connectionRefused' | 'connectFailed' | 'connectionReset' | 'other'"
        )]
        kind: String,
    ) -> Result<()> {
        let error = match kind.as_str() {
            "connectionRefused" => IoError::ConnectionRefused,
            "connectFailed" => IoError::ConnectFailed,
            "connectionReset" => IoError::ConnectionReset,
            "other" => IoError::Other,
            other => {
                return Err(invalid_argument(format!(
                    "unknown I/O error kind `{other}`"
                )));
            }
        };
        self.inner
            .handle_io_error(instant(now), error)
            .map_err(to_js)
    }

    /// The connection is gone without the client asking: the host closed it, or saw the server
    /// close it while the client was not using it (between operations, before the first action
    /// of one, during a back-off). The next request connects anew. Throws `invalid_state` while a
    /// connect, send or receive is pending (report its failure instead).
    #[napi(catch_unwind)]
    pub fn handle_closed(&mut self) -> Result<()> {
        self.inner.handle_closed().map_err(to_js)
    }

    /// The deadline of the current action passed.
    #[napi(catch_unwind)]
    pub fn handle_timeout(&mut self, now: f64) -> Result<()> {
        self.inner.handle_timeout(instant(now)).map_err(to_js)
    }

    /// The credentials of the last successful credentials operation, or `null`.
    #[napi(catch_unwind)]
    pub fn credentials<'env>(&self, env: &'env Env) -> Result<Option<Credentials<'env>>> {
        let Some(c) = self.inner.credentials() else {
            return Ok(None);
        };
        let expiration_ms = c.expiration().as_secs() as f64 * 1000.0;
        let expiration = env.create_date(expiration_ms).map_err(from_napi)?;
        Ok(Some(Credentials {
            access_key_id: c.access_key_id().to_owned(),
            secret_access_key: c.secret_access_key().to_owned(),
            session_token: c.session_token().to_owned(),
            expiration,
            account_id: c.account_id().map(str::to_owned),
        }))
    }

    /// The `credential_process` JSON of the last credentials (what `imds credentials` prints,
    /// without the newline), or `null`.
    #[napi(catch_unwind)]
    pub fn process_json(&self) -> Option<String> {
        let credentials = self.inner.credentials()?;
        let mut json = String::new();
        credentials.write_process_json(&mut json).ok()?;
        Some(json)
    }

    /// The body of the last successful metadata read, or `null`.
    #[napi(catch_unwind)]
    pub fn body(&self) -> Option<Buffer> {
        self.inner.body().map(Buffer::from)
    }

    /// The next queued diagnostic (oldest first), or `null`.
    #[napi(catch_unwind)]
    pub fn poll_diagnostic(&mut self) -> Option<Diagnostic> {
        self.inner.poll_diagnostic().map(Diagnostic::from)
    }

    /// Every queued diagnostic, oldest first (empties the queue).
    #[napi(catch_unwind)]
    pub fn diagnostics(&mut self) -> Vec<Diagnostic> {
        let mut all = Vec::new();
        drain_into(&mut self.inner, &mut all);
        all
    }

    /// Forgets everything learned from IMDS (token, IMDSv1 fallback, role, credentials,
    /// static-stability pause) and abandons the running operation: the next credentials operation
    /// is a full exchange. Close the connection yourself.
    #[napi(catch_unwind)]
    pub fn reset(&mut self) {
        self.inner.reset();
    }

    /// Abandons the running operation, keeping caches. Close the connection yourself.
    #[napi(catch_unwind)]
    pub fn cancel(&mut self) {
        self.inner.cancel();
    }
}
