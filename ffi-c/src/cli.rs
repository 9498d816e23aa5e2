//! The `imds` command contract for a C front end: argument parsing, the usage line, the `--help`
//! text, the `--version` line and exit codes, all from `imds_core::cli`, so the C command prints
//! what the Rust one prints.
//!
//! `ffi-c/c/imds.c` is the C command built on these and on `driver.c`.

use core::ffi::{CStr, c_char};

use imds_core::cli::{self, Command, Invocation, UsageError};

use crate::failure::{self, Failure};
use crate::ffi;
use crate::result::imds_result;
use crate::text::imds_str;

/// The exit status when the library itself failed (a panic or a misuse of the API).
pub(crate) const EXIT_PANIC: u8 = cli::EXIT_FETCH_FAILED;

/// What the command line asks for.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum imds_command {
    /// `imds` or `imds credentials`: print the `credential_process` JSON and a newline.
    Credentials = 1,
    /// `imds settings`: print `imds_settings_report()`, making no request.
    Settings = 2,
    /// `imds get PATH`: print the metadata body and a newline.
    Get = 3,
    /// `imds --help`: print `imds_cli_help()` on stdout, exit 0.
    Help = 4,
    /// `imds --version`: print `imds_cli_version()` on stdout, exit 0.
    Version = 5,
}

/// A parsed command line, from `imds_cli_parse()`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct imds_invocation {
    /// The command.
    pub command: imds_command,
    /// Whether `--trace` was given: write every diagnostic with `imds_client_next_trace_line()`.
    pub trace: bool,
    /// `IMDS_COMMAND_GET`: the metadata path, a view of the argument (valid as long as the
    /// arguments). Empty otherwise.
    pub path: imds_str,
}

/// Stands for an argument that is not UTF-8 (the core parses text).
const NOT_UTF8: &str = "\u{fffd}";

/// Borrows the `count` NUL-terminated arguments at `args`; NULL anywhere is
/// `IMDS_RESULT_NULL_PARAMETER`. Arguments that are not UTF-8 read as U+FFFD.
fn arguments<'a>(
    args: *const *const c_char,
    count: usize,
) -> Result<impl Iterator<Item = &'a str> + Clone, Failure> {
    if args.is_null() {
        return Err(Failure::Code(imds_result::NullParameter));
    }
    if isize::try_from(count.saturating_mul(size_of::<*const c_char>())).is_err() {
        return Err(Failure::invalid_argument("too many arguments"));
    }
    // SAFETY: `args` is not NULL (checked) and the header requires it to point to `count`
    // readable pointers, unchanged during the call; the size fits in `isize` (checked).
    let pointers: &'a [*const c_char] = unsafe { core::slice::from_raw_parts(args, count) };
    if pointers.iter().any(|p| p.is_null()) {
        return Err(Failure::Code(imds_result::NullParameter));
    }
    Ok(pointers.iter().map(|&p| {
        // SAFETY: `p` is not NULL (checked above) and the header requires every argument to be
        // a NUL-terminated string that lives as long as the arguments.
        let text: &'a CStr = unsafe { CStr::from_ptr(p) };
        text.to_str().unwrap_or(NOT_UTF8)
    }))
}

fn parse<'a>(
    args: *const *const c_char,
    count: usize,
) -> Result<Result<Invocation<'a>, UsageError>, Failure> {
    Ok(cli::parse_args(arguments(args, count)?))
}

/// Parses the `count` arguments after the program name (`argv + 1`, `argc - 1`; each
/// NUL-terminated) as `imds [--trace] [credentials | settings | get PATH]` and stores the result
/// in `*invocation_out`.
///
/// Errors: `IMDS_RESULT_NULL_PARAMETER`; `IMDS_RESULT_USAGE` (print
/// `imds_cli_usage_error_line()` on stderr and exit with status 2).
#[unsafe(no_mangle)]
pub extern "C" fn imds_cli_parse(
    args: *const *const c_char,
    count: usize,
    invocation_out: *mut imds_invocation,
) -> imds_result {
    ffi_boundary! {
        failure::result_of((|| {
            let out = ffi::try_out(invocation_out)?;
            let invocation = parse(args, count)?.map_err(|_| imds_result::Usage)?;
            let (command, path) = match invocation.command {
                Command::Credentials => (imds_command::Credentials, imds_str::EMPTY),
                Command::Settings => (imds_command::Settings, imds_str::EMPTY),
                Command::Get(path) => (imds_command::Get, imds_str::borrow(path)),
                Command::Help => (imds_command::Help, imds_str::EMPTY),
                Command::Version => (imds_command::Version, imds_str::EMPTY),
            };
            ffi::write_out(out, imds_invocation { command, trace: invocation.trace, path });
            Ok(())
        })())
    }
}

/// Writes the stderr line for arguments that `imds_cli_parse()` refused (`imds: <problem>;
/// usage: ...\n`; no NUL) into `buf` (`len` bytes) and its length into `*written_out`.
/// `IMDS_TEXT_CAPACITY` bytes always suffice.
///
/// Errors: `IMDS_RESULT_NULL_PARAMETER`; `IMDS_RESULT_NOT_AVAILABLE` (the arguments are fine);
/// `IMDS_RESULT_INSUFFICIENT_SIZE`.
#[unsafe(no_mangle)]
pub extern "C" fn imds_cli_usage_error_line(
    args: *const *const c_char,
    count: usize,
    buf: *mut u8,
    len: usize,
    written_out: *mut usize,
) -> imds_result {
    ffi_boundary! {
        failure::result_of((|| {
            let usage = match parse(args, count)? {
                Ok(_) => return Err(Failure::Code(imds_result::NotAvailable)),
                Err(usage) => usage,
            };
            ffi::write_text(buf, len, written_out, |out| cli::write_usage_error_line(&usage, out))
        })())
    }
}

/// The usage line, `usage: imds [--trace] [credentials | settings | get PATH]` (static, no
/// newline, not NUL-terminated). It starts the `--help` text and every usage error line.
#[unsafe(no_mangle)]
pub extern "C" fn imds_cli_usage() -> imds_str {
    ffi_boundary! { imds_str::borrow(cli::USAGE) }
}

/// Writes the `--help` text (the usage, the commands, every setting with its default,
/// environment variable and config file key, and the exit statuses; lines end with `\n`; no NUL)
/// into `buf` (`len` bytes) and its length into `*written_out`. `IMDS_HELP_CAPACITY` bytes always
/// suffice.
///
/// Errors: `IMDS_RESULT_NULL_PARAMETER`; `IMDS_RESULT_INSUFFICIENT_SIZE`.
#[unsafe(no_mangle)]
pub extern "C" fn imds_cli_help(buf: *mut u8, len: usize, written_out: *mut usize) -> imds_result {
    ffi_boundary! {
        failure::result_of(ffi::write_text(buf, len, written_out, cli::write_help))
    }
}

/// Writes the `--version` line, `imds <version>\n` (no NUL), into `buf` (`len` bytes) and its
/// length into `*written_out`. `IMDS_TEXT_CAPACITY` bytes always suffice.
///
/// Errors: `IMDS_RESULT_NULL_PARAMETER`; `IMDS_RESULT_INSUFFICIENT_SIZE`.
#[unsafe(no_mangle)]
pub extern "C" fn imds_cli_version(
    buf: *mut u8,
    len: usize,
    written_out: *mut usize,
) -> imds_result {
    ffi_boundary! {
        failure::result_of(ffi::write_text(buf, len, written_out, cli::write_version))
    }
}

/// The exit status of the `imds` command for `result`: 0 for `IMDS_RESULT_OK`, 3 for
/// `IMDS_RESULT_DISABLED`, 2 for usage errors and invalid settings, 1 for every other failure.
#[unsafe(no_mangle)]
pub extern "C" fn imds_cli_exit_code(result: u32) -> u8 {
    ffi_boundary! {
        let known = imds_result::ALL.into_iter().find(|r| *r as u32 == result);
        match known {
            Some(imds_result::Ok) => cli::EXIT_SUCCESS,
            Some(imds_result::Usage) => cli::EXIT_USAGE,
            Some(r) => r.error_kind().map_or(EXIT_PANIC, cli::exit_code),
            None => EXIT_PANIC,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::IMDS_HELP_CAPACITY;

    #[test]
    fn help_fits_its_capacity_with_room_to_grow() {
        let mut help = String::new();
        cli::write_help(&mut help).unwrap();
        assert!(help.len() * 2 <= IMDS_HELP_CAPACITY, "{} bytes", help.len());
        let mut buf = [0u8; IMDS_HELP_CAPACITY];
        let mut written = 0;
        assert_eq!(
            imds_cli_help(buf.as_mut_ptr(), buf.len(), &mut written),
            imds_result::Ok
        );
        assert_eq!(&buf[..written], help.as_bytes());
    }
}
