//! Randomness for back-off and static-stability intervals, from the host's seed (splitmix64).
//!
//! Not cryptographic: it only spreads retries of many clients over time.

use crate::time::Instant;

/// Base of the exponential back-off.
pub(super) const BACKOFF_BASE_MS: u64 = 50;
/// Longest back-off.
pub(super) const BACKOFF_CAP_MS: u64 = 1_000;

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
    /// `min(1 s, 50 ms · 2^(attempt−1)) · U[0, 1)`.
    pub(super) fn backoff_ms(&mut self, attempt: u8) -> u64 {
        let doublings = u32::from(attempt.saturating_sub(1)).min(10);
        let ceiling = (BACKOFF_BASE_MS << doublings).min(BACKOFF_CAP_MS);
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
            for _ in 0..200 {
                assert!(jitter.backoff_ms(attempt) < ceiling);
            }
        }
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
