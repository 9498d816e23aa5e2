//! Host side (feature `std`): read the process environment and the shared config file, and feed
//! them to a [`crate::Resolver`]. The core itself never reads either.
