//! Answers shared by everyone asking the same question within a while: the first asker reads,
//! the others (at once or later, until it is stale) get the same answer without a query. A
//! read already running is awaited, never repeated.

use std::{
    collections::HashMap,
    hash::Hash,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use tokio::sync::OnceCell;

pub struct Memo<K, V> {
    fresh_for: Duration,
    entries: Mutex<Entries<K, V>>,
}

struct Entries<K, V> {
    by_key: HashMap<K, Entry<V>>,
    swept: Instant,
}

struct Entry<V> {
    read_at: Instant,
    value: Arc<OnceCell<V>>,
}

impl<K: Eq + Hash, V: Clone> Memo<K, V> {
    /// Answers are reused for `fresh_for` after they were asked for.
    pub fn new(fresh_for: Duration) -> Self {
        Self {
            fresh_for,
            entries: Mutex::new(Entries {
                by_key: HashMap::new(),
                swept: Instant::now(),
            }),
        }
    }

    /// Answers for as long as the memo lives (one request).
    pub fn forever() -> Self {
        Self::new(Duration::MAX)
    }

    /// Records an answer already known.
    pub fn insert(&self, key: K, value: V) {
        let entry = Entry {
            read_at: Instant::now(),
            value: Arc::new(OnceCell::new_with(Some(value))),
        };
        self.lock().by_key.insert(key, entry);
    }

    /// The fresh answer for `key`, or the one `read` gives (which the others then share). A
    /// failed read is not remembered.
    pub async fn get_or_read<E, F>(&self, key: K, read: impl FnOnce() -> F) -> Result<V, E>
    where
        F: Future<Output = Result<V, E>>,
    {
        let cell = self.cell(key, Instant::now());
        cell.get_or_try_init(read).await.cloned()
    }

    fn cell(&self, key: K, now: Instant) -> Arc<OnceCell<V>> {
        let fresh_for = self.fresh_for;
        let stale = |entry: &Entry<V>| now.saturating_duration_since(entry.read_at) >= fresh_for;
        let mut entries = self.lock();
        // Forget stale answers, at most once per freshness period.
        if now.saturating_duration_since(entries.swept) >= fresh_for {
            entries.by_key.retain(|_, entry| !stale(entry));
            entries.swept = now;
        }
        let entry = entries.by_key.entry(key).or_insert_with(|| Entry {
            read_at: now,
            value: Arc::default(),
        });
        if stale(entry) {
            *entry = Entry {
                read_at: now,
                value: Arc::default(),
            };
        }
        entry.value.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries<K, V>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn one_answer_serves_the_same_key_until_it_is_stale() {
        let memo = Memo::<u32, u32>::new(Duration::from_secs(1));
        let now = Instant::now();
        let first = memo.cell(1, now);
        assert!(Arc::ptr_eq(
            &first,
            &memo.cell(1, now + Duration::from_millis(500))
        ));
        assert!(!Arc::ptr_eq(&first, &memo.cell(2, now)));
        assert!(!Arc::ptr_eq(
            &first,
            &memo.cell(1, now + Duration::from_secs(1))
        ));
    }

    #[test]
    fn forgets_keys_nobody_asks_for_any_more() {
        let memo = Memo::<u32, u32>::new(Duration::from_secs(1));
        let now = Instant::now();
        for key in 0..100 {
            memo.cell(key, now);
        }
        memo.cell(1000, now + Duration::from_secs(2));
        assert_eq!(memo.lock().by_key.len(), 1);
    }

    #[tokio::test]
    async fn concurrent_askers_share_one_read_and_failures_are_not_kept() {
        let memo = Memo::<u32, u32>::forever();
        let reads = AtomicUsize::new(0);
        let read = || async {
            reads.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await;
            Ok::<_, ()>(7)
        };
        let answers =
            futures_util::future::join_all((0..50).map(|_| memo.get_or_read(1, read))).await;
        assert!(answers.iter().all(|answer| *answer == Ok(7)));
        assert_eq!(reads.load(Ordering::SeqCst), 1);

        assert_eq!(
            memo.get_or_read(2, || async { Err::<u32, _>("down") })
                .await,
            Err("down")
        );
        assert_eq!(
            memo.get_or_read(2, || async { Ok::<_, &str>(3) }).await,
            Ok(3)
        );
        memo.insert(4, 9);
        assert_eq!(
            memo.get_or_read(4, || async { Ok::<_, ()>(0) }).await,
            Ok(9)
        );
    }
}
