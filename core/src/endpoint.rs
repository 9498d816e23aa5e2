//! The IMDS endpoint: a validated `http`/`https` URL from which every request target is built.
//!
//! Accepted: an absolute URL with a host (name, IPv4 literal or bracketed IPv6 literal), an optional
//! port and an optional path prefix. Refused with a [`SettingProblem`]: other schemes, userinfo,
//! fragments, spaces and control characters, bad ports. A query is dropped. Paths are joined the way
//! aws-config's `merge_paths` does: strip one trailing `/` from the prefix, then add the request path
//! (which starts with `/`), so `http://h:1`, `http://h:1/` give `/latest/api/token` and
//! `http://h/prefix/` gives `/prefix/latest/api/token`.

use core::fmt;

use crate::error::SettingProblem;
use crate::settings::EndpointMode;

/// Longest host name stored (DNS limit 253, plus brackets for IPv6 literals).
pub const HOST_CAPACITY: usize = 255;
/// Longest path prefix stored.
pub const PATH_PREFIX_CAPACITY: usize = 256;

/// `http` or `https`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Scheme {
    /// Plain TCP.
    #[default]
    Http,
    /// TLS; the host driver must support it.
    Https,
}

/// A validated IMDS endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Endpoint {
    scheme: Scheme,
    host: heapless::String<HOST_CAPACITY>,
    port: u16,
    explicit_port: bool,
    path_prefix: heapless::String<PATH_PREFIX_CAPACITY>,
}

impl Endpoint {
    /// Parses and validates an endpoint URL (surrounding ASCII whitespace is trimmed).
    pub fn parse(text: &str) -> Result<Self, SettingProblem> {
        let _ = text;
        Err(SettingProblem::NotAUrl)
    }

    /// The default endpoint for `mode`.
    pub fn for_mode(mode: EndpointMode) -> Self {
        let _ = mode;
        Self::default()
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
        let _ = out;
        Ok(())
    }

    /// Writes the absolute URL of `path`, e.g. `http://169.254.169.254/latest/api/token`.
    pub fn write_url(&self, path: &str, out: &mut dyn fmt::Write) -> fmt::Result {
        let _ = (path, out);
        Ok(())
    }
}

impl fmt::Display for Endpoint {
    /// The normalized base URL (scheme, host, port if given, prefix), e.g. `http://[::1]:1338`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_url("", f)
    }
}
