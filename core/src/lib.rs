//! `imds-core`: a sans-IO, allocation-free client for the EC2 Instance Metadata Service (IMDS).
//!
//! The crate resolves IMDS settings (code, environment, shared config file, defaults) and performs the
//! IMDSv2 token / role / credentials exchange as a state machine. It never touches sockets, files,
//! clocks, randomness or the environment: the host passes in bytes, time and configuration, and carries
//! out the [`client::Action`]s the machine asks for. That is what lets one core serve a C agent's event
//! loop, Python's `socket`/`asyncio` and Node's `net` alike.
//!
//! * [`settings`]: [`settings::Resolver`] collects values with their [`settings::Source`] and resolves
//!   them into [`settings::Settings`].
//! * [`config_file`]: an allocation-free reader of the shared AWS config file.
//! * [`client`]: the long-lived [`client::Client`] that runs one operation at a time.
//! * [`cli`]: the `imds` command contract shared by every front end (arguments, output, exit codes).
//! * [`chain`]: how an AWS SDK credential chain treats each error (go on, warn, or stop).
//!
//! With the `std` feature, `host` reads the process environment and the config file, and
//! `blocking` drives a [`client::Client`] over `std::net::TcpStream`.
//!
//! Nothing here allocates (the crate does not link `alloc`), panics, or loops without bound on any
//! input: malformed input is a typed [`error::Error`] that says what is wrong and what to do.
#![no_std]
#![forbid(unsafe_code)]

#[cfg(feature = "std")]
extern crate std;

pub mod chain;
pub mod cli;
pub mod client;
pub mod config_file;
pub mod credentials;
pub mod diagnostic;
pub mod endpoint;
pub mod error;
mod http;
mod json;
pub mod role;
pub mod secret;
pub mod settings;
pub mod text;
pub mod time;

#[cfg(feature = "std")]
pub mod blocking;
#[cfg(feature = "std")]
pub mod host;

pub use client::{Action, Client};
pub use credentials::Credentials;
pub use diagnostic::Diagnostic;
pub use error::{Error, ErrorKind};
pub use settings::{Resolver, Setting, Settings, Source};
pub use time::{Instant, UnixTime};

/// The version of this crate, as written in `User-Agent` and reported by `imds_version()`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Entry points for the fuzz targets in `core/fuzz` (compiled only under `cargo fuzz`, which sets
/// `cfg(fuzzing)`): they reach the private parsers. Not part of the API.
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing {
    /// The credentials document parser.
    pub fn parse_credentials(body: &[u8]) -> Result<crate::Credentials, crate::Error> {
        let mut credentials = crate::Credentials::default();
        crate::json::parse_credentials(body, &[], &mut credentials).map(|()| credentials)
    }

    /// The role-list parser.
    pub fn parse_role_name(body: &[u8]) -> Result<crate::role::RoleName, crate::Error> {
        crate::role::parse_role_list(body, &[])
    }

    /// The client's HTTP response reader, with its receive capacity.
    pub struct ResponseReader(crate::http::ResponseReader<{ crate::client::RECEIVE_CAPACITY }>);

    impl ResponseReader {
        /// An empty reader.
        pub const fn new() -> Self {
            Self(crate::http::ResponseReader::new())
        }

        /// Feeds bytes: `Ok(true)` once the response is complete, `Err` names the problem.
        pub fn receive(&mut self, data: &[u8]) -> Result<bool, &'static str> {
            self.0.receive(data).map(complete).map_err(problem)
        }

        /// The peer closed the connection.
        pub fn eof(&mut self) -> Result<bool, &'static str> {
            self.0.eof().map(complete).map_err(problem)
        }

        /// Status, whether the connection must close, and the TTL header, once the head is read.
        pub fn head(&self) -> Option<(u16, bool, Option<u32>)> {
            self.0
                .head()
                .map(|head| (head.status, head.close, head.token_ttl_secs))
        }

        /// The body of a complete response.
        pub fn body(&self) -> &[u8] {
            self.0.body()
        }
    }

    impl Default for ResponseReader {
        fn default() -> Self {
            Self::new()
        }
    }

    fn complete(progress: crate::http::Progress) -> bool {
        progress == crate::http::Progress::Complete
    }

    fn problem(error: crate::http::ReadError) -> &'static str {
        match error {
            crate::http::ReadError::Malformed(what) => what,
            crate::http::ReadError::TooLarge => "too large",
            crate::http::ReadError::Closed => "closed early",
        }
    }
}

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
