//! The whole client against a server whose bytes arrive as a stream cut at arbitrary points, with
//! bytes nobody asked for between the answers.
//!
//! The input is a script. A model server reads the request line of each request the client writes
//! (the token `PUT`, the role list, credentials, a metadata `GET`) and answers with what the script
//! picks: the proper answer (its tokens, secret keys and session tokens made up here), an error
//! status, an error document, raw bytes, silence, a truncated answer, an answer and a close. It
//! also writes bytes no request asked for: on accepting a connection, right after an answer, and
//! on a kept connection between operations (a copy of its last answer, a new token answer, raw
//! bytes). The host hands the client what arrived in pieces whose sizes the script picks, or
//! reports end of stream, a reset, a timeout, a stall, and the clocks jump between operations. No
//! socket is opened.
//!
//! Two hosts, picked by the input:
//! * the careful host does what `Action::Send` asks (and every driver here does): it looks at its
//!   connection before writing a request on it and reports bytes or an end of stream waiting
//!   there (`handle_data`, `handle_eof`) instead of writing; the client closes that connection
//!   and sends the request on a new one;
//! * the careless host never looks, so bytes nobody asked for are read as the next answer.
//!
//! Checked, for both hosts: no panic; every operation ends (done, failed or cancelled) within
//! [`MAX_POLLS`] polls; the client connects only to the configured endpoint; every request is
//! well-formed HTTP (`GET` or `PUT`, a visible-ASCII target, printable header values); every
//! diagnostic, error and `Debug` text is one line without control characters, and every trace and
//! error line ends with its only newline; `Done` leaves credentials whose fields are printable ASCII
//! and whose `credential_process` JSON is valid JSON with the same values, or a metadata body; no
//! request target carries the token of its own token header or the secret key or session token
//! the client holds, and no text shown carries them.
//!
//! With the careful host, also: no secret this server served (every token, secret key and session
//! token; each holds an `@`, which no other byte the server writes does) appears anywhere in a
//! request but its token header, nor in any diagnostic, trace line, error or `Debug` text.
#![no_main]

use imds_core::client::{IoError, RECEIVE_CAPACITY, SEND_CAPACITY};
use imds_core::{Action, Client, Error, Instant, UnixTime, cli};
use imds_core_fuzz::{Script, settings};
use libfuzzer_sys::fuzz_target;

/// Operations one input may run on the same client (caches and the connection carry over).
const MAX_OPERATIONS: usize = 8;
/// Polls one operation may take before it is deemed stuck. An operation is bounded by its
/// attempts, role re-resolutions and deadlines, and each piece of an answer costs a script byte;
/// this is far above any honest need.
const MAX_POLLS: usize = 20_000;
/// 2025-01-01T00:00:00Z.
const WALL_START: i64 = 1_735_689_600;
/// Every secret the server makes up holds this byte; nothing else the server writes does.
const SECRET_MARK: char = '@';
/// The host and port of [`imds_core_fuzz::ENDPOINT`], the endpoint the client is configured
/// with: the only place it may connect to.
const HOST: &str = "127.0.0.1";
const PORT: u16 = 1338;
const LEGACY_BASE: &str = "/latest/meta-data/iam/security-credentials/";
const EXTENDED_BASE: &str = "/latest/meta-data/iam/security-credentials-extended/";
const TOKEN_HEADER: &str = "x-aws-ec2-metadata-token: ";

/// Set `SPLIT_STREAM_TRACE=1` to print each action and answer (to check seeds).
static TRACE: std::sync::LazyLock<bool> =
    std::sync::LazyLock::new(|| std::env::var_os("SPLIT_STREAM_TRACE").is_some());

/// The checks that issue 13's fixes make hold. `SPLIT_STREAM_SKIP=<name>,<name>` (the names
/// below) skips some, to look past a failure already reported while its fix is under way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rule {
    /// `send-debug`: the `Debug` of a send shows no token.
    SendDebug,
    /// `printable-credentials`: credential fields are printable ASCII.
    PrintableCredentials,
    /// `control-characters`: no text shown holds a control character.
    ControlCharacters,
    /// `held-secret`: no text shown or request target holds a secret the client holds.
    HeldSecret,
    /// `served-secret`: with the careful host, no secret the server served is shown.
    ServedSecret,
}

impl Rule {
    const fn name(self) -> &'static str {
        match self {
            Self::SendDebug => "send-debug",
            Self::PrintableCredentials => "printable-credentials",
            Self::ControlCharacters => "control-characters",
            Self::HeldSecret => "held-secret",
            Self::ServedSecret => "served-secret",
        }
    }

    const ALL: [Self; 5] = [
        Self::SendDebug,
        Self::PrintableCredentials,
        Self::ControlCharacters,
        Self::HeldSecret,
        Self::ServedSecret,
    ];

    /// Whether this rule is checked in this run.
    fn enforced(self) -> bool {
        static ENFORCED: std::sync::LazyLock<[bool; 5]> = std::sync::LazyLock::new(|| {
            let skipped = std::env::var("SPLIT_STREAM_SKIP").unwrap_or_default();
            Rule::ALL.map(|rule| !skipped.split(',').any(|name| name.trim() == rule.name()))
        });
        ENFORCED[self as usize]
    }
}

/// What a request asked for, as the server reads its request line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Asked {
    Token,
    RoleList,
    Credentials,
    Metadata,
}

/// The server's end of one connection: what it wrote that the host has not read yet.
#[derive(Default)]
struct Connection {
    unread: Vec<u8>,
    /// The server closed its end after writing `unread`.
    closed_by_server: bool,
}

/// The model IMDS: makes up answers and the secrets in them.
struct Server {
    /// Every token, secret key and session token it served.
    secrets: Vec<String>,
    /// Its last answer, for copies written unasked.
    last_answer: Vec<u8>,
    /// It writes bytes nobody asked for on every connection it accepts.
    writes_on_accept: bool,
    /// It writes bytes nobody asked for after every answer.
    writes_after_answer: bool,
    /// It closes the connection after every answer.
    closes_after_answer: bool,
    /// What it writes unasked when the script does not say.
    default_unasked: u8,
    wall: UnixTime,
}

const STATUSES: [u16; 12] = [401, 403, 404, 405, 429, 500, 503, 400, 301, 200, 204, 999];
const ROLE_LISTS: [&str; 4] = [
    "my-role",
    "other-role\n",
    "my-role\nsecond-role",
    "  spaced_role  \r\n",
];
const PAD: &[u8] = b"AbCdEfGhIjKlMnOpQrStUvWxYz0123456789+=,._-";
const ERROR_CODES: [&str; 4] = [
    "AssumeRoleUnauthorizedAccess",
    "InvalidInstanceProfile",
    "Failure",
    "Success",
];

/// `bytes` with the secret mark replaced by `#`, and its JSON escape `\u0040` by `\u0020`, so
/// that they cannot hold a served secret.
fn unmarked(bytes: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = bytes
        .iter()
        .map(|&b| if b == SECRET_MARK as u8 { b'#' } else { b })
        .collect();
    let mut at = 0;
    while let Some(found) = out[at..].windows(6).position(|w| w == br"\u0040") {
        out[at + found + 4] = b'2';
        at += found + 6;
    }
    out
}

/// `bytes` (read as UTF-8, lossily) as the inside of a JSON string: quotes and backslashes
/// escaped, control characters as `\u00XX`, which JSON allows and the parser must decode.
fn json_string_inside(bytes: &[u8]) -> String {
    let mut json = String::new();
    for c in String::from_utf8_lossy(bytes).chars() {
        match c {
            '"' | '\\' => json.push_str(&format!("\\{c}")),
            c if c.is_control() => json.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => json.push(c),
        }
    }
    json
}

fn response(status: u16, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} X\r\n{headers}Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

fn chunked(headers: &str, body: &[u8]) -> Vec<u8> {
    let mut out =
        format!("HTTP/1.1 200 OK\r\n{headers}Transfer-Encoding: chunked\r\n\r\n").into_bytes();
    let half = body.len() / 2;
    for part in [&body[..half], &body[half..]] {
        if !part.is_empty() {
            out.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
            out.extend_from_slice(part);
            out.extend_from_slice(b"\r\n");
        }
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

impl Server {
    fn new(behaviour: u8, wall: UnixTime) -> Self {
        Self {
            secrets: Vec::new(),
            last_answer: Vec::new(),
            writes_on_accept: behaviour & 2 != 0,
            writes_after_answer: behaviour & 4 != 0,
            closes_after_answer: behaviour & 8 != 0,
            default_unasked: behaviour >> 4,
            wall,
        }
    }

    /// A new secret of `len` bytes: a kind letter, a serial number, the mark, padding from
    /// letters, digits and `+=,._-` (valid in a header, in JSON, and in an IAM role name, so that
    /// nothing but the client's own rules keeps it out of a request path).
    fn secret(&mut self, kind: char, len: usize) -> String {
        let mut secret = format!("{kind}{}{SECRET_MARK}", self.secrets.len());
        let mut at = self.secrets.len();
        while secret.len() < len {
            secret.push(char::from(PAD[at % PAD.len()]));
            at += 7;
        }
        self.secrets.push(secret.clone());
        secret
    }

    fn token_answer(&mut self, shape: u8, script: &mut Script) -> Vec<u8> {
        let len = if shape & 0x80 != 0 { 300 } else { 56 };
        let token = self.secret('T', len);
        let ttl = match shape & 0x60 {
            0x00 => "x-aws-ec2-metadata-token-ttl-seconds: 21600\r\n".to_owned(),
            0x20 => String::new(),
            _ => format!(
                "x-aws-ec2-metadata-token-ttl-seconds: {}\r\n",
                script.byte()
            ),
        };
        response(200, &ttl, token.as_bytes())
    }

    /// A credentials document; `tampered` appends text to one field (0: the access key id, 1: the
    /// secret access key, 2: the session token; the text is already a JSON string's inside).
    fn credentials_body(&mut self, shape: u8, tampered: Option<(u8, &str)>) -> Vec<u8> {
        let mut fields = [
            format!("ASIA{}", self.secrets.len()),
            self.secret('S', 40),
            self.secret('K', if shape & 0x80 != 0 { 1200 } else { 80 }),
        ];
        if let Some((field, text)) = tampered {
            fields[usize::from(field) % fields.len()].push_str(text);
        }
        let [access_key_id, secret_key, session_token] = fields;
        let expiration = if shape & 0x20 != 0 {
            self.wall.add_secs(-3_600)
        } else {
            self.wall.add_secs(6 * 3_600)
        };
        let account = if shape & 0x40 != 0 {
            ",\"AccountId\":\"123456789012\""
        } else {
            ""
        };
        format!(
            "{{\"Code\":\"Success\",\"LastUpdated\":\"2025-01-01T00:00:00Z\",\"Type\":\"AWS-HMAC\",\
             \"AccessKeyId\":\"{access_key_id}\",\"SecretAccessKey\":\"{secret_key}\",\"Token\":\"{session_token}\",\
             \"Expiration\":\"{}\"{account}}}",
            expiration.rfc3339()
        )
        .into_bytes()
    }

    /// An answer with the proper status whose body (or, for credentials, one field) holds text
    /// from the script: control characters, non-ASCII, anything but the secret mark.
    fn scripted_body(&mut self, asked: Asked, shape: u8, script: &mut Script) -> Vec<u8> {
        let len = usize::from(script.byte() % 64);
        let text = unmarked(script.take(len));
        match asked {
            Asked::Credentials => {
                let field = script.byte();
                let body = self.credentials_body(shape, Some((field, &json_string_inside(&text))));
                response(200, "", &body)
            }
            Asked::Token => response(200, "x-aws-ec2-metadata-token-ttl-seconds: 600\r\n", &text),
            Asked::RoleList | Asked::Metadata => response(200, "", &text),
        }
    }

    /// The proper body (and extra headers) for `asked`.
    fn proper(&mut self, asked: Asked, shape: u8, script: &mut Script) -> (String, Vec<u8>) {
        match asked {
            Asked::Token => {
                let answer = self.token_answer(shape, script);
                // Split the made-up response back into headers and body for the other shapes.
                let at = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
                let head = String::from_utf8_lossy(&answer[..at]).into_owned();
                let ttl: String = head
                    .lines()
                    .filter(|line| line.starts_with("x-aws"))
                    .map(|line| format!("{line}\r\n"))
                    .collect();
                (ttl, answer[at + 4..].to_vec())
            }
            Asked::RoleList => (
                String::new(),
                ROLE_LISTS[usize::from(script.byte()) % ROLE_LISTS.len()]
                    .as_bytes()
                    .to_vec(),
            ),
            Asked::Credentials => (String::new(), self.credentials_body(shape, None)),
            Asked::Metadata => (String::new(), b"us-east-1".to_vec()),
        }
    }

    /// The answer to a request for `asked`, written into `connection`.
    fn answer(&mut self, asked: Asked, connection: &mut Connection, script: &mut Script) {
        let shape = script.byte();
        let mut close_after = self.closes_after_answer;
        // Raw bytes, silence, a truncated answer and one too large have no end the client can
        // tell: bytes after them would be read as (the rest of) the answer, not as unasked.
        let framed = !matches!(shape & 0x0f, 8 | 9 | 10 | 14);
        let answer = match shape & 0x0f {
            5 => {
                let (headers, body) = self.proper(asked, shape, script);
                chunked(&headers, &body)
            }
            6 => {
                close_after = true;
                let (headers, body) = self.proper(asked, shape, script);
                response(200, &format!("{headers}Connection: close\r\n"), &body)
            }
            7 => {
                let status = STATUSES[usize::from(script.byte()) % STATUSES.len()];
                response(status, "", b"")
            }
            8 => {
                let len = usize::from(script.byte());
                unmarked(script.take(len))
            }
            9 => Vec::new(),
            10 => {
                close_after = true;
                let (headers, body) = self.proper(asked, shape, script);
                let mut whole = response(200, &headers, &body);
                whole.truncate(usize::from(script.byte()) * 4);
                whole
            }
            11 if asked == Asked::Credentials => {
                let code = ERROR_CODES[usize::from(script.byte()) % ERROR_CODES.len()];
                let len = usize::from(script.byte() % 64);
                let message = json_string_inside(&unmarked(script.take(len)));
                let body = format!("{{\"Code\":\"{code}\",\"Message\":\"{message}\"}}");
                response(200, "", body.as_bytes())
            }
            12 => {
                close_after = true;
                let (headers, body) = self.proper(asked, shape, script);
                response(200, &headers, &body)
            }
            13 => {
                let (headers, body) = self.proper(asked, shape, script);
                let mut whole = b"HTTP/1.1 100 Continue\r\n\r\n".to_vec();
                whole.extend_from_slice(&response(200, &headers, &body));
                whole
            }
            15 => self.scripted_body(asked, shape, script),
            14 => response(
                200,
                "",
                &vec![b'x'; RECEIVE_CAPACITY + usize::from(script.byte())],
            ),
            _ => {
                let (headers, body) = self.proper(asked, shape, script);
                response(200, &headers, &body)
            }
        };
        if *TRACE {
            eprintln!(
                "  server answers {asked:?}: {:?}",
                String::from_utf8_lossy(&answer)
            );
        }
        connection.unread.extend_from_slice(&answer);
        if !answer.is_empty() {
            self.last_answer = answer;
        }
        if framed && (shape & 0x10 != 0 || self.writes_after_answer) {
            self.write_unasked(connection, script, shape & 0x10 != 0);
        }
        connection.closed_by_server |= close_after;
    }

    /// Writes bytes nobody asked for; what they are comes from the script when `scripted`,
    /// else from the server's default.
    fn write_unasked(&mut self, connection: &mut Connection, script: &mut Script, scripted: bool) {
        let kind = if scripted {
            script.byte()
        } else {
            self.default_unasked
        };
        let bytes = match kind % 4 {
            0 if !self.last_answer.is_empty() => self.last_answer.clone(),
            0 | 1 => self.token_answer(0, script),
            2 if scripted => {
                let len = usize::from(script.byte());
                unmarked(script.take(len))
            }
            _ => response(200, "", b"nothing"),
        };
        if *TRACE {
            eprintln!(
                "  server writes unasked: {:?}",
                String::from_utf8_lossy(&bytes)
            );
        }
        connection.unread.extend_from_slice(&bytes);
    }
}

/// What the request in `data` asks for, as the server reads its request line.
fn asked(data: &[u8]) -> Asked {
    let line = data.split(|&b| b == b'\r').next().unwrap_or(&[]);
    let mut words = line.split(|&b| b == b' ');
    let method = words.next().unwrap_or(&[]);
    let target = words.next().unwrap_or(&[]);
    if method == b"PUT" {
        return Asked::Token;
    }
    for base in [LEGACY_BASE, EXTENDED_BASE] {
        if target == base.as_bytes() {
            return Asked::RoleList;
        }
        if target.starts_with(base.as_bytes()) {
            return Asked::Credentials;
        }
    }
    Asked::Metadata
}

/// An action, copied out of the client so that the host may call it while carrying it out.
enum Owned {
    Connect { deadline: Instant },
    Send { data: Vec<u8>, deadline: Instant },
    Receive { deadline: Instant },
    Close,
    Wait { until: Instant },
    Done,
    Other,
}

impl Owned {
    /// A copy of `action`; a connection anywhere but the configured endpoint fails the check.
    fn new(action: Action<'_>) -> Self {
        match action {
            Action::Connect {
                host,
                port,
                deadline,
                ..
            } => {
                assert_eq!((host, port), (HOST, PORT), "a connection elsewhere");
                Self::Connect { deadline }
            }
            Action::Send { data, deadline } => Self::Send {
                data: data.to_vec(),
                deadline,
            },
            Action::Receive { deadline } => Self::Receive { deadline },
            Action::Close => Self::Close,
            Action::Wait { until } => Self::Wait { until },
            Action::Done => Self::Done,
            _ => Self::Other,
        }
    }
}

/// What the checks know: which secrets must never be shown.
struct Checks {
    careful: bool,
}

impl Checks {
    /// The secret key and session token the client holds, when the server made them up (a
    /// server may send any text as a secret, including text that is also a role name).
    fn held(client: &Client) -> Vec<String> {
        client.credentials().map_or_else(Vec::new, |credentials| {
            [credentials.secret_access_key(), credentials.session_token()]
                .into_iter()
                .filter(|secret| secret.contains(SECRET_MARK))
                .map(str::to_owned)
                .collect()
        })
    }

    /// `text`, shown to a user or a log, carries no secret it must not.
    fn no_secret(&self, text: &str, client: &Client, server: &Server, also: Option<&str>) {
        // Every secret checked holds the mark: a text without it holds none of them.
        if !text.contains(SECRET_MARK) {
            return;
        }
        if Rule::HeldSecret.enforced() {
            for secret in Self::held(client).iter().map(String::as_str).chain(also) {
                assert!(!text.contains(secret), "a held secret is shown: {text:?}");
            }
        }
        if self.careful && Rule::ServedSecret.enforced() {
            for secret in &server.secrets {
                assert!(
                    !text.contains(secret.as_str()),
                    "a served secret is shown: {text:?}"
                );
            }
        }
    }

    /// A `Display` text: one line, no control characters, no secret.
    fn text(&self, text: &str, client: &Client, server: &Server, also: Option<&str>) {
        assert!(!text.is_empty(), "an empty message");
        if Rule::ControlCharacters.enforced() {
            assert!(
                !text.chars().any(char::is_control),
                "a control character in {text:?}"
            );
        }
        self.no_secret(text, client, server, also);
    }

    /// A line as printed (`imds: …\n`): its only newline ends it.
    fn line(&self, line: &str, client: &Client, server: &Server, also: Option<&str>) {
        let body = line.strip_suffix('\n').expect("a line ends with a newline");
        self.text(body, client, server, also);
    }

    fn error(&self, error: &Error, client: &Client, server: &Server) {
        self.text(&error.to_string(), client, server, None);
        self.text(&format!("{error:?}"), client, server, None);
        let mut line = String::new();
        cli::write_error_line(error, &mut line).unwrap();
        self.line(&line, client, server, None);
    }

    /// Drains the diagnostics; `also` is a secret none may carry (the token of the request just
    /// written, whose diagnostic is among them).
    fn diagnostics(&self, client: &mut Client, server: &Server, also: Option<&str>) {
        while let Some(diagnostic) = client.poll_diagnostic() {
            if *TRACE {
                eprintln!("  diagnostic: {diagnostic}");
            }
            self.text(&diagnostic.to_string(), client, server, also);
            self.text(&format!("{diagnostic:?}"), client, server, also);
            let mut line = String::new();
            cli::write_diagnostic_line(&diagnostic, &mut line).unwrap();
            self.line(&line, client, server, also);
        }
    }

    /// A request the client asks to write: well-formed, and its token (returned) is the only
    /// secret in it.
    fn request<'a>(&self, data: &'a [u8], client: &Client, server: &Server) -> Option<&'a str> {
        assert!(data.len() <= SEND_CAPACITY);
        let text = std::str::from_utf8(data).expect("a request is ASCII");
        let head = text
            .strip_suffix("\r\n\r\n")
            .expect("a request ends its head");
        let mut lines = head.split("\r\n");
        let request_line = lines.next().unwrap();
        let mut words = request_line.split(' ');
        let (method, target, version) = (words.next(), words.next(), words.next());
        assert!(matches!(method, Some("GET" | "PUT")), "{request_line:?}");
        assert_eq!(version, Some("HTTP/1.1"), "{request_line:?}");
        assert_eq!(words.next(), None, "{request_line:?}");
        let target = target.unwrap();
        assert!(target.starts_with('/'), "{target:?}");
        assert!(target.bytes().all(|b| b.is_ascii_graphic()), "{target:?}");
        let mut token = None;
        let mut rest = String::new();
        for header in lines {
            let (name, value) = header.split_once(": ").expect("a header has a name");
            assert!(!name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic() && b != b':'));
            assert!(
                value.bytes().all(|b| (b' '..=b'~').contains(&b)),
                "{header:?}"
            );
            if header.starts_with(TOKEN_HEADER) {
                token = Some(value);
            } else {
                rest.push_str(header);
                rest.push('\n');
            }
        }
        let own = token.filter(|token| token.contains(SECRET_MARK));
        self.no_secret(target, client, server, own);
        self.no_secret(&rest, client, server, own);
        own
    }

    /// What a successful operation leaves.
    fn done(&self, credentials_operation: bool, client: &Client, server: &Server) {
        if !credentials_operation {
            let body = client.body().expect("a metadata read leaves a body");
            assert!(body.len() <= RECEIVE_CAPACITY);
            return;
        }
        let credentials = client.credentials().expect("Done leaves credentials");
        let fields = [
            credentials.access_key_id(),
            credentials.secret_access_key(),
            credentials.session_token(),
            credentials.account_id().unwrap_or(""),
        ];
        if Rule::PrintableCredentials.enforced() {
            for field in fields {
                assert!(
                    field.bytes().all(|b| (b' '..=b'~').contains(&b)),
                    "a credential field of {} bytes with a character outside printable ASCII",
                    field.len()
                );
            }
        }
        let mut json = String::new();
        credentials.write_process_json(&mut json).unwrap();
        let parsed: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
        assert_eq!(parsed["Version"], 1);
        assert_eq!(parsed["AccessKeyId"], credentials.access_key_id());
        assert_eq!(parsed["SecretAccessKey"], credentials.secret_access_key());
        assert_eq!(parsed["SessionToken"], credentials.session_token());
        self.no_secret(&format!("{credentials:?}"), client, server, None);
    }
}

/// How the host's connection failed while it wrote or read.
enum Broken {
    /// Reset by the peer.
    Reset,
    /// Nothing came (or could be written) by `deadline`.
    Silent { deadline: Instant },
}

/// The host drops its connection and tells the client how it failed.
fn broken(
    client: &mut Client,
    connection: &mut Option<Connection>,
    now: &mut Instant,
    how: Broken,
) -> Result<(), Error> {
    *connection = None;
    match how {
        Broken::Reset => client.handle_io_error(*now, IoError::ConnectionReset),
        Broken::Silent { deadline } => {
            *now = (*now).max(deadline);
            client.handle_timeout(*now)
        }
    }
}

/// The careful host looked at its connection before writing a request, as `Action::Send` asks,
/// and found bytes no request asked for, or the end of the stream: it reports what one read
/// returned (`handle_data` with some of the bytes, or `handle_eof`) instead of writing, then polls
/// again. The client then closes the connection and sends the request again on a new one within
/// its attempts. How many of the waiting bytes the read returned is the script's choice.
fn report_waiting(
    client: &mut Client,
    now: Instant,
    open: &Connection,
    script: &mut Script,
) -> Result<(), Error> {
    if open.unread.is_empty() {
        return client.handle_eof(now);
    }
    let read = 1 + usize::from(script.byte()) % open.unread.len();
    client.handle_data(now, &open.unread[..read])
}

fuzz_target!(|input: &[u8]| {
    let mut script = Script::new(input);
    let settings_flags = script.byte();
    let behaviour = script.byte();
    let seed = u64::from(script.byte()).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let checks = Checks {
        careful: behaviour & 1 == 0,
    };
    let mut client = Client::new(&settings(settings_flags), seed);
    let mut now = Instant::from_millis(0);
    let mut wall = UnixTime::from_secs(WALL_START);
    let mut server = Server::new(behaviour, wall);
    // The host's connection, if one is open.
    let mut connection: Option<Connection> = None;

    for _ in 0..MAX_OPERATIONS {
        if script.is_empty() {
            break;
        }
        let operation = script.byte();
        // Time passes between operations: from nothing to about 36 hours. The wall clock may
        // also be set back (hosts' clocks jump).
        let pause_secs = u64::from(script.byte()).pow(2) * 2;
        now = now.add_millis(pause_secs * 1_000);
        wall = wall.add_secs(if operation & 0x08 != 0 {
            -(pause_secs as i64)
        } else {
            pause_secs as i64
        });
        server.wall = wall;
        // What happened to a kept connection meanwhile.
        match script.byte() % 8 {
            1 => {
                if let Some(open) = connection.as_mut() {
                    server.write_unasked(open, &mut script, true);
                }
            }
            2 => {
                if let Some(open) = connection.as_mut() {
                    open.closed_by_server = true;
                }
            }
            3 => {
                connection = None;
                client.handle_closed().unwrap();
            }
            4 => {
                connection = None;
                client.reset();
            }
            _ => {}
        }
        let credentials_operation = operation & 0x03 < 2;
        let started = match operation & 0x03 {
            2 => client.start_get(now, "placement/region"),
            3 => client.start_get(now, "/latest/dynamic/instance-identity/document"),
            _ => client.start_credentials(now, wall),
        };
        if let Err(error) = started {
            checks.error(&error, &client, &server);
            continue;
        }
        // With bit 2, the host gives up on the operation after a few polls.
        let cancel_after = if operation & 0x04 != 0 {
            usize::from(operation >> 4)
        } else {
            usize::MAX
        };
        let mut ended = false;
        for polls in 0..MAX_POLLS {
            if polls == cancel_after {
                client.cancel();
                connection = None;
                checks.diagnostics(&mut client, &server, None);
                ended = true;
                break;
            }
            now = now.add_millis(1);
            let action = match client.poll(now) {
                Ok(action) => action,
                Err(error) => {
                    if *TRACE {
                        eprintln!("{now:?} error: {error}");
                    }
                    checks.error(&error, &client, &server);
                    connection = None;
                    client.handle_closed().unwrap();
                    ended = true;
                    break;
                }
            };
            if *TRACE {
                eprintln!("{now:?} {action:?}");
            }
            // The action as a log would show it (only a send carries a secret).
            let shown = match action {
                Action::Send { .. } => format!("{action:?}"),
                _ => String::new(),
            };
            let action = Owned::new(action);
            let mut own_token = None;
            let answer = match action {
                Owned::Connect { deadline } => {
                    match script.byte() % 8 {
                        1 => client.handle_io_error(now, IoError::ConnectionRefused),
                        2 => {
                            now = now.max(deadline);
                            client.handle_timeout(now)
                        }
                        3 => client.handle_io_error(now, IoError::ConnectFailed),
                        4 => {
                            let mut open = Connection::default();
                            server.write_unasked(&mut open, &mut script, true);
                            connection = Some(open);
                            client.handle_connected(now)
                        }
                        // A pooled connection, which the server may have closed while idle.
                        5 | 6 => {
                            connection = Some(Connection {
                                closed_by_server: script.byte() & 1 == 1,
                                ..Connection::default()
                            });
                            client.handle_connected_reused(now)
                        }
                        _ => {
                            let mut open = Connection::default();
                            if server.writes_on_accept {
                                server.write_unasked(&mut open, &mut script, false);
                            }
                            connection = Some(open);
                            client.handle_connected(now)
                        }
                    }
                }
                Owned::Send { data, deadline } => {
                    // The request's own token may show nowhere but in its header (nor, as
                    // bytes, in the action's `Debug`).
                    own_token = checks.request(&data, &client, &server).map(str::to_owned);
                    if let Some(token) = own_token.as_ref().filter(|_| Rule::SendDebug.enforced()) {
                        checks.no_secret(&shown, &client, &server, Some(token));
                        let as_bytes = format!("{:?}", token.as_bytes());
                        let as_bytes = as_bytes.trim_start_matches('[').trim_end_matches(']');
                        assert!(!shown.contains(as_bytes), "Debug of Send shows the token");
                    }
                    let asked = asked(&data);
                    let waiting = connection
                        .as_ref()
                        .is_some_and(|open| !open.unread.is_empty() || open.closed_by_server);
                    if checks.careful && waiting {
                        let open = connection.take().expect("a send on a connection");
                        report_waiting(&mut client, now, &open, &mut script)
                    } else {
                        match script.byte() % 8 {
                            1 => broken(&mut client, &mut connection, &mut now, Broken::Reset),
                            2 => {
                                let how = Broken::Silent { deadline };
                                broken(&mut client, &mut connection, &mut now, how)
                            }
                            _ => {
                                let open = connection.as_mut().expect("a send on a connection");
                                if !open.closed_by_server {
                                    server.answer(asked, open, &mut script);
                                }
                                Ok(())
                            }
                        }
                    }
                }
                Owned::Receive { deadline } => {
                    let open = connection.as_mut().expect("a receive on a connection");
                    if open.unread.is_empty() {
                        if open.closed_by_server {
                            client.handle_eof(now)
                        } else {
                            match script.byte() % 4 {
                                1 => broken(&mut client, &mut connection, &mut now, Broken::Reset),
                                2 => {
                                    open.closed_by_server = true;
                                    client.handle_eof(now)
                                }
                                // The server says nothing more.
                                _ => {
                                    let how = Broken::Silent { deadline };
                                    broken(&mut client, &mut connection, &mut now, how)
                                }
                            }
                        }
                    } else {
                        match script.byte() {
                            0 => {
                                let piece = std::mem::take(&mut open.unread);
                                client.handle_data(now, &piece)
                            }
                            1 => broken(&mut client, &mut connection, &mut now, Broken::Reset),
                            2 => {
                                let how = Broken::Silent { deadline };
                                broken(&mut client, &mut connection, &mut now, how)
                            }
                            // The host was late (descheduled, a slow peer): maybe past the
                            // deadline, it reads everything that arrived.
                            3 => {
                                now = now.add_millis(u64::from(script.byte()) * 50);
                                let piece = std::mem::take(&mut open.unread);
                                client.handle_data(now, &piece)
                            }
                            // 1 to 64 bytes, 0 to 750 ms after the last read.
                            choice => {
                                let choice = choice - 4;
                                now = now.add_millis(u64::from(choice >> 6) * 250);
                                let len = usize::from(choice & 0x3f) + 1;
                                let piece: Vec<u8> =
                                    open.unread.drain(..len.min(open.unread.len())).collect();
                                client.handle_data(now, &piece)
                            }
                        }
                    }
                }
                Owned::Close => {
                    connection = None;
                    Ok(())
                }
                Owned::Wait { until } => {
                    now = now.max(until);
                    Ok(())
                }
                Owned::Done => {
                    checks.diagnostics(&mut client, &server, None);
                    checks.done(credentials_operation, &client, &server);
                    if script.byte() & 1 == 1 {
                        connection = None;
                        client.handle_closed().unwrap();
                    }
                    ended = true;
                    break;
                }
                Owned::Other => Ok(()),
            };
            // The host answers only what was asked, so the client must accept every answer.
            answer.unwrap();
            checks.diagnostics(&mut client, &server, own_token.as_deref());
        }
        assert!(ended, "an operation did not end within {MAX_POLLS} polls");
        checks.no_secret(&format!("{client:?}"), &client, &server, None);
    }
});
