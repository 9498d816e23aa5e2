//! What the mock IMDS serves: a [`Script`], usually read from JSON.
//!
//! A script describes the instance (role, credentials, metadata, whether the extended credentials
//! API exists, whether IMDSv1 is refused, how long tokens last) and a list of [`Override`]s that
//! change the answer to particular requests, in order: status codes, bodies, delays, chunked or
//! cut-off bodies, oversize bodies, `Connection: close`, a connection closed without an answer,
//! raw bytes instead of an answer, an answer dripped a byte at a time, bytes sent behind an answer.
//! [`OnAccept`] rules change what happens to connections as they are accepted, in order: reset at
//! once, closed at once, or sent bytes before any request.
//!
//! A script may also throttle the mock as IMDS throttles an instance ([`Throttle`]): a token
//! bucket on requests and a limit on simultaneous connections, and what the mock does past them
//! (answer 429, refuse new connections, or accept and drop them).
//!
//! JSON form (every key optional; unknown keys are refused so typos do not pass silently):
//!
//! ```json
//! {
//!   "role": "demo-role",
//!   "credentials": {"AccessKeyId": "ASIA...", "SecretAccessKey": "...", "Token": "...",
//!                   "Expiration": "2030-01-01T00:00:00Z", "AccountId": "123456789012",
//!                   "Code": "Success", "Message": null},
//!   "extended_api": false, "legacy_account_id": false,
//!   "imdsv2_only": false, "token_prefix": "mock-imds-token",
//!   "token_max_uses": null, "token_lifetime_ms": null,
//!   "path_prefix": "", "chunked": false, "connection_close": false,
//!   "metadata": {"placement/region": "us-east-1"},
//!   "responses": [{"path": "/latest/api/token", "status": 500, "times": 2}],
//!   "throttle": {"rate": 500, "burst": 50, "max_connections": 64, "mode": "429"},
//!   "on_accept": [{"times": 2, "reset": true}]
//! }
//! ```

use std::fmt;

use serde_json::{Map, Value};

/// The token request path.
pub const TOKEN_PATH: &str = "/latest/api/token";
/// The legacy role list path; credentials are this plus the role name.
pub const ROLE_LIST_PATH: &str = "/latest/meta-data/iam/security-credentials/";
/// The extended role list path; extended credentials are this plus the role name.
pub const EXTENDED_ROLE_LIST_PATH: &str = "/latest/meta-data/iam/security-credentials-extended/";
/// Where generic metadata paths live (`placement/region` is served at this plus the path).
pub const METADATA_PREFIX: &str = "/latest/meta-data/";
/// The request header that carries the requested token TTL (and the response header that echoes it).
pub const TTL_HEADER: &str = "x-aws-ec2-metadata-token-ttl-seconds";
/// The request header that carries the IMDSv2 token.
pub const TOKEN_HEADER: &str = "x-aws-ec2-metadata-token";

/// The default role name served.
pub const DEFAULT_ROLE: &str = "demo-role";
/// The default access key id served.
pub const DEFAULT_ACCESS_KEY_ID: &str = "ASIAMOCKEXAMPLE00001";
/// The default secret access key served.
pub const DEFAULT_SECRET_ACCESS_KEY: &str = "mockSecret/EXAMPLE+Key0123456789abcdefghi";
/// The default session token served.
pub const DEFAULT_SESSION_TOKEN: &str = "mockSessionToken/EXAMPLE+Token0123456789==";
/// The default expiration served.
pub const DEFAULT_EXPIRATION: &str = "2030-01-01T00:00:00Z";
/// The default account id (served on the extended API, or on the legacy one with
/// `legacy_account_id`).
pub const DEFAULT_ACCOUNT_ID: &str = "123456789012";
/// The default region served at `placement/region`.
pub const DEFAULT_REGION: &str = "us-east-1";
/// The default instance id served at `instance-id`.
pub const DEFAULT_INSTANCE_ID: &str = "i-0123456789abcdef0";
/// The default prefix of the IMDSv2 tokens issued (`<prefix>-<n>`).
pub const DEFAULT_TOKEN_PREFIX: &str = "mock-imds-token";

/// A scripted instance metadata service.
#[derive(Clone, Debug, PartialEq)]
pub struct Script {
    /// The role attached to the instance; `None` answers 404 on the role list.
    pub role: Option<String>,
    /// The credentials document served for the role.
    pub credentials: CredentialsDocument,
    /// Whether `security-credentials-extended/` exists (404 when off).
    pub extended_api: bool,
    /// Whether the legacy credentials document also carries `AccountId`.
    pub legacy_account_id: bool,
    /// Refuse IMDSv1: every `GET` without a token is answered 401.
    pub imdsv2_only: bool,
    /// Tokens are `<prefix>-<n>`.
    pub token_prefix: String,
    /// A token is refused (401) after this many uses.
    pub token_max_uses: Option<u32>,
    /// A token is refused (401) this long after it was issued, whatever TTL was asked.
    pub token_lifetime_ms: Option<u64>,
    /// A path prefix the endpoint has (`/prefix`): requests must start with it.
    pub path_prefix: String,
    /// Send every body chunked.
    pub chunked: bool,
    /// Answer every request with `Connection: close` and close.
    pub connection_close: bool,
    /// Generic metadata paths (relative to `/latest/meta-data/`) and their bodies.
    pub metadata: Vec<(String, String)>,
    /// Changes to particular answers, consumed in order.
    pub responses: Vec<Override>,
    /// Limits on the request rate and on simultaneous connections (none by default).
    pub throttle: Option<Throttle>,
    /// What happens to connections as they are accepted, consumed in accept order.
    pub on_accept: Vec<OnAccept>,
}

/// What the mock does with the next connection(s) it accepts, before reading any request.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct OnAccept {
    /// How many connections this applies to (default 1).
    pub times: u32,
    /// What to do with them.
    pub action: AcceptAction,
}

/// What [`OnAccept`] does with a connection.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum AcceptAction {
    /// `{"reset": true}`: close it at once with a reset (`SO_LINGER` 0): the client sees
    /// `ECONNRESET` (or `EPIPE`) however far it got.
    #[default]
    Reset,
    /// `{"close": true}`: close it at once (a FIN): the client sees the end of the stream, or a
    /// reset once it writes to it.
    Close,
    /// `{"send": "..."}`: write these bytes as soon as it is accepted, before any request; then
    /// read and drop whatever the client sends on it, without answering or logging it, until it
    /// closes.
    Send(String),
}

/// How the mock throttles, as IMDS does per instance: a token bucket on requests and a limit on
/// simultaneous connections, and what happens past them ([`ThrottleMode`]).
///
/// The bucket starts full with `burst` tokens and gains `rate` tokens per second, never holding
/// more than `burst`. Every request takes a token; a request that finds none is over the rate.
/// A connection accepted while `max_connections` others are open is over the connection limit.
/// Requests over a limit are logged with their outcome (throttled or dropped) and the limit.
#[derive(Clone, Debug, PartialEq)]
pub struct Throttle {
    /// Tokens gained per second (requests per second sustained); more than 0.
    pub rate: f64,
    /// Most tokens the bucket holds (requests served back to back); at least 1.
    pub burst: u32,
    /// Most connections open at once; `None` for no limit.
    pub max_connections: Option<u32>,
    /// What happens past a limit.
    pub mode: ThrottleMode,
}

/// What the mock does past a [`Throttle`] limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThrottleMode {
    /// `"429"`: a request over the rate is answered `429 Too Many Requests` (the connection stays
    /// open); every request on a connection over the connection limit is answered 429 and the
    /// connection is closed after it.
    TooManyRequests,
    /// `"refuse"`: while the bucket is empty or `max_connections` are open, the mock stops
    /// listening, so new connections are refused (the client's connect fails with "connection
    /// refused"); it listens again, on the same port, as soon as both allow. A request on an open
    /// connection that finds the bucket empty cannot be refused: it is dropped as in `"drop"`.
    Refuse,
    /// `"drop"`: a request over the rate is read, then its connection is closed without an
    /// answer; a connection over the connection limit is accepted and closed at once.
    Drop,
}

impl ThrottleMode {
    /// The name scripts use: `429`, `refuse` or `drop`.
    pub fn name(self) -> &'static str {
        match self {
            ThrottleMode::TooManyRequests => "429",
            ThrottleMode::Refuse => "refuse",
            ThrottleMode::Drop => "drop",
        }
    }
}

/// The credentials document the mock serves. Fields set to `None` are left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialsDocument {
    /// `Code` (`Success` by default).
    pub code: Option<String>,
    /// `Message`.
    pub message: Option<String>,
    /// `AccessKeyId`.
    pub access_key_id: Option<String>,
    /// `SecretAccessKey`.
    pub secret_access_key: Option<String>,
    /// `Token`.
    pub token: Option<String>,
    /// `Expiration`.
    pub expiration: Option<String>,
    /// `AccountId` (only on the extended API unless [`Script::legacy_account_id`]).
    pub account_id: Option<String>,
}

impl Default for CredentialsDocument {
    fn default() -> Self {
        Self {
            code: Some("Success".into()),
            message: None,
            access_key_id: Some(DEFAULT_ACCESS_KEY_ID.into()),
            secret_access_key: Some(DEFAULT_SECRET_ACCESS_KEY.into()),
            token: Some(DEFAULT_SESSION_TOKEN.into()),
            expiration: Some(DEFAULT_EXPIRATION.into()),
            account_id: Some(DEFAULT_ACCOUNT_ID.into()),
        }
    }
}

impl CredentialsDocument {
    /// The JSON body, in the order IMDS writes it, with or without `AccountId`.
    pub fn to_json(&self, with_account_id: bool) -> String {
        let mut members = Map::new();
        let mut add = |key: &str, value: &Option<String>| {
            if let Some(value) = value {
                members.insert(key.to_string(), Value::String(value.clone()));
            }
        };
        add("Code", &self.code);
        add("Message", &self.message);
        add("LastUpdated", &Some("2025-01-01T00:00:00Z".to_string()));
        add("Type", &Some("AWS-HMAC".to_string()));
        add("AccessKeyId", &self.access_key_id);
        add("SecretAccessKey", &self.secret_access_key);
        add("Token", &self.token);
        add("Expiration", &self.expiration);
        if with_account_id {
            add("AccountId", &self.account_id);
        }
        Value::Object(members).to_string()
    }
}

/// A change to the answer of the next request(s) that match.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Override {
    /// Only requests for this exact path (after the path prefix); `None` matches every request.
    pub path: Option<String>,
    /// Only requests with this method; `None` matches both.
    pub method: Option<String>,
    /// How many matching requests this applies to (default 1); `None` after parsing `"times": 0`
    /// means every one.
    pub times: Option<u32>,
    /// Answer with this status (and [`Override::body`], else a short reason text).
    pub status: Option<u16>,
    /// Answer with this body (status 200 unless [`Override::status`]).
    pub body: Option<String>,
    /// Wait this long before answering.
    pub delay_ms: u64,
    /// Send the body with `Transfer-Encoding: chunked`.
    pub chunked: bool,
    /// Announce the whole body in `Content-Length`, send half of it, then close.
    pub cut_off: bool,
    /// Pad the body with spaces to this many bytes.
    pub oversize: Option<usize>,
    /// Answer with `Connection: close` and close.
    pub connection_close: bool,
    /// Close the connection without answering.
    pub close_without_response: bool,
    /// Send these bytes instead of an answer (a malformed response, say), then close.
    pub raw: Option<String>,
    /// Send the answer one byte at a time, one every this many milliseconds.
    pub drip_ms: u64,
    /// With [`Override::drip_ms`]: send the head at once and drip only the body.
    pub drip_after_head: bool,
    /// Send these bytes right behind the answer (in the same write unless
    /// [`Override::then_send_after_ms`]), keeping the connection open: bytes no request asked for.
    pub then_send: Option<String>,
    /// Wait this long after the answer before sending [`Override::then_send`].
    pub then_send_after_ms: u64,
    /// Leave out the TTL header: on a token answer, or on the answer to a request made with a
    /// valid token (which carries the token's remaining lifetime, as IMDS's answers do).
    pub omit_ttl_header: bool,
    /// Extra response headers.
    pub headers: Vec<(String, String)>,
}

impl Override {
    /// Whether this override applies to `method` `path`.
    pub fn matches(&self, method: &str, path: &str) -> bool {
        self.path.as_deref().is_none_or(|p| p == path)
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
    }
}

impl Default for Script {
    fn default() -> Self {
        Self {
            role: Some(DEFAULT_ROLE.into()),
            credentials: CredentialsDocument::default(),
            extended_api: false,
            legacy_account_id: false,
            imdsv2_only: false,
            token_prefix: DEFAULT_TOKEN_PREFIX.into(),
            token_max_uses: None,
            token_lifetime_ms: None,
            path_prefix: String::new(),
            chunked: false,
            connection_close: false,
            metadata: vec![
                ("placement/region".into(), DEFAULT_REGION.into()),
                ("instance-id".into(), DEFAULT_INSTANCE_ID.into()),
            ],
            responses: Vec::new(),
            throttle: None,
            on_accept: Vec::new(),
        }
    }
}

/// A script that could not be read: which key and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptError(pub String);

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid mock script: {}", self.0)
    }
}

impl std::error::Error for ScriptError {}

fn fail<T>(message: impl Into<String>) -> Result<T, ScriptError> {
    Err(ScriptError(message.into()))
}

fn string(value: &Value, key: &str) -> Result<String, ScriptError> {
    match value.as_str() {
        Some(s) => Ok(s.to_string()),
        None => fail(format!("`{key}` must be a string")),
    }
}

fn optional_string(value: &Value, key: &str) -> Result<Option<String>, ScriptError> {
    if value.is_null() {
        Ok(None)
    } else {
        string(value, key).map(Some)
    }
}

fn boolean(value: &Value, key: &str) -> Result<bool, ScriptError> {
    value
        .as_bool()
        .ok_or_else(|| ScriptError(format!("`{key}` must be true or false")))
}

fn number(value: &Value, key: &str) -> Result<u64, ScriptError> {
    value
        .as_u64()
        .ok_or_else(|| ScriptError(format!("`{key}` must be a whole number")))
}

fn object<'a>(value: &'a Value, key: &str) -> Result<&'a Map<String, Value>, ScriptError> {
    value
        .as_object()
        .ok_or_else(|| ScriptError(format!("`{key}` must be an object")))
}

impl Script {
    /// Reads a script from JSON text.
    pub fn from_json_text(text: &str) -> Result<Script, ScriptError> {
        let json: Value = serde_json::from_str(text).map_err(|e| ScriptError(e.to_string()))?;
        Script::from_json(&json)
    }

    /// Reads a script from a parsed JSON object.
    pub fn from_json(json: &Value) -> Result<Script, ScriptError> {
        let mut script = Script::default();
        for (key, value) in object(json, "script")? {
            match key.as_str() {
                "role" => script.role = optional_string(value, key)?,
                "credentials" => script.credentials = read_credentials(value)?,
                "extended_api" => script.extended_api = boolean(value, key)?,
                "legacy_account_id" => script.legacy_account_id = boolean(value, key)?,
                "imdsv2_only" => script.imdsv2_only = boolean(value, key)?,
                "token_prefix" => script.token_prefix = string(value, key)?,
                "token_max_uses" => {
                    script.token_max_uses = if value.is_null() {
                        None
                    } else {
                        Some(number(value, key)? as u32)
                    }
                }
                "token_lifetime_ms" => {
                    script.token_lifetime_ms = if value.is_null() {
                        None
                    } else {
                        Some(number(value, key)?)
                    }
                }
                "path_prefix" => script.path_prefix = string(value, key)?,
                "chunked" => script.chunked = boolean(value, key)?,
                "connection_close" => script.connection_close = boolean(value, key)?,
                "metadata" => {
                    for (path, body) in object(value, key)? {
                        let body = string(body, path)?;
                        match script.metadata.iter_mut().find(|(p, _)| p == path) {
                            Some(entry) => entry.1 = body,
                            None => script.metadata.push((path.clone(), body)),
                        }
                    }
                }
                "responses" => {
                    let items = value
                        .as_array()
                        .ok_or_else(|| ScriptError("`responses` must be an array".into()))?;
                    script.responses = items.iter().map(read_override).collect::<Result<_, _>>()?;
                }
                "throttle" => {
                    script.throttle = if value.is_null() {
                        None
                    } else {
                        Some(read_throttle(value)?)
                    }
                }
                "on_accept" => {
                    let items = value
                        .as_array()
                        .ok_or_else(|| ScriptError("`on_accept` must be an array".into()))?;
                    script.on_accept =
                        items.iter().map(read_on_accept).collect::<Result<_, _>>()?;
                }
                other => return fail(format!("unknown key `{other}`")),
            }
        }
        if !script.path_prefix.is_empty() && !script.path_prefix.starts_with('/') {
            return fail("`path_prefix` must start with `/`");
        }
        Ok(script)
    }
}

fn read_credentials(json: &Value) -> Result<CredentialsDocument, ScriptError> {
    let mut doc = CredentialsDocument::default();
    for (key, value) in object(json, "credentials")? {
        let value = optional_string(value, key)?;
        match key.as_str() {
            "Code" => doc.code = value,
            "Message" => doc.message = value,
            "AccessKeyId" => doc.access_key_id = value,
            "SecretAccessKey" => doc.secret_access_key = value,
            "Token" => doc.token = value,
            "Expiration" => doc.expiration = value,
            "AccountId" => doc.account_id = value,
            other => return fail(format!("unknown credentials key `{other}`")),
        }
    }
    Ok(doc)
}

fn read_throttle(json: &Value) -> Result<Throttle, ScriptError> {
    let mut rate = None;
    let mut burst = None;
    let mut throttle = Throttle {
        rate: 0.0,
        burst: 0,
        max_connections: None,
        mode: ThrottleMode::TooManyRequests,
    };
    for (key, value) in object(json, "throttle")? {
        match key.as_str() {
            "rate" => {
                rate = Some(
                    value
                        .as_f64()
                        .filter(|r| r.is_finite() && *r > 0.0)
                        .ok_or_else(|| {
                            ScriptError("`throttle.rate` must be a number above 0".into())
                        })?,
                )
            }
            "burst" => {
                burst = Some(
                    u32::try_from(number(value, key)?)
                        .ok()
                        .filter(|b| *b >= 1)
                        .ok_or_else(|| {
                            ScriptError("`throttle.burst` must be a whole number from 1".into())
                        })?,
                )
            }
            "max_connections" => {
                throttle.max_connections = if value.is_null() {
                    None
                } else {
                    Some(
                        u32::try_from(number(value, key)?)
                            .ok()
                            .filter(|n| *n >= 1)
                            .ok_or_else(|| {
                                ScriptError(
                                    "`throttle.max_connections` must be a whole number from 1 \
                                     (or null for no limit)"
                                        .into(),
                                )
                            })?,
                    )
                }
            }
            "mode" => {
                throttle.mode = match string(value, key)?.as_str() {
                    "429" => ThrottleMode::TooManyRequests,
                    "refuse" => ThrottleMode::Refuse,
                    "drop" => ThrottleMode::Drop,
                    other => {
                        return fail(format!(
                            "`throttle.mode` must be \"429\", \"refuse\" or \"drop\", not `{other}`"
                        ));
                    }
                }
            }
            other => return fail(format!("unknown throttle key `{other}`")),
        }
    }
    match (rate, burst) {
        (Some(rate), Some(burst)) => {
            throttle.rate = rate;
            throttle.burst = burst;
            Ok(throttle)
        }
        _ => fail("`throttle` needs `rate` (requests per second) and `burst`"),
    }
}

fn read_override(json: &Value) -> Result<Override, ScriptError> {
    let mut rule = Override {
        times: Some(1),
        ..Override::default()
    };
    for (key, value) in object(json, "responses[]")? {
        match key.as_str() {
            "path" => rule.path = Some(string(value, key)?),
            "method" => rule.method = Some(string(value, key)?),
            "times" => {
                let n = number(value, key)?;
                rule.times = if n == 0 { None } else { Some(n as u32) };
            }
            "status" => {
                let status = number(value, key)?;
                if !(100..=999).contains(&status) {
                    return fail("`status` must be from 100 to 999");
                }
                rule.status = Some(status as u16);
            }
            "body" => rule.body = Some(string(value, key)?),
            "delay_ms" => rule.delay_ms = number(value, key)?,
            "chunked" => rule.chunked = boolean(value, key)?,
            "cut_off" => rule.cut_off = boolean(value, key)?,
            "oversize" => rule.oversize = Some(number(value, key)? as usize),
            "connection_close" => rule.connection_close = boolean(value, key)?,
            "close_without_response" => rule.close_without_response = boolean(value, key)?,
            "raw" => rule.raw = Some(string(value, key)?),
            "drip_ms" => rule.drip_ms = number(value, key)?,
            "drip_after_head" => rule.drip_after_head = boolean(value, key)?,
            "then_send" => rule.then_send = Some(string(value, key)?),
            "then_send_after_ms" => rule.then_send_after_ms = number(value, key)?,
            "omit_ttl_header" => rule.omit_ttl_header = boolean(value, key)?,
            "headers" => {
                for (name, header_value) in object(value, key)? {
                    rule.headers
                        .push((name.clone(), string(header_value, name)?));
                }
            }
            other => return fail(format!("unknown response key `{other}`")),
        }
    }
    Ok(rule)
}

fn read_on_accept(json: &Value) -> Result<OnAccept, ScriptError> {
    let mut times = 1;
    let mut action = None;
    for (key, value) in object(json, "on_accept[]")? {
        let chosen = match key.as_str() {
            "times" => {
                times = u32::try_from(number(value, key)?)
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| ScriptError("`on_accept[].times` must be from 1".into()))?;
                continue;
            }
            "reset" if boolean(value, key)? => AcceptAction::Reset,
            "close" if boolean(value, key)? => AcceptAction::Close,
            "send" => AcceptAction::Send(string(value, key)?),
            "reset" | "close" => continue,
            other => return fail(format!("unknown on_accept key `{other}`")),
        };
        if action.replace(chosen).is_some() {
            return fail("an on_accept rule takes one of `reset`, `close` or `send`");
        }
    }
    match action {
        Some(action) => Ok(OnAccept { times, action }),
        None => fail("an on_accept rule needs `reset`, `close` or `send`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_script_is_the_default_instance() {
        assert_eq!(Script::from_json_text("{}").unwrap(), Script::default());
    }

    #[test]
    fn reads_overrides_and_refuses_unknown_keys() {
        let script = Script::from_json_text(
            r#"{"role": null, "responses": [{"path": "/latest/api/token", "status": 500, "times": 0}]}"#,
        )
        .unwrap();
        assert_eq!(script.role, None);
        assert_eq!(script.responses[0].status, Some(500));
        assert_eq!(script.responses[0].times, None);
        assert!(Script::from_json_text(r#"{"rolle": "x"}"#).is_err());
        assert!(Script::from_json_text(r#"{"responses": [{"staus": 1}]}"#).is_err());
    }

    #[test]
    fn reads_a_throttle_and_says_what_is_wrong_with_a_bad_one() {
        let script = Script::from_json_text(
            r#"{"throttle": {"rate": 0.5, "burst": 3, "max_connections": 2, "mode": "refuse"}}"#,
        )
        .unwrap();
        assert_eq!(
            script.throttle,
            Some(Throttle {
                rate: 0.5,
                burst: 3,
                max_connections: Some(2),
                mode: ThrottleMode::Refuse,
            })
        );
        let mode = Script::from_json_text(r#"{"throttle": {"rate": 1, "burst": 1}}"#).unwrap();
        assert_eq!(
            mode.throttle.map(|t| (t.mode, t.max_connections)),
            Some((ThrottleMode::TooManyRequests, None))
        );
        for (bad, says) in [
            (r#"{"rate": 0, "burst": 1}"#, "rate"),
            (r#"{"rate": 1, "burst": 0}"#, "burst"),
            (r#"{"rate": 1}"#, "needs"),
            (r#"{"rate": 1, "burst": 1, "mode": "slow"}"#, "mode"),
            (
                r#"{"rate": 1, "burst": 1, "max_connections": 0}"#,
                "max_connections",
            ),
            (
                r#"{"rate": 1, "burst": 1, "limit": 3}"#,
                "unknown throttle key",
            ),
        ] {
            let error = Script::from_json_text(&format!(r#"{{"throttle": {bad}}}"#)).unwrap_err();
            assert!(error.to_string().contains(says), "{bad}: {error}");
        }
    }

    #[test]
    fn reads_accept_rules_and_drips() {
        let script = Script::from_json_text(
            r#"{"on_accept": [{"times": 2, "reset": true}, {"send": "x"}],
                "responses": [{"drip_ms": 500, "drip_after_head": true, "then_send": "y"}]}"#,
        )
        .unwrap();
        assert_eq!(
            script.on_accept,
            [
                OnAccept {
                    times: 2,
                    action: AcceptAction::Reset
                },
                OnAccept {
                    times: 1,
                    action: AcceptAction::Send("x".into())
                }
            ]
        );
        assert_eq!(script.responses[0].drip_ms, 500);
        assert!(script.responses[0].drip_after_head);
        assert_eq!(script.responses[0].then_send.as_deref(), Some("y"));
        for bad in [
            r#"{"on_accept": [{"times": 1}]}"#,
            r#"{"on_accept": [{"reset": true, "close": true}]}"#,
            r#"{"on_accept": [{"times": 0, "reset": true}]}"#,
            r#"{"on_accept": [{"drop": true}]}"#,
        ] {
            assert!(Script::from_json_text(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn credentials_document_leaves_out_account_id_unless_asked() {
        let doc = CredentialsDocument::default();
        assert!(!doc.to_json(false).contains("AccountId"));
        assert!(
            doc.to_json(true)
                .ends_with(r#""AccountId":"123456789012"}"#)
        );
    }
}
