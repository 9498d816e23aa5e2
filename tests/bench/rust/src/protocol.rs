//! The runner protocol every contender speaks with `tests/bench/bench.py`.
//!
//! A runner is started as `RUNNER CONTENDER ENDPOINT` and reads one command per line on stdin:
//!
//! - `cold N`: N fetches, each with a fresh client (no token, no connection, no cache);
//! - `prime`: one fetch with the long-lived client (it learns the token, the role, a connection);
//! - `warm N`: N fetches with the long-lived client, which refreshes with what it cached;
//! - `quit` (or end of input): exit.
//!
//! It answers each command with one line: `{"us":[...]}`, the microseconds each fetch took, or
//! `{"error":"..."}` when a fetch failed (the runner then keeps going). Every fetch must return
//! the access key id in `BENCH_EXPECT_KEY` (when set), so a runner that quietly gets nothing
//! cannot look fast.

use std::io::{BufRead, Write};
use std::time::Instant;

/// A contender: one fetch with a fresh client, one with the long-lived one. Each returns the
/// access key id it got.
pub trait Contender {
    /// A fetch with a new client.
    fn cold(&mut self) -> Result<String, String>;
    /// A fetch with the long-lived client.
    fn warm(&mut self) -> Result<String, String>;
}

/// Reads commands from stdin until `quit` or end of input.
pub fn serve(contender: &mut dyn Contender) {
    let expected = std::env::var("BENCH_EXPECT_KEY").ok();
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let mut words = line.split_whitespace();
        let command = words.next().unwrap_or("");
        let count: usize = words.next().and_then(|n| n.parse().ok()).unwrap_or(1);
        let reply = match command {
            "cold" => run(count, expected.as_deref(), || contender.cold()),
            "warm" | "prime" => run(count, expected.as_deref(), || contender.warm()),
            "quit" | "" => break,
            other => format!("{{\"error\":\"unknown command {other}\"}}"),
        };
        let _ = writeln!(stdout, "{reply}");
        let _ = stdout.flush();
    }
}

fn run(
    count: usize,
    expected: Option<&str>,
    mut fetch: impl FnMut() -> Result<String, String>,
) -> String {
    let mut samples = Vec::with_capacity(count);
    for _ in 0..count {
        let start = Instant::now();
        let result = fetch();
        let elapsed = start.elapsed();
        match result {
            Ok(key) if expected.is_none_or(|e| e == key) => {
                samples.push(format!("{:.2}", elapsed.as_secs_f64() * 1e6));
            }
            Ok(key) => return error_line(&format!("unexpected access key id {key}")),
            Err(problem) => return error_line(&problem),
        }
    }
    format!("{{\"us\":[{}]}}", samples.join(","))
}

fn error_line(problem: &str) -> String {
    let escaped: String = problem
        .chars()
        .map(|c| match c {
            '"' | '\\' => format!("\\{c}"),
            c if c.is_control() => " ".to_string(),
            c => c.to_string(),
        })
        .collect();
    format!("{{\"error\":\"{escaped}\"}}")
}

/// The endpoint argument (`http://127.0.0.1:PORT`); refuses anything that is not loopback.
pub fn endpoint_argument() -> String {
    let endpoint = std::env::args().nth(1).unwrap_or_default();
    let loopback =
        endpoint.starts_with("http://127.0.0.1:") || endpoint.starts_with("http://[::1]:");
    if !loopback {
        eprintln!("usage: RUNNER http://127.0.0.1:PORT (loopback only)");
        std::process::exit(2);
    }
    endpoint
}
