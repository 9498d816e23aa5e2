//! `imds-mock`: the loopback mock IMDS as a program.
//!
//! ```text
//! imds-mock [--bind 127.0.0.1|::1] [--port N] [--script FILE | --script-json JSON] [--log FILE]
//! ```
//!
//! Prints `listening ADDR:PORT` as its first line once it accepts connections, then serves until
//! it is killed or its standard input reaches end of file when `--until-stdin-closes` is given.
//! `--log FILE` appends one JSON object per request (connection, method, path, token_sent, ttl,
//! status, user_agent, time_us: microseconds since the mock started, outcome: served, throttled
//! or dropped, limit: the throttle limit that applied, else null), and one per throttling event
//! (an object with an `event` key: `connection_dropped`, `stopped_listening`, `listening`).

use std::fs::File;
use std::io::{self, BufRead, Write};
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::sync::Mutex;

use imds_testkit::mock::{LogObserver, MockServer};
use imds_testkit::script::Script;

const USAGE: &str = "usage: imds-mock [--bind 127.0.0.1|::1] [--port N] [--script FILE | --script-json JSON] [--log FILE] [--until-stdin-closes]";

struct Options {
    bind: IpAddr,
    port: u16,
    script: Script,
    log: Option<String>,
    until_stdin_closes: bool,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        bind: IpAddr::from([127, 0, 0, 1]),
        port: 0,
        script: Script::default(),
        log: None,
        until_stdin_closes: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--bind" => {
                let text = value("--bind")?;
                let text = text.trim_start_matches('[').trim_end_matches(']');
                options.bind = text
                    .parse()
                    .map_err(|_| format!("--bind: `{text}` is not an IP address"))?;
            }
            "--port" => {
                options.port = value("--port")?
                    .parse()
                    .map_err(|_| "--port needs a number from 0 to 65535".to_string())?;
            }
            "--script" => {
                let path = value("--script")?;
                let text = if path == "-" {
                    io::read_to_string(io::stdin()).map_err(|e| format!("stdin: {e}"))?
                } else {
                    std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?
                };
                options.script = Script::from_json_text(&text).map_err(|e| e.to_string())?;
            }
            "--script-json" => {
                options.script =
                    Script::from_json_text(&value("--script-json")?).map_err(|e| e.to_string())?;
            }
            "--log" => options.log = Some(value("--log")?),
            "--until-stdin-closes" => options.until_stdin_closes = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    let options = match parse_options() {
        Ok(options) => options,
        Err(problem) => {
            eprintln!("imds-mock: {problem}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let observer: Option<LogObserver> = match &options.log {
        None => None,
        Some(path) => match File::options().create(true).append(true).open(path) {
            Ok(file) => {
                let file = Mutex::new(file);
                Some(Box::new(move |entry| {
                    let line = format!("{}\n", entry.to_json());
                    let mut file = file.lock().unwrap_or_else(|e| e.into_inner());
                    let _ = file.write_all(line.as_bytes());
                }))
            }
            Err(e) => {
                eprintln!("imds-mock: {path}: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let addr = SocketAddr::new(options.bind, options.port);
    let mut server = match MockServer::start_on(options.script, addr, observer) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("imds-mock: {e}");
            return ExitCode::from(2);
        }
    };
    let mut stdout = io::stdout().lock();
    let _ = writeln!(stdout, "listening {}", server.addr());
    let _ = stdout.flush();
    drop(stdout);
    if options.until_stdin_closes {
        let mut sink = String::new();
        let stdin = io::stdin();
        while stdin.lock().read_line(&mut sink).is_ok_and(|n| n > 0) {
            sink.clear();
        }
        server.stop();
    } else {
        loop {
            std::thread::park();
        }
    }
    ExitCode::SUCCESS
}
