//! The IMDS endpoint: a validated `http`/`https` URL from which every request target is built.
//!
//! Accepted: an absolute URL with a host (name, IPv4 literal or bracketed IPv6 literal), an optional
//! port and an optional path prefix. Refused with a [`SettingProblem`]: other schemes, userinfo,
//! fragments, spaces and control characters, bad ports. A query is dropped. Paths are joined the way
//! aws-config's `merge_paths` does: strip one trailing `/` from the prefix, then add the request path
//! (which starts with `/`), so `http://h:1`, `http://h:1/` give `/latest/api/token` and
//! `http://h/prefix/` gives `/prefix/latest/api/token`.
//!
//! ```
//! use imds_core::endpoint::Endpoint;
//!
//! let endpoint = Endpoint::parse("http://[::1]:1338/prefix/").unwrap();
//! assert_eq!(endpoint.host(), "::1");
//! assert_eq!(endpoint.port(), 1338);
//! let mut url = heapless::String::<128>::new();
//! endpoint.write_url("/latest/api/token", &mut url).unwrap();
//! assert_eq!(url, "http://[::1]:1338/prefix/latest/api/token");
//! ```

use core::fmt;
use core::net::{Ipv4Addr, Ipv6Addr};
use core::str::FromStr;

use crate::error::SettingProblem;

/// Longest host name stored (DNS limit 253, plus brackets for IPv6 literals).
pub const HOST_CAPACITY: usize = 255;
/// Longest path prefix stored.
pub const PATH_PREFIX_CAPACITY: usize = 256;

/// The host of the IPv4 default endpoint.
pub const IPV4_DEFAULT_HOST: &str = "169.254.169.254";
/// The host of the IPv6 default endpoint (written bracketed in URLs: `http://[fd00:ec2::254]`).
pub const IPV6_DEFAULT_HOST: &str = "fd00:ec2::254";

/// The request path of the IMDSv2 token (`PUT`), after the endpoint's path prefix; the settings
/// report prints its URL as `token_url`.
pub const TOKEN_PATH: &str = "/latest/api/token";

/// Which default endpoint to use when none is configured (the `endpoint_mode` setting).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum EndpointMode {
    /// `http://169.254.169.254`.
    #[default]
    Ipv4,
    /// `http://[fd00:ec2::254]`.
    Ipv6,
}

impl EndpointMode {
    /// `IPv4` or `IPv6`, as AWS documents the values.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ipv4 => "IPv4",
            Self::Ipv6 => "IPv6",
        }
    }
}

/// `http` or `https`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Scheme {
    /// Plain TCP.
    #[default]
    Http,
    /// TLS; the host driver must support it.
    Https,
}

impl Scheme {
    /// `http` or `https`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Https => "https",
        }
    }

    /// The port used when the URL names none: 80 or 443.
    pub const fn default_port(self) -> u16 {
        match self {
            Self::Http => 80,
            Self::Https => 443,
        }
    }
}

/// A validated IMDS endpoint. [`Endpoint::default`] is the IPv4 default, `http://169.254.169.254`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    scheme: Scheme,
    host: heapless::String<HOST_CAPACITY>,
    port: u16,
    explicit_port: bool,
    path_prefix: heapless::String<PATH_PREFIX_CAPACITY>,
}

impl Default for Endpoint {
    fn default() -> Self {
        Self::for_mode(EndpointMode::Ipv4)
    }
}

/// Characters allowed anywhere in an endpoint URL: RFC 3986 unreserved, sub-delims, `%` and the
/// general delimiters. Everything else (space, controls, `"<>\^{|}` and non-ASCII) is refused.
fn is_uri_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=%:/?#[]@".contains(&b)
}

/// Characters allowed in a host name: letters, digits, `-`, `.` and `_`.
fn is_host_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._".contains(&b)
}

impl Endpoint {
    /// Parses and validates an endpoint URL (surrounding ASCII whitespace is trimmed).
    ///
    /// The checks run in this order, so the first problem found is the one reported: characters
    /// ([`SettingProblem::InvalidUrlCharacter`]), `scheme://` ([`SettingProblem::NotAUrl`]), scheme
    /// ([`SettingProblem::UnsupportedScheme`]), fragment, userinfo, host
    /// ([`SettingProblem::InvalidHost`]), port, then the stored lengths
    /// ([`SettingProblem::TooLong`]).
    pub fn parse(text: &str) -> Result<Self, SettingProblem> {
        let text = text.trim_ascii();
        if text.is_empty() {
            return Err(SettingProblem::NotAUrl);
        }
        if !text.bytes().all(is_uri_byte) {
            return Err(SettingProblem::InvalidUrlCharacter);
        }
        let (scheme, rest) = text.split_once("://").ok_or(SettingProblem::NotAUrl)?;
        let scheme = if scheme.eq_ignore_ascii_case("http") {
            Scheme::Http
        } else if scheme.eq_ignore_ascii_case("https") {
            Scheme::Https
        } else if !scheme.is_empty()
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        {
            return Err(SettingProblem::UnsupportedScheme);
        } else {
            return Err(SettingProblem::NotAUrl);
        };
        if rest.contains('#') {
            return Err(SettingProblem::UrlHasFragment);
        }
        // The query is dropped: IMDS request targets never carry one.
        let rest = rest.split_once('?').map_or(rest, |(before, _)| before);
        let (authority, path) = match rest.find('/') {
            Some(slash) => rest.split_at(slash),
            None => (rest, ""),
        };
        if authority.contains('@') {
            return Err(SettingProblem::UrlHasUserinfo);
        }
        let (host, port) = split_host_port(authority)?;
        let explicit_port = port.is_some();
        let port = match port {
            Some(port) => parse_port(port)?,
            None => scheme.default_port(),
        };
        let path = path.strip_suffix('/').unwrap_or(path);
        Ok(Self {
            scheme,
            host: heapless::String::try_from(host).map_err(|_| SettingProblem::TooLong)?,
            port,
            explicit_port,
            path_prefix: heapless::String::try_from(path).map_err(|_| SettingProblem::TooLong)?,
        })
    }

    /// The default endpoint for `mode`: `http://169.254.169.254` or `http://[fd00:ec2::254]`.
    pub fn for_mode(mode: EndpointMode) -> Self {
        let host = match mode {
            EndpointMode::Ipv4 => IPV4_DEFAULT_HOST,
            EndpointMode::Ipv6 => IPV6_DEFAULT_HOST,
        };
        let mut stored = heapless::String::new();
        // Both default hosts are far shorter than HOST_CAPACITY.
        let _ = stored.push_str(host);
        Self {
            scheme: Scheme::Http,
            host: stored,
            port: Scheme::Http.default_port(),
            explicit_port: false,
            path_prefix: heapless::String::new(),
        }
    }

    /// `http` or `https`.
    pub const fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The host to connect to, without brackets for IPv6 literals (`fd00:ec2::254`).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port to connect to (80 / 443 when the URL has none).
    pub const fn port(&self) -> u16 {
        self.port
    }

    /// The path prefix without a trailing `/` (empty for none).
    pub fn path_prefix(&self) -> &str {
        &self.path_prefix
    }

    /// Writes the request target for `path` (which starts with `/`): prefix + path.
    pub fn write_target(&self, path: &str, out: &mut dyn fmt::Write) -> fmt::Result {
        out.write_str(self.path_prefix())?;
        out.write_str(path)
    }

    /// Writes the `Host` header value: host (bracketed if IPv6) and `:port` when the URL had one.
    pub fn write_host_header(&self, out: &mut dyn fmt::Write) -> fmt::Result {
        // A reg-name never contains ':', so a ':' means an IPv6 literal.
        if self.host.contains(':') {
            out.write_char('[')?;
            out.write_str(&self.host)?;
            out.write_char(']')?;
        } else {
            out.write_str(&self.host)?;
        }
        if self.explicit_port {
            write!(out, ":{}", self.port)?;
        }
        Ok(())
    }

    /// Writes where connections go: scheme, host (bracketed if IPv6) and port, even when the URL
    /// named none (`http://169.254.169.254:80`), as connect errors name it.
    pub fn write_origin(&self, out: &mut dyn fmt::Write) -> fmt::Result {
        out.write_str(self.scheme.as_str())?;
        out.write_str("://")?;
        if self.host.contains(':') {
            write!(out, "[{}]:{}", self.host, self.port)
        } else {
            write!(out, "{}:{}", self.host, self.port)
        }
    }

    /// Writes the absolute URL of `path`, e.g. `http://169.254.169.254/latest/api/token`.
    pub fn write_url(&self, path: &str, out: &mut dyn fmt::Write) -> fmt::Result {
        out.write_str(self.scheme.as_str())?;
        out.write_str("://")?;
        self.write_host_header(out)?;
        self.write_target(path, out)
    }
}

/// Splits `authority` (no userinfo) into a validated host (brackets removed) and the port text.
fn split_host_port(authority: &str) -> Result<(&str, Option<&str>), SettingProblem> {
    if let Some(bracketed) = authority.strip_prefix('[') {
        let (literal, after) = bracketed
            .split_once(']')
            .ok_or(SettingProblem::InvalidHost)?;
        if Ipv6Addr::from_str(literal).is_err() {
            return Err(SettingProblem::InvalidHost);
        }
        return match after {
            "" => Ok((literal, None)),
            _ => match after.strip_prefix(':') {
                Some(port) => Ok((literal, Some(port))),
                None => Err(SettingProblem::InvalidHost),
            },
        };
    }
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    let looks_numeric = host.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    let valid = !host.is_empty()
        && host.bytes().all(is_host_name_byte)
        && (!looks_numeric || Ipv4Addr::from_str(host).is_ok());
    if valid {
        Ok((host, port))
    } else {
        Err(SettingProblem::InvalidHost)
    }
}

/// A port from 1 to 65535, decimal digits only.
fn parse_port(text: &str) -> Result<u16, SettingProblem> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SettingProblem::InvalidPort);
    }
    match u16::from_str(text) {
        Ok(port) if port != 0 => Ok(port),
        _ => Err(SettingProblem::InvalidPort),
    }
}

impl fmt::Display for Endpoint {
    /// The normalized base URL (scheme, host, port if given, prefix), e.g. `http://[::1]:1338`.
    /// It parses back to the same endpoint (a prefix that itself ends with `/`, from an endpoint
    /// ending with `//`, gets its stripped `/` back).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_url("", f)?;
        if self.path_prefix.ends_with('/') {
            f.write_str("/")?;
        }
        Ok(())
    }
}
