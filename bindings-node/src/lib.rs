//! Node bindings over `imds-core`.
