//! Cost throttling, as Shopify's leaky bucket: each caller (a signed-in user, or
//! a client address) has a bucket of points that refills at a steady rate; a
//! request takes its calculated cost out of it, or is refused, before it runs,
//! with how long to wait. Buckets live in this instance's memory.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

/// How big buckets are and how fast they refill.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThrottleRates {
    /// Points a full bucket holds (the largest burst).
    pub maximum: u64,
    /// Points restored per second.
    pub restore_per_second: u64,
}

/// A caller's bucket after a request, as `extensions.cost.throttleStatus` shows it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThrottleStatus {
    pub maximum_available: u64,
    pub currently_available: u64,
    pub restore_rate: u64,
}

/// Buckets forgotten at once when there are this many (the full ones are dropped:
/// a full bucket is what a new caller gets anyway).
const BUCKETS_BEFORE_CLEANUP: usize = 100_000;

pub struct Throttle {
    rates: ThrottleRates,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    available: f64,
    at: Instant,
}

impl Throttle {
    pub fn new(rates: ThrottleRates) -> Self {
        Throttle {
            rates,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes `cost` points from `caller`'s bucket, or says how long until it holds them.
    pub fn take(&self, caller: &str, cost: u64) -> Result<ThrottleStatus, (Duration, ThrottleStatus)> {
        let now = Instant::now();
        let maximum = self.rates.maximum as f64;
        let rate = self.rates.restore_per_second.max(1) as f64;
        // A poisoned lock only means another request panicked mid-update; the numbers are still usable.
        let mut buckets = self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() >= BUCKETS_BEFORE_CLEANUP {
            buckets.retain(|_, bucket| bucket.available + now.duration_since(bucket.at).as_secs_f64() * rate < maximum);
        }
        let bucket = buckets.entry(caller.to_owned()).or_insert(Bucket {
            available: maximum,
            at: now,
        });
        let refilled = (bucket.available + now.duration_since(bucket.at).as_secs_f64() * rate).min(maximum);
        let cost = cost as f64;
        let status = |available: f64| ThrottleStatus {
            maximum_available: self.rates.maximum,
            currently_available: available.max(0.0).floor() as u64,
            restore_rate: self.rates.restore_per_second,
        };
        if cost > refilled {
            bucket.available = refilled;
            bucket.at = now;
            let wait = Duration::from_secs_f64(((cost - refilled) / rate).max(0.0));
            return Err((wait, status(refilled)));
        }
        bucket.available = refilled - cost;
        bucket.at = now;
        Ok(status(bucket.available))
    }

    pub fn rates(&self) -> ThrottleRates {
        self.rates
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_drains_refuses_with_a_wait_and_refills() {
        let throttle = Throttle::new(ThrottleRates {
            maximum: 100,
            restore_per_second: 1000,
        });

        let first = throttle.take("alice", 60).unwrap();
        let refused = throttle.take("alice", 60).unwrap_err();
        let other = throttle.take("bob", 60).unwrap();
        std::thread::sleep(Duration::from_millis(80));
        let later = throttle.take("alice", 60);

        assert!(first.currently_available <= 40);
        assert!(
            refused.0 > Duration::ZERO && refused.0 <= Duration::from_millis(25),
            "{:?}",
            refused.0
        );
        assert_eq!(other.maximum_available, 100);
        assert!(later.is_ok());
    }
}
