//! Runner for imds via Rust: the `std` feature's `BlockingClient` over `std::net`.
//! Cold: a new `BlockingClient` per fetch. Warm: one long-lived client whose refresh window
//! (3600 s) covers the mock's credentials (they expire 30 min after the bench starts), so every
//! call refreshes with the cached token and role.

#[path = "../protocol.rs"]
mod protocol;

use imds_core::blocking::BlockingClient;
use imds_core::host::load_settings;
use imds_core::settings::Setting;

struct Imds {
    settings: imds_core::Settings,
    long_lived: BlockingClient,
}

impl protocol::Contender for Imds {
    fn cold(&mut self) -> Result<String, String> {
        let credentials = BlockingClient::new(&self.settings)
            .fetch_credentials()
            .map_err(|e| e.to_string())?;
        Ok(credentials.access_key_id().to_string())
    }

    fn warm(&mut self) -> Result<String, String> {
        let credentials = self
            .long_lived
            .fetch_credentials()
            .map_err(|e| e.to_string())?;
        Ok(credentials.access_key_id().to_string())
    }
}

fn main() {
    let endpoint = protocol::endpoint_argument();
    let settings = match load_settings(&[
        (Setting::Endpoint, endpoint.as_str()),
        (Setting::RefreshWindow, "3600"),
    ]) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("runner-imds: {e}");
            std::process::exit(2);
        }
    };
    let long_lived = BlockingClient::new(&settings);
    protocol::serve(&mut Imds {
        settings,
        long_lived,
    });
}
