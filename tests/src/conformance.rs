//! Conformance scenarios: one JSON file each in `tests/conformance/`, run against any `imds` command.
//!
//! A scenario gives the environment, an optional config file, the mock's script, the command's
//! arguments, and what must come out: the requests the mock saw (in order), stdout byte for byte
//! (or a prefix when a value is random by design), stderr exactly or by its first words, and the
//! exit status. [`run`] starts a fresh [`MockServer`] per scenario, runs the command with a clean
//! environment and a fresh `HOME`, and lists every difference.
//!
//! ```json
//! {
//!   "description": "what this shows",
//!   "args": ["credentials"],
//!   "env": {"AWS_EC2_METADATA_SERVICE_ENDPOINT": "{endpoint}"},
//!   "config": "[default]\nec2_metadata_v1_disabled = true\n",
//!   "config_location": "env",
//!   "bind": "127.0.0.1",
//!   "server": {"responses": [{"path": "/latest/api/token", "status": 403}]},
//!   "expect": {
//!     "requests": ["PUT /latest/api/token ttl=21600"],
//!     "connections": 1,
//!     "stdout": "", "stdout_prefix": "...",
//!     "stderr": "", "stderr_starts": "imds: IMDSv1 fallback blocked", "stderr_contains": ["..."],
//!     "stderr_ends": "imds: IMDS answered 400 to the token request\n",
//!     "exit": 1,
//!     "within_seconds": 10
//!   }
//! }
//! ```
//!
//! Placeholders, replaced in `env`, `config` and every expected string: `{endpoint}`
//! (`http://127.0.0.1:PORT` or `http://[::1]:PORT`), `{port}`, `{host}` (`127.0.0.1` or `[::1]`),
//! `{home}` (the fresh home folder), `{config}` (the config file's path), `{closed_port}` (a
//! loopback port nothing listens on), `{version}` (the core's version, as `imds --version` and the
//! `User-Agent` give it).
//!
//! `config_location` is `env` (the default: the file is `{home}/aws-config` and `AWS_CONFIG_FILE`
//! names it) or `home` (the file is `{home}/.aws/config`, found without `AWS_CONFIG_FILE`).
//!
//! Whatever the scenario says, no secret the mock served (secret access key, session token, any
//! IMDSv2 token it issued) may appear on stderr, no IMDSv2 token on stdout or in a request path
//! (a token read as a role name would be sent in one), and every request
//! must carry exactly `User-Agent: imds/<version> (<binding>)`, where `<binding>` is the
//! implementation's name up to its first `_` (`rust`, `c`, `python`, `node`; `python_script` and
//! `c_static` are other ways to run the `python` and `c` front ends): each front end names itself.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Read;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::mock::{IPV4_LOOPBACK, IPV6_LOOPBACK, MockServer};
use crate::script::Script;

/// Longest a command may run before it is killed and the scenario fails.
pub const COMMAND_TIME_LIMIT: Duration = Duration::from_secs(30);

/// Environment variables passed through from the runner to the command under test (everything
/// else is cleared, so no `AWS_*` or proxy variable of the machine leaks in).
pub const PASSED_THROUGH: [&str; 7] = [
    "PATH",
    "LD_LIBRARY_PATH",
    "PYTHONPATH",
    "NODE_PATH",
    "LANG",
    "LC_ALL",
    "SYSTEMROOT",
];

/// Where the scenario's config file is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigLocation {
    /// `{home}/aws-config`, named by `AWS_CONFIG_FILE`.
    Env,
    /// `{home}/.aws/config`, the default location.
    Home,
}

/// What a scenario expects.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Expectation {
    /// The requests, as [`crate::mock::RequestRecord::summary`] writes them.
    pub requests: Vec<String>,
    /// How many connections the mock accepted, when the scenario says.
    pub connections: Option<u64>,
    /// Stdout, byte for byte.
    pub stdout: Option<String>,
    /// The start of stdout, for outputs that contain a value random by design.
    pub stdout_prefix: Option<String>,
    /// Stderr, byte for byte.
    pub stderr: Option<String>,
    /// The first words of stderr.
    pub stderr_starts: Option<String>,
    /// Texts stderr must contain (e.g. `--trace` lines).
    pub stderr_contains: Vec<String>,
    /// The end of stderr (the error line after `--trace` lines).
    pub stderr_ends: Option<String>,
    /// The exit status.
    pub exit: i32,
    /// A generous bound on how long the command may run, for scenarios about deadlines (it
    /// shows that a deadline ended the command, not the runner's time limit).
    pub within_seconds: Option<u64>,
}

/// One conformance scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// The file name without `.json`.
    pub name: String,
    /// What the scenario shows.
    pub description: String,
    /// Arguments after the program name.
    pub args: Vec<String>,
    /// Environment variables (values may hold placeholders).
    pub env: Vec<(String, String)>,
    /// The config file's text, when there is one.
    pub config: Option<String>,
    /// Where the config file goes.
    pub config_location: ConfigLocation,
    /// The mock's address family.
    pub bind: IpAddr,
    /// What the mock serves.
    pub script: Script,
    /// What must come out.
    pub expect: Expectation,
}

fn problem<T>(name: &str, text: impl Into<String>) -> Result<T, String> {
    Err(format!("{name}: {}", text.into()))
}

fn strings(json: &Value, name: &str, key: &str) -> Result<Vec<String>, String> {
    let Some(items) = json.as_array() else {
        return problem(name, format!("`{key}` must be an array of strings"));
    };
    items
        .iter()
        .map(|item| {
            item.as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("{name}: `{key}` must hold strings"))
        })
        .collect()
}

fn text(json: &Value, name: &str, key: &str) -> Result<String, String> {
    json.as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("{name}: `{key}` must be a string"))
}

impl Scenario {
    /// Reads the scenario `name` from JSON text.
    pub fn parse(name: &str, text_json: &str) -> Result<Scenario, String> {
        let json: Value = serde_json::from_str(text_json).map_err(|e| format!("{name}: {e}"))?;
        let Some(members) = json.as_object() else {
            return problem(name, "a scenario is a JSON object");
        };
        let mut scenario = Scenario {
            name: name.to_string(),
            description: String::new(),
            args: Vec::new(),
            env: Vec::new(),
            config: None,
            config_location: ConfigLocation::Env,
            bind: IPV4_LOOPBACK,
            script: Script::default(),
            expect: Expectation::default(),
        };
        let mut saw_expect = false;
        for (key, value) in members {
            match key.as_str() {
                "description" => scenario.description = text(value, name, key)?,
                "args" => scenario.args = strings(value, name, key)?,
                "env" => {
                    let Some(vars) = value.as_object() else {
                        return problem(name, "`env` must be an object");
                    };
                    for (var, val) in vars {
                        scenario.env.push((var.clone(), text(val, name, var)?));
                    }
                }
                "config" => scenario.config = Some(text(value, name, key)?),
                "config_location" => {
                    scenario.config_location = match value.as_str() {
                        Some("env") => ConfigLocation::Env,
                        Some("home") => ConfigLocation::Home,
                        _ => return problem(name, "`config_location` is `env` or `home`"),
                    }
                }
                "bind" => {
                    scenario.bind = match value.as_str() {
                        Some("127.0.0.1") => IPV4_LOOPBACK,
                        Some("::1") => IPV6_LOOPBACK,
                        _ => return problem(name, "`bind` is `127.0.0.1` or `::1`"),
                    }
                }
                "server" => {
                    scenario.script =
                        Script::from_json(value).map_err(|e| format!("{name}: {e}"))?
                }
                "expect" => {
                    saw_expect = true;
                    scenario.expect = parse_expectation(name, value)?;
                }
                other => return problem(name, format!("unknown key `{other}`")),
            }
        }
        if scenario.description.is_empty() {
            return problem(name, "every scenario needs a `description`");
        }
        if !saw_expect {
            return problem(name, "every scenario needs an `expect`");
        }
        scenario.check_loopback_only()?;
        Ok(scenario)
    }

    /// Reads every `*.json` in `dir`, sorted by name.
    pub fn load_dir(dir: &Path) -> Result<Vec<Scenario>, String> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|path| {
                let name = path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let body = std::fs::read_to_string(path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                Scenario::parse(&name, &body)
            })
            .collect()
    }

    /// Whether the command may make requests: `credentials` (also the default) and `get`, or any
    /// scenario that expects requests.
    pub fn may_fetch(&self) -> bool {
        let first = self
            .args
            .iter()
            .map(String::as_str)
            .find(|a| *a != "--trace");
        matches!(first, None | Some("credentials" | "get")) || !self.expect.requests.is_empty()
    }

    /// Refuses scenarios that could send a packet off the machine: every URL in the environment
    /// and config file must name `127.0.0.1` or `[::1]`, and a command that may fetch must have its
    /// endpoint configured (never the default, link-local one).
    pub fn check_loopback_only(&self) -> Result<(), String> {
        let mut sources: Vec<&str> = self.env.iter().map(|(_, v)| v.as_str()).collect();
        if let Some(config) = &self.config {
            sources.push(config);
        }
        for source in &sources {
            let mut rest = *source;
            while let Some(at) = rest.find("://") {
                rest = &rest[at + 3..];
                let authority = rest
                    .split(['/', '\n', '"', ' ', '#', '?'])
                    .next()
                    .unwrap_or("");
                let host_port = authority.rsplit('@').next().unwrap_or("");
                let loopback = ["127.0.0.1", "[::1]", "{host}"]
                    .iter()
                    .any(|h| host_port == *h || host_port.starts_with(&format!("{h}:")));
                if !loopback && host_port != "{endpoint}" {
                    return problem(
                        &self.name,
                        format!("URL host `{host_port}` is not loopback (127.0.0.1 or [::1])"),
                    );
                }
            }
        }
        let has_endpoint = self
            .env
            .iter()
            .any(|(k, _)| k == "AWS_EC2_METADATA_SERVICE_ENDPOINT")
            || self.config.as_deref().is_some_and(|c| {
                c.contains("ec2_metadata_service_endpoint ")
                    || c.contains("ec2_metadata_service_endpoint=")
            });
        if self.may_fetch() && !has_endpoint {
            return problem(
                &self.name,
                "a command that may fetch must point the endpoint at the mock",
            );
        }
        Ok(())
    }
}

fn parse_expectation(name: &str, json: &Value) -> Result<Expectation, String> {
    let Some(members) = json.as_object() else {
        return problem(name, "`expect` must be an object");
    };
    let mut expect = Expectation::default();
    let mut saw_exit = false;
    for (key, value) in members {
        match key.as_str() {
            "requests" => expect.requests = strings(value, name, key)?,
            "connections" => {
                expect.connections = Some(
                    value
                        .as_u64()
                        .ok_or_else(|| format!("{name}: `connections` is a number"))?,
                )
            }
            "stdout" => expect.stdout = Some(text(value, name, key)?),
            "stdout_prefix" => expect.stdout_prefix = Some(text(value, name, key)?),
            "stderr" => expect.stderr = Some(text(value, name, key)?),
            "stderr_starts" => expect.stderr_starts = Some(text(value, name, key)?),
            "stderr_contains" => expect.stderr_contains = strings(value, name, key)?,
            "stderr_ends" => expect.stderr_ends = Some(text(value, name, key)?),
            "within_seconds" => {
                expect.within_seconds = Some(
                    value
                        .as_u64()
                        .ok_or_else(|| format!("{name}: `within_seconds` is a number"))?,
                )
            }
            "exit" => {
                saw_exit = true;
                expect.exit = value
                    .as_u64()
                    .ok_or_else(|| format!("{name}: `exit` is a number"))?
                    as i32;
            }
            other => return problem(name, format!("unknown expect key `{other}`")),
        }
    }
    if !saw_exit {
        return problem(name, "`expect` needs an `exit`");
    }
    if expect.stdout.is_none() && expect.stdout_prefix.is_none() {
        return problem(name, "`expect` needs `stdout` or `stdout_prefix`");
    }
    if expect.stderr.is_none() && expect.stderr_starts.is_none() {
        return problem(name, "`expect` needs `stderr` or `stderr_starts`");
    }
    Ok(expect)
}

/// An `imds` command line under test, e.g. `python=.venv/bin/python -m imds`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Implementation {
    /// A short name for reports (`rust`, `c`, `python`, `node`).
    pub name: String,
    /// The program (made absolute when it is a relative path).
    pub program: PathBuf,
    /// Arguments placed before the scenario's.
    pub leading_args: Vec<String>,
}

impl Implementation {
    /// The binding this implementation runs, which its requests' `User-Agent` must name: the name
    /// up to its first `_` (`python_script` runs the `python` binding).
    pub fn binding(&self) -> &str {
        self.name.split('_').next().unwrap_or(&self.name)
    }

    /// Parses `NAME=COMMAND LINE` (split on whitespace). A relative program path is resolved
    /// against the current directory, without following symlinks (a venv's python must stay the
    /// venv's).
    pub fn parse(spec: &str) -> Result<Implementation, String> {
        let (name, command) = spec
            .split_once('=')
            .ok_or_else(|| format!("`{spec}`: expected NAME=COMMAND"))?;
        let mut words = command.split_whitespace();
        let program = words
            .next()
            .ok_or_else(|| format!("`{spec}`: the command is empty"))?;
        let mut program = PathBuf::from(program);
        if program.components().count() > 1 && program.is_relative() {
            let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
            program = cwd.join(program);
        }
        Ok(Implementation {
            name: name.to_string(),
            program,
            leading_args: words.map(str::to_string).collect(),
        })
    }
}

/// Splits a Make-style list of implementations (`CONFORMANCE_IMPLS`, `DEMO_IMPLS`) into
/// `NAME=COMMAND` specs: a word that starts with a letter and has `=` after a name of letters,
/// digits and `_` starts a new implementation; the other words are its arguments.
pub fn split_impl_list(list: &str) -> Vec<String> {
    let mut specs: Vec<String> = Vec::new();
    for word in list.split_whitespace() {
        let starts_new = word.split_once('=').is_some_and(|(name, _)| {
            name.starts_with(|c: char| c.is_ascii_alphabetic())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
        match specs.last_mut() {
            Some(last) if !starts_new => {
                last.push(' ');
                last.push_str(word);
            }
            _ => specs.push(word.to_string()),
        }
    }
    specs
}

/// What one run of a scenario produced, and how it differs from the expectation.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The differences; empty when the scenario passed.
    pub failures: Vec<String>,
    /// Stdout as produced.
    pub stdout: String,
    /// Stderr as produced.
    pub stderr: String,
    /// The requests the mock saw.
    pub requests: Vec<String>,
    /// How long the command ran.
    pub elapsed: Duration,
}

impl Outcome {
    /// Whether everything matched.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// A loopback port that refuses connections. Taken below 1024, where no mock (nor any other
/// ephemeral port) can be handed out meanwhile: a port bound and released could be reused by a
/// mock of a scenario running in parallel.
fn closed_port(bind: IpAddr) -> u16 {
    [9, 1, 3, 5, 11, 15, 19, 27, 29, 33, 35, 39, 41]
        .into_iter()
        .find(|&port| {
            let addr = SocketAddr::new(bind, port);
            matches!(
                TcpStream::connect_timeout(&addr, Duration::from_secs(1)),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused
            )
        })
        .unwrap_or(9)
}

/// A fresh, empty folder under the system temp dir.
fn fresh_home(scenario: &str) -> std::io::Result<PathBuf> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!(
        "imds-conformance-{}-{n}-{scenario}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Shows a string with its line ends and control characters visible.
fn visible(text: &str) -> String {
    format!("{text:?}")
}

/// Runs `scenario` against `implementation` with a fresh mock and a fresh `HOME`, in the
/// runner's working directory (so relative paths in a command line keep working).
pub fn run(scenario: &Scenario, implementation: &Implementation) -> Outcome {
    let mut outcome = Outcome {
        failures: Vec::new(),
        stdout: String::new(),
        stderr: String::new(),
        requests: Vec::new(),
        elapsed: Duration::ZERO,
    };
    let mut server = match MockServer::start_on(
        scenario.script.clone(),
        SocketAddr::new(scenario.bind, 0),
        None,
    ) {
        Ok(server) => server,
        Err(e) => {
            outcome.failures.push(format!("mock: {e}"));
            return outcome;
        }
    };
    let home = match fresh_home(&scenario.name) {
        Ok(home) => home,
        Err(e) => {
            outcome.failures.push(format!("temp dir: {e}"));
            return outcome;
        }
    };
    let config_path = match scenario.config_location {
        ConfigLocation::Env => home.join("aws-config"),
        ConfigLocation::Home => home.join(".aws").join("config"),
    };
    let host = match scenario.bind {
        IpAddr::V4(_) => "127.0.0.1".to_string(),
        IpAddr::V6(_) => "[::1]".to_string(),
    };
    let mut placeholders: BTreeMap<&str, String> = BTreeMap::new();
    placeholders.insert("{endpoint}", server.endpoint());
    placeholders.insert("{port}", server.port().to_string());
    placeholders.insert("{host}", host);
    placeholders.insert("{home}", home.display().to_string());
    placeholders.insert("{config}", config_path.display().to_string());
    placeholders.insert("{closed_port}", closed_port(scenario.bind).to_string());
    placeholders.insert("{version}", imds_core::VERSION.to_string());
    let fill = |text: &str| {
        placeholders
            .iter()
            .fold(text.to_string(), |acc, (k, v)| acc.replace(k, v))
    };

    let mut command = Command::new(&implementation.program);
    command
        .args(&implementation.leading_args)
        .args(&scenario.args)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for name in PASSED_THROUGH {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    command.env("HOME", &home);
    if let Some(config) = &scenario.config {
        let written = config_path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&config_path, fill(config)));
        if let Err(e) = written {
            outcome.failures.push(format!("config file: {e}"));
            return outcome;
        }
        if scenario.config_location == ConfigLocation::Env {
            command.env("AWS_CONFIG_FILE", &config_path);
        }
    }
    for (name, value) in &scenario.env {
        command.env(name, fill(value));
    }

    let started = Instant::now();
    let status = match run_to_end(&mut command, &mut outcome) {
        Ok(status) => status,
        Err(e) => {
            outcome.failures.push(format!(
                "cannot run {}: {e}",
                implementation.program.display()
            ));
            return outcome;
        }
    };
    outcome.elapsed = started.elapsed();
    let log = server.stop();
    outcome.requests = log.iter().map(|r| r.summary()).collect();
    let _ = std::fs::remove_dir_all(&home);

    let expect = &scenario.expect;
    let expected_requests: Vec<String> = expect.requests.iter().map(|r| fill(r)).collect();
    if outcome.requests != expected_requests {
        let mut message = String::from("requests differ:\n      expected:");
        for r in &expected_requests {
            let _ = write!(message, "\n        {r}");
        }
        message.push_str("\n      got:");
        for r in &log {
            let _ = write!(message, "\n        {r}");
        }
        outcome.failures.push(message);
    }
    let user_agent = format!("imds/{} ({})", imds_core::VERSION, implementation.binding());
    for record in &log {
        if record.user_agent.as_deref() != Some(user_agent.as_str()) {
            outcome.failures.push(format!(
                "request `{}` has User-Agent {:?}, not `{user_agent}`",
                record.summary(),
                record.user_agent
            ));
        }
    }
    if let Some(connections) = expect.connections {
        let got = log.iter().map(|r| r.connection).max().unwrap_or(0);
        if got != connections {
            outcome
                .failures
                .push(format!("connections: expected {connections}, got {got}"));
        }
    }
    if let Some(bound) = expect.within_seconds
        && outcome.elapsed > Duration::from_secs(bound)
    {
        outcome.failures.push(format!(
            "the command ran {:.1} s, more than {bound} s",
            outcome.elapsed.as_secs_f64()
        ));
    }
    match status {
        Some(code) if code == expect.exit => {}
        Some(code) => outcome
            .failures
            .push(format!("exit status: expected {}, got {code}", expect.exit)),
        None => outcome.failures.push(format!(
            "the command did not exit by itself (killed after {COMMAND_TIME_LIMIT:?} or by a signal)"
        )),
    }
    if let Some(stdout) = &expect.stdout {
        let stdout = fill(stdout);
        if outcome.stdout != stdout {
            outcome.failures.push(format!(
                "stdout differs:\n      expected: {}\n      got:      {}",
                visible(&stdout),
                visible(&outcome.stdout)
            ));
        }
    }
    if let Some(prefix) = &expect.stdout_prefix {
        let prefix = fill(prefix);
        if !outcome.stdout.starts_with(&prefix) {
            outcome.failures.push(format!(
                "stdout does not start as expected:\n      expected: {}...\n      got:      {}",
                visible(&prefix),
                visible(&outcome.stdout)
            ));
        }
    }
    if let Some(stderr) = &expect.stderr {
        let stderr = fill(stderr);
        if outcome.stderr != stderr {
            outcome.failures.push(format!(
                "stderr differs:\n      expected: {}\n      got:      {}",
                visible(&stderr),
                visible(&outcome.stderr)
            ));
        }
    }
    if let Some(start) = &expect.stderr_starts {
        let start = fill(start);
        if !outcome.stderr.starts_with(&start) {
            outcome.failures.push(format!(
                "stderr does not start as expected:\n      expected: {}...\n      got:      {}",
                visible(&start),
                visible(&outcome.stderr)
            ));
        }
    }
    if let Some(end) = &expect.stderr_ends {
        let end = fill(end);
        if !outcome.stderr.ends_with(&end) {
            outcome.failures.push(format!(
                "stderr does not end as expected:\n      expected: ...{}\n      got:      {}",
                visible(&end),
                visible(&outcome.stderr)
            ));
        }
    }
    for needle in &expect.stderr_contains {
        let needle = fill(needle);
        if !outcome.stderr.contains(&needle) {
            outcome.failures.push(format!(
                "stderr lacks {}:\n      got: {}",
                visible(&needle),
                visible(&outcome.stderr)
            ));
        }
    }
    let credentials = &scenario.script.credentials;
    let mut secrets: Vec<(String, &str)> = server
        .issued_tokens()
        .into_iter()
        .map(|t| (t, "an IMDSv2 token"))
        .collect();
    for (secret, what) in [
        (&credentials.secret_access_key, "the secret access key"),
        (&credentials.token, "the session token"),
    ] {
        if let Some(secret) = secret.as_ref().filter(|s| s.len() >= 8) {
            secrets.push((secret.clone(), what));
        }
    }
    for (secret, what) in &secrets {
        if outcome.stderr.contains(secret.as_str()) {
            outcome
                .failures
                .push(format!("stderr leaks {what} the mock served"));
        }
        if *what == "an IMDSv2 token" && outcome.stdout.contains(secret.as_str()) {
            outcome.failures.push(format!("stdout leaks {what}"));
        }
        if *what == "an IMDSv2 token" {
            for record in log.iter().filter(|r| r.path.contains(secret.as_str())) {
                outcome.failures.push(format!(
                    "request #{} {} carries {what} in its path",
                    record.connection, record.method
                ));
            }
        }
    }
    outcome
}

/// Runs `command` to its end (killing it after [`COMMAND_TIME_LIMIT`]), collecting its output.
fn run_to_end(command: &mut Command, outcome: &mut Outcome) -> std::io::Result<Option<i32>> {
    let mut child = command.spawn()?;
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stdout.as_mut() {
            let _ = s.read_to_end(&mut buf);
        }
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stderr.as_mut() {
            let _ = s.read_to_end(&mut buf);
        }
        buf
    });
    let deadline = Instant::now() + COMMAND_TIME_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status.code();
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    outcome.stdout = String::from_utf8_lossy(&out_reader.join().unwrap_or_default()).into_owned();
    outcome.stderr = String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned();
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_make_style_implementation_lists() {
        assert_eq!(
            split_impl_list(
                " node=node /r/bin/imds.js python=/r/.venv/bin/python -m imds rust=/t/imds "
            ),
            vec![
                "node=node /r/bin/imds.js",
                "python=/r/.venv/bin/python -m imds",
                "rust=/t/imds"
            ]
        );
        assert_eq!(split_impl_list(""), Vec::<String>::new());
        assert_eq!(
            split_impl_list("c=./imds --opt=1"),
            vec!["c=./imds --opt=1"]
        );
    }

    #[test]
    fn refuses_scenarios_that_could_leave_the_machine() {
        let fetch_default =
            r#"{"description": "d", "env": {}, "expect": {"stdout": "", "stderr": "", "exit": 0}}"#;
        assert!(Scenario::parse("x", fetch_default).is_err());
        let remote = r#"{"description": "d", "env": {"AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://169.254.169.254"},
            "expect": {"stdout": "", "stderr": "", "exit": 0}}"#;
        assert!(Scenario::parse("x", remote).is_err());
        let local = r#"{"description": "d", "env": {"AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://[::1]:{port}"},
            "expect": {"stdout": "", "stderr": "", "exit": 0}}"#;
        assert!(Scenario::parse("x", local).is_ok());
        let settings = r#"{"description": "d", "args": ["settings"], "expect": {"stdout": "", "stderr": "", "exit": 0}}"#;
        assert!(Scenario::parse("x", settings).is_ok());
    }
}
