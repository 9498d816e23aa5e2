//! A raw HTTP/1.1 client for the mock's own tests: writes request bytes by hand and reads the
//! response bytes back, so the tests see exactly what the mock puts on the wire.

#![allow(dead_code, unreachable_pub)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// A response as read from the wire.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The decoded body (chunked bodies are de-chunked).
    pub body: Vec<u8>,
    /// Whether the body arrived whole (a cut-off body is not complete).
    pub complete: bool,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("UTF-8 body")
    }
}

/// One TCP connection to the mock.
pub struct RawClient {
    stream: TcpStream,
    pending: Vec<u8>,
}

impl RawClient {
    pub fn connect(addr: SocketAddr) -> RawClient {
        let stream = TcpStream::connect(addr).expect("connect to the mock");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        RawClient {
            stream,
            pending: Vec::new(),
        }
    }

    pub fn send(&mut self, raw: &str) {
        self.stream
            .write_all(raw.as_bytes())
            .expect("write request");
    }

    /// Sends `METHOD PATH` with the given extra header lines (each without CRLF).
    pub fn request(&mut self, method: &str, path: &str, headers: &[&str]) -> RawResponse {
        let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        for header in headers {
            raw.push_str(header);
            raw.push_str("\r\n");
        }
        if method == "PUT" {
            raw.push_str("Content-Length: 0\r\n");
        }
        raw.push_str("\r\n");
        self.send(&raw);
        self.read_response()
    }

    fn fill(&mut self) -> bool {
        let mut buf = [0u8; 4096];
        match self.stream.read(&mut buf) {
            Ok(0) => false,
            Ok(n) => {
                self.pending.extend_from_slice(&buf[..n]);
                true
            }
            Err(e) => panic!("read from the mock: {e}"),
        }
    }

    /// Whether the server closed the connection (reads EOF with nothing pending).
    pub fn at_eof(&mut self) -> bool {
        self.pending.is_empty() && !self.fill()
    }

    /// The next byte, `None` at end of stream.
    pub fn next_byte(&mut self) -> Option<u8> {
        if self.pending.is_empty() && !self.fill() {
            return None;
        }
        Some(self.pending.remove(0))
    }

    /// Sets how long a read may wait.
    pub fn set_read_timeout(&mut self, timeout: Duration) {
        self.stream.set_read_timeout(Some(timeout)).unwrap();
    }

    /// Whether any byte arrives within the read timeout.
    pub fn anything_arrives(&mut self) -> bool {
        let mut buf = [0u8; 1];
        match self.stream.peek(&mut buf) {
            Ok(n) => n > 0,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                false
            }
            Err(e) => panic!("peek: {e}"),
        }
    }

    pub fn read_response(&mut self) -> RawResponse {
        let head_end = loop {
            if let Some(end) = self.pending.windows(4).position(|w| w == b"\r\n\r\n") {
                break end;
            }
            assert!(self.fill(), "connection closed before a response head");
        };
        let head = String::from_utf8(self.pending[..head_end].to_vec()).unwrap();
        self.pending.drain(..head_end + 4);
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap();
        assert!(status_line.starts_with("HTTP/1.1 "), "{status_line}");
        let status = status_line[9..12].parse().unwrap();
        let headers: Vec<(String, String)> = lines
            .map(|l| {
                let (n, v) = l.split_once(':').unwrap();
                (n.to_string(), v.trim().to_string())
            })
            .collect();
        let mut response = RawResponse {
            status,
            headers,
            body: Vec::new(),
            complete: true,
        };
        if response
            .header("transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
        {
            loop {
                let line_end = loop {
                    if let Some(end) = self.pending.windows(2).position(|w| w == b"\r\n") {
                        break end;
                    }
                    assert!(self.fill(), "closed inside a chunk size line");
                };
                let size_text = String::from_utf8(self.pending[..line_end].to_vec()).unwrap();
                let size = usize::from_str_radix(size_text.trim(), 16).unwrap();
                self.pending.drain(..line_end + 2);
                while self.pending.len() < size + 2 {
                    assert!(self.fill(), "closed inside a chunk");
                }
                response.body.extend_from_slice(&self.pending[..size]);
                self.pending.drain(..size + 2);
                if size == 0 {
                    break;
                }
            }
        } else {
            let length: usize = response
                .header("content-length")
                .expect("Content-Length or chunked")
                .parse()
                .unwrap();
            while self.pending.len() < length {
                if !self.fill() {
                    response.complete = false;
                    break;
                }
            }
            let take = length.min(self.pending.len());
            response.body = self.pending.drain(..take).collect();
        }
        response
    }
}

pub const TTL: &str = "x-aws-ec2-metadata-token-ttl-seconds: 21600";

/// The header line carrying `token`.
pub fn token_header(token: &str) -> String {
    format!("x-aws-ec2-metadata-token: {token}")
}
