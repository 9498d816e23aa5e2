//! RFC 3339 parsing and formatting of credential expirations, through the public `UnixTime` API.

use imds_core::UnixTime;

fn parse(text: &str) -> Option<i64> {
    UnixTime::parse_rfc3339(text).map(UnixTime::as_secs)
}

fn format(secs: i64) -> String {
    UnixTime::from_secs(secs).rfc3339().to_string()
}

/// Date-times with their Unix time as computed by Python's `datetime` (an independent source).
const KNOWN: [(&str, i64); 14] = [
    ("1970-01-01T00:00:00Z", 0),
    ("1969-12-31T23:59:59Z", -1),
    ("2000-01-01T00:00:00Z", 946_684_800),
    ("2021-09-21T04:16:53Z", 1_632_197_813),
    ("2025-03-12T21:53:17Z", 1_741_816_397),
    ("2024-02-29T23:59:59Z", 1_709_251_199),
    ("2000-02-29T12:00:00Z", 951_825_600),
    ("1900-02-28T23:59:59Z", -2_203_891_201),
    ("1900-03-01T00:00:00Z", -2_203_891_200),
    ("2100-03-01T00:00:00Z", 4_107_542_400),
    ("1600-03-01T00:00:00Z", -11_670_912_000),
    ("2038-01-19T03:14:08Z", 2_147_483_648),
    ("0001-01-01T00:00:00Z", -62_135_596_800),
    ("9999-12-31T23:59:59Z", 253_402_300_799),
];

#[test]
fn known_date_times_parse_to_their_unix_time() {
    for (text, secs) in KNOWN {
        assert_eq!(parse(text), Some(secs), "{text}");
    }
}

#[test]
fn known_unix_times_format_as_their_date_time() {
    for (text, secs) in KNOWN {
        assert_eq!(format(secs), text);
    }
}

#[test]
fn year_zero_is_a_leap_year_and_the_earliest_accepted() {
    assert_eq!(parse("0000-01-01T00:00:00Z"), Some(-62_167_219_200));
    assert_eq!(
        parse("0000-02-29T00:00:00Z"),
        Some(-62_167_219_200 + (31 + 28) * 86_400)
    );
    assert_eq!(format(-62_167_219_200), "0000-01-01T00:00:00Z");
}

#[test]
fn fractions_are_dropped() {
    assert_eq!(parse("2025-03-12T21:53:17.832308Z"), Some(1_741_816_397));
    assert_eq!(parse("2025-03-12T21:53:17.9Z"), Some(1_741_816_397));
    assert_eq!(
        parse("2025-03-12T21:53:17.000000000001Z"),
        Some(1_741_816_397)
    );
    assert_eq!(parse("1969-12-31T23:59:59.5Z"), Some(-1));
}

#[test]
fn offsets_are_normalised_to_utc() {
    assert_eq!(parse("2021-09-21T04:16:53+00:00"), Some(1_632_197_813));
    assert_eq!(parse("2021-09-21T04:16:53-00:00"), Some(1_632_197_813));
    assert_eq!(parse("2024-03-01T01:00:00+01:00"), Some(1_709_251_200));
    assert_eq!(parse("2024-02-29T00:00:00-05:30"), Some(1_709_184_600));
    assert_eq!(parse("2025-01-01T00:30:00.25+01:00"), Some(1_735_687_800));
    assert_eq!(parse("9999-12-31T23:59:59-23:59"), Some(253_402_387_139));
}

#[test]
fn lower_case_separators_are_accepted() {
    assert_eq!(parse("2021-09-21t04:16:53z"), Some(1_632_197_813));
}

#[test]
fn impossible_dates_and_times_are_refused() {
    for text in [
        "2021-13-01T00:00:00Z",
        "2021-00-01T00:00:00Z",
        "2021-01-00T00:00:00Z",
        "2021-01-32T00:00:00Z",
        "2021-02-29T00:00:00Z",
        "1900-02-29T00:00:00Z",
        "2024-02-30T00:00:00Z",
        "2021-04-31T00:00:00Z",
        "2021-06-31T00:00:00Z",
        "2021-09-31T00:00:00Z",
        "2021-11-31T00:00:00Z",
        "2021-01-01T24:00:00Z",
        "2021-01-01T23:60:00Z",
        "2021-01-01T23:59:60Z",
        "2021-01-01T00:00:00+24:00",
        "2021-01-01T00:00:00+01:60",
    ] {
        assert_eq!(parse(text), None, "{text}");
    }
}

#[test]
fn other_shapes_are_refused() {
    for text in [
        "",
        "2021-09-21",
        "2021-09-21T04:16Z",
        "2021-09-21T04:16:53",
        "2021-09-21 04:16:53Z",
        "21-09-21T04:16:53Z",
        "12021-09-21T04:16:53Z",
        "2021-9-21T04:16:53Z",
        "2021-09-21T4:16:53Z",
        "2021-09-21T04:16:53.Z",
        "2021-09-21T04:16:53,5Z",
        "2021-09-21T04:16:53+0100",
        "2021-09-21T04:16:53+01",
        "2021-09-21T04:16:53Z ",
        " 2021-09-21T04:16:53Z",
        "2021-09-21T04:16:53ZZ",
        "+2021-09-21T04:16:53Z",
        "-001-09-21T04:16:53Z",
        "2021-09-21T04:16:53UTC",
        "２０２１-09-21T04:16:53Z",
    ] {
        assert_eq!(parse(text), None, "{text:?}");
    }
}

#[test]
fn formatting_then_parsing_returns_the_same_time() {
    let earliest = -62_167_219_200_i64;
    let latest = 253_402_300_799_i64;
    // A stride that is prime and not a whole number of days visits every time of day and month.
    let mut secs = earliest;
    let mut checked = 0;
    while secs <= latest {
        let text = format(secs);
        assert_eq!(text.len(), 20, "{text}");
        assert_eq!(parse(&text), Some(secs), "{text}");
        secs += 9_999_991;
        checked += 1;
    }
    assert!(checked > 30_000);
    for secs in [earliest, latest, -1, 0, 1, 86_399, 86_400] {
        assert_eq!(parse(&format(secs)), Some(secs));
    }
}

#[test]
fn days_are_consecutive_across_four_centuries() {
    // Day by day from 1600-03-01 for 400 years (a whole Gregorian cycle): each formatted date is the
    // day after the previous one, so month lengths and leap days are right everywhere.
    let mut previous = format(-11_670_912_000);
    for day in 1..146_097_i64 {
        let text = format(-11_670_912_000 + day * 86_400);
        let (year, month, date) = split(&previous).unwrap();
        let expected = next_day(year, month, date);
        assert_eq!(split(&text), Some(expected), "after {previous}");
        previous = text;
    }
    assert_eq!(previous, "2000-02-29T00:00:00Z");
}

fn split(text: &str) -> Option<(u32, u32, u32)> {
    let number = |range: core::ops::Range<usize>| text.get(range)?.parse::<u32>().ok();
    Some((number(0..4)?, number(5..7)?, number(8..10)?))
}

/// The day after a date, from the rules of the Gregorian calendar spelled out plainly.
fn next_day(year: u32, month: u32, day: u32) -> (u32, u32, u32) {
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    let length = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if leap => 29,
        _ => 28,
    };
    match (day < length, month < 12) {
        (true, _) => (year, month, day + 1),
        (false, true) => (year, month + 1, 1),
        (false, false) => (year + 1, 1, 1),
    }
}

#[test]
fn times_beyond_four_digit_years_are_clamped_when_formatted() {
    assert_eq!(format(i64::MAX), "9999-12-31T23:59:59Z");
    assert_eq!(format(i64::MIN), "0000-01-01T00:00:00Z");
    assert_eq!(format(253_402_300_800), "9999-12-31T23:59:59Z");
}
