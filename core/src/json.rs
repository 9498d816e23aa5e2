//! An allocation-free scanner for the IMDS credentials document (one JSON object).
