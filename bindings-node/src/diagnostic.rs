//! Diagnostics as plain objects: the level, the core's `Display` text, and the `--trace` line.

use imds_core::cli;
use imds_core::diagnostic::Level;
use napi_derive::napi;

/// Something that happened during an operation. Never contains a secret.
#[napi(object, object_from_js = false)]
pub struct Diagnostic {
    /// `trace` (requests and statuses), `info` or `warn`.
    #[napi(ts_type = "'trace' | 'info' | 'warn'")]
    pub level: String,
    /// What happened, in one sentence.
    pub message: String,
    /// The line `imds --trace` prints for it (`imds: <level>: <message>\n`).
    pub line: String,
}

impl From<imds_core::Diagnostic> for Diagnostic {
    fn from(diagnostic: imds_core::Diagnostic) -> Self {
        let level = match diagnostic.level() {
            Level::Trace => "trace",
            Level::Info => "info",
            Level::Warn => "warn",
        };
        let mut line = String::new();
        // Writing into a String cannot fail.
        let _ = cli::write_diagnostic_line(&diagnostic, &mut line);
        Self {
            level: level.to_owned(),
            message: diagnostic.to_string(),
            line,
        }
    }
}

/// Moves every queued diagnostic of `client` into `out`, oldest first.
pub fn drain_into(client: &mut imds_core::Client, out: &mut Vec<Diagnostic>) {
    while let Some(diagnostic) = client.poll_diagnostic() {
        out.push(diagnostic.into());
    }
}
