//! The `imds` command contract (`imds_core::cli`) for `bin/imds.js`: argument parsing, usage and
//! the exit statuses. Output lines come from the core's writers, so the Node command prints the
//! same bytes as the Rust, C and Python ones.

use imds_core::cli::{self, Command};
use napi_derive::napi;

/// `usage: imds [--trace] [credentials | settings | get PATH]`.
#[napi]
pub const USAGE: &str = cli::USAGE;
/// Exit status: success.
#[napi]
pub const EXIT_SUCCESS: u8 = cli::EXIT_SUCCESS;
/// Exit status: fetching from IMDS failed.
#[napi]
pub const EXIT_FETCH_FAILED: u8 = cli::EXIT_FETCH_FAILED;
/// Exit status: bad usage or invalid settings.
#[napi]
pub const EXIT_USAGE: u8 = cli::EXIT_USAGE;
/// Exit status: IMDS is disabled.
#[napi]
pub const EXIT_DISABLED: u8 = cli::EXIT_DISABLED;

/// A parsed `imds` command line.
#[napi(object, object_from_js = false)]
pub struct Invocation {
    /// What to do; `usageError` when the arguments do not follow the usage.
    #[napi(ts_type = "'credentials' | 'settings' | 'get' | 'help' | 'version' | 'usageError'")]
    pub command: String,
    /// The metadata path of `get`.
    pub path: Option<String>,
    /// Whether `--trace` was given.
    pub trace: bool,
    /// For `usageError`: the line to print on stderr (`imds: …\n`), then exit with `EXIT_USAGE`.
    pub error_line: Option<String>,
}

/// Parses the arguments after the program name (`process.argv.slice(2)`) as every `imds`
/// command does.
#[napi(catch_unwind)]
pub fn parse_args(args: Vec<String>) -> Invocation {
    match cli::parse_args(args.iter().map(String::as_str)) {
        Ok(invocation) => {
            let (command, path) = match invocation.command {
                Command::Credentials => ("credentials", None),
                Command::Settings => ("settings", None),
                Command::Get(path) => ("get", Some(path.to_owned())),
                Command::Help => ("help", None),
                Command::Version => ("version", None),
            };
            Invocation {
                command: command.to_owned(),
                path,
                trace: invocation.trace,
                error_line: None,
            }
        }
        Err(error) => {
            let mut line = String::new();
            // Writing into a String cannot fail.
            let _ = cli::write_usage_error_line(&error, &mut line);
            Invocation {
                command: "usageError".to_owned(),
                path: None,
                trace: false,
                error_line: Some(line),
            }
        }
    }
}

/// The `--help` text of the `imds` command (every implementation prints it unchanged).
#[napi(catch_unwind)]
pub fn help_text() -> String {
    let mut text = String::new();
    // Writing into a String cannot fail.
    let _ = cli::write_help(&mut text);
    text
}

/// The `--version` line of the `imds` command: `imds <version>` and a newline.
#[napi(catch_unwind)]
pub fn version_line() -> String {
    let mut line = String::new();
    // Writing into a String cannot fail.
    let _ = cli::write_version(&mut line);
    line
}
