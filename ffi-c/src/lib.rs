//! C ABI over `imds-core` (see `include/imds.h`).
