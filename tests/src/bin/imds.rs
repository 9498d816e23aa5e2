//! `imds`: the Rust implementation of the `imds` command (contract in `imds_core::cli`).
//!
//! It holds no logic of its own: arguments, settings, the exchange, every line it prints and its
//! exit status come from `imds-core`, so the C, Python and Node commands can be held to the same
//! bytes by the conformance suite.

use std::io::Write;
use std::process::ExitCode;

use imds_core::blocking::BlockingClient;
use imds_core::cli::{self, Command};
use imds_core::{Error, host};

/// Writes `text` to stdout or stderr; a closed pipe is not worth a panic.
fn emit(to_stderr: bool, text: &str) {
    emit_bytes(to_stderr, text.as_bytes());
}

/// Writes raw bytes (a metadata body need not be UTF-8).
fn emit_bytes(to_stderr: bool, bytes: &[u8]) {
    let _ = if to_stderr {
        std::io::stderr().lock().write_all(bytes)
    } else {
        std::io::stdout().lock().write_all(bytes)
    };
}

fn fail(error: &Error) -> ExitCode {
    let mut line = String::new();
    let _ = cli::write_error_line(error, &mut line);
    emit(true, &line);
    ExitCode::from(cli::exit_code(error.kind()))
}

fn main() -> ExitCode {
    // A non-Unicode argument becomes U+FFFD, which the contract then refuses like any bad argument.
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    let invocation = match cli::parse_args(args.iter().map(String::as_str)) {
        Ok(invocation) => invocation,
        Err(usage) => {
            let mut line = String::new();
            let _ = cli::write_usage_error_line(&usage, &mut line);
            emit(true, &line);
            return ExitCode::from(cli::EXIT_USAGE);
        }
    };
    let mut text = String::new();
    match invocation.command {
        Command::Help => {
            let _ = cli::write_help(&mut text);
            emit(false, &text);
            return ExitCode::SUCCESS;
        }
        Command::Version => {
            let _ = cli::write_version(&mut text);
            emit(false, &text);
            return ExitCode::SUCCESS;
        }
        Command::Credentials | Command::Settings | Command::Get(_) => {}
    }
    let settings = match host::load_settings(&[]) {
        Ok(settings) => settings,
        Err(error) => return fail(&error),
    };
    let mut out = String::new();
    let mut body = Vec::new();
    match invocation.command {
        Command::Settings => {
            let _ = settings.write_report(&mut out);
        }
        Command::Credentials | Command::Get(_) | Command::Help | Command::Version => {
            if let Some(error) = settings.disabled_error() {
                return fail(&error);
            }
            let mut client = BlockingClient::new(&settings);
            client.set_binding("rust");
            if invocation.trace {
                client.on_diagnostic(|diagnostic| {
                    let mut line = String::new();
                    let _ = cli::write_diagnostic_line(diagnostic, &mut line);
                    emit(true, &line);
                });
            }
            let fetched = match invocation.command {
                Command::Get(path) => client.get(path).map(|fetched| body = fetched),
                _ => client.fetch_credentials().map(|credentials| {
                    let _ = credentials.write_process_json(&mut out);
                }),
            };
            if let Err(error) = fetched {
                return fail(&error);
            }
            body.push(b'\n');
        }
    }
    emit(false, &out);
    emit_bytes(false, &body);
    ExitCode::SUCCESS
}
