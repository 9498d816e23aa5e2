//! Bounded, `Copy` text used inside errors and diagnostics, escaped so that it is safe to print.
//!
//! Errors must say which value was wrong, yet the core has no allocator and errors are `Copy`. A
//! [`ShortText`] keeps up to `N` bytes of a string and remembers that it was cut so that `Display`
//! can show an ellipsis.
//!
//! The text is escaped as it is kept, with the one escaping every message of the core uses
//! ([`write_escaped`]): printable ASCII stays as it is, except `\` which is doubled; any other
//! ASCII byte (control characters, DEL) becomes `\xNN` (two lower-case hex digits) and any
//! non-ASCII character `\u{…}` (its code point in lower-case hex). So a value from a setting, a
//! command line or a server never reaches a terminal, a log or a C `%s` as raw control
//! characters, and the bindings, which print the core's lines, show the same text.

use core::fmt;

/// Writes `text` with the core's escaping (see the module docs).
pub fn write_escaped(text: &str, out: &mut dyn fmt::Write) -> fmt::Result {
    for character in text.chars() {
        write_escaped_char(character, out)?;
    }
    Ok(())
}

/// Writes one character with the core's escaping.
fn write_escaped_char(character: char, out: &mut dyn fmt::Write) -> fmt::Result {
    match character {
        '\\' => out.write_str("\\\\"),
        ' '..='~' => out.write_char(character),
        '\0'..='\u{7f}' => write!(out, "\\x{:02x}", u32::from(character)),
        _ => write!(out, "\\u{{{:x}}}", u32::from(character)),
    }
}

/// Up to `N` bytes of escaped text (printable ASCII only), cut between two characters of the
/// original when longer.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ShortText<const N: usize> {
    bytes: [u8; N],
    len: usize,
    truncated: bool,
}

impl<const N: usize> ShortText<N> {
    /// The empty text.
    pub const fn empty() -> Self {
        Self {
            bytes: [0; N],
            len: 0,
            truncated: false,
        }
    }

    /// Escapes `text` (see the module docs), keeping the whole escapes of as many characters as
    /// fit in `N` bytes.
    pub fn new(text: &str) -> Self {
        let mut out = Self::empty();
        out.push_escaped(text);
        out
    }

    /// Appends `text`, escaped; once a character does not fit, the text is cut there.
    pub(crate) fn push_escaped(&mut self, text: &str) {
        for character in text.chars() {
            if self.truncated {
                return;
            }
            let mut escape = [0u8; 12];
            let mut writer = BufWriter::new(&mut escape);
            if write_escaped_char(character, &mut writer).is_ok() {
                let len = writer.len();
                self.push_bytes(escape.get(..len).unwrap_or(&[]));
            }
        }
    }

    /// Appends `text`, which must be printable ASCII (a marker the core writes), unescaped.
    pub(crate) fn push_plain(&mut self, text: &str) {
        if !self.truncated && text.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
            self.push_bytes(text.as_bytes());
        }
    }

    /// Appends `bytes` whole, or marks the text as cut when they do not fit.
    fn push_bytes(&mut self, bytes: &[u8]) {
        let end = self.len.saturating_add(bytes.len());
        match self.bytes.get_mut(self.len..end) {
            Some(slot) => {
                slot.copy_from_slice(bytes);
                self.len = end;
            }
            None => self.truncated = true,
        }
    }

    /// Records that the text was cut before what was kept (an ellipsis follows it).
    pub(crate) fn mark_truncated(&mut self) {
        self.truncated = true;
    }

    /// The text kept, escaped (without any ellipsis).
    pub fn as_str(&self) -> &str {
        let kept = self.bytes.get(..self.len).unwrap_or(&[]);
        core::str::from_utf8(kept).unwrap_or("")
    }

    /// Whether the original text was longer than what was kept.
    pub const fn is_truncated(&self) -> bool {
        self.truncated
    }

    /// Whether no text was kept.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<const N: usize> Default for ShortText<N> {
    fn default() -> Self {
        Self::empty()
    }
}

impl<const N: usize> fmt::Display for ShortText<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())?;
        if self.truncated {
            f.write_str("…")?;
        }
        Ok(())
    }
}

/// Appends to the text, escaped as [`ShortText::new`] escapes (the escapes of whole characters
/// while they fit; the rest marks it truncated), so that a value can be rendered straight into it:
/// `write!(text, "{endpoint}")`. Never fails.
impl<const N: usize> fmt::Write for ShortText<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push_escaped(s);
        Ok(())
    }
}

impl<const N: usize> fmt::Debug for ShortText<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())?;
        if self.truncated {
            f.write_str("…")?;
        }
        Ok(())
    }
}

/// A `core::fmt::Write` sink over a fixed byte buffer; fails (instead of truncating) when full.
///
/// Used to render URLs, requests and reports into caller-owned storage without allocating.
pub struct BufWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> BufWriter<'a> {
    /// A writer that fills `buf` from its start.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, len: 0 }
    }

    /// How many bytes were written.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing was written yet.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes written so far.
    pub fn written(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }
}

impl fmt::Write for BufWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        let slot = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_short_text_whole() {
        let t = ShortText::<8>::new("abc");
        assert_eq!(t.as_str(), "abc");
        assert!(!t.is_truncated());
    }

    #[test]
    fn cuts_long_text_between_whole_escapes() {
        let t = ShortText::<10>::new("a\u{e9}\u{e9}");
        assert_eq!(t.as_str(), "a\\u{e9}");
        assert!(t.is_truncated());
        let mut out = [0u8; 16];
        let mut w = BufWriter::new(&mut out);
        core::fmt::write(&mut w, format_args!("{t}")).unwrap();
        assert_eq!(w.written(), "a\\u{e9}…".as_bytes());
    }

    #[test]
    fn escapes_everything_outside_printable_ascii() {
        let t = ShortText::<128>::new("ok ~\\ \0\t\r\n\u{1b}[2J\u{7f}\u{80}\u{202e}\u{1f600}");
        assert_eq!(
            t.as_str(),
            "ok ~\\\\ \\x00\\x09\\x0d\\x0a\\x1b[2J\\x7f\\u{80}\\u{202e}\\u{1f600}"
        );
        assert!(t.as_str().bytes().all(|b| (b' '..=b'~').contains(&b)));
        let mut out = [0u8; 64];
        let mut w = BufWriter::new(&mut out);
        write_escaped("\u{7}x", &mut w).unwrap();
        assert_eq!(w.written(), b"\\x07x");
    }

    #[test]
    fn written_text_is_escaped_keeps_what_fits_and_marks_the_rest() {
        use core::fmt::Write as _;
        let mut t = ShortText::<12>::empty();
        let tail = "c\u{e9}";
        write!(t, "ab{tail}").unwrap();
        assert_eq!((t.as_str(), t.is_truncated()), ("abc\\u{e9}", false));
        write!(t, "d").unwrap();
        assert_eq!((t.as_str(), t.is_truncated()), ("abc\\u{e9}d", false));
        // The escape of a line feed (4 bytes) does not fit: the text is cut before it.
        write!(t, "\ne").unwrap();
        assert_eq!((t.as_str(), t.is_truncated()), ("abc\\u{e9}d", true));
    }

    #[test]
    fn buf_writer_fails_when_full() {
        let mut out = [0u8; 3];
        let mut w = BufWriter::new(&mut out);
        assert!(core::fmt::Write::write_str(&mut w, "abcd").is_err());
        assert_eq!(w.len(), 0);
    }
}
