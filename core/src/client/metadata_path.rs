//! Validation of the metadata paths passed to `Client::start_get`.

use crate::error::{Error, ErrorKind};

/// Longest metadata path accepted by `Client::start_get`.
pub const PATH_CAPACITY: usize = 256;

/// The prefix of relative metadata paths.
pub(super) const METADATA_PREFIX: &str = "/latest/meta-data/";

/// A validated metadata path: either relative to `/latest/meta-data/` or absolute under `/latest/`.
#[derive(Clone, Debug, Default)]
pub(super) struct MetadataPath {
    text: heapless::String<PATH_CAPACITY>,
    absolute: bool,
}

impl MetadataPath {
    /// Checks `path`: 1 to 256 visible ASCII characters (no spaces, controls or `#`); a path
    /// starting with `/` must start with `/latest/`.
    pub(super) fn parse(path: &str) -> Result<Self, Error> {
        let invalid = |detail| Error::detail(ErrorKind::InvalidArgument, detail);
        if path.is_empty() {
            return Err(invalid("the metadata path is empty"));
        }
        if !path.bytes().all(|b| b.is_ascii_graphic() && b != b'#') {
            return Err(invalid(
                "the metadata path may only contain visible ASCII characters (no spaces or #)",
            ));
        }
        let absolute = path.starts_with('/');
        if absolute && !path.starts_with("/latest/") {
            return Err(invalid(
                "an absolute metadata path must start with /latest/ (or give a path relative to /latest/meta-data/)",
            ));
        }
        let mut text = heapless::String::new();
        text.push_str(path)
            .map_err(|_| invalid("the metadata path is longer than 256 bytes"))?;
        Ok(Self { text, absolute })
    }

    /// The path pieces to append after the endpoint's prefix.
    pub(super) fn pieces(&self) -> [&str; 2] {
        if self.absolute {
            [self.text.as_str(), ""]
        } else {
            [METADATA_PREFIX, self.text.as_str()]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_and_absolute_paths() {
        let relative = MetadataPath::parse("placement/region").unwrap();
        assert_eq!(
            relative.pieces(),
            ["/latest/meta-data/", "placement/region"]
        );
        let absolute = MetadataPath::parse("/latest/dynamic/instance-identity/document").unwrap();
        assert_eq!(
            absolute.pieces(),
            ["/latest/dynamic/instance-identity/document", ""]
        );
    }

    #[test]
    fn bad_paths_are_invalid_arguments() {
        let too_long = "a".repeat(257);
        for path in [
            "",
            "a b",
            "a\r\nHost: x",
            "/etc/passwd",
            "x#y",
            "caf\u{e9}",
            too_long.as_str(),
        ] {
            assert_eq!(
                MetadataPath::parse(path).unwrap_err().kind(),
                ErrorKind::InvalidArgument,
                "{path:?}"
            );
        }
    }
}
