//! Python bindings over `imds-core`.
