//! Arbitrary bytes as the credentials document and as the role list: no panic; the hand-written
//! JSON scanner agrees with serde_json on what is JSON; and whatever parses survives a round trip
//! through the `credential_process` JSON the `imds` command prints.
#![no_main]

use imds_core::error::Context;
use imds_core::fuzzing;
use libfuzzer_sys::fuzz_target;

/// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: expirations the process JSON can print exactly.
const PRINTABLE: core::ops::RangeInclusive<i64> = -62_167_219_200..=253_402_300_799;

/// The scanner's one deliberate limit that serde_json does not share.
const TOO_DEEP: &str = "values are nested more than 32 levels deep";

fuzz_target!(|body: &[u8]| {
    let _ = fuzzing::parse_role_name(body);
    let reference = serde_json::from_slice::<serde_json::Value>(body);
    match fuzzing::parse_credentials(body) {
        Ok(credentials) => {
            let Ok(serde_json::Value::Object(object)) = &reference else {
                panic!("accepted what serde_json calls {reference:?}");
            };
            // Where one key (in any case) names a field, its decoded string must be serde_json's.
            let fields: [(&[&str], Option<&str>); 4] = [
                (&["AccessKeyId"], Some(credentials.access_key_id())),
                (&["SecretAccessKey"], Some(credentials.secret_access_key())),
                (
                    &["Token", "SessionToken"],
                    Some(credentials.session_token()),
                ),
                (&["AccountId"], credentials.account_id()),
            ];
            for (names, ours) in fields {
                let mut keys = object
                    .iter()
                    .filter(|(key, _)| names.iter().any(|name| name.eq_ignore_ascii_case(key)));
                if let (Some((_, serde_json::Value::String(theirs))), None) =
                    (keys.next(), keys.next())
                {
                    assert_eq!(ours, Some(theirs.as_str()), "{names:?}");
                }
            }
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
            // A syntax complaint about JSON that serde_json reads as an object is a scanner bug;
            // JSON that is not an object must be called that. (Complaints about a field's value
            // start with the field's name in backquotes.)
            if let (Ok(value), Context::Detail(detail)) = (&reference, error.context())
                && !detail.starts_with('`')
            {
                match value {
                    serde_json::Value::Object(_) => {
                        assert_eq!(*detail, TOO_DEEP, "refused an object serde_json reads")
                    }
                    _ => assert_eq!(*detail, "the document is not a JSON object"),
                }
            }
        }
    }
});
