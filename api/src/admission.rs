//! How much of the server one caller may hold at once, so that no client can starve the others:
//! a turn among the operations that run at the same time (and only a few of them per caller),
//! and a bounded number of live subscriptions per user.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

use crate::error::AppError;

/// Past this many callers, those with no turn in progress are forgotten.
const MAX_TRACKED: usize = 10_000;

/// Turns to run: at most `running` operations at once, at most `per_caller` of them for one
/// caller. Waiting is first come, first served.
pub struct Admission {
    running: Arc<Semaphore>,
    per_caller: usize,
    callers: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// The right to run one operation (or one step of background work for a caller); given back
/// when dropped.
pub struct Turn {
    _caller: OwnedSemaphorePermit,
    _running: OwnedSemaphorePermit,
}

impl Admission {
    /// How long an operation may wait for its turn before it is refused.
    pub const WAIT: Duration = Duration::from_secs(1);

    pub fn new(running: usize, per_caller: usize) -> Self {
        Self {
            running: Arc::new(Semaphore::new(running.max(1))),
            per_caller: per_caller.max(1),
            callers: Mutex::default(),
        }
    }

    /// A turn for `caller` (a key such as `user:<id>`), or `RateLimited` when none came within
    /// [`Self::WAIT`]: past capacity a queue only grows, so what cannot start soon is shed.
    pub async fn admit(&self, caller: &str) -> Result<Turn, AppError> {
        let own = self.caller(caller);
        let running = self.running.clone();
        let wait = async move {
            let caller = own.acquire_owned().await.ok()?;
            let running = running.acquire_owned().await.ok()?;
            Some(Turn {
                _caller: caller,
                _running: running,
            })
        };
        tokio::time::timeout(Self::WAIT, wait)
            .await
            .ok()
            .flatten()
            .ok_or(AppError::RateLimited {
                retry_after_secs: 1,
            })
    }

    fn caller(&self, caller: &str) -> Arc<Semaphore> {
        let mut callers = self
            .callers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if callers.len() >= MAX_TRACKED {
            // Only the map holds an idle caller's semaphore.
            callers.retain(|_, semaphore| Arc::strong_count(semaphore) > 1);
        }
        callers
            .entry(caller.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_caller)))
            .clone()
    }
}

/// Live subscriptions per user, counted across all of one instance's connections.
pub struct SubscriptionSlots {
    per_user: usize,
    held: Arc<Mutex<HashMap<Uuid, usize>>>,
}

/// One subscription's place; given back when dropped.
pub struct Slot {
    user_id: Uuid,
    held: Arc<Mutex<HashMap<Uuid, usize>>>,
}

impl SubscriptionSlots {
    pub fn new(per_user: usize) -> Self {
        Self {
            per_user,
            held: Arc::default(),
        }
    }

    /// A place for one more subscription of `user_id`, or `RateLimited` when they hold them all.
    pub fn take(&self, user_id: Uuid) -> Result<Slot, AppError> {
        let mut held = self
            .held
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = held.entry(user_id).or_default();
        if *count >= self.per_user {
            return Err(AppError::RateLimited {
                retry_after_secs: 1,
            });
        }
        *count += 1;
        Ok(Slot {
            user_id,
            held: self.held.clone(),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut held = self
            .held
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = held.get_mut(&self.user_id) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                held.remove(&self.user_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn one_caller_cannot_take_every_turn() {
        let admission = Admission::new(4, 2);
        let first = admission.admit("a").await.expect("a first turn");
        let second = admission.admit("a").await.expect("a second turn");
        assert!(
            admission.admit("a").await.is_err(),
            "a third turn of the same caller waits, then is refused"
        );
        let other = admission.admit("b").await;
        assert!(other.is_ok(), "another caller still gets a turn");
        drop((first, second));
        assert!(admission.admit("a").await.is_ok(), "turns are given back");
    }

    #[test]
    fn slots_are_counted_per_user_and_given_back() {
        let slots = SubscriptionSlots::new(2);
        let (alice, bob) = (Uuid::now_v7(), Uuid::now_v7());
        let one = slots.take(alice).expect("a first slot");
        let _two = slots.take(alice).expect("a second slot");
        assert!(slots.take(alice).is_err());
        assert!(slots.take(bob).is_ok());
        drop(one);
        assert!(slots.take(alice).is_ok());
    }
}
