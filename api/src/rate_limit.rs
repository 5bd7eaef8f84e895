//! Request rate limits, kept in memory per server instance: token buckets per user or API
//! token (and per address for anonymous callers), and tighter ones against guessing: sign-in
//! attempts per email and per address, and failed credentials (bad tokens) per address.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use crate::error::AppError;

/// Past this many tracked keys, buckets that have refilled completely are forgotten.
const MAX_TRACKED: usize = 10_000;
/// Sign-in attempts allowed per minute for one email (the address's budget is a setting).
pub const SIGN_INS_PER_EMAIL: u32 = 10;
/// Requests with credentials that fail (a guessed or stale token) allowed per minute from one
/// address; past them, that address's credentials are refused unchecked until the budget
/// refills.
pub const FAILED_CREDENTIALS_PER_ADDRESS: u32 = 100;

/// Token buckets of one kind: each key may spend `per_minute` requests a minute, in bursts of
/// up to that many.
pub struct Buckets {
    per_minute: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl Buckets {
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute: f64::from(per_minute.max(1)),
            buckets: Mutex::default(),
        }
    }

    /// Spends one request for `key`, or says how long until one is available.
    pub fn take(&self, key: &str) -> Result<(), AppError> {
        self.take_at(key, Instant::now())
    }

    /// Whether `key` could spend a request now, without spending it.
    pub fn check(&self, key: &str) -> Result<(), AppError> {
        self.spend_at(key, Instant::now(), 0.0)
    }

    fn take_at(&self, key: &str, now: Instant) -> Result<(), AppError> {
        self.spend_at(key, now, 1.0)
    }

    /// Refills `key`'s bucket to `now`, then spends `cost` if a whole request is available.
    fn spend_at(&self, key: &str, now: Instant, cost: f64) -> Result<(), AppError> {
        let per_second = self.per_minute / 60.0;
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() >= MAX_TRACKED {
            let full = self.per_minute;
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * per_second < full
            });
        }
        let (tokens, at) = buckets
            .entry(key.to_owned())
            .or_insert((self.per_minute, now));
        *tokens =
            (*tokens + now.duration_since(*at).as_secs_f64() * per_second).min(self.per_minute);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= cost;
            Ok(())
        } else {
            let wait = Duration::from_secs_f64((1.0 - *tokens) / per_second);
            Err(AppError::RateLimited {
                retry_after_secs: wait.as_secs().max(1),
            })
        }
    }
}

/// Every limiter of one server instance.
pub struct RateLimits {
    pub requests: Buckets,
    pub sign_ins_by_email: Buckets,
    pub sign_ins_by_address: Buckets,
    pub failed_credentials_by_address: Buckets,
}

impl RateLimits {
    pub fn new(requests_per_minute: u32, sign_ins_per_address: u32) -> Self {
        Self {
            requests: Buckets::new(requests_per_minute),
            sign_ins_by_email: Buckets::new(SIGN_INS_PER_EMAIL),
            sign_ins_by_address: Buckets::new(sign_ins_per_address),
            failed_credentials_by_address: Buckets::new(FAILED_CREDENTIALS_PER_ADDRESS),
        }
    }

    /// One sign-in attempt for `email` from `address`.
    pub fn sign_in(&self, email: &str, address: Option<&str>) -> Result<(), AppError> {
        self.sign_ins_by_email.take(&email.trim().to_lowercase())?;
        if let Some(address) = address {
            self.sign_ins_by_address.take(address)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_refills_over_time() {
        let buckets = Buckets::new(60);
        let start = Instant::now();
        for _ in 0..60 {
            assert!(buckets.take_at("a", start).is_ok());
        }
        let Err(AppError::RateLimited { retry_after_secs }) = buckets.take_at("a", start) else {
            panic!("the 61st request in a burst must be refused");
        };
        assert_eq!(retry_after_secs, 1);
        assert!(buckets.take_at("b", start).is_ok(), "keys are independent");
        assert!(
            buckets.spend_at("b", start, 0.0).is_ok(),
            "checking spends nothing"
        );
        assert!(buckets.spend_at("a", start, 0.0).is_err());
        assert!(buckets.take_at("a", start + Duration::from_secs(1)).is_ok());
        assert!(
            buckets
                .take_at("a", start + Duration::from_secs(1))
                .is_err()
        );
    }
}
