//! The `imds-mock` program: first line, JSON-lines log, loopback-only binding.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Command, Stdio};

use common::{RawClient, TTL};
use serde_json::Value;

const MOCK: &str = env!("CARGO_BIN_EXE_imds-mock");

#[test]
fn prints_its_address_serves_and_logs_json_lines() {
    let dir = std::env::temp_dir().join(format!("imds-mock-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("requests.jsonl");
    let _ = std::fs::remove_file(&log);
    let mut child = Command::new(MOCK)
        .args(["--script-json", r#"{"role": "from-script"}"#, "--log"])
        .arg(&log)
        .arg("--until-stdin-closes")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let addr: SocketAddr = first
        .strip_prefix("listening ")
        .expect("first line is `listening ADDR`")
        .trim()
        .parse()
        .unwrap();
    assert_eq!(addr.ip().to_string(), "127.0.0.1");
    let mut client = RawClient::connect(addr);
    client.request("PUT", "/latest/api/token", &[TTL]);
    let role = client.request("GET", "/latest/meta-data/iam/security-credentials/", &[]);
    assert_eq!(role.text(), "from-script");
    drop(client);
    child.stdin.take().unwrap().write_all(b"").unwrap();
    assert!(child.wait().unwrap().success());

    let lines: Vec<Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].get("method").and_then(Value::as_str), Some("PUT"));
    assert_eq!(lines[0].get("ttl").and_then(Value::as_str), Some("21600"));
    assert_eq!(
        lines[0].get("token_sent").and_then(Value::as_bool),
        Some(false)
    );
    assert_eq!(
        lines[1].get("path").and_then(Value::as_str),
        Some("/latest/meta-data/iam/security-credentials/")
    );
    assert_eq!(lines[1].get("connection").and_then(Value::as_u64), Some(1));
    for line in &lines {
        assert_eq!(line.get("outcome").and_then(Value::as_str), Some("served"));
        assert_eq!(line.get("limit"), Some(&Value::Null));
        assert!(line.get("time_us").and_then(Value::as_u64).is_some());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn refuses_a_non_loopback_address() {
    let output = Command::new(MOCK)
        .args(["--bind", "0.0.0.0"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("binds only 127.0.0.1 or ::1"), "{stderr}");
    assert!(output.stdout.is_empty());
}

#[test]
fn refuses_a_malformed_script() {
    let output = Command::new(MOCK)
        .args(["--script-json", r#"{"rol": 1}"#])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown key `rol`"));
}
