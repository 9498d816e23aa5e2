//! An allocation-free reader of the shared AWS config file (`~/.aws/config`).
//!
//! Follows the cross-SDK `profile-parser-tests.json` rules for the config file: `[profile NAME]`
//! and `[default]` sections, `key = value` properties, comments, continuation lines and
//! sub-properties. The host passes the file's text; nothing here reads a file.
//!
//! [`ConfigFile::items`] walks the text once, yielding [`Item`]s that borrow from it; a malformed
//! line ends the walk with an [`ErrorKind::ConfigFile`] error carrying the line number
//! ([`Context::ConfigLine`]). [`ConfigFile::get`] looks a key up in a profile the way every AWS SDK
//! does: `[profile NAME]` sections (and `[default]` for the profile `default`, unless a
//! `[profile default]` section exists, which then wins wherever it is), later definitions winning,
//! keys compared ASCII-case-insensitively.
//!
//! ```
//! use imds_core::config_file::ConfigFile;
//!
//! let file = ConfigFile::new("[default]\nec2_metadata_service_endpoint = http://[::1]:1338\n");
//! let value = file.get("default", "EC2_Metadata_Service_Endpoint").unwrap().unwrap();
//! assert_eq!(value.as_single_line(), Some("http://[::1]:1338"));
//! ```
//!
//! Rules, line by line (whitespace means space or tab):
//! * blank lines and lines starting with `#` or `;` are skipped;
//! * a line starting with `[` is a section header; anything from the first `#` or `;` on is a
//!   comment; it must end with `]`. `[profile NAME]` (any whitespace after `profile`) names a
//!   profile, `[default]` is the default profile, `[sso-session NAME]` an SSO session; other
//!   sections, and sections whose name is not valid ([`is_valid_identifier`]), are ignored with
//!   their properties;
//! * a line starting with whitespace continues the previous property's value (a new line, trimmed;
//!   comments are kept); after `key =` with an empty value, those lines are sub-properties and must
//!   read `name = value`;
//! * any other line is `key = value`; the key and value are trimmed and a `#` or `;` preceded by
//!   whitespace starts a comment. Properties whose key is not a valid identifier are ignored.

use core::fmt;

use crate::error::{Context, Error, ErrorKind};

/// A header line that does not end with `]`.
const HEADER_UNCLOSED: &str = "profile definition must end with ']'";
/// A property before any section header.
const PROFILE_EXPECTED: &str =
    "expected a profile definition such as [profile NAME] or [default] before this line";
/// An indented line that follows no property.
const CONTINUATION_WITHOUT_PROPERTY: &str = "expected a property definition, found continuation \
     (an indented line continues the `key = value` line above it)";
/// A property line without `=`.
const PROPERTY_WITHOUT_EQUALS: &str = "expected an '=' sign defining a property (`key = value`)";
/// A property line with an empty key.
const PROPERTY_WITHOUT_NAME: &str = "property did not have a name (`key = value`)";
/// A sub-property line without `=`.
const SUB_PROPERTY_WITHOUT_EQUALS: &str =
    "expected an '=' sign defining a sub-property (`name = value`)";
/// A sub-property line with an empty name.
const SUB_PROPERTY_WITHOUT_NAME: &str = "sub-property did not have a name (`name = value`)";
/// Bytes that are not UTF-8.
const NOT_UTF8: &str = "the config file is not UTF-8 text";

/// The whitespace the config file format knows: space and tab.
const WHITESPACE: [char; 2] = [' ', '\t'];

fn trim(text: &str) -> &str {
    text.trim_matches(WHITESPACE)
}

fn config_error(line: u32, problem: &'static str) -> Error {
    Error::new(ErrorKind::ConfigFile, Context::ConfigLine { line, problem })
}

/// Whether `name` is a valid profile name or property key: one or more ASCII letters, digits and
/// `-/._%@:+`.
pub fn is_valid_identifier(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-/._%@:+".contains(&b))
}

/// The shared config file's text, ready to be walked. Cheap to copy; borrows the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConfigFile<'a> {
    text: &'a str,
}

impl<'a> ConfigFile<'a> {
    /// The config file whose text is `text` (a leading UTF-8 byte-order mark is skipped).
    pub fn new(text: &'a str) -> Self {
        Self {
            text: text.strip_prefix('\u{feff}').unwrap_or(text),
        }
    }

    /// The config file whose bytes are `bytes`; fails with [`ErrorKind::ConfigFile`] naming the line
    /// of the first byte that is not UTF-8.
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Self, Error> {
        match core::str::from_utf8(bytes) {
            Ok(text) => Ok(Self::new(text)),
            Err(error) => {
                let valid = bytes.get(..error.valid_up_to()).unwrap_or(&[]);
                let newlines = valid.iter().filter(|&&b| b == b'\n').count();
                let line = u32::try_from(newlines)
                    .unwrap_or(u32::MAX)
                    .saturating_add(1);
                Err(config_error(line, NOT_UTF8))
            }
        }
    }

    /// The file's text.
    pub const fn text(&self) -> &'a str {
        self.text
    }

    /// Walks the file: every section header and every property with a valid key, in file order.
    pub fn items(&self) -> Items<'a> {
        Items {
            lines: Lines::new(self.text),
            section: None,
            failed: false,
        }
    }

    /// Checks the whole file, returning the first malformed line's error.
    pub fn check(&self) -> Result<(), Error> {
        for item in self.items() {
            item?;
        }
        Ok(())
    }

    /// Whether the file defines the profile `name` (an empty section counts). Fails when the file
    /// is malformed.
    pub fn has_profile(&self, name: &str) -> Result<bool, Error> {
        let prefixed_default = self.has_prefixed_default(name)?;
        let mut found = false;
        for item in self.items() {
            if let Item::Section(section) = item? {
                found |= section.belongs_to(name, prefixed_default);
            }
        }
        Ok(found)
    }

    /// The value of `key` (ASCII-case-insensitive) in the profile `name`, the last definition
    /// winning; `None` when the profile does not define it. Fails when the file is malformed.
    pub fn get(&self, name: &str, key: &str) -> Result<Option<Value<'a>>, Error> {
        let mut found = None;
        for property in self.properties(name)? {
            let property = property?;
            if property.key.eq_ignore_ascii_case(key) {
                found = Some(property.value);
            }
        }
        Ok(found)
    }

    /// Every property of the profile `name`, in file order (a key defined twice appears twice: the
    /// last one wins). Fails early when the file is malformed before the first property; the
    /// iterator yields any later error.
    pub fn properties<'n>(&self, name: &'n str) -> Result<ProfileProperties<'a, 'n>, Error> {
        Ok(ProfileProperties {
            items: self.items(),
            name,
            prefixed_default: self.has_prefixed_default(name)?,
        })
    }

    /// Whether `name` is `default` and a `[profile default]` section exists (which then hides every
    /// `[default]` section).
    fn has_prefixed_default(&self, name: &str) -> Result<bool, Error> {
        if name != "default" {
            return Ok(false);
        }
        for item in self.items() {
            if let Item::Section(section) = item?
                && section.kind == SectionKind::Profile
                && section.name == "default"
            {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// What a section header declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SectionKind {
    /// `[profile NAME]` with a valid name.
    Profile,
    /// `[default]`: the default profile, unless a `[profile default]` section exists.
    DefaultWithoutPrefix,
    /// `[sso-session NAME]` with a valid name.
    SsoSession,
    /// Anything else (`[NAME]` without prefix, invalid names, unknown section types): its
    /// properties are ignored.
    Ignored,
}

/// A section header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Section<'a> {
    /// What the header declares.
    pub kind: SectionKind,
    /// The name (`default` for `[default]`; trimmed).
    pub name: &'a str,
    /// The header's 1-based line number.
    pub line: u32,
}

impl Section<'_> {
    /// Whether this section holds properties of the profile `name`, given whether a
    /// `[profile default]` section exists.
    fn belongs_to(&self, name: &str, prefixed_default: bool) -> bool {
        match self.kind {
            SectionKind::Profile => self.name == name,
            SectionKind::DefaultWithoutPrefix => name == "default" && !prefixed_default,
            SectionKind::SsoSession | SectionKind::Ignored => false,
        }
    }
}

/// A property value, possibly continued on following lines. The value's text is its
/// [`Value::lines`] joined with `\n`; [`fmt::Display`] writes exactly that.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Value<'a> {
    first: &'a str,
    continuation: &'a str,
}

impl<'a> Value<'a> {
    /// The value's lines: the text after `=`, then each continuation line, trimmed.
    pub fn lines(&self) -> ValueLines<'a> {
        ValueLines {
            first: Some(self.first),
            rest: Lines::new(self.continuation),
        }
    }

    /// The value when it has no continuation lines (the usual case), borrowed from the file.
    pub fn as_single_line(&self) -> Option<&'a str> {
        let mut lines = self.lines();
        let first = lines.next();
        match lines.next() {
            None => first,
            Some(_) => None,
        }
    }

    /// The length in bytes of the value's text.
    pub fn len(&self) -> usize {
        self.lines()
            .fold(0usize, |total, line| total.saturating_add(line.len()))
            .saturating_add(self.lines().count().saturating_sub(1))
    }

    /// Whether the value's text is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, line) in self.lines().enumerate() {
            if index > 0 {
                f.write_str("\n")?;
            }
            f.write_str(line)?;
        }
        Ok(())
    }
}

/// The lines of a [`Value`]; see [`Value::lines`].
#[derive(Clone, Debug)]
pub struct ValueLines<'a> {
    first: Option<&'a str>,
    rest: Lines<'a>,
}

impl<'a> Iterator for ValueLines<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if let Some(first) = self.first.take() {
            return Some(first);
        }
        for (_, line) in self.rest.by_ref() {
            if classify(line) == LineKind::Continuation {
                return Some(trim(line));
            }
        }
        None
    }
}

/// A `key = value` line (with its continuation lines) inside a section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Property<'a> {
    /// The section it belongs to.
    pub section: Section<'a>,
    /// The key as written (compare ASCII-case-insensitively).
    pub key: &'a str,
    /// The value.
    pub value: Value<'a>,
    /// The 1-based line number of the `key = value` line.
    pub line: u32,
}

/// One thing [`ConfigFile::items`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item<'a> {
    /// A section header.
    Section(Section<'a>),
    /// A property with a valid key.
    Property(Property<'a>),
}

/// The walk over a config file; see [`ConfigFile::items`]. After an error it yields nothing more.
#[derive(Clone, Debug)]
pub struct Items<'a> {
    lines: Lines<'a>,
    section: Option<Section<'a>>,
    failed: bool,
}

impl<'a> Items<'a> {
    fn fail(&mut self, line: u32, problem: &'static str) -> Option<Result<Item<'a>, Error>> {
        self.failed = true;
        Some(Err(config_error(line, problem)))
    }

    /// Consumes the continuation lines (and the blank and comment lines among them) of a property
    /// whose value starts with `first`, checking sub-properties when `first` is empty.
    fn continuation(&mut self, first: &str) -> Result<&'a str, Error> {
        let start = self.lines.rest;
        loop {
            let mut ahead = self.lines.clone();
            let Some((number, line)) = ahead.next() else {
                break;
            };
            match classify(line) {
                LineKind::Blank | LineKind::Comment => {}
                LineKind::Continuation => {
                    if first.is_empty() {
                        let (name, _) = trim(line)
                            .split_once('=')
                            .ok_or_else(|| config_error(number, SUB_PROPERTY_WITHOUT_EQUALS))?;
                        if trim(name).is_empty() {
                            return Err(config_error(number, SUB_PROPERTY_WITHOUT_NAME));
                        }
                    }
                }
                LineKind::Header | LineKind::Property => break,
            }
            self.lines = ahead;
        }
        let consumed = start.len().saturating_sub(self.lines.rest.len());
        Ok(start.get(..consumed).unwrap_or(""))
    }
}

impl<'a> Iterator for Items<'a> {
    type Item = Result<Item<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        while let Some((number, line)) = self.lines.next() {
            match classify(line) {
                LineKind::Blank | LineKind::Comment => {}
                LineKind::Header => {
                    let Some((kind, name)) = parse_header(line) else {
                        return self.fail(number, HEADER_UNCLOSED);
                    };
                    let section = Section {
                        kind,
                        name,
                        line: number,
                    };
                    self.section = Some(section);
                    return Some(Ok(Item::Section(section)));
                }
                LineKind::Continuation => {
                    return match self.section {
                        None => self.fail(number, PROFILE_EXPECTED),
                        Some(_) => self.fail(number, CONTINUATION_WITHOUT_PROPERTY),
                    };
                }
                LineKind::Property => {
                    let Some(section) = self.section else {
                        return self.fail(number, PROFILE_EXPECTED);
                    };
                    let (key, first) = match parse_property(line) {
                        Ok(parsed) => parsed,
                        Err(problem) => return self.fail(number, problem),
                    };
                    let continuation = match self.continuation(first) {
                        Ok(continuation) => continuation,
                        Err(error) => {
                            self.failed = true;
                            return Some(Err(error));
                        }
                    };
                    if is_valid_identifier(key) {
                        return Some(Ok(Item::Property(Property {
                            section,
                            key,
                            value: Value {
                                first,
                                continuation,
                            },
                            line: number,
                        })));
                    }
                }
            }
        }
        None
    }
}

/// The properties of one profile; see [`ConfigFile::properties`].
#[derive(Clone, Debug)]
pub struct ProfileProperties<'a, 'n> {
    items: Items<'a>,
    name: &'n str,
    prefixed_default: bool,
}

impl<'a> Iterator for ProfileProperties<'a, '_> {
    type Item = Result<Property<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        for item in self.items.by_ref() {
            match item {
                Err(error) => return Some(Err(error)),
                Ok(Item::Property(property))
                    if property
                        .section
                        .belongs_to(self.name, self.prefixed_default) =>
                {
                    return Some(Ok(property));
                }
                Ok(_) => {}
            }
        }
        None
    }
}

/// What a line is, from its first characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LineKind {
    Blank,
    Comment,
    Header,
    Continuation,
    Property,
}

fn classify(line: &str) -> LineKind {
    if trim(line).is_empty() {
        LineKind::Blank
    } else if line.starts_with(['#', ';']) {
        LineKind::Comment
    } else if line.starts_with('[') {
        LineKind::Header
    } else if line.starts_with(WHITESPACE) {
        LineKind::Continuation
    } else {
        LineKind::Property
    }
}

/// The kind and name of a header line, or `None` when it does not end with `]`.
fn parse_header(line: &str) -> Option<(SectionKind, &str)> {
    let line = line.split(['#', ';']).next().unwrap_or("");
    let inner = trim(line).strip_prefix('[')?.strip_suffix(']')?;
    let inner = trim(inner);
    let prefixed = |prefix: &str| {
        inner
            .strip_prefix(prefix)
            .filter(|rest| rest.starts_with(WHITESPACE))
            .map(trim)
    };
    let (kind, name) = if let Some(name) = prefixed("profile") {
        (SectionKind::Profile, name)
    } else if let Some(name) = prefixed("sso-session") {
        (SectionKind::SsoSession, name)
    } else if inner == "default" {
        (SectionKind::DefaultWithoutPrefix, inner)
    } else {
        (SectionKind::Ignored, inner)
    };
    if is_valid_identifier(name) {
        Some((kind, name))
    } else {
        Some((SectionKind::Ignored, name))
    }
}

/// The key and value of a property line, or what is wrong with it.
fn parse_property(line: &str) -> Result<(&str, &str), &'static str> {
    let line = strip_value_comment(line);
    let (key, value) = line.split_once('=').ok_or(PROPERTY_WITHOUT_EQUALS)?;
    let key = trim(key);
    if key.is_empty() {
        return Err(PROPERTY_WITHOUT_NAME);
    }
    Ok((key, trim(value)))
}

/// `line` up to the first `#` or `;` that follows whitespace.
fn strip_value_comment(line: &str) -> &str {
    let mut after_whitespace = false;
    for (index, c) in line.char_indices() {
        if after_whitespace && (c == '#' || c == ';') {
            return line.get(..index).unwrap_or(line);
        }
        after_whitespace = WHITESPACE.contains(&c);
    }
    line
}

/// The lines of a text with their 1-based numbers; a `\r` before each `\n` is dropped.
#[derive(Clone, Debug)]
struct Lines<'a> {
    rest: &'a str,
    number: u32,
    done: bool,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            rest: text,
            number: 0,
            done: text.is_empty(),
        }
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = (u32, &'a str);

    fn next(&mut self) -> Option<(u32, &'a str)> {
        if self.done {
            return None;
        }
        self.number = self.number.saturating_add(1);
        let line = match self.rest.split_once('\n') {
            Some((line, rest)) => {
                self.rest = rest;
                self.done = rest.is_empty();
                line
            }
            None => {
                self.done = true;
                core::mem::take(&mut self.rest)
            }
        };
        Some((self.number, line.strip_suffix('\r').unwrap_or(line)))
    }
}
