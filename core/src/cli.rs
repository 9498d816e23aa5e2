//! The `imds` command contract, shared by the Rust, C, Python and Node front ends.
//!
//! `imds [--trace] [credentials | settings | get PATH]`. Every front end parses its arguments with
//! [`parse_args`], prints with the writers here and exits with [`exit_code`], so that all of them
//! produce byte-identical output for the same inputs:
//!
//! * `credentials` (the default) prints the `credential_process` JSON and a newline;
//! * `settings` prints the resolved settings with their sources, making no request;
//! * `get PATH` prints the metadata body and a newline;
//! * `--trace` writes each diagnostic (requests, statuses, fallbacks) to stderr, never a secret;
//! * errors are one line on stderr starting with `imds: `; exit 0 on success, 1 when fetching
//!   failed, 2 for usage or invalid settings, 3 when IMDS is disabled.

use core::fmt;

use crate::diagnostic::{Diagnostic, Level};
use crate::error::{Error, ErrorKind};
use crate::text::ShortText;

/// The usage line, printed for `--help` and after a usage error.
pub const USAGE: &str = "usage: imds [--trace] [credentials | settings | get PATH]";

/// Exit status: success.
pub const EXIT_SUCCESS: u8 = 0;
/// Exit status: fetching from IMDS failed.
pub const EXIT_FETCH_FAILED: u8 = 1;
/// Exit status: bad usage or invalid settings.
pub const EXIT_USAGE: u8 = 2;
/// Exit status: IMDS is disabled.
pub const EXIT_DISABLED: u8 = 3;

/// What the command was asked to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command<'a> {
    /// Print credentials (the default).
    Credentials,
    /// Print the resolved settings and their sources.
    Settings,
    /// Print a metadata path.
    Get(&'a str),
    /// Print the usage.
    Help,
}

/// A parsed command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Invocation<'a> {
    /// The command.
    pub command: Command<'a>,
    /// Whether `--trace` was given.
    pub trace: bool,
}

/// A command line that does not follow [`USAGE`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UsageError {
    problem: &'static str,
    argument: ShortText<64>,
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.argument.is_empty() {
            write!(f, "{}; {USAGE}", self.problem)
        } else {
            write!(f, "{} `{}`; {USAGE}", self.problem, self.argument)
        }
    }
}

impl UsageError {
    fn new(problem: &'static str, argument: &str) -> Self {
        Self {
            problem,
            argument: ShortText::new(argument),
        }
    }
}

/// Parses the arguments after the program name.
pub fn parse_args<'a, I>(args: I) -> Result<Invocation<'a>, UsageError>
where
    I: IntoIterator<Item = &'a str>,
{
    let mut trace = false;
    let mut command: Option<Command<'a>> = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let next = match arg {
            "--trace" => {
                trace = true;
                continue;
            }
            "-h" | "--help" | "help" => Command::Help,
            "credentials" => Command::Credentials,
            "settings" => Command::Settings,
            "get" => match args.next() {
                Some(path) if !path.is_empty() => Command::Get(path),
                _ => return Err(UsageError::new("`get` needs a metadata PATH", "")),
            },
            other if other.starts_with('-') => {
                return Err(UsageError::new("unknown option", other));
            }
            other => return Err(UsageError::new("unknown command", other)),
        };
        if command.is_some() {
            return Err(UsageError::new(
                "only one command is allowed, got also",
                arg,
            ));
        }
        command = Some(next);
    }
    Ok(Invocation {
        command: command.unwrap_or(Command::Credentials),
        trace,
    })
}

/// The exit status for an error.
pub const fn exit_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::Disabled => EXIT_DISABLED,
        ErrorKind::InvalidSetting | ErrorKind::ConfigFile | ErrorKind::InvalidArgument => {
            EXIT_USAGE
        }
        _ => EXIT_FETCH_FAILED,
    }
}

/// Writes the stderr line for an error: `imds: <message>\n`.
pub fn write_error_line(error: &Error, out: &mut dyn fmt::Write) -> fmt::Result {
    writeln!(out, "imds: {error}")
}

/// Writes the stderr line for a usage error: `imds: <message>\n`.
pub fn write_usage_error_line(error: &UsageError, out: &mut dyn fmt::Write) -> fmt::Result {
    writeln!(out, "imds: {error}")
}

/// Writes the `--trace` line for a diagnostic: `imds: <level>: <diagnostic>\n`.
pub fn write_diagnostic_line(diagnostic: &Diagnostic, out: &mut dyn fmt::Write) -> fmt::Result {
    let level = match diagnostic.level() {
        Level::Trace => "trace",
        Level::Info => "info",
        Level::Warn => "warning",
    };
    writeln!(out, "imds: {level}: {diagnostic}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&'static str]) -> Result<Invocation<'static>, UsageError> {
        parse_args(args.iter().copied())
    }

    #[test]
    fn no_arguments_means_credentials() {
        assert_eq!(
            parse(&[]),
            Ok(Invocation {
                command: Command::Credentials,
                trace: false
            })
        );
    }

    #[test]
    fn trace_may_stand_anywhere() {
        assert_eq!(
            parse(&["get", "placement/region", "--trace"]),
            Ok(Invocation {
                command: Command::Get("placement/region"),
                trace: true
            })
        );
        assert_eq!(
            parse(&["--trace", "settings"]).map(|i| i.command),
            Ok(Command::Settings)
        );
    }

    #[test]
    fn refuses_unknown_and_repeated_commands() {
        assert!(parse(&["bogus"]).is_err());
        assert!(parse(&["--bogus"]).is_err());
        assert!(parse(&["get"]).is_err());
        assert!(parse(&["settings", "credentials"]).is_err());
    }

    #[test]
    fn exit_codes_follow_the_contract() {
        assert_eq!(exit_code(ErrorKind::Disabled), 3);
        assert_eq!(exit_code(ErrorKind::InvalidSetting), 2);
        assert_eq!(exit_code(ErrorKind::Timeout), 1);
    }
}
