//! An allocation-free reader of the shared AWS config file (`~/.aws/config`).
//!
//! Follows the cross-SDK `profile-parser-tests.json` rules for the config file: `[profile NAME]`
//! and `[default]` sections, `key = value` properties, comments, continuation lines and
//! sub-properties. The host passes the file's text; nothing here reads a file.
