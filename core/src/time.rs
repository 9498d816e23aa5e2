//! Time as the host gives it: a monotonic millisecond clock and wall-clock seconds.
//!
//! The core reads no clock. Every call that depends on time takes `now` ([`Instant`], monotonic
//! milliseconds from an origin the host chooses); expirations of credentials are compared against
//! wall-clock time ([`UnixTime`]) that the host passes when it starts an operation.
//!
//! RFC 3339 date-times (the credentials' `Expiration`, and what the `imds` command prints) are
//! parsed and written here, with civil-date arithmetic in integers (Howard Hinnant's
//! `days_from_civil`).

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
        parse_rfc3339(text)
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
        write_rfc3339(self.0, f)
    }
}

/// Seconds in a day.
const SECS_PER_DAY: i64 = 86_400;
/// Days from 0000-03-01 to 1970-01-01 in the proleptic Gregorian calendar.
const DAYS_TO_UNIX_EPOCH: i64 = 719_468;
/// Days in a 400-year cycle of the Gregorian calendar.
const DAYS_PER_ERA: i64 = 146_097;
/// The earliest time [`write_rfc3339`] can print (0000-01-01T00:00:00Z).
const EARLIEST_PRINTABLE: i64 = -62_167_219_200;
/// The latest time [`write_rfc3339`] can print (9999-12-31T23:59:59Z).
const LATEST_PRINTABLE: i64 = 253_402_300_799;

/// Parses an RFC 3339 date-time (see [`UnixTime::parse_rfc3339`]): `YYYY-MM-DDTHH:MM:SS`, an
/// optional fraction (dropped), then `Z` or `±HH:MM`, normalised to UTC. Impossible dates and times
/// (month 13, February 30, hour 24, second 60) are rejected.
fn parse_rfc3339(text: &str) -> Option<UnixTime> {
    let mut cursor = Digits(text.as_bytes());
    let year = cursor.number(4)?;
    cursor.literal(b'-')?;
    let month = cursor.number(2)?;
    cursor.literal(b'-')?;
    let day = cursor.number(2)?;
    cursor.either(b'T', b't')?;
    let hour = cursor.number(2)?;
    cursor.literal(b':')?;
    let minute = cursor.number(2)?;
    cursor.literal(b':')?;
    let second = cursor.number(2)?;
    if cursor.peek() == Some(b'.') {
        cursor.advance();
        cursor.fraction()?;
    }
    let offset_secs = match cursor.next()? {
        b'Z' | b'z' => 0,
        sign @ (b'+' | b'-') => {
            let offset_hour = cursor.number(2)?;
            cursor.literal(b':')?;
            let offset_minute = cursor.number(2)?;
            if offset_hour > 23 || offset_minute > 59 {
                return None;
            }
            let magnitude = offset_hour * 3_600 + offset_minute * 60;
            if sign == b'+' { magnitude } else { -magnitude }
        }
        _ => return None,
    };
    if !cursor.0.is_empty()
        || !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let local = days * SECS_PER_DAY + hour * 3_600 + minute * 60 + second;
    Some(UnixTime::from_secs(local - offset_secs))
}

/// Writes `time` as `YYYY-MM-DDTHH:MM:SSZ`. Times outside years 0000–9999 are clamped to that range
/// so that the output is always a valid RFC 3339 date-time.
fn write_rfc3339(time: UnixTime, out: &mut fmt::Formatter<'_>) -> fmt::Result {
    let secs = time.as_secs().clamp(EARLIEST_PRINTABLE, LATEST_PRINTABLE);
    let days = secs.div_euclid(SECS_PER_DAY);
    let second_of_day = secs.rem_euclid(SECS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    write!(
        out,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        second_of_day / 3_600,
        second_of_day / 60 % 60,
        second_of_day % 60
    )
}

/// Whether `year` is a leap year of the Gregorian calendar.
const fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Days in `month` (1–12) of `year`.
const fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a valid civil date (Howard Hinnant's `days_from_civil`).
const fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * DAYS_PER_ERA + day_of_era - DAYS_TO_UNIX_EPOCH
}

/// The civil date `(year, month, day)` of a day count since 1970-01-01 (Hinnant's `civil_from_days`).
const fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + DAYS_TO_UNIX_EPOCH;
    let era = days.div_euclid(DAYS_PER_ERA);
    let day_of_era = days - era * DAYS_PER_ERA;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + if month <= 2 { 1 } else { 0 };
    (year, month, day)
}

/// A cursor over the bytes of a date-time being parsed.
struct Digits<'a>(&'a [u8]);

impl Digits<'_> {
    fn peek(&self) -> Option<u8> {
        self.0.first().copied()
    }

    fn advance(&mut self) {
        self.0 = self.0.get(1..).unwrap_or(&[]);
    }

    fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.advance();
        Some(byte)
    }

    fn literal(&mut self, expected: u8) -> Option<()> {
        (self.next()? == expected).then_some(())
    }

    fn either(&mut self, first: u8, second: u8) -> Option<()> {
        let byte = self.next()?;
        (byte == first || byte == second).then_some(())
    }

    /// Exactly `count` ASCII digits as a number.
    fn number(&mut self, count: usize) -> Option<i64> {
        let mut value = 0;
        for _ in 0..count {
            let byte = self.next()?;
            if !byte.is_ascii_digit() {
                return None;
            }
            value = value * 10 + i64::from(byte - b'0');
        }
        Some(value)
    }

    /// One or more digits of a fraction of a second, which is dropped.
    fn fraction(&mut self) -> Option<()> {
        let digits = self
            .0
            .iter()
            .take_while(|byte| byte.is_ascii_digit())
            .count();
        if digits == 0 {
            return None;
        }
        self.0 = self.0.get(digits..).unwrap_or(&[]);
        Some(())
    }
}
