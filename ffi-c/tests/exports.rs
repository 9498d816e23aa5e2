//! The exports called as C calls them: raw pointers, caller storage, out-parameters, views into
//! the client, NULL where C may pass it. These are the tests Miri runs
//! (`cargo +nightly miri test -p imds-ffi --test exports`, in `make check-extra`), as rustls-ffi
//! runs its own: Miri checks every pointer the library reads or writes through, which the C tests
//! (`ffi-c/c/tests`) cannot. No socket is opened: the exchange is fed canned bytes.
// Reading what the library writes through C's pointers is the point; every block says why.
#![allow(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks)]

use core::ffi::{CStr, c_char};
use core::mem::MaybeUninit;
use core::ptr::{null, null_mut};

use imds::action::{imds_action, imds_action_kind, imds_io_error};
use imds::blocking::imds_fetch_credentials;
use imds::cli::{
    imds_cli_exit_code, imds_cli_help, imds_cli_parse, imds_cli_usage, imds_cli_usage_error_line,
    imds_cli_version, imds_command, imds_invocation,
};
use imds::client::*;
use imds::config::*;
use imds::credentials::imds_credentials;
use imds::result::{imds_result, imds_result_str};
use imds::settings::*;
use imds::text::{IMDS_CREDENTIALS_JSON_CAPACITY, IMDS_TEXT_CAPACITY, imds_bytes, imds_str};
use imds::version::imds_version;

/// Caller storage for a client, aligned more than any client needs.
#[repr(C, align(64))]
struct Storage([u8; 64 * 1024]);

fn storage() -> Box<MaybeUninit<Storage>> {
    Box::new_uninit()
}

/// The text a view points to.
fn view(text: imds_str) -> String {
    assert!(!text.data.is_null());
    // SAFETY: the library hands out views of `len` readable bytes (checked by Miri).
    let bytes = unsafe { core::slice::from_raw_parts(text.data.cast::<u8>(), text.len) };
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn bytes(view: imds_bytes) -> Vec<u8> {
    assert!(!view.data.is_null());
    // SAFETY: as in `view`.
    unsafe { core::slice::from_raw_parts(view.data, view.len) }.to_vec()
}

fn c_text(text: *const c_char) -> String {
    // SAFETY: the library returns static NUL-terminated strings.
    unsafe { CStr::from_ptr(text) }.to_str().unwrap().to_owned()
}

/// Renders text with one of the `(buf, len, written_out)` functions into a buffer of `capacity`.
fn text_of(
    capacity: usize,
    write: impl FnOnce(*mut u8, usize, *mut usize) -> imds_result,
) -> Result<String, imds_result> {
    let mut buf = vec![0u8; capacity];
    let mut written = usize::MAX;
    match write(buf.as_mut_ptr(), buf.len(), &mut written) {
        imds_result::Ok => {
            buf.truncate(written);
            Ok(String::from_utf8(buf).unwrap())
        }
        failure => {
            assert_eq!(written, usize::MAX, "written_out is left alone on failure");
            Err(failure)
        }
    }
}

/// Renders text with room to spare, checking the buffer-size contract on the way: one byte short
/// is `IMDS_RESULT_INSUFFICIENT_SIZE` with `written_out` left alone, the exact size suffices.
fn text_sized(write: impl Fn(*mut u8, usize, *mut usize) -> imds_result) -> String {
    let text = text_of(64 * 1024, &write).unwrap();
    assert_eq!(
        text_of(text.len() - 1, &write),
        Err(imds_result::InsufficientSize)
    );
    assert_eq!(text_of(text.len(), &write).unwrap(), text);
    text
}

fn set(config: *mut imds_config, source: imds_source, key: &str, value: &str) -> imds_result {
    imds_config_set(
        config,
        source as u32,
        key.as_ptr().cast(),
        key.len(),
        value.as_ptr().cast(),
        value.len(),
    )
}

/// Settings with these code values.
fn settings_with(pairs: &[(&str, &str)]) -> *mut imds_settings {
    let mut config = null_mut();
    assert_eq!(imds_config_new(&mut config), imds_result::Ok);
    for (key, value) in pairs {
        assert_eq!(set(config, imds_source::Code, key, value), imds_result::Ok);
    }
    let mut settings = null_mut();
    assert_eq!(imds_config_resolve(config, &mut settings), imds_result::Ok);
    imds_config_free(config);
    settings
}

fn settings_for_port(port: u16) -> *mut imds_settings {
    settings_with(&[("endpoint", &format!("http://127.0.0.1:{port}"))])
}

fn poll(client: *mut imds_client, now: u64) -> Result<imds_action, imds_result> {
    let mut action = MaybeUninit::<imds_action>::uninit();
    match imds_client_poll(client, now, action.as_mut_ptr()) {
        // SAFETY: `imds_client_poll` wrote the action (it returned OK).
        imds_result::Ok => Ok(unsafe { action.assume_init() }),
        failure => Err(failure),
    }
}

fn last_error(client: *const imds_client) -> String {
    text_of(IMDS_TEXT_CAPACITY, |buf, len, written| {
        imds_client_last_error(client, buf, len, written)
    })
    .unwrap()
}

/// Expects a request starting with `start`, then feeds `response` in two pieces.
fn exchange(client: *mut imds_client, now: u64, start: &str, response: &str) {
    let action = poll(client, now).unwrap();
    assert_eq!(action.kind, imds_action_kind::Send);
    let request = bytes(action.data);
    assert!(request.starts_with(start.as_bytes()), "{request:?}");
    let action = poll(client, now).unwrap();
    assert_eq!(action.kind, imds_action_kind::Receive);
    let (head, tail) = response.as_bytes().split_at(response.len() / 2);
    for piece in [head, tail] {
        assert_eq!(
            imds_client_handle_data(client, now, piece.as_ptr(), piece.len()),
            imds_result::Ok
        );
    }
}

fn response(body: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

const CREDENTIALS_JSON: &str = "{\"Code\":\"Success\",\"LastUpdated\":\"2024-01-01T00:00:00Z\",\
     \"Type\":\"AWS-HMAC\",\"AccessKeyId\":\"ASIATRANSCRIPT\",\"SecretAccessKey\":\"s3cr3t\",\
     \"Token\":\"t0k3n\",\"Expiration\":\"2030-01-01T00:00:00Z\"}";

/// Token, role and credentials from canned responses on a client at `client`.
fn fetch_credentials(client: *mut imds_client, now: u64) {
    assert_eq!(
        imds_client_start_credentials(client, now, 1_700_000_000),
        imds_result::Ok
    );
    let connect = poll(client, now).unwrap();
    assert_eq!(connect.kind, imds_action_kind::Connect);
    assert_eq!(
        (view(connect.host).as_str(), connect.port),
        ("127.0.0.1", 1338)
    );
    assert_eq!(imds_client_handle_connected(client, now), imds_result::Ok);
    exchange(
        client,
        now,
        "PUT /latest/api/token ",
        "HTTP/1.1 200 OK\r\nx-aws-ec2-metadata-token-ttl-seconds: 21600\r\nContent-Length: 5\r\n\r\nabcde",
    );
    exchange(
        client,
        now,
        "GET /latest/meta-data/iam/security-credentials/ ",
        &response("role"),
    );
    exchange(
        client,
        now,
        "GET /latest/meta-data/iam/security-credentials/role ",
        &response(CREDENTIALS_JSON),
    );
    assert_eq!(poll(client, now).unwrap().kind, imds_action_kind::Done);
}

#[test]
fn static_strings_and_results() {
    assert_eq!(
        c_text(imds_version()),
        format!("imds/{}", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(c_text(imds_result_str(imds_result::Ok as u32)), "success");
    assert_eq!(c_text(imds_result_str(999_999)), "unknown result");
    assert_eq!(view(imds_source_name(imds_source::Env as u32)), "env");
    let unknown = imds_source_name(1234);
    assert_eq!((unknown.len, unknown.data.is_null()), (0, false));
    assert_eq!(imds_cli_exit_code(imds_result::Disabled as u32), 3);
    assert_eq!(imds_cli_exit_code(424_242), 1);
}

#[test]
fn cli_arguments_are_read_through_argv() {
    let args = [
        c"--trace".as_ptr(),
        c"get".as_ptr(),
        c"placement/region".as_ptr(),
    ];
    let mut invocation = MaybeUninit::<imds_invocation>::uninit();
    assert_eq!(
        imds_cli_parse(args.as_ptr(), args.len(), invocation.as_mut_ptr()),
        imds_result::Ok
    );
    // SAFETY: written on OK.
    let invocation = unsafe { invocation.assume_init() };
    assert_eq!(invocation.command, imds_command::Get);
    assert!(invocation.trace);
    assert_eq!(view(invocation.path), "placement/region");

    let with_null = [c"get".as_ptr(), null()];
    let mut out = MaybeUninit::<imds_invocation>::uninit();
    assert_eq!(
        imds_cli_parse(with_null.as_ptr(), 2, out.as_mut_ptr()),
        imds_result::NullParameter
    );
    assert_eq!(
        imds_cli_parse(null(), 0, out.as_mut_ptr()),
        imds_result::NullParameter
    );
    let bogus = [c"bogus".as_ptr()];
    assert_eq!(
        imds_cli_parse(bogus.as_ptr(), 1, out.as_mut_ptr()),
        imds_result::Usage
    );
    let line = text_of(IMDS_TEXT_CAPACITY, |buf, len, written| {
        imds_cli_usage_error_line(bogus.as_ptr(), 1, buf, len, written)
    })
    .unwrap();
    assert_eq!(
        line,
        format!(
            "imds: unknown command `bogus`; {}\n",
            view(imds_cli_usage())
        )
    );
    assert_eq!(
        text_of(10, |buf, len, written| {
            imds_cli_usage_error_line(bogus.as_ptr(), 1, buf, len, written)
        }),
        Err(imds_result::InsufficientSize)
    );
    let not_utf8 = [c"\xff\xfe".as_ptr()];
    assert_eq!(
        imds_cli_parse(not_utf8.as_ptr(), 1, out.as_mut_ptr()),
        imds_result::Usage
    );
    let version = text_of(IMDS_TEXT_CAPACITY, |buf, len, written| {
        imds_cli_version(buf, len, written)
    })
    .unwrap();
    assert_eq!(version, format!("imds {}\n", env!("CARGO_PKG_VERSION")));
    assert_eq!(
        text_of(100, |buf, len, written| imds_cli_help(buf, len, written)),
        Err(imds_result::InsufficientSize)
    );
    let mut written = 0;
    assert_eq!(
        imds_cli_help(null_mut(), 100, &mut written),
        imds_result::NullParameter
    );
}

#[test]
fn config_and_settings_through_handles() {
    let mut config = null_mut();
    assert_eq!(imds_config_new(null_mut()), imds_result::NullParameter);
    assert_eq!(imds_config_new(&mut config), imds_result::Ok);
    assert_eq!(
        text_of(IMDS_TEXT_CAPACITY, |buf, len, written| {
            imds_config_last_error(config, buf, len, written)
        }),
        Err(imds_result::NotAvailable)
    );
    assert_eq!(
        imds_config_set(
            config,
            imds_source::Code as u32,
            null(),
            7,
            c"1".as_ptr(),
            1
        ),
        imds_result::NullParameter
    );
    assert_eq!(
        imds_config_set(config, 99, c"timeout".as_ptr(), 7, c"1".as_ptr(), 1),
        imds_result::InvalidArgument
    );
    let message = text_of(IMDS_TEXT_CAPACITY, |buf, len, written| {
        imds_config_last_error(config, buf, len, written)
    })
    .unwrap();
    assert!(message.contains("IMDS_SOURCE_"), "{message}");
    let huge = "a".repeat(5000);
    assert_eq!(
        set(config, imds_source::Code, "endpoint", &huge),
        imds_result::InvalidSetting
    );
    assert_eq!(
        imds_config_set(
            config,
            imds_source::Code as u32,
            c"endpoint".as_ptr(),
            8,
            huge.as_ptr().cast(),
            usize::MAX
        ),
        imds_result::InvalidArgument
    );
    assert_eq!(
        set(
            config,
            imds_source::Env,
            "AWS_METADATA_SERVICE_NUM_ATTEMPTS",
            "2"
        ),
        imds_result::Ok
    );
    assert_eq!(
        set(
            config,
            imds_source::Profile,
            "metadata_service_timeout",
            "0.5"
        ),
        imds_result::Ok
    );
    let mut settings = null_mut();
    assert_eq!(
        imds_config_resolve(config, null_mut()),
        imds_result::NullParameter
    );
    assert_eq!(imds_config_resolve(config, &mut settings), imds_result::Ok);

    let mut source = MaybeUninit::<imds_source>::uninit();
    let value = text_of(IMDS_TEXT_CAPACITY, |buf, len, written| {
        imds_settings_value(
            settings,
            c"timeout".as_ptr(),
            7,
            buf,
            len,
            written,
            source.as_mut_ptr(),
        )
    })
    .unwrap();
    assert_eq!(value, "0.5");
    // SAFETY: written on OK.
    assert_eq!(unsafe { source.assume_init() }, imds_source::Profile);
    let report = text_sized(|buf, len, written| imds_settings_report(settings, buf, len, written));
    assert!(report.contains("attempts = 2 (env AWS_METADATA_SERVICE_NUM_ATTEMPTS)\n"));
    imds_settings_free(settings);
    imds_settings_free(null_mut());

    assert_eq!(
        set(config, imds_source::Code, "timeout", "abc"),
        imds_result::Ok
    );
    let mut refused = null_mut();
    assert_eq!(
        imds_config_resolve(config, &mut refused),
        imds_result::InvalidSetting
    );
    assert!(refused.is_null());
    let line = text_of(IMDS_TEXT_CAPACITY, |buf, len, written| {
        imds_config_last_error_line(config, buf, len, written)
    })
    .unwrap();
    assert!(line.starts_with("imds: ") && line.contains("`abc`") && line.ends_with('\n'));
    imds_config_free(config);
    imds_config_free(null_mut());
}

#[test]
fn a_client_in_caller_storage_is_initialised_deinitialised_and_reinitialised() {
    let mut store = storage();
    let base = store.as_mut_ptr().cast::<u8>();
    let settings = settings_for_port(1);
    let size = imds_client_size();
    assert!(size <= size_of::<Storage>() && imds_client_align() <= 64);
    let mut client = null_mut();
    assert_eq!(
        imds_client_init(base.cast(), size - 1, settings, 1, &mut client),
        imds_result::InsufficientSize
    );
    if imds_client_align() > 1 {
        // SAFETY: one byte into the storage is still inside it.
        let misaligned = unsafe { base.add(1) };
        assert_eq!(
            imds_client_init(misaligned.cast(), size, settings, 1, &mut client),
            imds_result::Misaligned
        );
    }
    assert!(client.is_null());
    assert_eq!(
        imds_client_init(base.cast(), size, settings, 1, &mut client),
        imds_result::Ok
    );
    assert_eq!(client.cast::<u8>(), base);
    let mut settings_view = null();
    assert_eq!(
        imds_client_settings(client, &mut settings_view),
        imds_result::Ok
    );
    let endpoint = text_of(IMDS_TEXT_CAPACITY, |buf, len, written| {
        let mut source = MaybeUninit::<imds_source>::uninit();
        imds_settings_value(
            settings_view,
            c"endpoint".as_ptr(),
            8,
            buf,
            len,
            written,
            source.as_mut_ptr(),
        )
    })
    .unwrap();
    assert_eq!(endpoint, "http://127.0.0.1:1");
    // The settings were copied: freeing them leaves the client whole.
    imds_settings_free(settings);
    assert_eq!(
        imds_client_start_credentials(client, 1, 1_700_000_000),
        imds_result::Ok
    );
    assert_eq!(poll(client, 1).unwrap().port, 1);

    imds_client_deinit(client);
    assert_eq!(poll(client, 2).err(), Some(imds_result::NotInitialized));
    assert_eq!(
        imds_client_start_credentials(client, 2, 0),
        imds_result::NotInitialized
    );
    let mut credentials = MaybeUninit::<imds_credentials>::uninit();
    assert_eq!(
        imds_client_credentials(client, credentials.as_mut_ptr()),
        imds_result::NotInitialized
    );
    assert_eq!(
        imds_fetch_credentials(client, credentials.as_mut_ptr()),
        imds_result::NotInitialized
    );
    imds_client_deinit(client);
    imds_client_free(client);
    imds_client_deinit(null_mut());
    imds_client_free(null_mut());

    let settings = settings_for_port(2);
    let mut again = null_mut();
    assert_eq!(
        imds_client_init(base.cast(), size_of::<Storage>(), settings, 2, &mut again),
        imds_result::Ok
    );
    assert_eq!(again, client);
    assert_eq!(
        text_of(IMDS_TEXT_CAPACITY, |buf, len, written| {
            imds_client_last_error(again, buf, len, written)
        }),
        Err(imds_result::NotAvailable)
    );
    assert_eq!(
        imds_client_start_credentials(again, 5, 1_700_000_000),
        imds_result::Ok
    );
    assert_eq!(poll(again, 5).unwrap().port, 2);
    // `free` deinitialises a client in caller storage.
    imds_client_free(again);
    assert_eq!(poll(again, 6).err(), Some(imds_result::NotInitialized));
    imds_settings_free(settings);
}

#[test]
fn heap_clients_are_freed_and_left_alone_by_deinit() {
    let settings = settings_for_port(3);
    let mut client = null_mut();
    assert_eq!(
        imds_client_new(null(), 1, &mut client),
        imds_result::NullParameter
    );
    assert_eq!(
        imds_client_new(settings, 1, null_mut()),
        imds_result::NullParameter
    );
    assert_eq!(imds_client_new(settings, 3, &mut client), imds_result::Ok);
    imds_client_deinit(client);
    assert_eq!(
        imds_client_start_credentials(client, 1, 1_700_000_000),
        imds_result::Ok
    );
    imds_client_free(client);
    imds_settings_free(settings);
}

#[test]
fn a_whole_exchange_through_the_views() {
    let mut store = storage();
    let settings = settings_for_port(1338);
    let mut client = null_mut();
    assert_eq!(
        imds_client_init(
            store.as_mut_ptr().cast(),
            size_of::<Storage>(),
            settings,
            7,
            &mut client
        ),
        imds_result::Ok
    );
    imds_settings_free(settings);
    fetch_credentials(client, 100);

    let mut credentials = MaybeUninit::<imds_credentials>::uninit();
    assert_eq!(
        imds_client_credentials(client, credentials.as_mut_ptr()),
        imds_result::Ok
    );
    // SAFETY: written on OK.
    let credentials = unsafe { credentials.assume_init() };
    assert_eq!(view(credentials.access_key_id), "ASIATRANSCRIPT");
    assert_eq!(view(credentials.secret_access_key), "s3cr3t");
    assert_eq!(view(credentials.session_token), "t0k3n");
    assert_eq!(view(credentials.account_id), "");
    assert_eq!(credentials.expiration, 1_893_456_000);
    let json =
        text_sized(|buf, len, written| imds_client_credentials_json(client, buf, len, written));
    assert!(json.len() <= IMDS_CREDENTIALS_JSON_CAPACITY);
    assert!(json.starts_with("{\"Version\":1,\"AccessKeyId\":\"ASIATRANSCRIPT\""));

    // Diagnostics: a small buffer leaves one queued; none shows a secret.
    let mut level = MaybeUninit::<imds_level>::uninit();
    assert_eq!(
        text_of(3, |buf, len, written| {
            imds_client_next_diagnostic(client, buf, len, written, level.as_mut_ptr())
        }),
        Err(imds_result::InsufficientSize)
    );
    let first = text_of(IMDS_TEXT_CAPACITY, |buf, len, written| {
        imds_client_next_diagnostic(client, buf, len, written, level.as_mut_ptr())
    })
    .unwrap();
    assert_eq!(first, "> PUT /latest/api/token");
    // SAFETY: written on OK.
    assert_eq!(unsafe { level.assume_init() }, imds_level::Trace);
    let trace = text_of(IMDS_TEXT_CAPACITY, |buf, len, written| {
        imds_client_next_trace_line(client, buf, len, written)
    })
    .unwrap();
    assert_eq!(trace, "imds: trace: < 200\n");
    let mut rest = Vec::new();
    while let Ok(text) = text_of(IMDS_TEXT_CAPACITY, |buf, len, written| {
        imds_client_next_diagnostic(client, buf, len, written, level.as_mut_ptr())
    }) {
        rest.push(text);
    }
    assert_eq!(rest.len(), 4, "{rest:?}");
    assert!(rest.iter().all(|text| !text.contains("s3cr3t")
        && !text.contains("t0k3n")
        && !text.contains("abcde")));

    // Cached credentials: done at once. Then a read on the kept connection.
    assert_eq!(
        imds_client_start_credentials(client, 200, 1_700_000_000),
        imds_result::Ok
    );
    assert_eq!(poll(client, 200).unwrap().kind, imds_action_kind::Done);
    let path = "placement/region";
    assert_eq!(
        imds_client_start_get(client, 300, path.as_ptr().cast(), path.len()),
        imds_result::Ok
    );
    exchange(
        client,
        301,
        "GET /latest/meta-data/placement/region ",
        &response("us-west-2"),
    );
    let done = poll(client, 302).unwrap();
    assert_eq!(done.kind, imds_action_kind::Done);
    assert_eq!((done.host.len, done.data.len), (0, 0));
    let mut body = MaybeUninit::<imds_bytes>::uninit();
    assert_eq!(imds_client_body(client, body.as_mut_ptr()), imds_result::Ok);
    // SAFETY: written on OK.
    assert_eq!(bytes(unsafe { body.assume_init() }), b"us-west-2");

    // A response larger than the receive buffer, fed at once.
    let path = "instance-id";
    assert_eq!(
        imds_client_start_get(client, 400, path.as_ptr().cast(), path.len()),
        imds_result::Ok
    );
    assert_eq!(poll(client, 400).unwrap().kind, imds_action_kind::Send);
    assert_eq!(poll(client, 400).unwrap().kind, imds_action_kind::Receive);
    let mut big = vec![b'x'; 20_000];
    let head = b"HTTP/1.1 200 OK\r\nContent-Length: 19000\r\n\r\n";
    big[..head.len()].copy_from_slice(head);
    assert_eq!(
        imds_client_handle_data(client, 401, big.as_ptr(), big.len()),
        imds_result::Ok
    );
    assert_eq!(poll(client, 401).err(), Some(imds_result::ResponseTooLarge));
    assert_eq!(
        imds_client_body(client, body.as_mut_ptr()),
        imds_result::NotAvailable
    );
    assert!(
        last_error(client).contains("larger"),
        "{}",
        last_error(client)
    );
    assert_eq!(imds_client_handle_closed(client), imds_result::Ok);
    imds_client_deinit(client);
}

#[test]
fn host_reports_are_checked() {
    let settings = settings_for_port(1338);
    let mut client = null_mut();
    assert_eq!(imds_client_new(settings, 8, &mut client), imds_result::Ok);
    imds_settings_free(settings);
    let name = "my-agent/1.2";
    assert_eq!(
        imds_client_set_binding(client, name.as_ptr().cast(), name.len()),
        imds_result::Ok
    );
    assert_eq!(
        imds_client_set_binding(client, c"\xff".as_ptr(), 1),
        imds_result::InvalidArgument
    );
    assert_eq!(
        imds_client_set_binding(client, null(), 1),
        imds_result::NullParameter
    );
    assert_eq!(
        imds_client_handle_connected_reused(client, 1),
        imds_result::InvalidState
    );
    assert!(last_error(client).contains("pending action"));
    assert_eq!(
        imds_client_handle_data(client, 1, null(), 0),
        imds_result::NullParameter
    );

    let path = "instance-id";
    assert_eq!(
        imds_client_start_get(client, 10, path.as_ptr().cast(), path.len()),
        imds_result::Ok
    );
    assert_eq!(
        imds_client_start_get(client, 10, null(), 3),
        imds_result::NullParameter
    );
    assert_eq!(poll(client, 10).unwrap().kind, imds_action_kind::Connect);
    assert_eq!(
        imds_client_handle_io_error(client, 11, 77),
        imds_result::InvalidArgument
    );
    assert_eq!(
        imds_client_handle_connected_reused(client, 11),
        imds_result::Ok
    );
    let send = poll(client, 12).unwrap();
    assert_eq!(send.kind, imds_action_kind::Send);
    assert!(
        bytes(send.data)
            .windows(name.len())
            .any(|w| w == name.as_bytes())
    );
    assert_eq!(poll(client, 12).unwrap().kind, imds_action_kind::Receive);
    // The pooled connection was closed by the server: the request goes again on a new one.
    assert_eq!(imds_client_handle_eof(client, 13), imds_result::Ok);
    assert_eq!(poll(client, 13).unwrap().kind, imds_action_kind::Close);
    assert_eq!(poll(client, 13).unwrap().kind, imds_action_kind::Connect);
    assert_eq!(imds_client_handle_timeout(client, 14), imds_result::Ok);
    assert!(poll(client, 14).is_err());
    assert!(!last_error(client).is_empty());
    let line = text_of(IMDS_TEXT_CAPACITY, |buf, len, written| {
        imds_client_last_error_line(client, buf, len, written)
    })
    .unwrap();
    assert!(line.starts_with("imds: ") && line.ends_with('\n'));

    assert_eq!(
        imds_client_start_get(client, 20, path.as_ptr().cast(), path.len()),
        imds_result::Ok
    );
    assert_eq!(poll(client, 20).unwrap().kind, imds_action_kind::Connect);
    assert_eq!(
        imds_client_handle_io_error(client, 21, imds_io_error::ConnectionRefused as u32),
        imds_result::Ok
    );
    assert_eq!(imds_client_cancel(client), imds_result::Ok);
    assert_eq!(imds_client_reset(client), imds_result::Ok);
    assert_eq!(imds_client_reset(null_mut()), imds_result::NullParameter);
    imds_client_free(client);
}

#[test]
fn https_and_disabled_end_without_a_connection() {
    let settings = settings_with(&[("endpoint", "https://127.0.0.1:1")]);
    let mut client = null_mut();
    assert_eq!(imds_client_new(settings, 7, &mut client), imds_result::Ok);
    imds_settings_free(settings);
    assert_eq!(
        imds_client_start_credentials(client, 1, 1_700_000_000),
        imds_result::Ok
    );
    assert!(poll(client, 1).unwrap().tls);
    assert_eq!(
        imds_client_handle_unsupported(client),
        imds_result::Unsupported
    );
    assert!(last_error(client).contains("http://"));
    imds_client_free(client);

    let settings = settings_with(&[("disabled", "true")]);
    assert_eq!(imds_client_new(settings, 7, &mut client), imds_result::Ok);
    imds_settings_free(settings);
    assert_eq!(
        imds_client_start_credentials(client, 1, 1_700_000_000),
        imds_result::Disabled
    );
    assert!(last_error(client).contains("disabled"));
    let mut credentials = MaybeUninit::<imds_credentials>::uninit();
    assert_eq!(
        imds_fetch_credentials(null_mut(), credentials.as_mut_ptr()),
        imds_result::NullParameter
    );
    assert_eq!(
        imds_fetch_credentials(client, null_mut()),
        imds_result::NullParameter
    );
    imds_client_free(client);
}

#[test]
#[cfg_attr(miri, ignore = "reads the wall clock, which Miri's isolation forbids")]
fn the_blocking_fetch_of_a_disabled_client_makes_no_request() {
    let settings = settings_with(&[("disabled", "true")]);
    let mut client = null_mut();
    assert_eq!(imds_client_new(settings, 7, &mut client), imds_result::Ok);
    imds_settings_free(settings);
    let mut credentials = MaybeUninit::<imds_credentials>::uninit();
    assert_eq!(
        imds_fetch_credentials(client, credentials.as_mut_ptr()),
        imds_result::Disabled
    );
    assert!(last_error(client).contains("disabled"));
    imds_client_free(client);
}
