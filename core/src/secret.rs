//! Secrets in memory: wiped when replaced or dropped, shown by length only, and kept out of any
//! text the server chose.
//!
//! The client holds three secrets: the IMDSv2 token, and the secret access key and session token
//! of its credentials. They, and the send and receive buffers that carry them, are overwritten
//! with volatile writes (the `zeroize` crate) that the optimiser cannot remove, over their whole
//! capacity: each string and buffer records the highest byte written since it was last wiped and
//! a wipe overwrites everything up to it (an earlier, longer value included), so that the rest of
//! its capacity is zero already; dropping a buffer overwrites all of it.
//!
//! What cannot be wiped, and how the client avoids it:
//!
//! * A moved value leaves its old bytes behind. Values holding secrets are not moved once they
//!   hold a secret: the credentials document is parsed into a scratch
//!   [`Credentials`](crate::Credentials) on the stack (wiped when it goes out of scope) and copied
//!   field by field into the client's one slot; the token is copied from the receive buffer
//!   straight into the client's cache. The client itself is moved only while it holds no secret
//!   (at construction); the C library places it once, in caller storage or on the heap.
//! * A `Copy` type cannot be wiped reliably (every use may copy it): no `Copy` type of the core
//!   holds a secret. Errors and diagnostics are `Copy`, so the `Code` and `Message` of a refused
//!   credentials document are redacted of every secret the client knows (each occurrence becomes
//!   [`REDACTION_MARK`]) before they go into one.
//! * Copies the host makes are the host's to wipe: the strings it copies out of
//!   [`Client::credentials`](crate::Client::credentials), the
//!   [`Credentials`](crate::Credentials) a blocking fetch returns (they wipe themselves when
//!   dropped, but a move leaves a copy), the bytes it reads from the socket before handing them
//!   to the client.

use core::fmt;

use zeroize::Zeroize;

use crate::text::ShortText;

/// How many secrets a client holds: the IMDSv2 token, the secret access key and the session token.
pub(crate) const CLIENT_SECRETS: usize = 3;

/// What replaces a secret in text the server chose.
pub const REDACTION_MARK: &str = "[redacted]";

/// A fixed-capacity string that overwrites itself when wiped or dropped: the home of every secret
/// the client keeps (the token, the credentials' fields) and of the text that may echo one.
///
/// It records the highest byte ever written since it was last wiped, so a wipe overwrites every
/// byte that held data (a longer earlier value included) and the rest of its capacity is zero
/// already: its whole capacity is clean after a wipe. Not `Copy`; `Debug` shows the length only.
#[derive(Clone)]
pub(crate) struct SecretString<const N: usize> {
    bytes: [u8; N],
    len: usize,
    /// Bytes from here on are zero: nothing was written there since the last wipe.
    dirty: usize,
}

impl<const N: usize> SecretString<N> {
    /// An empty string.
    pub(crate) const fn new() -> Self {
        Self {
            bytes: [0; N],
            len: 0,
            dirty: 0,
        }
    }

    /// The text.
    pub(crate) fn as_str(&self) -> &str {
        // Only whole `&str`s are appended, so the bytes are UTF-8.
        core::str::from_utf8(self.bytes.get(..self.len).unwrap_or(&[])).unwrap_or("")
    }

    /// Appends `text` whole; `false` (and nothing appended) when it does not fit.
    pub(crate) fn push_str(&mut self, text: &str) -> bool {
        let end = self.len.saturating_add(text.len());
        let Some(slot) = self.bytes.get_mut(self.len..end) else {
            return false;
        };
        slot.copy_from_slice(text.as_bytes());
        self.len = end;
        self.dirty = self.dirty.max(end);
        true
    }

    /// Appends `character`; `false` when it does not fit.
    pub(crate) fn push(&mut self, character: char) -> bool {
        self.push_str(character.encode_utf8(&mut [0; 4]))
    }

    /// Overwrites every byte that held data and empties the string.
    pub(crate) fn wipe(&mut self) {
        if let Some(held) = self.bytes.get_mut(..self.dirty) {
            wipe_bytes(held);
        }
        self.len = 0;
        self.dirty = 0;
    }

    /// The whole storage, to check in tests that it was wiped.
    #[cfg(test)]
    pub(crate) fn raw_bytes(&self) -> &[u8; N] {
        &self.bytes
    }
}

impl<const N: usize> Default for SecretString<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Drop for SecretString<N> {
    fn drop(&mut self) {
        self.wipe();
    }
}

impl<const N: usize> core::ops::Deref for SecretString<N> {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl<const N: usize> PartialEq for SecretString<N> {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl<const N: usize> Eq for SecretString<N> {}

impl<const N: usize> fmt::Debug for SecretString<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Redacted(self.len).fmt(f)
    }
}

/// Overwrites `bytes` with zeros.
pub(crate) fn wipe_bytes(bytes: &mut [u8]) {
    bytes.zeroize();
}

/// Shows a secret or a buffer by its length only, in `Debug` output: `<redacted, 40 bytes>`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Redacted(pub usize);

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<redacted, {} bytes>", self.0)
    }
}

/// Whether `text` contains any of `secrets` (empty secrets are ignored).
pub(crate) fn contains_any(text: &[u8], secrets: &[&str]) -> bool {
    secrets.iter().any(|secret| {
        !secret.is_empty()
            && text
                .windows(secret.len())
                .any(|window| window == secret.as_bytes())
    })
}

/// `text` (which the server chose) for an error, with every occurrence of one of `secrets`
/// replaced by [`REDACTION_MARK`], then escaped and cut to `N` bytes as [`ShortText`] does.
///
/// `cut` says that `text` is the start of a longer text: then a secret may begin in its last
/// bytes and go on past the cut, so an end of `text` that is the start of a secret is redacted
/// too.
pub(crate) fn redacted_text<const N: usize>(
    text: &str,
    cut: bool,
    secrets: &[&str],
) -> ShortText<N> {
    let mut out = ShortText::empty();
    let mut plain_from = 0;
    let mut at = 0;
    // Each round moves `at` forward by at least one character, so this ends within text.len().
    while let Some(rest) = text.get(at..).filter(|rest| !rest.is_empty()) {
        let mut end = secret_end(text, at, cut, secrets);
        if end == at {
            at += rest.chars().next().map_or(1, char::len_utf8);
            continue;
        }
        // Overlapping secrets make one redaction: extend over every secret that starts inside.
        let mut inside = at + 1;
        while inside < end {
            end = end.max(secret_end(text, inside, cut, secrets));
            inside += 1;
        }
        out.push_escaped(text.get(plain_from..at).unwrap_or(""));
        out.push_plain(REDACTION_MARK);
        plain_from = end;
        at = end;
    }
    out.push_escaped(text.get(plain_from..).unwrap_or(""));
    if cut {
        out.mark_truncated();
    }
    out
}

/// Where the longest of `secrets` that starts at byte `at` of `text` ends (`at` when none does).
/// With `cut`, a secret that starts at `at` and runs past the end of `text` ends at its end.
fn secret_end(text: &str, at: usize, cut: bool, secrets: &[&str]) -> usize {
    let rest = text.as_bytes().get(at..).unwrap_or(&[]);
    let mut end = at;
    for secret in secrets.iter().map(|secret| secret.as_bytes()) {
        if secret.is_empty() || rest.is_empty() {
            continue;
        }
        if rest.starts_with(secret) {
            end = end.max(at + secret.len());
        } else if cut && secret.starts_with(rest) {
            end = end.max(text.len());
        }
    }
    end
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::format;

    use super::*;

    #[test]
    fn a_wipe_overwrites_every_byte_an_earlier_longer_value_held() {
        let mut text = SecretString::<70>::new();
        assert!(text.push_str("a longer secret value"));
        text.wipe();
        assert!(text.push_str("short"));
        assert_eq!(text.as_str(), "short");
        assert_eq!(
            &text.raw_bytes()[5..21],
            &[0; 16],
            "the longer value was wiped"
        );
        text.wipe();
        assert!(text.is_empty());
        assert_eq!(text.raw_bytes(), &[0; 70]);
    }

    #[test]
    fn a_secret_string_takes_whole_text_and_shows_its_length() {
        let mut text = SecretString::<8>::new();
        assert!(text.push_str("1234567"));
        assert!(!text.push_str("89"), "does not fit");
        assert!(!text.push('\u{e9}'), "two bytes do not fit");
        assert!(text.push('8'));
        assert_eq!(text.as_str(), "12345678");
        assert_eq!(format!("{text:?}"), "<redacted, 8 bytes>");
        assert_eq!(text.clone(), text);
    }

    #[test]
    fn redacted_shows_the_length_only() {
        assert_eq!(format!("{:?}", Redacted(40)), "<redacted, 40 bytes>");
    }

    #[test]
    fn contains_any_ignores_empty_secrets() {
        assert!(contains_any(b"a TOKEN b", &["", "TOKEN"]));
        assert!(!contains_any(b"a TOKE", &["", "TOKEN"]));
        assert!(!contains_any(b"anything", &[""]));
    }

    fn redact(text: &str, cut: bool, secrets: &[&str]) -> std::string::String {
        let short: ShortText<200> = redacted_text(text, cut, secrets);
        format!("{short}")
    }

    #[test]
    fn every_occurrence_of_every_secret_is_redacted() {
        assert_eq!(
            redact(
                "key SECRET and token TOK, SECRET again",
                false,
                &["SECRET", "TOK", ""]
            ),
            "key [redacted] and token [redacted], [redacted] again"
        );
    }

    #[test]
    fn overlapping_secrets_make_one_redaction() {
        assert_eq!(
            redact("xxABCDEyy", false, &["ABC", "CDE"]),
            "xx[redacted]yy"
        );
        assert_eq!(
            redact("xxABCDEyy", false, &["BCD", "ABCDE"]),
            "xx[redacted]yy"
        );
    }

    #[test]
    fn a_secret_cut_at_the_end_is_redacted_when_the_text_was_cut() {
        assert_eq!(
            redact("the key is SEC", true, &["SECRET"]),
            "the key is [redacted]…"
        );
        assert_eq!(
            redact("the key is SEC", false, &["SECRET"]),
            "the key is SEC"
        );
    }

    #[test]
    fn the_rest_is_escaped() {
        assert_eq!(
            redact("a\u{1b}[31mSECRET\r\n\u{e9}", false, &["SECRET"]),
            "a\\x1b[31m[redacted]\\x0d\\x0a\\u{e9}"
        );
    }
}
