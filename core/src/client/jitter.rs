//! Randomness for back-off and static-stability intervals, from the host's seed (splitmix64).
//!
//! Not cryptographic: it only spreads retries of many clients over time.

use crate::time::Instant;

/// Base of the exponential back-off after a 5xx, a 401 or a transport failure.
pub(super) const BACKOFF_BASE_MS: u64 = 50;
/// Longest back-off after a 5xx, a 401 or a transport failure.
pub(super) const BACKOFF_CAP_MS: u64 = 1_000;
/// Base of the back-off after a 429. IMDS is throttling the instance: when many processes asked
/// at once, it serves them at its rate (about 3 s for 512 processes at 500 requests/s), so their
/// retries must spread over that time, not over the 350 ms that 50 ms doublings give 4 attempts
/// (`make bench-fleet`, tests/bench/FLEET.md). The AWS SDKs' standard retry mode also starts
/// throttled retries at up to 1 s.
pub(super) const THROTTLED_BACKOFF_BASE_MS: u64 = 1_000;
/// Longest back-off after a 429.
pub(super) const THROTTLED_BACKOFF_CAP_MS: u64 = 2_000;

/// A splitmix64 generator.
#[derive(Clone, Debug)]
pub(super) struct Jitter(u64);

impl Jitter {
    /// A generator seeded by the host.
    pub(super) const fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniform value in `0..bound` (0 when `bound` is 0).
    pub(super) fn below(&mut self, bound: u64) -> u64 {
        let wide = u128::from(self.next_u64()) * u128::from(bound);
        u64::try_from(wide >> 64).unwrap_or(0)
    }

    /// The back-off after failed attempt `attempt` (1-based):
    /// `min(1 s, 50 ms · 2^(attempt−1)) · U[0, 1)`, or after a 429 (`throttled`)
    /// `min(2 s, 1 s · 2^(attempt−1)) · U[0, 1)`.
    pub(super) fn backoff_ms(&mut self, attempt: u8, throttled: bool) -> u64 {
        let (base, cap) = if throttled {
            (THROTTLED_BACKOFF_BASE_MS, THROTTLED_BACKOFF_CAP_MS)
        } else {
            (BACKOFF_BASE_MS, BACKOFF_CAP_MS)
        };
        let doublings = u32::from(attempt.saturating_sub(1)).min(10);
        let ceiling = (base << doublings).min(cap);
        self.below(ceiling)
    }

    /// `now + base + U[0, spread]` milliseconds.
    pub(super) fn after(&mut self, now: Instant, base_ms: u64, spread_ms: u64) -> Instant {
        now.add_millis(base_ms.saturating_add(self.below(spread_ms.saturating_add(1))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_stays_under_its_ceiling() {
        let mut jitter = Jitter::new(7);
        for attempt in 1..=20u8 {
            let ceiling = (50u64 << (attempt - 1).min(10)).min(1_000);
            let throttled_ceiling = (1_000u64 << (attempt - 1).min(10)).min(2_000);
            for _ in 0..200 {
                assert!(jitter.backoff_ms(attempt, false) < ceiling);
                assert!(jitter.backoff_ms(attempt, true) < throttled_ceiling);
            }
        }
    }

    #[test]
    fn a_429_backs_off_over_a_second_not_50_ms() {
        let mut jitter = Jitter::new(3);
        let first = (0..400).map(|_| jitter.backoff_ms(1, true)).max();
        assert!(first.is_some_and(|d| d >= 500), "{first:?}");
        let second = (0..400).map(|_| jitter.backoff_ms(2, true)).max();
        assert!(second.is_some_and(|d| d >= 1_500), "{second:?}");
    }

    #[test]
    fn below_covers_its_range() {
        let mut jitter = Jitter::new(1);
        let mut seen = [false; 8];
        for _ in 0..500 {
            if let Some(slot) = seen.get_mut(jitter.below(8) as usize) {
                *slot = true;
            }
        }
        assert!(seen.iter().all(|&s| s));
        assert_eq!(jitter.below(0), 0);
    }
}
