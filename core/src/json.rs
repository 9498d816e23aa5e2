//! An allocation-free scanner for the IMDS credentials document (one JSON object).
//!
//! IMDS answers `GET …/security-credentials/<role>` with one JSON object. The scanner walks it once,
//! byte by byte, decoding the strings it keeps straight into the fixed-capacity fields of
//! [`Credentials`] and skipping everything else. Keys match ASCII-case-insensitively (`Token` and
//! `SessionToken`, `Expiration` and `ExpiresAt` are aliases); unknown values of any type are skipped
//! with nesting bounded by [`MAX_NESTING`]; a repeated key overrides the earlier one. Errors name the
//! field or the syntax problem but never echo a value, since values may be secrets.
//!
//! The credential fields (`AccessKeyId`, `SecretAccessKey`, `Token`, `Expiration`, `AccountId`)
//! must be printable ASCII: a control character, DEL or non-ASCII text in one is a malformed
//! document naming the field (SDKs send the session token as an HTTP header; C callers print the
//! values with `%s`). The `Code` and `Message` of a refusal are text the server chose: they reach
//! the error with every secret the client knows redacted and everything else escaped.
//!
//! # Why not serde-json-core
//!
//! The design named serde-json-core (0.6, the `no_std` serde JSON). It was weighed for both
//! directions and kept out, for these reasons:
//!
//! * **Bounded nesting.** Its `deserialize_ignored_any` skips an unknown object or array by
//!   recursing into it, so a document nested a few thousand levels deep exhausts the stack; it
//!   also skips unknown scalars by eating bytes up to the next `,` `}` `]`, accepting text that is
//!   not JSON. Here unknown values are skipped without recursion, at most 32 levels deep, and
//!   checked.
//! * **No scratch buffer for a 4 KiB token.** Its `from_slice` hands a string over with its
//!   escapes still in it (a session token written with `\/` for `/`, as JSON writers may, would
//!   come out wrong); only `from_slice_escaped` decodes them, into a caller buffer as large as the
//!   longest string, 4 KiB for the token, on top of the [`Credentials`] that keep it. Here escapes
//!   are decoded straight into the field.
//! * **No value in any error message.** Its errors are a bare enum that cannot name the field
//!   (`CustomError`); with `custom-error-messages` they carry serde's text, which quotes the
//!   offending value (`invalid type: string "…"`), and a value here may be a secret. Here each
//!   error names the field and what is wrong with it, never the value.
//! * **Repeated keys.** Derived deserializers refuse a repeated key (`duplicate field`) and match
//!   keys exactly; here the last value wins, keys are ASCII-case-insensitive, and `SessionToken` /
//!   `ExpiresAt` are aliases.
//! * **Writing** the `credential_process` document ([`Credentials::write_process_json`]) through it
//!   would need the whole document in a contiguous buffer (`to_slice`, about 4.7 KiB with a 4 KiB
//!   token) where the core writes into any `fmt::Write` (straight into the C caller's buffer, or
//!   Python's and Node's strings), and its `serde` dependency enables `derive`, which brings the
//!   proc-macro toolchain (`syn`, `quote`) into every build of the core for six fields. The writer
//!   there is 25 lines, checked against `serde_json` in the tests.

use crate::credentials::Credentials;
use crate::error::{Context, Error, ErrorKind};
use crate::secret::{self, CLIENT_SECRETS, SecretString};
use crate::time::UnixTime;

/// How deeply values inside the document's object may nest (`{"a":[[…]]}` counts 2 for `a`).
const MAX_NESTING: u32 = 32;

/// Longest `Expiration` text accepted (RFC 3339 with a long fraction still fits).
const EXPIRATION_CAPACITY: usize = 64;
/// Bytes of `Code` kept for the error (one more character than the error keeps, to mark the cut).
const CODE_CAPACITY: usize = 64 + 4;
/// Bytes of `Message` kept for the error (one more character than the error keeps, to mark the cut).
const MESSAGE_CAPACITY: usize = 160 + 4;
/// Longest key that can name a field we keep; longer keys are unknown.
const KEY_CAPACITY: usize = 16;

/// Parses the IMDS credentials document into `out` (a scratch value the caller wipes; it is left
/// partly filled on error).
///
/// `Code` absent or `Success` (any case) means success; any other `Code` is a
/// [`ErrorKind::CredentialsRejected`] error carrying `Code` and `Message`, in which `secrets` (the
/// secrets the client holds) and the document's own secret key and session token are redacted.
/// `AccessKeyId`, `SecretAccessKey`, `Token` and `Expiration` are required; `AccountId` is kept
/// when present.
pub(crate) fn parse_credentials(
    body: &[u8],
    secrets: &[&str],
    out: &mut Credentials,
) -> Result<(), Error> {
    let Ok(text) = core::str::from_utf8(body) else {
        return Err(malformed("the document is not UTF-8 text"));
    };
    out.wipe();
    let mut document = Document::new(out);
    let mut scanner = Scanner { text, pos: 0 };
    scanner.skip_whitespace();
    match scanner.peek() {
        Some(b'{') => scanner.bump(),
        None => return Err(malformed("the document is empty")),
        Some(_) => return Err(malformed("the document is not a JSON object")),
    }
    scanner.skip_whitespace();
    if scanner.peek() == Some(b'}') {
        scanner.bump();
    } else {
        loop {
            let field = scanner.key()?;
            scanner.skip_whitespace();
            document.read_value(field, &mut scanner)?;
            scanner.skip_whitespace();
            match scanner.next_byte() {
                Some(b',') => scanner.skip_whitespace(),
                Some(b'}') => break,
                None => return Err(truncated()),
                Some(_) => return Err(malformed("expected `,` or `}` after a value")),
            }
        }
    }
    scanner.skip_whitespace();
    if scanner.peek().is_some() {
        return Err(malformed("unexpected data after the JSON object"));
    }
    document.finish(secrets)
}

/// A field of the credentials document that the parser keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    AccessKeyId,
    SecretAccessKey,
    Token,
    Expiration,
    AccountId,
    Code,
    Message,
    Unknown,
}

impl Field {
    /// Keys as IMDS and other credential sources spell them, with the field each names.
    const KEYS: [(&'static str, Field); 9] = [
        ("AccessKeyId", Field::AccessKeyId),
        ("SecretAccessKey", Field::SecretAccessKey),
        ("Token", Field::Token),
        ("SessionToken", Field::Token),
        ("Expiration", Field::Expiration),
        ("ExpiresAt", Field::Expiration),
        ("AccountId", Field::AccountId),
        ("Code", Field::Code),
        ("Message", Field::Message),
    ];

    /// The field a key names, ignoring ASCII case.
    fn from_key(key: &str) -> Self {
        Self::KEYS
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(key))
            .map_or(Self::Unknown, |(_, field)| *field)
    }

    /// The name used in errors.
    const fn name(self) -> &'static str {
        match self {
            Self::AccessKeyId => "AccessKeyId",
            Self::SecretAccessKey => "SecretAccessKey",
            Self::Token => "Token",
            Self::Expiration => "Expiration",
            Self::AccountId => "AccountId",
            Self::Code => "Code",
            Self::Message => "Message",
            Self::Unknown => "(unknown)",
        }
    }
}

/// What has been read of the document so far: the credentials go straight into the caller's
/// scratch value; `Code` and `Message` (which may echo a secret) wipe themselves when dropped.
struct Document<'a> {
    credentials: &'a mut Credentials,
    expiration: Option<UnixTime>,
    code: Option<SecretString<CODE_CAPACITY>>,
    /// `Code` was longer than what is kept.
    code_cut: bool,
    message: SecretString<MESSAGE_CAPACITY>,
    /// `Message` was longer than what is kept.
    message_cut: bool,
    /// One bit per [`Field`] whose key appeared (to tell an empty value from a missing one).
    seen: u8,
}

impl<'a> Document<'a> {
    fn new(credentials: &'a mut Credentials) -> Self {
        Self {
            credentials,
            expiration: None,
            code: None,
            code_cut: false,
            message: SecretString::new(),
            message_cut: false,
            seen: 0,
        }
    }

    /// Reads the value of `field` at the scanner's position into the document.
    fn read_value(&mut self, field: Field, scanner: &mut Scanner<'_>) -> Result<(), Error> {
        let is_string = scanner.peek() == Some(b'"');
        let is_null = scanner.peek() == Some(b'n');
        self.seen |= 1 << field as u8;
        let credentials = &mut *self.credentials;
        match field {
            Field::Unknown => scanner.skip_value(),
            Field::AccessKeyId if is_string => {
                scanner.string_into(&mut credentials.access_key_id, field)
            }
            Field::SecretAccessKey if is_string => {
                scanner.string_into(&mut credentials.secret_access_key, field)
            }
            Field::Token if is_string => scanner.string_into(&mut credentials.session_token, field),
            Field::Expiration if is_string => {
                let mut text = SecretString::<EXPIRATION_CAPACITY>::new();
                scanner.string_into(&mut text, field)?;
                if !is_printable_ascii(&text) {
                    return Err(field_error(field, Problem::NotPrintable));
                }
                self.expiration = Some(
                    UnixTime::parse_rfc3339(&text)
                        .ok_or_else(|| field_error(field, Problem::NotADateTime))?,
                );
                Ok(())
            }
            Field::AccountId if is_string => {
                let account_id = credentials.account_id.insert(SecretString::new());
                scanner.string_into(account_id, field)
            }
            Field::AccountId if scanner.peek().is_some_and(|byte| byte.is_ascii_digit()) => {
                let digits = scanner.number()?;
                if !digits.bytes().all(|byte| byte.is_ascii_digit()) {
                    return Err(field_error(field, Problem::WrongType));
                }
                let account_id = credentials.account_id.insert(SecretString::new());
                if account_id.push_str(digits) {
                    Ok(())
                } else {
                    Err(field_error(field, Problem::TooLong))
                }
            }
            Field::AccountId if is_null => {
                scanner.literal(b"null")?;
                credentials.account_id = None;
                Ok(())
            }
            Field::Code if is_string => {
                let mut capped = Capped::new(self.code.insert(SecretString::new()));
                scanner.string(&mut capped)?;
                self.code_cut = capped.cut;
                Ok(())
            }
            Field::Message if is_string => {
                self.message.wipe();
                let mut capped = Capped::new(&mut self.message);
                scanner.string(&mut capped)?;
                self.message_cut = capped.cut;
                Ok(())
            }
            Field::Message if is_null => {
                scanner.literal(b"null")?;
                self.message.wipe();
                self.message_cut = false;
                Ok(())
            }
            _ => Err(field_error(field, Problem::WrongType)),
        }
    }

    /// Checks `Code` and the required fields, leaving the credentials in the caller's value.
    /// A refusal's `Code` and `Message` are redacted of `secrets` and of the document's own.
    fn finish(&mut self, secrets: &[&str]) -> Result<(), Error> {
        if let Some(code) = &self.code
            && !code.eq_ignore_ascii_case("Success")
        {
            let credentials = &*self.credentials;
            let own = [
                credentials.secret_access_key.as_str(),
                credentials.session_token.as_str(),
            ];
            let mut known = [""; CLIENT_SECRETS + 2];
            for (slot, secret) in known.iter_mut().zip(secrets.iter().chain(own.iter())) {
                *slot = secret;
            }
            return Err(Error::new(
                ErrorKind::CredentialsRejected,
                Context::Credentials {
                    code: secret::redacted_text(code, self.code_cut, &known),
                    message: secret::redacted_text(&self.message, self.message_cut, &known),
                },
            ));
        }
        let credentials = &mut *self.credentials;
        for (field, value) in [
            (Field::AccessKeyId, credentials.access_key_id.as_str()),
            (
                Field::SecretAccessKey,
                credentials.secret_access_key.as_str(),
            ),
            (Field::Token, credentials.session_token.as_str()),
        ] {
            if value.is_empty() {
                let problem = if self.seen & 1 << field as u8 != 0 {
                    Problem::Empty
                } else {
                    Problem::Missing
                };
                return Err(field_error(field, problem));
            }
            if !is_printable_ascii(value) {
                return Err(field_error(field, Problem::NotPrintable));
            }
        }
        if let Some(account_id) = &credentials.account_id
            && !is_printable_ascii(account_id)
        {
            return Err(field_error(Field::AccountId, Problem::NotPrintable));
        }
        credentials.expiration = self
            .expiration
            .ok_or(field_error(Field::Expiration, Problem::Missing))?;
        Ok(())
    }
}

/// Whether `text` is printable ASCII (space to `~`): no control character, DEL or non-ASCII.
fn is_printable_ascii(text: &str) -> bool {
    text.bytes().all(|byte| matches!(byte, b' '..=b'~'))
}

/// Where decoded string text goes.
trait Sink {
    /// Appends `text`.
    fn push(&mut self, text: &str);
}

/// Keeps as much text as fits and drops the rest (for `Code` and `Message`, shown truncated),
/// noting that it was cut.
struct Capped<'a, const N: usize> {
    text: &'a mut SecretString<N>,
    cut: bool,
}

impl<'a, const N: usize> Capped<'a, N> {
    fn new(text: &'a mut SecretString<N>) -> Self {
        Self { text, cut: false }
    }
}

impl<const N: usize> Sink for Capped<'_, N> {
    fn push(&mut self, text: &str) {
        if self.cut || text.is_empty() || self.text.push_str(text) {
            return;
        }
        for character in text.chars() {
            if !self.text.push(character) {
                self.cut = true;
                return;
            }
        }
    }
}

/// Drops the text (keys and values that are skipped).
struct Discard;

impl Sink for Discard {
    fn push(&mut self, _text: &str) {}
}

/// A key, kept only if short enough to name a field.
#[derive(Default)]
struct Key {
    text: heapless::String<KEY_CAPACITY>,
    too_long: bool,
}

impl Sink for Key {
    fn push(&mut self, text: &str) {
        if self.text.push_str(text).is_err() {
            self.too_long = true;
        }
    }
}

/// A position in the document.
struct Scanner<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn bump(&mut self) {
        self.pos = self.pos.saturating_add(1);
    }

    fn next_byte(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.bump();
        Some(byte)
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.bump();
        }
    }

    /// Reads `"key"` and the `:` after it, returning the field the key names.
    fn key(&mut self) -> Result<Field, Error> {
        let mut key = Key::default();
        match self.peek() {
            Some(b'"') => self.string(&mut key)?,
            None => return Err(truncated()),
            Some(_) => return Err(malformed("expected a string key")),
        }
        self.skip_whitespace();
        match self.next_byte() {
            Some(b':') => {}
            None => return Err(truncated()),
            Some(_) => return Err(malformed("expected `:` after a key")),
        }
        Ok(if key.too_long {
            Field::Unknown
        } else {
            Field::from_key(&key.text)
        })
    }

    /// Replaces `target` (wiping it) with the string at the position; too long for it is an error
    /// on `field`.
    fn string_into<const N: usize>(
        &mut self,
        target: &mut SecretString<N>,
        field: Field,
    ) -> Result<(), Error> {
        target.wipe();
        let mut overflow = Overflow {
            target,
            overflowed: false,
        };
        self.string(&mut overflow)?;
        if overflow.overflowed {
            return Err(field_error(field, Problem::TooLong));
        }
        Ok(())
    }

    /// Decodes the string literal at the position (which is a `"`) into `sink`.
    fn string(&mut self, sink: &mut dyn Sink) -> Result<(), Error> {
        self.bump();
        loop {
            let run_start = self.pos;
            let rest = self.text.as_bytes().get(run_start..).unwrap_or(&[]);
            let run = rest
                .iter()
                .position(|&byte| byte == b'"' || byte == b'\\' || byte < 0x20)
                .unwrap_or(rest.len());
            self.pos = run_start.saturating_add(run);
            // The run ends at an ASCII byte or at the end, so both ends are character boundaries.
            sink.push(self.text.get(run_start..self.pos).unwrap_or(""));
            match self.next_byte() {
                Some(b'"') => return Ok(()),
                Some(b'\\') => {
                    let character = self.escape()?;
                    sink.push(character.encode_utf8(&mut [0; 4]));
                }
                Some(_) => return Err(malformed("a string contains a raw control character")),
                None => return Err(truncated()),
            }
        }
    }

    /// Decodes the escape after a `\`.
    fn escape(&mut self) -> Result<char, Error> {
        let character = match self.next_byte() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => return self.unicode_escape(),
            None => return Err(truncated()),
            Some(_) => return Err(invalid_escape()),
        };
        Ok(character)
    }

    /// Decodes `XXXX` after `\u`, and the low half after it when it is a surrogate pair.
    fn unicode_escape(&mut self) -> Result<char, Error> {
        let first = self.hex4()?;
        let code_point = match first {
            0xD800..=0xDBFF => {
                if self.next_byte() != Some(b'\\') || self.next_byte() != Some(b'u') {
                    return Err(invalid_escape());
                }
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(invalid_escape());
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            }
            _ => first,
        };
        char::from_u32(code_point).ok_or_else(invalid_escape)
    }

    /// Four hex digits.
    fn hex4(&mut self) -> Result<u32, Error> {
        let mut value = 0;
        for _ in 0..4 {
            let digit = match self.next_byte() {
                Some(byte) => char::from(byte).to_digit(16).ok_or_else(invalid_escape)?,
                None => return Err(truncated()),
            };
            value = value * 16 + digit;
        }
        Ok(value)
    }

    /// Reads `word` (`true`, `false` or `null`).
    fn literal(&mut self, word: &[u8]) -> Result<(), Error> {
        let rest = self.text.as_bytes().get(self.pos..).unwrap_or(&[]);
        if rest.starts_with(word) {
            self.pos = self.pos.saturating_add(word.len());
            Ok(())
        } else if word.starts_with(rest) {
            Err(truncated())
        } else {
            Err(malformed(
                "unexpected characters where a value was expected",
            ))
        }
    }

    /// Reads a JSON number and returns its text.
    fn number(&mut self) -> Result<&'a str, Error> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.bump();
        }
        match self.peek() {
            Some(b'0') => self.bump(),
            Some(b'1'..=b'9') => self.digits(),
            None => return Err(truncated()),
            Some(_) => return Err(malformed("a number is malformed")),
        }
        if self.peek() == Some(b'.') {
            self.bump();
            self.required_digits()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.bump();
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.bump();
            }
            self.required_digits()?;
        }
        Ok(self.text.get(start..self.pos).unwrap_or(""))
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|byte| byte.is_ascii_digit()) {
            self.bump();
        }
    }

    fn required_digits(&mut self) -> Result<(), Error> {
        match self.peek() {
            Some(byte) if byte.is_ascii_digit() => {
                self.digits();
                Ok(())
            }
            None => Err(truncated()),
            Some(_) => Err(malformed("a number is malformed")),
        }
    }

    /// Skips one value of any type, with nesting bounded by [`MAX_NESTING`] and no recursion.
    fn skip_value(&mut self) -> Result<(), Error> {
        // Bit `level` is set when the container open at that level is an object.
        let mut objects: u64 = 0;
        let mut depth: u32 = 0;
        loop {
            self.skip_whitespace();
            match self.peek() {
                Some(open @ (b'{' | b'[')) => {
                    if depth >= MAX_NESTING {
                        return Err(malformed("values are nested more than 32 levels deep"));
                    }
                    self.bump();
                    let is_object = open == b'{';
                    objects = if is_object {
                        objects | 1 << depth
                    } else {
                        objects & !(1 << depth)
                    };
                    depth += 1;
                    self.skip_whitespace();
                    let close = if is_object { b'}' } else { b']' };
                    if self.peek() == Some(close) {
                        self.bump();
                        depth -= 1;
                    } else {
                        if is_object {
                            self.key()?;
                        }
                        continue;
                    }
                }
                Some(b'"') => self.string(&mut Discard)?,
                Some(b't') => self.literal(b"true")?,
                Some(b'f') => self.literal(b"false")?,
                Some(b'n') => self.literal(b"null")?,
                Some(b'-' | b'0'..=b'9') => {
                    self.number()?;
                }
                None => return Err(truncated()),
                Some(_) => {
                    return Err(malformed(
                        "unexpected characters where a value was expected",
                    ));
                }
            }
            // A value is complete: close containers until one continues with `,`.
            loop {
                let Some(level) = depth.checked_sub(1) else {
                    return Ok(());
                };
                let in_object = objects >> level & 1 == 1;
                self.skip_whitespace();
                match self.next_byte() {
                    Some(b',') => {
                        if in_object {
                            self.skip_whitespace();
                            self.key()?;
                        }
                        break;
                    }
                    Some(b'}') if in_object => depth = level,
                    Some(b']') if !in_object => depth = level,
                    None => return Err(truncated()),
                    Some(_) => return Err(malformed("expected `,` or a closing bracket")),
                }
            }
        }
    }
}

/// A field's string that must fit whole.
struct Overflow<'a, const N: usize> {
    target: &'a mut SecretString<N>,
    overflowed: bool,
}

impl<const N: usize> Sink for Overflow<'_, N> {
    fn push(&mut self, text: &str) {
        if !self.overflowed && !self.target.push_str(text) {
            self.overflowed = true;
        }
    }
}

fn malformed(detail: &'static str) -> Error {
    Error::detail(ErrorKind::MalformedCredentials, detail)
}

fn truncated() -> Error {
    malformed("the document ends before its JSON object is complete")
}

fn invalid_escape() -> Error {
    malformed("a string contains an invalid escape")
}

/// What is wrong with a field of the document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Problem {
    /// The field is required and absent.
    Missing,
    /// A required string is empty.
    Empty,
    /// The value does not fit the field's capacity.
    TooLong,
    /// The value has a JSON type the field does not take.
    WrongType,
    /// `Expiration` is not an RFC 3339 date-time.
    NotADateTime,
    /// The value holds a control character, DEL or non-ASCII text.
    NotPrintable,
}

/// A missing field is [`Context::Field`]; other problems say what is wrong with which field
/// (never the value, which may be secret).
fn field_error(field: Field, problem: Problem) -> Error {
    use Field::{AccessKeyId, AccountId, Code, Expiration, Message, SecretAccessKey, Token};
    let detail = match (field, problem) {
        (_, Problem::Missing) => {
            return Error::new(
                ErrorKind::MalformedCredentials,
                Context::Field(field.name()),
            );
        }
        (AccessKeyId, Problem::NotPrintable) => {
            "`AccessKeyId` contains a control character or non-ASCII text"
        }
        (SecretAccessKey, Problem::NotPrintable) => {
            "`SecretAccessKey` contains a control character or non-ASCII text"
        }
        (Token, Problem::NotPrintable) => "`Token` contains a control character or non-ASCII text",
        (Expiration, Problem::NotPrintable) => {
            "`Expiration` contains a control character or non-ASCII text"
        }
        (AccountId, Problem::NotPrintable) => {
            "`AccountId` contains a control character or non-ASCII text"
        }
        (AccessKeyId, Problem::Empty) => "`AccessKeyId` is empty",
        (SecretAccessKey, Problem::Empty) => "`SecretAccessKey` is empty",
        (Token, Problem::Empty) => "`Token` is empty",
        (AccessKeyId, Problem::TooLong) => "`AccessKeyId` is longer than 128 bytes",
        (SecretAccessKey, Problem::TooLong) => "`SecretAccessKey` is longer than 128 bytes",
        (Token, Problem::TooLong) => "`Token` is longer than 4096 bytes",
        (AccountId, Problem::TooLong) => "`AccountId` is longer than 32 bytes",
        (AccountId, Problem::WrongType) => "`AccountId` is not a string or a whole number",
        (AccessKeyId, _) => "`AccessKeyId` is not a string",
        (SecretAccessKey, _) => "`SecretAccessKey` is not a string",
        (Token, _) => "`Token` is not a string",
        (Expiration, Problem::WrongType) => "`Expiration` is not a string",
        (Expiration, _) => "`Expiration` is not an RFC 3339 date-time (2025-01-01T00:00:00Z)",
        (Code, _) => "`Code` is not a string",
        (Message, _) => "`Message` is not a string or null",
        (AccountId, _) | (Field::Unknown, _) => "a field is malformed",
    };
    malformed(detail)
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::format;
    use std::string::{String, ToString};
    use std::vec::Vec;

    use super::*;

    /// The document IMDS sends (from the AWS SDKs' recordings), expiring at 1632197813.
    const SAMPLE: &str = r#"{
  "Code" : "Success",
  "LastUpdated" : "2021-09-20T21:42:26Z",
  "Type" : "AWS-HMAC",
  "AccessKeyId" : "ASIARTEST",
  "SecretAccessKey" : "testsecret",
  "Token" : "testtoken",
  "Expiration" : "2021-09-21T04:16:53Z"
}"#;

    fn document(members: &[(&str, &str)]) -> String {
        let members: Vec<String> = members
            .iter()
            .map(|(key, value)| format!("\"{key}\":{value}"))
            .collect();
        format!("{{{}}}", members.join(","))
    }

    fn required_members() -> Vec<(&'static str, &'static str)> {
        std::vec![
            ("AccessKeyId", "\"AKID\""),
            ("SecretAccessKey", "\"SECRET\""),
            ("Token", "\"TOKEN\""),
            ("Expiration", "\"2021-09-21T04:16:53Z\""),
        ]
    }

    fn with_member(key: &str, value: &str) -> String {
        let mut members: Vec<(&str, &str)> = required_members();
        members.push((key, value));
        document(&members)
    }

    fn parse(text: &str) -> Result<Credentials, Error> {
        parse_bytes(text.as_bytes())
    }

    fn parse_bytes(body: &[u8]) -> Result<Credentials, Error> {
        let mut credentials = Credentials::default();
        parse_credentials(body, &[], &mut credentials).map(|()| credentials)
    }

    fn detail_of(error: Error) -> &'static str {
        assert_eq!(error.kind(), ErrorKind::MalformedCredentials, "{error}");
        match error.context() {
            Context::Detail(detail) => detail,
            other => panic!("expected a detail, got {other:?}"),
        }
    }

    fn field_of(error: Error) -> &'static str {
        assert_eq!(error.kind(), ErrorKind::MalformedCredentials, "{error}");
        match error.context() {
            Context::Field(field) => field,
            other => panic!("expected a field, got {other:?}"),
        }
    }

    #[test]
    fn parses_the_document_imds_sends() {
        let credentials = parse(SAMPLE).unwrap();
        assert_eq!(credentials.access_key_id(), "ASIARTEST");
        assert_eq!(credentials.secret_access_key(), "testsecret");
        assert_eq!(credentials.session_token(), "testtoken");
        assert_eq!(credentials.expiration(), UnixTime::from_secs(1_632_197_813));
        assert_eq!(credentials.account_id(), None);
    }

    #[test]
    fn keys_match_any_ascii_case_and_aliases() {
        let text = r#"{"accesskeyid":"A","SECRETACCESSKEY":"S","sessionToken":"T","expiresAt":"2021-09-21T04:16:53Z","accountID":"123456789012","CODE":"success"}"#;
        let credentials = parse(text).unwrap();
        assert_eq!(credentials.access_key_id(), "A");
        assert_eq!(credentials.secret_access_key(), "S");
        assert_eq!(credentials.session_token(), "T");
        assert_eq!(credentials.expiration(), UnixTime::from_secs(1_632_197_813));
        assert_eq!(credentials.account_id(), Some("123456789012"));
    }

    #[test]
    fn keys_are_decoded_before_matching() {
        let text = with_member("\\u0041ccountId", "\"42\"");
        assert_eq!(parse(&text).unwrap().account_id(), Some("42"));
    }

    #[test]
    fn unknown_values_of_every_type_are_skipped() {
        let text = document(&[
            ("S", "\"text with \\\"quotes\\\" and \\u00e9\""),
            ("N", "-12.5e+3"),
            ("Z", "0"),
            ("T", "true"),
            ("F", "false"),
            ("Nil", "null"),
            ("EmptyObject", "{ }"),
            ("EmptyArray", "[ ]"),
            (
                "Nested",
                r#"{"a":[1,{"b":[[],{}]},"x"],"Token":"not this one"}"#,
            ),
            ("AccessKeyId", "\"AKID\""),
            ("SecretAccessKey", "\"SECRET\""),
            ("Token", "\"TOKEN\""),
            ("Expiration", "\"2021-09-21T04:16:53Z\""),
            ("AKeyLongerThanAnyFieldName", "[1, 2, 3]"),
        ]);
        let credentials = parse(&text).unwrap();
        assert_eq!(credentials.session_token(), "TOKEN");
        assert_eq!(credentials.access_key_id(), "AKID");
    }

    #[test]
    fn code_success_in_any_case_or_absent_is_success() {
        for code in ["\"Success\"", "\"SUCCESS\"", "\"success\""] {
            assert!(parse(&with_member("Code", code)).is_ok(), "{code}");
        }
        assert!(parse(&document(&required_members())).is_ok());
    }

    #[test]
    fn code_other_than_success_is_rejected_with_code_and_message() {
        let text = r#"{"Code":"AssumeRoleUnauthorizedAccess","Message":"EC2 cannot assume the role","LastUpdated":"2021-09-20T21:42:26Z"}"#;
        let error = parse(text).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::CredentialsRejected);
        let Context::Credentials { code, message } = error.context() else {
            panic!("expected credentials context: {error:?}");
        };
        assert_eq!(code.as_str(), "AssumeRoleUnauthorizedAccess");
        assert_eq!(message.as_str(), "EC2 cannot assume the role");
        let shown = error.to_string();
        assert!(
            shown.contains("[AssumeRoleUnauthorizedAccess] EC2 cannot assume the role"),
            "{shown}"
        );
        assert!(shown.contains("trust relationship"), "{shown}");
    }

    #[test]
    fn code_without_message_is_rejected_with_an_empty_message() {
        for text in [
            r#"{"Code":"InternalError"}"#,
            r#"{"Code":"InternalError","Message":null}"#,
        ] {
            let error = parse(text).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::CredentialsRejected);
            let Context::Credentials { code, message } = error.context() else {
                panic!("expected credentials context: {error:?}");
            };
            assert_eq!(code.as_str(), "InternalError");
            assert!(message.is_empty());
            assert!(!error.to_string().contains("trust relationship"));
        }
    }

    #[test]
    fn rejection_wins_over_present_credentials() {
        let error = parse(&with_member("Code", "\"Failure\"")).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::CredentialsRejected);
    }

    #[test]
    fn long_code_and_message_are_truncated_not_refused() {
        let code = "C".repeat(500);
        let message = "é".repeat(500);
        let text = format!(r#"{{"Code":"{code}","Message":"{message}"}}"#);
        let error = parse(&text).unwrap_err();
        let Context::Credentials { code, message } = error.context() else {
            panic!("expected credentials context: {error:?}");
        };
        assert!(code.is_truncated());
        assert_eq!(code.as_str(), "C".repeat(64));
        assert!(message.is_truncated());
        assert_eq!(message.as_str(), "\\u{e9}".repeat(26));
    }

    #[test]
    fn code_and_message_are_escaped() {
        let text = r#"{"Code":"Bad\r\nCode","Message":"a\u001b[2Jb\u00e9\\c\u007f"}"#;
        let error = parse(text).unwrap_err();
        let Context::Credentials { code, message } = error.context() else {
            panic!("expected credentials context: {error:?}");
        };
        assert_eq!(code.as_str(), "Bad\\x0d\\x0aCode");
        assert_eq!(message.as_str(), "a\\x1b[2Jb\\u{e9}\\\\c\\x7f");
        assert_eq!(
            error.to_string(),
            "IMDS refused credentials: [Bad\\x0d\\x0aCode] a\\x1b[2Jb\\u{e9}\\\\c\\x7f"
        );
    }

    #[test]
    fn a_refusal_is_redacted_of_the_documents_and_the_clients_secrets() {
        let text = r#"{"Code":"Fail-TOKEN-1","Message":"key=docSECRET token=docSESSION imds=TOKEN-1 old=oldSECRET","SecretAccessKey":"docSECRET","Token":"docSESSION"}"#;
        let mut out = Credentials::default();
        let error = parse_credentials(text.as_bytes(), &["TOKEN-1", "oldSECRET", ""], &mut out)
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::CredentialsRejected);
        assert_eq!(
            error.to_string(),
            "IMDS refused credentials: [Fail-[redacted]] key=[redacted] token=[redacted] \
             imds=[redacted] old=[redacted]"
        );
    }

    #[test]
    fn a_secret_cut_off_at_the_end_of_a_long_message_is_redacted() {
        let secret = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY";
        // The kept part of the message ends inside the secret.
        let message = format!("{}{secret}", "m".repeat(150));
        let text =
            format!(r#"{{"Code":"Fail","Message":"{message}","SecretAccessKey":"{secret}"}}"#);
        let error = parse(&text).unwrap_err();
        let shown = error.to_string();
        assert!(shown.ends_with("m[redacted]…"), "{shown}");
        assert!(!shown.contains("wJal"), "{shown}");
    }

    #[test]
    fn credential_fields_must_be_printable_ascii() {
        for (key, name) in [
            ("AccessKeyId", "AccessKeyId"),
            ("SecretAccessKey", "SecretAccessKey"),
            ("Token", "Token"),
            ("AccountId", "AccountId"),
        ] {
            for value in [
                r#""a\u0000b""#,
                r#""a\r\n\u001b[31m""#,
                r#""a\u007f""#,
                r#""caf\u00e9""#,
            ] {
                let detail = detail_of(parse(&with_member(key, value)).unwrap_err());
                assert_eq!(
                    detail,
                    format!("`{name}` contains a control character or non-ASCII text"),
                    "{key} {value}"
                );
            }
        }
        for value in [
            r#""2021-09-21T04:16:53Z\n""#,
            r#""2021\u00a009-21T04:16:53Z""#,
        ] {
            let detail = detail_of(parse(&with_member("Expiration", value)).unwrap_err());
            assert_eq!(
                detail,
                "`Expiration` contains a control character or non-ASCII text"
            );
        }
        let spaces = parse(&with_member("AccessKeyId", r#""A B ~""#)).unwrap();
        assert_eq!(spaces.access_key_id(), "A B ~");
    }

    #[test]
    fn each_missing_required_field_is_named() {
        for (index, name) in ["AccessKeyId", "SecretAccessKey", "Token", "Expiration"]
            .into_iter()
            .enumerate()
        {
            let mut members = required_members();
            members.remove(index);
            assert_eq!(field_of(parse(&document(&members)).unwrap_err()), name);
        }
        assert_eq!(field_of(parse("{}").unwrap_err()), "AccessKeyId");
    }

    #[test]
    fn empty_required_strings_are_refused() {
        for (index, name) in ["AccessKeyId", "SecretAccessKey", "Token"]
            .into_iter()
            .enumerate()
        {
            let mut members = required_members();
            members.get_mut(index).unwrap().1 = "\"\"";
            assert_eq!(
                detail_of(parse(&document(&members)).unwrap_err()),
                format!("`{name}` is empty")
            );
        }
    }

    #[test]
    fn required_fields_of_the_wrong_type_are_named() {
        for (index, name) in ["AccessKeyId", "SecretAccessKey", "Token", "Expiration"]
            .into_iter()
            .enumerate()
        {
            for value in ["null", "12", "true", "{}", "[\"x\"]"] {
                let mut members = required_members();
                members.get_mut(index).unwrap().1 = value;
                assert_eq!(
                    detail_of(parse(&document(&members)).unwrap_err()),
                    format!("`{name}` is not a string"),
                    "{value}"
                );
            }
        }
        assert_eq!(
            detail_of(parse(&with_member("Code", "1")).unwrap_err()),
            "`Code` is not a string"
        );
        assert_eq!(
            detail_of(parse(&with_member("Message", "[]")).unwrap_err()),
            "`Message` is not a string or null"
        );
    }

    #[test]
    fn account_id_accepts_a_string_a_whole_number_or_null() {
        let text = with_member("AccountId", "\"123456789101\"");
        assert_eq!(parse(&text).unwrap().account_id(), Some("123456789101"));
        let text = with_member("AccountId", "123456789101");
        assert_eq!(parse(&text).unwrap().account_id(), Some("123456789101"));
        let text = with_member("AccountId", "null");
        assert_eq!(parse(&text).unwrap().account_id(), None);
        for value in ["-1", "1.5", "1e3", "true", "{}"] {
            let text = with_member("AccountId", value);
            assert_eq!(
                detail_of(parse(&text).unwrap_err()),
                "`AccountId` is not a string or a whole number",
                "{value}"
            );
        }
    }

    #[test]
    fn a_repeated_key_overrides_the_earlier_one() {
        let text = document(&[
            ("Token", "\"first\""),
            ("AccessKeyId", "\"AKID\""),
            ("SecretAccessKey", "\"SECRET\""),
            ("SessionToken", "\"second\""),
            ("Expiration", "\"2000-01-01T00:00:00Z\""),
            ("Expiration", "\"2021-09-21T04:16:53Z\""),
            ("AccountId", "\"1\""),
            ("AccountId", "null"),
        ]);
        let credentials = parse(&text).unwrap();
        assert_eq!(credentials.session_token(), "second");
        assert_eq!(credentials.expiration(), UnixTime::from_secs(1_632_197_813));
        assert_eq!(credentials.account_id(), None);
    }

    #[test]
    fn string_escapes_are_decoded() {
        let text = with_member("AccessKeyId", r#""q\" b\\ s\/ \u0041\u007e""#);
        let credentials = parse(&text).unwrap();
        assert_eq!(credentials.access_key_id(), "q\" b\\ s/ A~");
        let text = r#"{"Code":"X","Message":"\b\f\n\r\t \u00e9 \u20AC \ud83d\ude00"}"#;
        let error = parse(text).unwrap_err();
        let Context::Credentials { message, .. } = error.context() else {
            panic!("expected credentials context: {error:?}");
        };
        assert_eq!(
            message.as_str(),
            "\\x08\\x0c\\x0a\\x0d\\x09 \\u{e9} \\u{20ac} \\u{1f600}"
        );
    }

    #[test]
    fn invalid_escapes_are_refused() {
        for value in [
            r#""\x""#,
            r#""\u12G4""#,
            r#""\ud83d""#,
            r#""\ud83dx""#,
            r#""\ud83d\u0041""#,
            r#""\ude00""#,
            r#""\'""#,
        ] {
            let text = with_member("Unknown", value);
            assert_eq!(
                detail_of(parse(&text).unwrap_err()),
                "a string contains an invalid escape",
                "{value}"
            );
        }
    }

    #[test]
    fn raw_control_characters_in_strings_are_refused() {
        let text = with_member("Other", "\"a\tb\"");
        assert_eq!(
            detail_of(parse(&text).unwrap_err()),
            "a string contains a raw control character"
        );
    }

    #[test]
    fn fields_fit_their_capacity_exactly() {
        let key = "A".repeat(crate::credentials::ACCESS_KEY_ID_CAPACITY);
        let secret = "S".repeat(crate::credentials::SECRET_ACCESS_KEY_CAPACITY);
        let token = "T".repeat(crate::credentials::SESSION_TOKEN_CAPACITY);
        let account = "1".repeat(crate::credentials::ACCOUNT_ID_CAPACITY);
        let text = document(&[
            ("AccessKeyId", &format!("\"{key}\"")),
            ("SecretAccessKey", &format!("\"{secret}\"")),
            ("Token", &format!("\"{token}\"")),
            ("Expiration", "\"2021-09-21T04:16:53Z\""),
            ("AccountId", &format!("\"{account}\"")),
        ]);
        let credentials = parse(&text).unwrap();
        assert_eq!(credentials.access_key_id(), key);
        assert_eq!(credentials.secret_access_key(), secret);
        assert_eq!(credentials.session_token(), token);
        assert_eq!(credentials.account_id(), Some(account.as_str()));
    }

    #[test]
    fn oversize_fields_are_named() {
        let cases = [
            ("AccessKeyId", crate::credentials::ACCESS_KEY_ID_CAPACITY),
            (
                "SecretAccessKey",
                crate::credentials::SECRET_ACCESS_KEY_CAPACITY,
            ),
            ("Token", crate::credentials::SESSION_TOKEN_CAPACITY),
            ("AccountId", crate::credentials::ACCOUNT_ID_CAPACITY),
        ];
        for (name, capacity) in cases {
            // One escaped byte past the capacity: decoded length is what counts.
            let value = format!("\"{}\\u0031\"", "1".repeat(capacity));
            let mut members: Vec<(&str, &str)> = required_members()
                .into_iter()
                .filter(|(key, _)| *key != name)
                .collect();
            members.push((name, &value));
            assert_eq!(
                detail_of(parse(&document(&members)).unwrap_err()),
                format!("`{name}` is longer than {capacity} bytes")
            );
        }
    }

    #[test]
    fn an_account_id_number_longer_than_its_capacity_is_refused() {
        let digits = "1".repeat(crate::credentials::ACCOUNT_ID_CAPACITY + 1);
        assert_eq!(
            detail_of(parse(&with_member("AccountId", &digits)).unwrap_err()),
            "`AccountId` is longer than 32 bytes"
        );
    }

    #[test]
    fn expiration_must_be_rfc3339() {
        let too_long = format!(
            "\"2021-09-21T04:16:53.{}Z\"",
            "0".repeat(EXPIRATION_CAPACITY)
        );
        for value in [
            "\"2021-09-21 04:16:53\"",
            "\"1632197813\"",
            "\"2021-02-30T00:00:00Z\"",
            "\"\"",
            &too_long,
        ] {
            let text = document(&[
                ("AccessKeyId", "\"AKID\""),
                ("SecretAccessKey", "\"SECRET\""),
                ("Token", "\"TOKEN\""),
                ("Expiration", value),
            ]);
            assert_eq!(
                detail_of(parse(&text).unwrap_err()),
                "`Expiration` is not an RFC 3339 date-time (2025-01-01T00:00:00Z)",
                "{value}"
            );
        }
    }

    #[test]
    fn expiration_offsets_and_fractions_are_normalised_to_utc() {
        let text = document(&[
            ("AccessKeyId", "\"AKID\""),
            ("SecretAccessKey", "\"SECRET\""),
            ("Token", "\"TOKEN\""),
            ("Expiration", "\"2025-01-01T00:30:00.999+01:00\""),
        ]);
        assert_eq!(
            parse(&text).unwrap().expiration(),
            UnixTime::from_secs(1_735_687_800)
        );
    }

    #[test]
    fn every_truncation_of_a_document_is_refused() {
        let text = with_member("Nested", r#"{"a":[1,-2.5e3,true,false,null,"\u00e9"]}"#);
        assert!(parse(&text).is_ok());
        for end in 0..text.len() {
            let Some(prefix) = text.get(..end) else {
                continue;
            };
            let error = parse(prefix).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::MalformedCredentials, "{prefix}");
        }
    }

    #[test]
    fn truncation_is_reported_as_such() {
        let text = SAMPLE.get(..SAMPLE.len() - 3).unwrap();
        assert_eq!(
            detail_of(parse(text).unwrap_err()),
            "the document ends before its JSON object is complete"
        );
    }

    #[test]
    fn malformed_json_is_refused() {
        let cases = [
            ("", "the document is empty"),
            ("  \n ", "the document is empty"),
            ("[]", "the document is not a JSON object"),
            ("\"x\"", "the document is not a JSON object"),
            ("<html>", "the document is not a JSON object"),
            ("{\"a\":1,}", "expected a string key"),
            ("{a:1}", "expected a string key"),
            ("{\"a\" 1}", "expected `:` after a key"),
            ("{\"a\":1 \"b\":2}", "expected `,` or `}` after a value"),
            ("{\"a\":[1 2]}", "expected `,` or a closing bracket"),
            (
                "{\"a\":[1,]}",
                "unexpected characters where a value was expected",
            ),
            ("{\"a\":{\"b\":1]}", "expected `,` or a closing bracket"),
            (
                "{\"a\":[}",
                "unexpected characters where a value was expected",
            ),
            (
                "{\"a\":tru}",
                "unexpected characters where a value was expected",
            ),
            (
                "{\"a\":nul",
                "the document ends before its JSON object is complete",
            ),
            ("{\"a\":01}", "expected `,` or `}` after a value"),
            ("{\"a\":1.}", "a number is malformed"),
            ("{\"a\":-}", "a number is malformed"),
            ("{\"a\":1e}", "a number is malformed"),
            (
                "{\"a\":+1}",
                "unexpected characters where a value was expected",
            ),
            ("{} {}", "unexpected data after the JSON object"),
            ("{}x", "unexpected data after the JSON object"),
        ];
        for (text, expected) in cases {
            assert_eq!(detail_of(parse(text).unwrap_err()), expected, "{text}");
        }
    }

    #[test]
    fn whitespace_around_the_object_is_allowed() {
        let text = format!(" \r\n\t{}\n\n", document(&required_members()));
        assert!(parse(&text).is_ok());
    }

    #[test]
    fn invalid_utf8_is_refused() {
        let mut bytes = with_member("Other", "\"x\"").into_bytes();
        bytes.insert(bytes.len() - 3, 0xff);
        assert_eq!(
            detail_of(parse_bytes(&bytes).unwrap_err()),
            "the document is not UTF-8 text"
        );
    }

    fn nested(depth: usize) -> String {
        format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
    }

    #[test]
    fn nesting_is_bounded() {
        let limit = MAX_NESTING as usize;
        assert!(parse(&with_member("Deep", &nested(limit))).is_ok());
        let too_deep = with_member("Deep", &nested(limit + 1));
        assert_eq!(
            detail_of(parse(&too_deep).unwrap_err()),
            "values are nested more than 32 levels deep"
        );
        let mixed = format!("{}1{}", "{\"a\":[".repeat(16), "]}".repeat(16));
        assert!(parse(&with_member("Mixed", &mixed)).is_ok());
    }

    #[test]
    fn very_deep_nesting_is_refused_without_recursion() {
        let text = format!("{{\"a\":{}}}", "[".repeat(1_000_000));
        assert_eq!(
            detail_of(parse(&text).unwrap_err()),
            "values are nested more than 32 levels deep"
        );
    }

    #[test]
    fn errors_never_echo_values() {
        let secret = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY";
        let documents = [
            format!(r#"{{"SecretAccessKey":"{secret}","Token":{secret}}}"#),
            format!(r#"{{"SecretAccessKey":"{secret}"}}"#),
            format!(r#"{{"Expiration":"{secret}"}}"#),
            format!(r#"{{"Token":"{secret}{}"}}"#, "x".repeat(5000)),
            format!(r#"{{"Token":"{secret}"#),
            format!(r#"{{"Token":"{secret}\q"}}"#),
        ];
        for text in documents {
            let error = parse(&text).unwrap_err();
            assert!(!error.to_string().contains(secret), "{error}");
            assert!(!format!("{error:?}").contains(secret), "{error:?}");
        }
    }

    /// The credentials bodies of the SEP v2.1.1 vectors, each paired with the `accountId` its outcome
    /// expects, and the role-list bodies.
    fn sep_vectors() -> (Vec<(String, Option<String>)>, Vec<String>) {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/vectors/imds-credentials-sep-v2.1.1-test-spec.json"
        );
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
        let cases: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut credentials = Vec::new();
        let mut roles = Vec::new();
        for case in cases.as_array().unwrap() {
            let mut outcomes = case["outcomes"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|outcome| outcome["result"] == "credentials");
            for expectation in case["expectations"].as_array().unwrap() {
                let response = &expectation["response"];
                if response["status"] != 200 {
                    continue;
                }
                match &response["body"] {
                    serde_json::Value::String(role) => roles.push(role.clone()),
                    body @ serde_json::Value::Object(_) => {
                        let outcome = outcomes.next().unwrap();
                        let account_id = outcome
                            .get("accountId")
                            .map(|id| id.as_str().unwrap().to_string());
                        credentials.push((
                            serde_json::to_string_pretty(body).unwrap(),
                            account_id.clone(),
                        ));
                        credentials.push((serde_json::to_string(body).unwrap(), account_id));
                    }
                    other => panic!("unexpected body {other}"),
                }
            }
            assert!(outcomes.next().is_none(), "{}", case["summary"]);
        }
        (credentials, roles)
    }

    #[test]
    fn every_sep_vector_body_parses_with_its_account_id() {
        let (bodies, roles) = sep_vectors();
        assert_eq!(bodies.len(), 2 * 18);
        assert!(bodies.iter().any(|(_, account_id)| account_id.is_some()));
        assert!(bodies.iter().any(|(_, account_id)| account_id.is_none()));
        for (body, account_id) in &bodies {
            let credentials = parse(body).unwrap();
            assert_eq!(credentials.account_id(), account_id.as_deref(), "{body}");
            assert_eq!(credentials.access_key_id(), "ASIAIOSFODNN7EXAMPLE");
            assert!(credentials.expiration() > UnixTime::from_secs(1_741_816_396));
        }
        assert!(!roles.is_empty());
        for role in roles {
            assert_eq!(
                crate::role::parse_role_list(role.as_bytes(), &[])
                    .unwrap()
                    .as_str(),
                role
            );
        }
    }
}
