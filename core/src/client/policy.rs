//! The IMDS policy: which request comes next, and what each answer means at each step.
//!
//! It owns what the client learns from IMDS (the token, the sticky IMDSv1 fallback, the role
//! name, which credentials API answers, the last good credentials and the static-stability
//! pause) and the counters of the running operation. It never touches the connection: it judges
//! each [`Event`] of the transport and returns a [`Decision`].
//!
//! The requests, in order: `PUT /latest/api/token` when no usable token is cached (and IMDSv1
//! is not in force); then for credentials `GET …/security-credentials[-extended]/` to discover
//! the role unless one is configured or known, and `GET …/security-credentials[-extended]/<role>`;
//! for a metadata read `GET` of its path. Every `GET` carries the token unless IMDSv1 is in
//! force.
//!
//! What each answer means, by step ("retry" is a back-off of `min(1 s, 50 ms · 2^(n−1)) · U[0, 1)`
//! before attempt `n + 1`, or `min(2 s, 1 s · 2^(n−1)) · U[0, 1)` after a 429 (IMDS throttling:
//! the retries of many processes must spread over the seconds it takes to serve them), while
//! attempts (the `attempts` setting) allow; "fail" ends the operation with the error named):
//!
//! | answer | token (`PUT`) | role list | credentials | metadata |
//! |---|---|---|---|---|
//! | 200 | cache the token for its TTL (header, else the one asked) | keep the role; the extended API, if tried, is confirmed | done; the extended API is confirmed; credentials already expired are used 10–15 more minutes | done |
//! | 401 | retry, else fail `HttpStatus` | drop the token, leave IMDSv1; retry, else fail `HttpStatus` | as for the role list | as for the role list |
//! | 403, 405 | IMDSv1 for good (`FallbackToV1`, sticky) | fail `HttpStatus` | fail `HttpStatus` | fail `HttpStatus` |
//! | 404 | IMDSv1 for good | extended API not yet confirmed: legacy API from now on; else fail `NoRole` | extended API not yet confirmed: legacy API; a configured role: fail `InvalidInstanceProfile`; else discover the role again, at most [`MAX_ROLE_RESOLUTIONS`] times per operation, then fail `RoleUnstable` | fail `HttpStatus` |
//! | 429, 5xx | retry; when attempts run out, IMDSv1 for this operation only | retry, else fail `HttpStatus` | retry, else fail `HttpStatus` | retry, else fail `HttpStatus` |
//! | any other status | fail `HttpStatus` | fail `HttpStatus` | fail `HttpStatus` | fail `HttpStatus` |
//! | no byte of the answer within `timeout` | re-send once if the connection was a kept one, else IMDSv1 for good with a hop-limit hint | transport failure | transport failure | transport failure |
//! | body not acceptable | fail `InvalidToken` | fail `InvalidRoleName` | fail `MalformedCredentials` / `CredentialsRejected` | (any body) |
//!
//! Transport failures (the transport has already re-sent once on a stale kept connection):
//!
//! - a refused connection, and a connection IMDS accepted and then closed or reset before the
//!   whole answer came (`ConnectFailed`, `ConnectionClosed`), are retried like a 5xx: IMDS is
//!   there, briefly unable to answer;
//! - a connect timeout, an unreachable network or host, an answer that did not come whole within
//!   `timeout` (`ConnectFailed`, `Timeout`; also the token request once some of its answer came:
//!   bytes that reach the client rule out the hop limit) and other I/O errors (`Io`) are final
//!   unless the number of attempts was set: each costs up to a whole `timeout`, and off EC2 a
//!   connect timeout or an unreachable network means there is no IMDS to wait for.
//!
//! Bytes no request asked for (before a request was written, or behind a whole answer) are a
//! protocol error for that connection: it is closed, what came on it is discarded, and the
//! request is retried on a new one like a 5xx (else fail `MalformedResponse`). A token whose
//! answer came on that connection is dropped too: that answer may itself have been a response
//! written before the token request. What the transport cannot see (an early response arriving
//! only once the request was sent, taken for its answer; see `super::transport`) the policy does
//! not guess at from headers: IMDS sends `x-aws-ec2-metadata-token-ttl-seconds` on every answer
//! to a request made with a token, not only on the token's. The secrets the client holds stay
//! out of paths instead: a role list holding one is refused, and the client sends no request
//! whose path holds one. A response too large or malformed fails at once. An IMDSv1 fallback is
//! refused with `V1FallbackBlocked` when `v1_disabled` is set.
//!
//! Static stability: when a credentials operation fails and credentials were fetched before, the
//! last good credentials are returned instead and IMDS is not asked again for 10 to 15 minutes.

use core::ops::Range;

use super::diagnostics::DiagnosticQueue;
use super::jitter::Jitter;
use super::metadata_path::MetadataPath;
use super::token::TokenCache;
use super::transport::{During, Event, Failure, Transport};
use crate::credentials::Credentials;
use crate::diagnostic::{Diagnostic, Method};
use crate::endpoint::TOKEN_PATH;
use crate::error::{ConnectProblem, Context, Error, ErrorKind, FallbackReason, Step};
use crate::http::{Head, Request};
use crate::role::{self, RoleName};
use crate::secret::CLIENT_SECRETS;
use crate::settings::names::Source;
use crate::settings::{CredentialsApi, Settings};
use crate::text::ShortText;
use crate::time::{Instant, UnixTime};

/// How many times one credentials operation may discover the role name before giving up with
/// [`ErrorKind::RoleUnstable`] (the extended API's bound from the SEP test vectors).
pub const MAX_ROLE_RESOLUTIONS: u8 = 10;
/// Shortest pause after IMDS failed and the last good credentials were returned.
pub const STATIC_STABILITY_PAUSE_MS: u64 = 10 * 60 * 1_000;
/// Extra random pause on top of [`STATIC_STABILITY_PAUSE_MS`] (up to 5 minutes).
pub const STATIC_STABILITY_SPREAD_MS: u64 = 5 * 60 * 1_000;
/// Credentials that IMDS returns already expired are used for this long (plus up to
/// [`EXPIRATION_EXTENSION_SPREAD_SECS`]).
pub const EXPIRATION_EXTENSION_SECS: u64 = 10 * 60;
/// Extra random extension on top of [`EXPIRATION_EXTENSION_SECS`] (up to 5 minutes).
pub const EXPIRATION_EXTENSION_SPREAD_SECS: u64 = 5 * 60;

/// The message of the error when bytes no request asked for kept coming until attempts ran out.
const UNSOLICITED: &str =
    "IMDS sent bytes that no request asked for, on every attempt; each connection was closed";

const LEGACY_BASE: &str = "/latest/meta-data/iam/security-credentials/";
const EXTENDED_BASE: &str = "/latest/meta-data/iam/security-credentials-extended/";

/// Which credentials API the client talks to (the extended API's state, SEP v2.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ApiVersion {
    /// Extended configured, not yet confirmed.
    Unknown,
    /// `security-credentials-extended/` answered.
    Extended,
    /// `security-credentials/`.
    Legacy,
}

impl ApiVersion {
    /// Where a client starts, and starts again after a reset.
    const fn initial(api: CredentialsApi) -> Self {
        match api {
            CredentialsApi::Legacy => Self::Legacy,
            CredentialsApi::Extended => Self::Unknown,
        }
    }

    /// The path the role list and the credentials are under.
    const fn base(self) -> &'static str {
        match self {
            Self::Legacy => LEGACY_BASE,
            Self::Unknown | Self::Extended => EXTENDED_BASE,
        }
    }
}

/// What an operation produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OperationKind {
    /// Credentials, with the wall-clock time at the start.
    Credentials { wall: UnixTime },
    /// A metadata body.
    Metadata,
}

/// What a finished operation produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// [`Policy::credentials`] holds them.
    Credentials,
    /// The body, at this range of the receive buffer.
    Body(Range<usize>),
}

/// What the client does after an event.
// Returned by value and applied at once: boxing the error would need an allocator.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Go on with the next request.
    Continue,
    /// Wait until then (back-off), then go on.
    Wait(Instant),
    /// The operation succeeded.
    Finish(Outcome),
    /// The operation failed.
    Fail(Error),
}

/// The counters of the running operation.
#[derive(Clone, Copy, Debug)]
struct Operation {
    kind: OperationKind,
    /// The request the pending action is for.
    step: Step,
    /// Attempt number of the current role/credentials/metadata request (1-based).
    attempt: u8,
    /// Attempt number of the current token request (1-based).
    token_attempt: u8,
    /// Role-list requests answered 200 in this operation.
    role_resolutions: u8,
    /// IMDSv1 for the rest of this operation only (token request failed with 5xx/429).
    v1_this_operation: bool,
}

impl Operation {
    const fn new(kind: OperationKind) -> Self {
        Self {
            kind,
            step: Step::Token,
            attempt: 1,
            token_attempt: 1,
            role_resolutions: 0,
            v1_this_operation: false,
        }
    }
}

/// The policy's state. `Debug` shows neither the token nor the secrets (their lengths only).
#[derive(Clone, Debug)]
pub(crate) struct Policy {
    settings: Settings,
    jitter: Jitter,
    token: TokenCache,
    sticky_v1: bool,
    role: Option<RoleName>,
    api: ApiVersion,
    /// The last good credentials when `has_credentials`, else empty. One slot, written in place
    /// (never moved in), wiped when replaced, on reset and on drop.
    credentials: Credentials,
    has_credentials: bool,
    paused_until: Option<Instant>,
    operation: Operation,
}

impl Policy {
    /// Nothing learned yet; `seed` feeds back-off jitter and static-stability intervals.
    pub(crate) fn new(settings: &Settings, seed: u64) -> Self {
        Self {
            settings: settings.clone(),
            jitter: Jitter::new(seed),
            token: TokenCache::new(),
            sticky_v1: false,
            role: None,
            api: ApiVersion::initial(settings.credentials_api.value),
            credentials: Credentials::default(),
            has_credentials: false,
            paused_until: None,
            operation: Operation::new(OperationKind::Metadata),
        }
    }

    /// The settings in force.
    pub(crate) const fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The last good credentials.
    pub(crate) fn credentials(&self) -> Option<&Credentials> {
        self.has_credentials.then_some(&self.credentials)
    }

    /// The secrets the client holds (the token, the secret key and the session token; empty when
    /// absent), which no request path or error may carry.
    pub(crate) fn secrets(&self) -> [&str; CLIENT_SECRETS] {
        [
            self.token.value(),
            self.credentials.secret_access_key(),
            self.credentials.session_token(),
        ]
    }

    /// Forgets everything learned from IMDS, wiping the token and the credentials.
    pub(crate) fn forget(&mut self) {
        self.token.clear();
        self.sticky_v1 = false;
        self.role = None;
        self.api = ApiVersion::initial(self.settings.credentials_api.value);
        self.credentials.wipe();
        self.has_credentials = false;
        self.paused_until = None;
    }

    /// Whether a credentials operation starting at `now` / `wall` is served from the cache: the
    /// credentials are fresh (`wall` before their expiration minus the refresh window), or a
    /// static-stability pause is in force. Otherwise the pause ends.
    pub(crate) fn serve_from_cache(
        &mut self,
        now: Instant,
        wall: UnixTime,
        diagnostics: &mut DiagnosticQueue,
    ) -> bool {
        if let Some(cached) = self.credentials() {
            let refresh_window = i64::from(self.settings.refresh_window_secs.value);
            let refresh_at = cached.expiration().add_secs(-refresh_window);
            let paused = self.paused_until.is_some_and(|until| now < until);
            if wall < refresh_at || paused {
                diagnostics.push(Diagnostic::CredentialsFromCache);
                return true;
            }
        }
        self.paused_until = None;
        false
    }

    /// An operation of `kind` starts.
    pub(crate) fn begin(&mut self, kind: OperationKind) {
        self.operation = Operation::new(kind);
    }

    /// Whether requests of the running operation go without a token.
    fn uses_v1(&self) -> bool {
        self.sticky_v1 || self.operation.v1_this_operation
    }

    /// The role name to use: configured, else discovered.
    fn role_name(&self) -> Option<&RoleName> {
        self.settings
            .instance_profile_name
            .value
            .as_ref()
            .or(self.role.as_ref())
    }

    /// The request the running operation needs next.
    fn next_step(&self, now: Instant) -> Step {
        if !self.uses_v1() && !self.token.usable(now) {
            return Step::Token;
        }
        match self.operation.kind {
            OperationKind::Metadata => Step::Metadata,
            OperationKind::Credentials { .. } if self.role_name().is_some() => Step::Credentials,
            OperationKind::Credentials { .. } => Step::RoleName,
        }
    }

    /// The next request at `now` and the step it is. Call [`Policy::sent`] once it is written.
    pub(crate) fn next_request<'a>(
        &'a self,
        now: Instant,
        path: &'a MetadataPath,
        binding: &'a str,
    ) -> (Request<'a>, Step) {
        let step = self.next_step(now);
        let with_token = step != Step::Token && !self.uses_v1();
        let base = self.api.base();
        let role = self.role_name().map_or("", RoleName::as_str);
        let path = match step {
            Step::Token => [TOKEN_PATH, "", ""],
            Step::RoleName => [base, "", ""],
            Step::Credentials => [base, role, ""],
            Step::Metadata => {
                let [first, second] = path.pieces();
                [first, second, ""]
            }
        };
        let request = Request {
            method: if step == Step::Token {
                Method::Put
            } else {
                Method::Get
            },
            path,
            token: with_token.then(|| self.token.value()),
            token_ttl_secs: self.settings.token_ttl_secs.value,
            binding,
        };
        (request, step)
    }

    /// The request of `step` was written (`with_token`: it carries the cached token).
    pub(crate) fn sent(&mut self, step: Step, with_token: bool) {
        if with_token {
            self.token.mark_used();
        }
        self.operation.step = step;
    }

    /// Judges what happened on the connection.
    pub(crate) fn judge(
        &mut self,
        now: Instant,
        event: Event,
        transport: &mut Transport,
        diagnostics: &mut DiagnosticQueue,
    ) -> Decision {
        let step = self.operation.step;
        match event {
            Event::Response(head) => self.on_response(now, head, transport, diagnostics),
            Event::TooLarge { status } => self.fail(
                now,
                Error::at_step(ErrorKind::ResponseTooLarge, step, status),
                diagnostics,
            ),
            Event::Malformed(detail) => self.fail(
                now,
                Error::new(ErrorKind::MalformedResponse, Context::Detail(detail)),
                diagnostics,
            ),
            Event::Unsolicited { len } => {
                // The token's answer came on this connection too: it may have been a response
                // written before the token request, so the token is not trusted either.
                let token_dropped = self.token.came_on(transport.connection_id());
                if token_dropped {
                    self.token.clear();
                }
                diagnostics.push(Diagnostic::UnsolicitedBytes { len, token_dropped });
                match self.schedule_retry(now, step, 0, diagnostics) {
                    Some(until) => Decision::Wait(until),
                    None => self.fail(
                        now,
                        Error::detail(ErrorKind::MalformedResponse, UNSOLICITED),
                        diagnostics,
                    ),
                }
            }
            Event::Failed {
                failure: Failure::Timeout,
                during: During::Receive,
            } if step == Step::Token && !transport.response_started() => {
                // Silence on a kept-alive connection may only mean the server dropped it: try a
                // new connection before concluding that the token's answer cannot reach us.
                if transport.resend_if_stale() {
                    return Decision::Continue;
                }
                diagnostics.push(Diagnostic::HopLimitHint);
                self.fall_back(now, FallbackReason::TokenReadTimeout, true, diagnostics)
            }
            Event::Failed { failure, .. } => {
                let retried = matches!(failure, Failure::Refused | Failure::Dropped)
                    || self.settings.attempts.source != Source::Default;
                if retried && let Some(until) = self.schedule_retry(now, step, 0, diagnostics) {
                    return Decision::Wait(until);
                }
                let error = self.transport_error(failure, step);
                self.fail(now, error, diagnostics)
            }
        }
    }

    /// The error a transport failure of `step` ends the operation with; a connect failure names
    /// the endpoint.
    fn transport_error(&self, failure: Failure, step: Step) -> Error {
        let connect = |problem| {
            let mut endpoint = ShortText::empty();
            // Writing into a `ShortText` never fails; it truncates.
            let _ = self.settings.endpoint.value.write_origin(&mut endpoint);
            Error::new(
                ErrorKind::ConnectFailed,
                Context::Connect { endpoint, problem },
            )
        };
        match failure {
            Failure::Refused => connect(ConnectProblem::Refused),
            Failure::Unreachable => connect(ConnectProblem::Unreachable),
            Failure::ConnectTimeout => connect(ConnectProblem::TimedOut),
            Failure::Dropped => Error::at_step(ErrorKind::ConnectionClosed, step, 0),
            Failure::Timeout => Error::at_step(ErrorKind::Timeout, step, 0),
            Failure::Other => Error::at_step(ErrorKind::Io, step, 0),
        }
    }

    /// A whole response to the request of the current step.
    fn on_response(
        &mut self,
        now: Instant,
        head: Head,
        transport: &Transport,
        diagnostics: &mut DiagnosticQueue,
    ) -> Decision {
        let step = self.operation.step;
        let status = head.status;
        let body = transport.body();
        diagnostics.push(Diagnostic::ResponseReceived { step, status });
        if status == 401 && step != Step::Token {
            self.token.clear();
            self.sticky_v1 = false;
            self.operation.v1_this_operation = false;
            diagnostics.push(Diagnostic::TokenDropped);
            return self.retry_or_fail(now, step, status, diagnostics);
        }
        match (step, status) {
            (Step::Token, 200) => {
                let ttl = head
                    .token_ttl_secs
                    .unwrap_or(self.settings.token_ttl_secs.value);
                match self.token.store(body, now, ttl, transport.connection_id()) {
                    Ok(()) => {
                        self.operation.token_attempt = 1;
                        Decision::Continue
                    }
                    Err(error) => self.fail(now, error, diagnostics),
                }
            }
            (Step::Token, 403..=405) => {
                self.fall_back(now, FallbackReason::TokenStatus(status), true, diagnostics)
            }
            (Step::Token, 429 | 500..=599) => {
                match self.schedule_retry(now, step, status, diagnostics) {
                    Some(until) => Decision::Wait(until),
                    None => self.fall_back(
                        now,
                        FallbackReason::TokenRetriesExhausted(status),
                        false,
                        diagnostics,
                    ),
                }
            }
            (Step::Token, 401) => self.retry_or_fail(now, step, status, diagnostics),
            (Step::RoleName, 200) => match role::parse_role_list(body, &self.secrets()) {
                Ok(name) => {
                    self.role = Some(name);
                    self.confirm_extended_api();
                    self.operation.role_resolutions =
                        self.operation.role_resolutions.saturating_add(1);
                    self.operation.attempt = 1;
                    Decision::Continue
                }
                Err(error) => self.fail(now, error, diagnostics),
            },
            (Step::RoleName | Step::Credentials, 404) if self.api == ApiVersion::Unknown => {
                self.api = ApiVersion::Legacy;
                diagnostics.push(Diagnostic::ExtendedApiUnavailable);
                self.operation.attempt = 1;
                Decision::Continue
            }
            (Step::RoleName, 404) => self.fail(
                now,
                Error::at_step(ErrorKind::NoRole, step, status),
                diagnostics,
            ),
            (Step::Credentials, 200) => self.on_credentials_document(now, body, diagnostics),
            (Step::Credentials, 404) => self.on_role_gone(now, status, diagnostics),
            (Step::Metadata, 200) => Decision::Finish(Outcome::Body(transport.body_range())),
            (_, 429 | 500..=599) => self.retry_or_fail(now, step, status, diagnostics),
            _ => self.fail(
                now,
                Error::at_step(ErrorKind::HttpStatus, step, status),
                diagnostics,
            ),
        }
    }

    /// The extended API answered 200 (role list or credentials): it is used from now on.
    fn confirm_extended_api(&mut self) {
        if self.api == ApiVersion::Unknown {
            self.api = ApiVersion::Extended;
        }
    }

    /// 404 on the credentials of a role: the configured role does not exist, or the discovered
    /// one changed since it was discovered.
    fn on_role_gone(
        &mut self,
        now: Instant,
        status: u16,
        diagnostics: &mut DiagnosticQueue,
    ) -> Decision {
        let kind = if self.settings.instance_profile_name.value.is_some() {
            ErrorKind::InvalidInstanceProfile
        } else if self.operation.role_resolutions >= MAX_ROLE_RESOLUTIONS {
            ErrorKind::RoleUnstable
        } else {
            self.role = None;
            self.operation.attempt = 1;
            diagnostics.push(Diagnostic::RoleRediscovery);
            return Decision::Continue;
        };
        self.fail(
            now,
            Error::at_step(kind, Step::Credentials, status),
            diagnostics,
        )
    }

    /// 200 on the credentials: parse them, extend them if they already expired.
    fn on_credentials_document(
        &mut self,
        now: Instant,
        body: &[u8],
        diagnostics: &mut DiagnosticQueue,
    ) -> Decision {
        // Only a credentials operation asks for credentials.
        let OperationKind::Credentials { wall } = self.operation.kind else {
            return Decision::Continue;
        };
        // Parsed into a scratch value on this stack frame (wiped when it goes out of scope), then
        // copied into the one slot: the last good credentials stay until the new ones are whole.
        let mut parsed = Credentials::default();
        if let Err(error) = crate::json::parse_credentials(body, &self.secrets(), &mut parsed) {
            return self.fail(now, error, diagnostics);
        }
        self.confirm_extended_api();
        self.credentials.replace_with(&parsed);
        self.has_credentials = true;
        if parsed.expiration() <= wall {
            let secs =
                EXPIRATION_EXTENSION_SECS + self.jitter.below(EXPIRATION_EXTENSION_SPREAD_SECS + 1);
            self.credentials.expiration = wall.add_secs(i64::try_from(secs).unwrap_or(i64::MAX));
            diagnostics.push(Diagnostic::ExpirationExtended {
                minutes: minutes_rounded_up(secs * 1_000),
            });
        }
        self.paused_until = None;
        Decision::Finish(Outcome::Credentials)
    }

    fn retry_or_fail(
        &mut self,
        now: Instant,
        step: Step,
        status: u16,
        diagnostics: &mut DiagnosticQueue,
    ) -> Decision {
        match self.schedule_retry(now, step, status, diagnostics) {
            Some(until) => Decision::Wait(until),
            None => self.fail(
                now,
                Error::at_step(ErrorKind::HttpStatus, step, status),
                diagnostics,
            ),
        }
    }

    /// Counts another attempt of `step` and returns when to make it, after a back-off (`status`
    /// is the HTTP status that failed, 0 for a transport failure). `None` when attempts ran out.
    fn schedule_retry(
        &mut self,
        now: Instant,
        step: Step,
        status: u16,
        diagnostics: &mut DiagnosticQueue,
    ) -> Option<Instant> {
        let max = self.settings.attempts.value.max(1);
        let op = &mut self.operation;
        let counter = if step == Step::Token {
            &mut op.token_attempt
        } else {
            &mut op.attempt
        };
        let attempt = *counter;
        if attempt >= max {
            return None;
        }
        let delay = self.jitter.backoff_ms(attempt, status == 429);
        let until = now.add_millis(delay);
        *counter = attempt + 1;
        diagnostics.push(Diagnostic::RetryScheduled {
            step,
            attempt,
            status,
            delay_ms: u32::try_from(delay).unwrap_or(u32::MAX),
        });
        Some(until)
    }

    /// Falls back to IMDSv1 (for good when `sticky`), unless the settings forbid it.
    fn fall_back(
        &mut self,
        now: Instant,
        reason: FallbackReason,
        sticky: bool,
        diagnostics: &mut DiagnosticQueue,
    ) -> Decision {
        if self.settings.v1_disabled.value {
            let source = self.settings.v1_disabled.source;
            let context = Context::FallbackBlocked { reason, source };
            let error = Error::new(ErrorKind::V1FallbackBlocked, context);
            return self.fail(now, error, diagnostics);
        }
        if sticky {
            self.sticky_v1 = true;
        }
        self.operation.v1_this_operation = !sticky;
        diagnostics.push(Diagnostic::FallbackToV1 { reason, sticky });
        Decision::Continue
    }

    /// The operation fails with `error`. A credentials operation with last good credentials
    /// returns them instead and pauses requests for 10 to 15 minutes (static stability).
    fn fail(&mut self, now: Instant, error: Error, diagnostics: &mut DiagnosticQueue) -> Decision {
        let credentials_operation =
            matches!(self.operation.kind, OperationKind::Credentials { .. });
        if !(credentials_operation && self.has_credentials) {
            return Decision::Fail(error);
        }
        let until = self
            .jitter
            .after(now, STATIC_STABILITY_PAUSE_MS, STATIC_STABILITY_SPREAD_MS);
        self.paused_until = Some(until);
        diagnostics.push(Diagnostic::UsingLastGoodCredentials {
            retry_in_minutes: minutes_rounded_up(until.millis_since(now)),
        });
        Decision::Finish(Outcome::Credentials)
    }
}

fn minutes_rounded_up(millis: u64) -> u32 {
    u32::try_from(millis.div_ceil(60_000)).unwrap_or(u32::MAX)
}
