//! What the fuzz targets share: the input read as a script of choices, and the settings a script
//! picks.

use imds_core::endpoint::Endpoint;
use imds_core::role::RoleName;
use imds_core::settings::CredentialsApi;
use imds_core::{Settings, Source};

/// The fuzz input, read front to back; an exhausted script answers with zeros, so that every
/// target gives its most ordinary answer (and ends) once the input runs out.
pub struct Script<'a>(&'a [u8]);

impl<'a> Script<'a> {
    /// A script reading `input`.
    pub fn new(input: &'a [u8]) -> Self {
        Self(input)
    }

    /// The next byte (0 once exhausted).
    pub fn byte(&mut self) -> u8 {
        let (first, rest) = self.0.split_first().map_or((0, &[][..]), |(b, r)| (*b, r));
        self.0 = rest;
        first
    }

    /// The next `count` bytes (fewer when the script runs out).
    pub fn take(&mut self, count: usize) -> &'a [u8] {
        let (taken, rest) = self.0.split_at(count.min(self.0.len()));
        self.0 = rest;
        taken
    }

    /// Whether every byte was read.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Where the targets' clients are configured to connect: loopback, and never dialled (no target
/// opens a socket); a target checks that every connect asks for exactly this.
pub const ENDPOINT: &str = "http://127.0.0.1:1338";

/// Settings picked by the bits of `flags`: 1 IMDSv1 disabled, 2 the extended credentials API,
/// 4 the role `my-role` configured, 8 attempts set to 1 to 4 (bits 16 and 32), 64 a 100 ms
/// timeout, 128 a token TTL of 120 s. Sources are those a user would use.
pub fn settings(flags: u8) -> Settings {
    let mut settings = Settings::default();
    settings.endpoint.value = Endpoint::parse(ENDPOINT).unwrap();
    if flags & 1 != 0 {
        settings.v1_disabled.value = true;
        settings.v1_disabled.source = Source::Env;
    }
    if flags & 2 != 0 {
        settings.credentials_api.value = CredentialsApi::Extended;
        settings.credentials_api.source = Source::Explicit;
    }
    if flags & 4 != 0 {
        settings.instance_profile_name.value = RoleName::try_from("my-role").ok();
        settings.instance_profile_name.source = Source::Env;
    }
    if flags & 8 != 0 {
        settings.attempts.value = 1 + (flags >> 4) % 4;
        settings.attempts.source = Source::Env;
    }
    if flags & 0x40 != 0 {
        settings.timeout_ms.value = 100;
        settings.timeout_ms.source = Source::Env;
    }
    if flags & 0x80 != 0 {
        settings.token_ttl_secs.value = 120;
        settings.token_ttl_secs.source = Source::Env;
    }
    settings
}
