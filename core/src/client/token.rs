//! The IMDSv2 session token cache.
//!
//! A token is cached until `fetched_at + TTL - 120 s` (the TTL from the response header, else the one
//! requested). A token whose TTL is 120 s or less is never reused: it serves the one request that
//! follows its fetch. The token never leaves this type except to be written into a request header.
//! It is wiped (over the string's whole capacity) when it is dropped after a 401, replaced, reset
//! or dropped with the client (it lives in a `SecretString`).

use core::fmt;

use super::transport::ConnectionId;
use crate::error::{Context, Error, ErrorKind};
use crate::secret::{Redacted, SecretString};
use crate::time::Instant;

/// Longest IMDSv2 token accepted.
pub const TOKEN_CAPACITY: usize = 512;

/// How long before its expiry a token stops being used.
pub(super) const TOKEN_REFRESH_BUFFER_MS: u64 = 120_000;

/// Whether the cached token may serve the next request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Freshness {
    /// No token.
    Absent,
    /// Just fetched and not used yet: serves the next request whatever its TTL.
    Fresh { stale_at: Instant },
    /// Used at least once: serves requests until `stale_at`.
    Used { stale_at: Instant },
}

/// The cached token. `Debug` shows its length only. Not `Copy`: a copy could not be wiped.
#[derive(Clone)]
pub(super) struct TokenCache {
    value: SecretString<TOKEN_CAPACITY>,
    freshness: Freshness,
    /// The connection its answer came on (meaningful while a token is held).
    came_on: ConnectionId,
}

impl TokenCache {
    /// No token.
    pub(super) const fn new() -> Self {
        Self {
            value: SecretString::new(),
            freshness: Freshness::Absent,
            came_on: ConnectionId::NONE,
        }
    }

    /// Whether the token may be attached to a request sent at `now`.
    pub(super) fn usable(&self, now: Instant) -> bool {
        match self.freshness {
            Freshness::Absent => false,
            Freshness::Fresh { .. } => true,
            Freshness::Used { stale_at } => now < stale_at,
        }
    }

    /// Whether a token is held (usable or not).
    #[cfg(test)]
    pub(super) fn is_present(&self) -> bool {
        self.freshness != Freshness::Absent
    }

    /// Whether a token is held that came on `connection`.
    pub(super) fn came_on(&self, connection: ConnectionId) -> bool {
        self.freshness != Freshness::Absent && self.came_on == connection
    }

    /// The token, for the request header.
    pub(super) fn value(&self) -> &str {
        &self.value
    }

    /// The token was attached to a request.
    pub(super) fn mark_used(&mut self) {
        if let Freshness::Fresh { stale_at } = self.freshness {
            self.freshness = Freshness::Used { stale_at };
        }
    }

    /// Drops the token (after a 401, or on reset), wiping it.
    pub(super) fn clear(&mut self) {
        self.value.wipe();
        self.freshness = Freshness::Absent;
    }

    /// Validates and stores the body of a token response received at `now` on `connection`,
    /// valid for `ttl_secs`. The token replaces the one cached (which is wiped), copied in place
    /// from `body`.
    pub(super) fn store(
        &mut self,
        body: &[u8],
        now: Instant,
        ttl_secs: u32,
        connection: ConnectionId,
    ) -> Result<(), Error> {
        let token = validate(body)?;
        self.value.wipe();
        // `validate` checked that it fits.
        self.value.push_str(token);
        let expires_at = now.add_millis(u64::from(ttl_secs).saturating_mul(1_000));
        let stale_at = Instant::from_millis(
            expires_at
                .as_millis()
                .saturating_sub(TOKEN_REFRESH_BUFFER_MS)
                .max(now.as_millis()),
        );
        self.freshness = Freshness::Fresh { stale_at };
        self.came_on = connection;
        Ok(())
    }
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.freshness {
            Freshness::Absent => return f.write_str("absent"),
            Freshness::Fresh { .. } => "fresh",
            Freshness::Used { .. } => "cached",
        };
        write!(f, "{state} {:?}", Redacted(self.value.len()))
    }
}

fn invalid(detail: &'static str) -> Error {
    Error::new(ErrorKind::InvalidToken, Context::Detail(detail))
}

/// The token in `body`, trimmed of surrounding whitespace: non-empty, only visible ASCII (so that
/// it is safe in a header) and at most [`TOKEN_CAPACITY`] bytes. Each check is the only one that
/// can refuse what it names.
fn validate(body: &[u8]) -> Result<&str, Error> {
    let token = body.trim_ascii();
    if token.is_empty() {
        return Err(invalid("the token response body is empty"));
    }
    let visible_ascii = token.iter().all(|b| b.is_ascii_graphic());
    let text = core::str::from_utf8(token).ok().filter(|_| visible_ascii);
    let Some(text) = text else {
        return Err(invalid(
            "the token contains characters that are not allowed in an HTTP header",
        ));
    };
    if text.len() > TOKEN_CAPACITY {
        return Err(invalid("the token is longer than 512 bytes"));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    #[test]
    fn token_is_reused_until_ttl_minus_buffer() {
        let mut cache = TokenCache::new();
        cache.store(b"abc", at(0), 600, ConnectionId::NONE).unwrap();
        cache.mark_used();
        assert!(cache.usable(at(400_000)));
        assert!(!cache.usable(at(480_000)));
    }

    #[test]
    fn short_ttl_token_serves_exactly_one_request() {
        let mut cache = TokenCache::new();
        cache.store(b"abc", at(0), 120, ConnectionId::NONE).unwrap();
        assert!(cache.usable(at(0)));
        cache.mark_used();
        assert!(!cache.usable(at(0)));
    }

    #[test]
    fn invalid_tokens_are_refused_without_echoing_them() {
        let mut cache = TokenCache::new();
        for body in [&b""[..], b"  \r\n", b"a b", b"caf\xc3\xa9", &[b'a'; 513]] {
            let error = cache
                .store(body, at(0), 600, ConnectionId::NONE)
                .unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidToken);
        }
        assert!(!cache.is_present());
        cache
            .store(b"secret-token\n", at(0), 600, ConnectionId::NONE)
            .unwrap();
        assert_eq!(cache.value(), "secret-token");
        let mut out = [0u8; 64];
        let mut writer = crate::text::BufWriter::new(&mut out);
        core::fmt::write(&mut writer, format_args!("{cache:?}")).unwrap();
        let shown = core::str::from_utf8(writer.written()).unwrap();
        assert_eq!(shown, "fresh <redacted, 12 bytes>");
    }
}
