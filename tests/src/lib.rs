//! Test kit: mock IMDS server and conformance runner.
