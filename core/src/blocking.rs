//! A blocking driver (feature `std`) over `std::net::TcpStream`: the reference host loop.

use crate::credentials::Credentials;
use crate::error::Error;
use crate::settings::Settings;

/// Fetches credentials once with a fresh client over blocking sockets.
pub fn fetch_credentials(settings: &Settings) -> Result<Credentials, Error> {
    let _ = settings;
    Err(Error::detail(crate::ErrorKind::InvalidState, "not implemented yet"))
}
