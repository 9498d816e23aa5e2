//! Real IMDS traffic, recorded: the smithy-rs recordings under `tests/vectors/recorded-imds/`
//! (origin and license in `tests/vectors/README.md`), read into the requests the SDK made and the
//! answers IMDS gave, each answer rebuilt as the bytes it came as.
//!
//! A recording (smithy-rs's `V0` format) is a list of events per connection: the request (method,
//! URI, headers), the response's status and headers, its body, and the end of each direction.
//! [`Recording::load`] pairs each request with its answer. [`RecordedExchange::answer`] writes the
//! answer back as HTTP/1.1: `HTTP/1.1 <status> <reason>`, every recorded header in the recorded
//! order and case, then the body. One header is not the recorded value: `content-length`, which
//! is the body's length, since the bodies were shortened or replaced (the token, the credentials)
//! before the recordings were published and still carry the original lengths.

use std::path::Path;

use serde_json::Value;

use crate::mock::reason;

/// One request of a recording and the answer IMDS gave it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedExchange {
    /// The connection it went on (the recording's `connection_id`).
    pub connection: u64,
    /// `PUT` or `GET`.
    pub method: String,
    /// The request target: the URI's path.
    pub path: String,
    /// The `x-aws-ec2-metadata-token` the request carried.
    pub token: Option<String>,
    /// The answer's status.
    pub status: u16,
    /// The answer's headers, in the recorded order, one entry per value.
    pub headers: Vec<(String, String)>,
    /// The answer's body.
    pub body: String,
}

impl RecordedExchange {
    /// The answer as it came on the wire (see the module docs for `content-length`). An answer
    /// without `content-length` has its body end where the connection does.
    pub fn answer(&self) -> String {
        // No reason phrase is recorded: the usual one.
        let mut out = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (name, value) in &self.headers {
            let value = if name.eq_ignore_ascii_case("content-length") {
                self.body.len().to_string()
            } else {
                value.clone()
            };
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        out.push_str("\r\n");
        out.push_str(&self.body);
        out
    }

    /// Whether the answer gives its length (else its body ends with the connection).
    pub fn has_length(&self) -> bool {
        self.headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("content-length"))
    }
}

/// The credentials a recording's `test-case.json` says the exchange gives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedCredentials {
    /// `access_key_id`.
    pub access_key_id: String,
    /// `secret_access_key`.
    pub secret_access_key: String,
    /// `session_token`.
    pub session_token: String,
    /// `expiry`: seconds since the Unix epoch.
    pub expiry: i64,
}

/// A recording: its exchanges in order and the credentials they give.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recording {
    /// Every request, with its answer, in the order made.
    pub exchanges: Vec<RecordedExchange>,
    /// What the exchanges give.
    pub credentials: RecordedCredentials,
}

impl Recording {
    /// Reads `http-traffic.json` and `test-case.json` in `dir`.
    pub fn load(dir: &Path) -> Result<Recording, String> {
        let read = |name: &str| -> Result<Value, String> {
            let path = dir.join(name);
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
        };
        Ok(Recording {
            exchanges: exchanges(&read("http-traffic.json")?)?,
            credentials: credentials(&read("test-case.json")?)?,
        })
    }
}

fn text<'a>(value: &'a Value, what: &str) -> Result<&'a str, String> {
    value
        .as_str()
        .ok_or_else(|| format!("{what} is not a string"))
}

/// Each header's values, one entry per value, in the recorded order.
fn headers(value: &Value) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (name, values) in value.as_object().ok_or("headers are not an object")? {
        for value in values.as_array().ok_or("header values are not a list")? {
            out.push((name.clone(), text(value, name)?.to_string()));
        }
    }
    Ok(out)
}

fn exchanges(traffic: &Value) -> Result<Vec<RecordedExchange>, String> {
    let events = traffic["events"].as_array().ok_or("no `events` list")?;
    let mut exchanges: Vec<RecordedExchange> = Vec::new();
    for event in events {
        let connection = event["connection_id"]
            .as_u64()
            .ok_or("an event without a connection_id")?;
        let action = &event["action"];
        // The exchange on this connection so far (its request came first).
        let current = exchanges
            .iter_mut()
            .rev()
            .find(|e| e.connection == connection);
        if let Some(request) = action.get("Request") {
            let request = &request["request"];
            let uri = text(&request["uri"], "uri")?;
            let path = uri
                .split_once("://")
                .map_or(uri, |(_, authority_and_path)| {
                    authority_and_path
                        .find('/')
                        .map_or("/", |start| &authority_and_path[start..])
                });
            let token = request["headers"]
                .get("x-aws-ec2-metadata-token")
                .and_then(|values| values[0].as_str())
                .map(str::to_string);
            exchanges.push(RecordedExchange {
                connection,
                method: text(&request["method"], "method")?.to_string(),
                path: path.to_string(),
                token,
                status: 0,
                headers: Vec::new(),
                body: String::new(),
            });
        } else if let Some(response) = action.get("Response") {
            let answered = &response["response"]["Ok"];
            let exchange = current.ok_or("a response before its request")?;
            exchange.status = answered["status"]
                .as_u64()
                .and_then(|s| u16::try_from(s).ok())
                .ok_or("a response without a status")?;
            exchange.headers = headers(&answered["headers"])?;
        } else if let Some(data) = action.get("Data")
            && data["direction"] == "Response"
        {
            let exchange = current.ok_or("response data before its request")?;
            exchange
                .body
                .push_str(text(&data["data"]["Utf8"], "response data")?);
        }
    }
    if exchanges.iter().any(|e| e.status == 0) {
        return Err("a request without a recorded answer".into());
    }
    Ok(exchanges)
}

fn credentials(case: &Value) -> Result<RecordedCredentials, String> {
    let ok = &case["result"]["Ok"];
    let field = |name: &str| text(&ok[name], name).map(str::to_string);
    Ok(RecordedCredentials {
        access_key_id: field("access_key_id")?,
        secret_access_key: field("secret_access_key")?,
        session_token: field("session_token")?,
        expiry: ok["expiry"].as_i64().ok_or("no `expiry`")?,
    })
}
