//! The fleet barrier (see tests/bench/fleet.py) for the Rust programs: when `FLEET_BARRIER`,
//! `FLEET_REPORT` and `FLEET_ID` are set, [`wait_at_barrier`] reports `ready` and blocks until the
//! harness releases every process at once; [`Released::done`] reports the release and finish
//! times (CLOCK_MONOTONIC, as the harness reads it) and the exit status. Without them, nothing
//! happens: the program runs as `make bench` measures it.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};

/// A process released by the barrier.
pub struct Released {
    report: File,
    id: String,
    released_ns: u64,
}

/// Nanoseconds on CLOCK_MONOTONIC (std's `Instant` reads the same clock but does not expose it).
fn monotonic_ns() -> u64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid timespec for clock_gettime to write.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t) };
    (t.tv_sec as u64) * 1_000_000_000 + t.tv_nsec as u64
}

/// Reports `ready` and waits for the release, when the harness asked (else `None` at once).
pub fn wait_at_barrier() -> Option<Released> {
    let (Ok(barrier), Ok(report), Ok(id)) = (
        std::env::var("FLEET_BARRIER"),
        std::env::var("FLEET_REPORT"),
        std::env::var("FLEET_ID"),
    ) else {
        return None;
    };
    let mut report = OpenOptions::new()
        .write(true)
        .open(report)
        .expect("fleet: open FLEET_REPORT");
    let mut barrier = File::open(barrier).expect("fleet: open FLEET_BARRIER");
    // One write of less than PIPE_BUF bytes: never interleaved with another process's line.
    let _ = report.write_all(format!("ready {id}\n").as_bytes());
    let mut byte = [0u8; 1];
    while matches!(barrier.read(&mut byte), Ok(n) if n > 0) {}
    Some(Released {
        report,
        id,
        released_ns: monotonic_ns(),
    })
}

impl Released {
    /// Reports that the program finished with `status`.
    pub fn done(mut self, status: u8) {
        let line = format!(
            "done {} {} {} {status}\n",
            self.id,
            self.released_ns,
            monotonic_ns()
        );
        let _ = self.report.write_all(line.as_bytes());
    }
}
