//! Time as the host gives it: a monotonic millisecond clock and wall-clock seconds.
//!
//! The core reads no clock. Every call that depends on time takes `now` ([`Instant`], monotonic
//! milliseconds from an origin the host chooses); expirations of credentials are compared against
//! wall-clock time ([`UnixTime`]) that the host passes when it starts an operation.

use core::fmt;

/// A point on the host's monotonic clock, in milliseconds since an arbitrary origin.
///
/// Hosts must pass non-decreasing values; the core treats a smaller `now` as "no time passed".
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct Instant(u64);

impl Instant {
    /// The instant `millis` milliseconds after the host's origin.
    pub const fn from_millis(millis: u64) -> Self {
        Self(millis)
    }

    /// Milliseconds since the host's origin.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// This instant plus `millis`, saturating at the end of time.
    pub const fn add_millis(self, millis: u64) -> Self {
        Self(self.0.saturating_add(millis))
    }

    /// Milliseconds from `earlier` to `self`, or 0 when `earlier` is later.
    pub const fn millis_since(self, earlier: Instant) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

/// Wall-clock time in whole seconds since 1970-01-01T00:00:00Z (leap seconds ignored, as in POSIX).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct UnixTime(i64);

impl UnixTime {
    /// The time `secs` seconds after the Unix epoch.
    pub const fn from_secs(secs: i64) -> Self {
        Self(secs)
    }

    /// Seconds since the Unix epoch.
    pub const fn as_secs(self) -> i64 {
        self.0
    }

    /// This time plus `secs` (which may be negative), saturating.
    pub const fn add_secs(self, secs: i64) -> Self {
        Self(self.0.saturating_add(secs))
    }

    /// Parses an RFC 3339 date-time as IMDS writes it: `YYYY-MM-DDTHH:MM:SS`, an optional fraction
    /// (dropped), then `Z` or a `±HH:MM` offset, which is applied to give UTC. Returns `None` for
    /// anything else, including impossible dates and times (month 13, February 30, hour 24,
    /// second 60) and years outside 0000–9999.
    ///
    /// ```
    /// use imds_core::UnixTime;
    /// let expiration = UnixTime::parse_rfc3339("2021-09-21T06:16:53.5+02:00");
    /// assert_eq!(expiration, Some(UnixTime::from_secs(1_632_197_813)));
    /// assert_eq!(UnixTime::parse_rfc3339("2021-02-29T00:00:00Z"), None);
    /// ```
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        crate::credentials::parse_rfc3339(text)
    }

    /// Formats as `YYYY-MM-DDTHH:MM:SSZ`, the form the `imds` command prints. Times before year
    /// 0000 or after 9999 print as the first or last second of that range.
    ///
    /// ```
    /// use imds_core::UnixTime;
    /// let text = UnixTime::from_secs(1_632_197_813).rfc3339().to_string();
    /// assert_eq!(text, "2021-09-21T04:16:53Z");
    /// ```
    pub fn rfc3339(self) -> Rfc3339 {
        Rfc3339(self)
    }
}

/// `Display` adapter printing a [`UnixTime`] as `YYYY-MM-DDTHH:MM:SSZ`.
#[derive(Clone, Copy, Debug)]
pub struct Rfc3339(UnixTime);

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::credentials::write_rfc3339(self.0, f)
    }
}
