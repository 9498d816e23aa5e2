//! What the fuzz targets share: the input read as a script of choices.

/// The fuzz input, read front to back; an exhausted script answers with zeros, so that every
/// target gives its most ordinary answer (and ends) once the input runs out.
pub struct Script<'a>(&'a [u8]);

impl<'a> Script<'a> {
    /// A script reading `input`.
    pub fn new(input: &'a [u8]) -> Self {
        Self(input)
    }

    /// The next byte (0 once exhausted).
    pub fn byte(&mut self) -> u8 {
        let (first, rest) = self.0.split_first().map_or((0, &[][..]), |(b, r)| (*b, r));
        self.0 = rest;
        first
    }

    /// The next `count` bytes (fewer when the script runs out).
    pub fn take(&mut self, count: usize) -> &'a [u8] {
        let (taken, rest) = self.0.split_at(count.min(self.0.len()));
        self.0 = rest;
        taken
    }

    /// Whether every byte was read.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
