//! Bounded, `Copy` text used inside errors and diagnostics.
//!
//! Errors must say which value was wrong, yet the core has no allocator and errors are `Copy`. A
//! [`ShortText`] keeps up to `N` bytes of a string, cut at a character boundary, and remembers that it
//! was cut so that `Display` can show an ellipsis.

use core::fmt;

/// Up to `N` bytes of UTF-8 text, truncated at a character boundary when longer.
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

    /// Copies `text`, keeping as many whole characters as fit in `N` bytes.
    pub fn new(text: &str) -> Self {
        let mut out = Self::empty();
        let mut end = text.len().min(N);
        while end > 0 && !text.is_char_boundary(end) {
            end -= 1;
        }
        let kept = text.get(..end).unwrap_or("");
        if let Some(slot) = out.bytes.get_mut(..kept.len()) {
            slot.copy_from_slice(kept.as_bytes());
            out.len = kept.len();
        }
        out.truncated = kept.len() < text.len();
        out
    }

    /// The text kept (without any ellipsis).
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

/// Appends to the text, keeping whole characters while they fit (the rest marks it truncated), so
/// that a value can be rendered straight into it: `write!(text, "{endpoint}")`. Never fails.
impl<const N: usize> fmt::Write for ShortText<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            let end = self.len.saturating_add(c.len_utf8());
            match self.bytes.get_mut(self.len..end) {
                Some(slot) if !self.truncated => {
                    c.encode_utf8(slot);
                    self.len = end;
                }
                _ => {
                    self.truncated = true;
                    break;
                }
            }
        }
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
    fn cuts_long_text_at_a_char_boundary() {
        let t = ShortText::<4>::new("aéé");
        assert_eq!(t.as_str(), "aé");
        assert!(t.is_truncated());
        let mut out = [0u8; 16];
        let mut w = BufWriter::new(&mut out);
        core::fmt::write(&mut w, format_args!("{t}")).unwrap();
        assert_eq!(w.written(), "aé…".as_bytes());
    }

    #[test]
    fn written_text_keeps_what_fits_and_marks_the_rest() {
        use core::fmt::Write as _;
        let mut t = ShortText::<5>::empty();
        let tail = "cé";
        write!(t, "ab{tail}").unwrap();
        assert_eq!((t.as_str(), t.is_truncated()), ("abcé", false));
        write!(t, "d").unwrap();
        write!(t, "").unwrap();
        assert_eq!((t.as_str(), t.is_truncated()), ("abcé", true));
    }

    #[test]
    fn buf_writer_fails_when_full() {
        let mut out = [0u8; 3];
        let mut w = BufWriter::new(&mut out);
        assert!(core::fmt::Write::write_str(&mut w, "abcd").is_err());
        assert_eq!(w.len(), 0);
    }
}
