//! Host side (feature `std`): read the process environment and the shared config file, and feed
//! them to a [`crate::Resolver`]. The core itself never reads either.
//!
//! * Environment: every setting's variable ([`Setting::env_name`]), `AWS_PROFILE`,
//!   `AWS_CONFIG_FILE` and `HOME`. An empty variable counts as unset. No proxy variable is ever
//!   read.
//! * Config file: `AWS_CONFIG_FILE` (a leading `~/` is expanded with `HOME`), else
//!   `$HOME/.aws/config`. A missing file is not an error, whether or not `AWS_CONFIG_FILE` named
//!   it: the `imds settings` report shows `not found` ([`ConfigOrigin`]). A file that exists but
//!   cannot be read, is not UTF-8 or has a malformed line is an [`ErrorKind::ConfigFile`] error.
//! * Profile: `AWS_PROFILE`, else `default`.

use std::borrow::ToOwned;
use std::path::PathBuf;
use std::string::String;

use crate::config_file::ConfigFile;
use crate::error::{Error, ErrorKind};
use crate::settings::{ConfigFileStatus, ConfigOrigin, Resolver, Setting, Settings, Source};
use crate::text::ShortText;

/// The environment variable naming the active profile.
pub const PROFILE_VAR: &str = "AWS_PROFILE";
/// The environment variable naming the config file.
pub const CONFIG_FILE_VAR: &str = "AWS_CONFIG_FILE";
/// The environment variable naming the home folder.
pub const HOME_VAR: &str = "HOME";

/// Where the config file is expected, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigFileLocation {
    /// The path, or `None` when neither `AWS_CONFIG_FILE` nor `HOME` is set.
    pub path: Option<PathBuf>,
    /// [`Source::Env`] when `AWS_CONFIG_FILE` named it, else [`Source::Default`].
    pub source: Source,
}

/// A variable's value, `None` when unset or empty.
fn non_empty(env: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    env(name).filter(|value| !value.is_empty())
}

/// The config file location per `AWS_CONFIG_FILE` and `HOME` (Linux rules of the SDKs'
/// `file-location-tests.json`): `AWS_CONFIG_FILE` with `~` / `~/` expanded, else
/// `$HOME/.aws/config`.
pub fn config_file_location(env: &dyn Fn(&str) -> Option<String>) -> ConfigFileLocation {
    let home = non_empty(env, HOME_VAR);
    match non_empty(env, CONFIG_FILE_VAR) {
        Some(named) => {
            let expanded = match (&home, named.strip_prefix('~')) {
                (Some(home), Some("")) => PathBuf::from(home),
                (Some(home), Some(rest)) if rest.starts_with('/') => {
                    PathBuf::from(home).join(rest.trim_start_matches('/'))
                }
                _ => PathBuf::from(named),
            };
            ConfigFileLocation {
                path: Some(expanded),
                source: Source::Env,
            }
        }
        None => ConfigFileLocation {
            path: home.map(|home| PathBuf::from(home).join(".aws").join("config")),
            source: Source::Default,
        },
    }
}

/// The active profile: `AWS_PROFILE` ([`Source::Env`]) else `default` ([`Source::Default`]).
pub fn active_profile(env: &dyn Fn(&str) -> Option<String>) -> (String, Source) {
    match non_empty(env, PROFILE_VAR) {
        Some(name) => (name, Source::Env),
        None => ("default".to_owned(), Source::Default),
    }
}

/// Resolves settings from `explicit` values (source `code`), the process environment, and the
/// active profile of the config file the environment names (`AWS_CONFIG_FILE`, else
/// `$HOME/.aws/config`; `AWS_PROFILE`, else `default`).
pub fn load_settings(explicit: &[(Setting, &str)]) -> Result<Settings, Error> {
    // Not-UTF-8 values are kept (lossily) so that they are refused rather than ignored.
    load_settings_with(
        &|name| std::env::var_os(name).map(|value| value.to_string_lossy().into_owned()),
        explicit,
    )
}

/// Like [`load_settings`], with the environment given as a lookup function (for tests and for
/// hosts whose environment is not the process's).
pub fn load_settings_with(
    env: &dyn Fn(&str) -> Option<String>,
    explicit: &[(Setting, &str)],
) -> Result<Settings, Error> {
    load_resolver_with(env, explicit)?.resolve()
}

/// The [`Resolver`] [`load_settings_with`] resolves, for hosts that add values before resolving.
pub fn load_resolver_with(
    env: &dyn Fn(&str) -> Option<String>,
    explicit: &[(Setting, &str)],
) -> Result<Resolver, Error> {
    let mut resolver = Resolver::new();
    for &(setting, value) in explicit {
        resolver.set(setting, Source::Explicit, value)?;
    }
    for setting in Setting::ALL {
        if let Some(name) = setting.env_name()
            && let Some(value) = env(name)
        {
            resolver.set(setting, Source::Env, &value)?;
        }
    }
    let (profile, profile_source) = active_profile(env);
    let location = config_file_location(env);
    let mut profile_found = false;
    let status = match &location.path {
        None => ConfigFileStatus::NoHome,
        Some(path) => match std::fs::read(path) {
            Ok(bytes) => {
                let file = ConfigFile::from_bytes(&bytes)?;
                profile_found = resolver.set_profile(&file, &profile)?;
                ConfigFileStatus::Read
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                ConfigFileStatus::NotFound
            }
            Err(_) => {
                return Err(Error::detail(
                    ErrorKind::ConfigFile,
                    "cannot read the config file (check its permissions, or set AWS_CONFIG_FILE \
                     to another file)",
                ));
            }
        },
    };
    let path = location
        .path
        .as_ref()
        .map(|path| path.to_string_lossy().into_owned())
        .unwrap_or_default();
    resolver.set_origin(ConfigOrigin {
        profile: ShortText::new(&profile),
        profile_source,
        profile_found,
        path: ShortText::new(&path),
        path_source: location.source,
        status,
    });
    Ok(resolver)
}
