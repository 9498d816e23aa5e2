//! Arbitrary bytes as the credentials document and as the role list: no panic, and whatever parses
//! survives a round trip through the `credential_process` JSON the `imds` command prints.
#![no_main]

use imds_core::fuzzing;
use libfuzzer_sys::fuzz_target;

/// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: expirations the process JSON can print exactly.
const PRINTABLE: core::ops::RangeInclusive<i64> = -62_167_219_200..=253_402_300_799;

fuzz_target!(|body: &[u8]| {
    let _ = fuzzing::parse_role_name(body);
    match fuzzing::parse_credentials(body) {
        Ok(credentials) => {
            let mut json = String::new();
            credentials.write_process_json(&mut json).unwrap();
            let _ = format!("{credentials:?}");
            if PRINTABLE.contains(&credentials.expiration().as_secs()) {
                let again = fuzzing::parse_credentials(json.as_bytes()).unwrap();
                assert_eq!(again, credentials, "{json}");
            }
        }
        Err(error) => {
            let _ = format!("{error} {error:?}");
        }
    }
});
