//! The mock's throttling decisions: a token bucket on requests and a count of the connections
//! that are within the connection limit. [`crate::mock`] asks [`Throttling`] what to do with each
//! connection it accepts and each request it reads, and carries the answer out.
//!
//! The decisions take the time as an argument, so they are checked here without a clock.

use std::time::{Duration, Instant};

use crate::script::{Throttle, ThrottleMode};

/// Which limit a connection or request went past.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// The token bucket was empty.
    Rate,
    /// `max_connections` connections were already open.
    Connections,
}

impl Limit {
    /// `rate` or `connections`, as the log writes it.
    pub fn name(self) -> &'static str {
        match self {
            Limit::Rate => "rate",
            Limit::Connections => "connections",
        }
    }
}

/// What to do with a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RequestVerdict {
    /// Serve it as the script says (it took a token).
    Serve,
    /// Answer `429 Too Many Requests`.
    TooManyRequests(Limit),
    /// Close the connection without an answer.
    Drop(Limit),
}

/// What to do with a connection just accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ConnectionVerdict {
    /// Within the limit: serve it (it counts until it closes: call [`Throttling::closed`]).
    Admit,
    /// Over the limit, 429 mode: serve it, answering each request 429 and closing after it.
    AnswerTooManyRequests,
    /// Over the limit: close it at once.
    Drop,
}

/// A token bucket: starts full with `burst` tokens and gains `rate` per second up to `burst`.
#[derive(Clone, Debug)]
struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    refilled: Instant,
}

impl Bucket {
    fn new(rate: f64, burst: u32, now: Instant) -> Self {
        Self {
            rate,
            burst: f64::from(burst),
            tokens: f64::from(burst),
            refilled: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.refilled = now;
    }

    fn take(&mut self, now: Instant) -> bool {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    fn has_token(&mut self, now: Instant) -> bool {
        self.refill(now);
        self.tokens >= 1.0
    }

    /// How long until the bucket holds a token.
    fn until_token(&mut self, now: Instant) -> Duration {
        self.refill(now);
        let missing = (1.0 - self.tokens).max(0.0);
        Duration::from_secs_f64(missing / self.rate)
    }
}

/// The throttle's state for one mock: its bucket and how many connections count.
#[derive(Clone, Debug)]
pub(crate) struct Throttling {
    mode: ThrottleMode,
    max_connections: Option<usize>,
    bucket: Bucket,
    admitted: usize,
}

impl Throttling {
    pub(crate) fn new(throttle: &Throttle, now: Instant) -> Self {
        Self {
            mode: throttle.mode,
            max_connections: throttle
                .max_connections
                .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
            bucket: Bucket::new(throttle.rate, throttle.burst, now),
            admitted: 0,
        }
    }

    pub(crate) fn mode(&self) -> ThrottleMode {
        self.mode
    }

    fn at_connection_limit(&self) -> bool {
        self.max_connections.is_some_and(|max| self.admitted >= max)
    }

    /// A connection was accepted.
    pub(crate) fn accepted(&mut self) -> ConnectionVerdict {
        if !self.at_connection_limit() {
            self.admitted += 1;
            return ConnectionVerdict::Admit;
        }
        match self.mode {
            ThrottleMode::TooManyRequests => ConnectionVerdict::AnswerTooManyRequests,
            ThrottleMode::Refuse | ThrottleMode::Drop => ConnectionVerdict::Drop,
        }
    }

    /// An admitted connection closed.
    pub(crate) fn closed(&mut self) {
        self.admitted = self.admitted.saturating_sub(1);
    }

    /// A request arrived on a connection (`over_limit`: one accepted over the connection limit).
    pub(crate) fn request(&mut self, now: Instant, over_limit: bool) -> RequestVerdict {
        if over_limit {
            return RequestVerdict::TooManyRequests(Limit::Connections);
        }
        if self.bucket.take(now) {
            return RequestVerdict::Serve;
        }
        match self.mode {
            ThrottleMode::TooManyRequests => RequestVerdict::TooManyRequests(Limit::Rate),
            ThrottleMode::Refuse | ThrottleMode::Drop => RequestVerdict::Drop(Limit::Rate),
        }
    }

    /// Whether a new connection would be over a limit now, and which (refuse mode stops listening
    /// while this is `Some`).
    pub(crate) fn over_limit(&mut self, now: Instant) -> Option<Limit> {
        if self.at_connection_limit() {
            Some(Limit::Connections)
        } else if !self.bucket.has_token(now) {
            Some(Limit::Rate)
        } else {
            None
        }
    }

    /// How long until the bucket holds a token again.
    pub(crate) fn until_token(&mut self, now: Instant) -> Duration {
        self.bucket.until_token(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttling(mode: ThrottleMode, max_connections: Option<u32>, now: Instant) -> Throttling {
        Throttling::new(
            &Throttle {
                rate: 10.0,
                burst: 2,
                max_connections,
                mode,
            },
            now,
        )
    }

    #[test]
    fn the_bucket_serves_its_burst_then_one_request_per_token_gained() {
        let start = Instant::now();
        let mut t = throttling(ThrottleMode::TooManyRequests, None, start);
        assert_eq!(t.request(start, false), RequestVerdict::Serve);
        assert_eq!(t.request(start, false), RequestVerdict::Serve);
        assert_eq!(
            t.request(start, false),
            RequestVerdict::TooManyRequests(Limit::Rate)
        );
        assert_eq!(t.over_limit(start), Some(Limit::Rate));
        assert_eq!(t.until_token(start), Duration::from_millis(100));
        // 10 per second: a token 100 ms later, not before.
        let almost = start + Duration::from_millis(99);
        assert_eq!(
            t.request(almost, false),
            RequestVerdict::TooManyRequests(Limit::Rate)
        );
        let later = start + Duration::from_millis(100);
        assert_eq!(t.request(later, false), RequestVerdict::Serve);
        // Never more than the burst, however long it rested.
        let rested = later + Duration::from_secs(60);
        for _ in 0..2 {
            assert_eq!(t.request(rested, false), RequestVerdict::Serve);
        }
        assert_eq!(
            t.request(rested, false),
            RequestVerdict::TooManyRequests(Limit::Rate)
        );
    }

    #[test]
    fn past_the_rate_each_mode_answers_its_way() {
        let now = Instant::now();
        for (mode, verdict) in [
            (
                ThrottleMode::TooManyRequests,
                RequestVerdict::TooManyRequests(Limit::Rate),
            ),
            (ThrottleMode::Drop, RequestVerdict::Drop(Limit::Rate)),
            (ThrottleMode::Refuse, RequestVerdict::Drop(Limit::Rate)),
        ] {
            let mut t = throttling(mode, None, now);
            t.request(now, false);
            t.request(now, false);
            assert_eq!(t.request(now, false), verdict, "{mode:?}");
        }
    }

    #[test]
    fn connections_past_the_limit_are_not_counted_and_a_close_frees_a_place() {
        let now = Instant::now();
        for (mode, over) in [
            (
                ThrottleMode::TooManyRequests,
                ConnectionVerdict::AnswerTooManyRequests,
            ),
            (ThrottleMode::Drop, ConnectionVerdict::Drop),
            (ThrottleMode::Refuse, ConnectionVerdict::Drop),
        ] {
            let mut t = throttling(mode, Some(2), now);
            assert_eq!(t.accepted(), ConnectionVerdict::Admit);
            assert_eq!(t.over_limit(now), None);
            assert_eq!(t.accepted(), ConnectionVerdict::Admit);
            assert_eq!(t.over_limit(now), Some(Limit::Connections));
            assert_eq!(t.accepted(), over, "{mode:?}");
            assert_eq!(t.accepted(), over, "{mode:?}");
            t.closed();
            assert_eq!(t.over_limit(now), None);
            assert_eq!(t.accepted(), ConnectionVerdict::Admit);
        }
    }

    #[test]
    fn requests_on_a_connection_over_the_limit_take_no_token() {
        let now = Instant::now();
        let mut t = throttling(ThrottleMode::TooManyRequests, Some(1), now);
        for _ in 0..5 {
            assert_eq!(
                t.request(now, true),
                RequestVerdict::TooManyRequests(Limit::Connections)
            );
        }
        assert_eq!(t.request(now, false), RequestVerdict::Serve);
        assert_eq!(t.request(now, false), RequestVerdict::Serve);
    }
}
