//! `imds-mock-bench`: how much CPU the mock spends per three-request exchange (token, role list,
//! credentials), so benchmarks of the clients know they measure the client, not the mock.
//!
//! ```text
//! imds-mock-bench [PATH/TO/imds-mock] [EXCHANGES]
//! ```
//!
//! Starts `imds-mock` as a child process, drives it from this process with raw HTTP over loopback,
//! and reads the child's user + system CPU time from `/proc/<pid>/stat` before and after (all
//! threads, including finished ones). Prints figures; asserts nothing.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Reads one response (Content-Length bodies, as the mock sends by default) and returns its body.
fn read_response(stream: &mut TcpStream, pending: &mut Vec<u8>) -> Vec<u8> {
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&pending[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if pending.len() >= end + 4 + length {
                let body = pending[end + 4..end + 4 + length].to_vec();
                pending.drain(..end + 4 + length);
                return body;
            }
        }
        let n = stream.read(&mut buf).expect("read from the mock");
        assert!(n > 0, "the mock closed the connection");
        pending.extend_from_slice(&buf[..n]);
    }
}

/// One exchange as `imds credentials` makes it: token, role list, credentials.
fn exchange(stream: &mut TcpStream, pending: &mut Vec<u8>) {
    stream
        .write_all(b"PUT /latest/api/token HTTP/1.1\r\nHost: 127.0.0.1\r\nx-aws-ec2-metadata-token-ttl-seconds: 21600\r\nContent-Length: 0\r\n\r\n")
        .expect("write");
    let token = String::from_utf8(read_response(stream, pending)).expect("token");
    let role_request = format!(
        "GET /latest/meta-data/iam/security-credentials/ HTTP/1.1\r\nHost: 127.0.0.1\r\nx-aws-ec2-metadata-token: {token}\r\n\r\n"
    );
    stream.write_all(role_request.as_bytes()).expect("write");
    let role = String::from_utf8(read_response(stream, pending)).expect("role");
    let credentials_request = format!(
        "GET /latest/meta-data/iam/security-credentials/{role} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-aws-ec2-metadata-token: {token}\r\n\r\n"
    );
    stream
        .write_all(credentials_request.as_bytes())
        .expect("write");
    let body = read_response(stream, pending);
    assert!(body.starts_with(b"{\"Code\":\"Success\""));
}

/// User + system CPU of process `pid`, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/PID/stat");
    // Fields after the `(comm)`: state is field 3, utime 14, stime 15.
    let after_comm = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
}

fn clock_ticks_per_second() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mock = args.next().unwrap_or_else(|| {
        let me = std::env::current_exe().expect("current exe");
        me.with_file_name("imds-mock").display().to_string()
    });
    let exchanges: u32 = args.next().and_then(|n| n.parse().ok()).unwrap_or(20_000);

    let mut child = Command::new(&mock)
        .arg("--until-stdin-closes")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {mock}: {e}"));
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("first line");
    let addr: SocketAddr = first
        .trim()
        .strip_prefix("listening ")
        .and_then(|a| a.parse().ok())
        .expect("`listening ADDR`");
    let pid = child.id();
    let tick_us = 1_000_000.0 / clock_ticks_per_second() as f64;

    println!("imds-mock-bench: {mock} on {addr}, {exchanges} exchanges per mode");
    for (mode, per_connection) in [
        ("new connection per exchange (as `imds credentials`)", 1u32),
        ("keep-alive, 100 exchanges per connection", 100),
    ] {
        // Warm up (thread stacks, page faults), then measure.
        for _ in 0..200 {
            let mut stream = TcpStream::connect(addr).expect("connect");
            exchange(&mut stream, &mut Vec::new());
        }
        let cpu_before = cpu_ticks(pid);
        let started = Instant::now();
        let mut done = 0;
        while done < exchanges {
            let mut stream = TcpStream::connect(addr).expect("connect");
            stream.set_nodelay(true).expect("nodelay");
            let mut pending = Vec::new();
            for _ in 0..per_connection.min(exchanges - done) {
                exchange(&mut stream, &mut pending);
                done += 1;
            }
        }
        let wall = started.elapsed();
        let cpu_us = (cpu_ticks(pid) - cpu_before) as f64 * tick_us;
        println!(
            "  {mode}: mock CPU {:.1} us per three-request exchange ({:.0} ms CPU in total, +-{:.0} ms tick resolution); wall {:.1} us per exchange",
            cpu_us / f64::from(exchanges),
            cpu_us / 1000.0,
            tick_us / 1000.0,
            wall.as_secs_f64() * 1e6 / f64::from(exchanges),
        );
    }
    drop(child.stdin.take());
    let _ = child.wait();
}
