//! The `imds` command contract, shared by the Rust, C, Python and Node front ends.
//!
//! `imds [--trace] [credentials | settings | get PATH]`. Every front end parses its arguments with
//! [`parse_args`], prints with the writers here and exits with [`exit_code`], so that all of them
//! produce byte-identical output for the same inputs:
//!
//! * `credentials` (the default) prints the `credential_process` JSON and a newline;
//! * `settings` prints the resolved settings with their sources, making no request;
//! * `get PATH` prints the metadata body and a newline;
//! * `--help` prints [`write_help`]'s text and `--version` [`write_version`]'s line on stdout;
//! * `--trace` writes each diagnostic (requests, statuses, fallbacks) to stderr, never a secret;
//! * errors are one line on stderr starting with `imds: `; exit 0 on success, 1 when fetching
//!   failed, 2 for usage or invalid settings, 3 when IMDS is disabled.

use core::fmt;

use crate::diagnostic::{Diagnostic, Level};
use crate::error::{Error, ErrorKind};
use crate::settings::{Setting, Settings};
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
    /// Print the help ([`write_help`]).
    Help,
    /// Print the version line ([`write_version`]).
    Version,
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
            "--version" => Command::Version,
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

/// The commands and options, as `--help` lists them (name column, then the lines that explain it).
const COMMANDS: [(&str, &[&str]); 5] = [
    (
        "credentials",
        &[
            "print the instance role's credentials as credential_process",
            "JSON (the default command)",
        ],
    ),
    (
        "settings",
        &["print every setting with its value and source; no request"],
    ),
    (
        "get PATH",
        &[
            "print a metadata path: relative to /latest/meta-data/ (such as",
            "placement/region), or absolute (/latest/dynamic/...)",
        ],
    ),
    ("--help, -h", &["print this help"]),
    ("--version", &["print the version"]),
];

/// What each setting the command reads does, for `--help` (what it accepts is in the README and
/// in every error message about it).
const fn setting_help(setting: Setting) -> &'static [&'static str] {
    match setting {
        Setting::Disabled => &["true: make no request at all (exit 3)"],
        Setting::V1Disabled => &["true: never fall back to IMDSv1"],
        Setting::Endpoint => &[
            "the IMDS URL (http or https, optional port and path); when unset,",
            "the one endpoint_mode picks",
        ],
        Setting::EndpointMode => {
            &["IPv4 (http://169.254.169.254) or IPv6 (http://[fd00:ec2::254])"]
        }
        Setting::Timeout => &[
            "seconds allowed for each connect, and for each request to be sent",
            "and answered in full, however slowly the answer comes (0.5 works)",
        ],
        Setting::Attempts => &[
            "tries per request, 1 to 10. 5xx, 429 and 401 answers, a connection",
            "IMDS refused, or accepted and then dropped or reset, and bytes no",
            "request asked for are retried within attempts; a connect or response",
            "timeout, or an unreachable network, is final unless attempts is set",
            "explicitly",
        ],
        Setting::InstanceProfileName => {
            &["the role whose credentials to fetch, instead of asking IMDS"]
        }
        Setting::TokenTtl | Setting::CredentialsApi | Setting::RefreshWindow => &[],
    }
}

/// Where the text of `--help` starts its explanations.
const HELP_COLUMN: usize = 17;
/// Indentation of a setting's explanation lines.
const SETTING_INDENT: &str = "      ";

/// Writes the `--help` text: the usage, the commands, every setting the command reads with its
/// default, environment variable and config file key, and the exit statuses. Every `imds` command
/// prints it unchanged on stdout; defaults come from [`Settings::default`], so the text cannot
/// drift from the code. No line is longer than 80 columns.
pub fn write_help(out: &mut dyn fmt::Write) -> fmt::Result {
    writeln!(out, "{USAGE}")?;
    out.write_str(
        "\nCredentials and metadata from the EC2 Instance Metadata Service (IMDS), over\n\
         IMDSv2 (IMDSv1 only as a fallback).\n\ncommands:\n",
    )?;
    for (name, lines) in COMMANDS {
        write_entry(out, name, lines)?;
    }
    out.write_str("\noptions:\n")?;
    write_entry(
        out,
        "--trace",
        &[
            "write each request, status and fallback to stderr",
            "(never a secret)",
        ],
    )?;
    out.write_str(
        "\nsettings (`imds settings` shows those in force): each comes from its environment\n\
         variable, else from its key in the active profile of the config file, else its\n\
         default (after `=`):\n",
    )?;
    let defaults = Settings::default();
    for setting in Setting::ALL {
        let (Some(env), profile_key) = (setting.env_name(), setting.profile_key()) else {
            continue;
        };
        write!(out, "  {} = ", setting.code_name())?;
        write_default(out, &defaults, setting)?;
        writeln!(out, "\n{SETTING_INDENT}env {env}")?;
        match profile_key {
            Some(key) => writeln!(out, "{SETTING_INDENT}config {key}")?,
            None => writeln!(out, "{SETTING_INDENT}(no config file key)")?,
        }
        for line in setting_help(setting) {
            writeln!(out, "{SETTING_INDENT}{line}")?;
        }
    }
    let mut library_only = 0;
    for setting in Setting::ALL {
        if setting.env_name().is_none() && setting.profile_key().is_none() {
            out.write_str(if library_only == 0 { "  " } else { ", " })?;
            write!(out, "{} = ", setting.code_name())?;
            write_default(out, &defaults, setting)?;
            library_only += 1;
        }
    }
    if library_only > 0 {
        writeln!(
            out,
            "\n{SETTING_INDENT}are set by programs only (library options)"
        )?;
    }
    out.write_str(
        "  AWS_PROFILE names the active profile (default: default), AWS_CONFIG_FILE the\n  \
         config file (default: ~/.aws/config). Proxy variables are never used.\n",
    )?;
    writeln!(
        out,
        "\nexit status:\n  \
         {EXIT_SUCCESS}  success\n  \
         {EXIT_FETCH_FAILED}  fetching failed (IMDS unreachable, or it answered with an error)\n  \
         {EXIT_USAGE}  usage error, invalid setting or malformed config file\n  \
         {EXIT_DISABLED}  IMDS is disabled (AWS_EC2_METADATA_DISABLED=true)"
    )
}

/// `  NAME` padded to the explanation column, then the lines, the later ones indented to it.
fn write_entry(out: &mut dyn fmt::Write, name: &str, lines: &[&str]) -> fmt::Result {
    let mut first = true;
    for line in lines {
        if first {
            write!(out, "  {name:<width$}", width = HELP_COLUMN - 2)?;
            first = false;
        } else {
            write!(out, "{:HELP_COLUMN$}", "")?;
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// A setting's default as `imds settings` shows it (`(discover)` for no instance profile name).
fn write_default(out: &mut dyn fmt::Write, defaults: &Settings, setting: Setting) -> fmt::Result {
    if setting == Setting::InstanceProfileName && defaults.instance_profile_name.value.is_none() {
        return out.write_str("(discover)");
    }
    defaults.write_value(setting, out).map(|_| ())
}

/// Writes the `--version` line, `imds <version>\n`: the same in every implementation.
pub fn write_version(out: &mut dyn fmt::Write) -> fmt::Result {
    writeln!(out, "imds {}", crate::VERSION)
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
    use std::string::String;

    fn help() -> String {
        let mut text = String::new();
        write_help(&mut text).unwrap();
        text
    }

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

    #[test]
    fn version_flag_is_a_command() {
        assert_eq!(
            parse(&["--version"]).map(|i| i.command),
            Ok(Command::Version)
        );
        assert!(parse(&["--version", "settings"]).is_err());
        let mut line = String::new();
        write_version(&mut line).unwrap();
        assert_eq!(line, std::format!("imds {}\n", crate::VERSION));
    }

    #[test]
    fn help_names_every_setting_the_command_reads_with_its_sources() {
        let text = help();
        assert!(text.starts_with(USAGE));
        for setting in Setting::ALL {
            assert!(
                text.contains(&std::format!("  {} = ", setting.code_name()))
                    || text.contains(&std::format!(", {} = ", setting.code_name())),
                "{setting} missing"
            );
            if let Some(env) = setting.env_name() {
                assert!(text.contains(&std::format!("      env {env}\n")), "{env}");
            }
            if let Some(key) = setting.profile_key() {
                assert!(
                    text.contains(&std::format!("      config {key}\n")),
                    "{key}"
                );
            }
        }
        assert!(text.contains("  attempts = 4\n"));
        let attempts_range =
            std::format!("tries per request, 1 to {}.", crate::settings::MAX_ATTEMPTS);
        assert!(text.contains(&attempts_range), "{attempts_range}");
        assert!(text.contains("  instance_profile_name = (discover)\n"));
        assert!(text.contains("  timeout = 1\n"));
    }

    #[test]
    fn help_lists_commands_and_exit_statuses_within_80_columns() {
        let text = help();
        for command in [
            "credentials",
            "settings",
            "get PATH",
            "--help",
            "--version",
            "--trace",
        ] {
            assert!(text.contains(&std::format!("\n  {command}")), "{command}");
        }
        for status in [EXIT_SUCCESS, EXIT_FETCH_FAILED, EXIT_USAGE, EXIT_DISABLED] {
            assert!(text.contains(&std::format!("\n  {status}  ")), "{status}");
        }
        assert!(text.ends_with(".\n") || text.ends_with(")\n"));
        for line in text.lines() {
            assert!(line.chars().count() <= 80, "too long: {line:?}");
            assert_eq!(line.trim_end(), line, "trailing space: {line:?}");
        }
    }
}
