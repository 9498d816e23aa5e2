//! Conformance scenarios (placeholder while the runner is written).
