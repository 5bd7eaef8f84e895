//! Automatic persisted queries (Apollo's protocol): a client sends the SHA-256 of its query in
//! `extensions.persistedQuery.sha256Hash` instead of the text. An unknown hash is answered with
//! `PersistedQueryNotFound`, and the client sends the text once more, with the hash, to register
//! it. Registered texts live in a per-instance cache bounded by their total size, least recently
//! used out first; a miss on another instance costs one more round trip, never a wrong answer.

use std::sync::{Arc, Mutex};

use lru::LruCache;
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// `extensions.persistedQuery` of a request.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersistedQuery {
    version: u32,
    sha256_hash: String,
}

/// Why a persisted query could not be used.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup {
    /// The hash is not (or no longer) registered: send the query text with it.
    NotFound,
    /// A version of the protocol other than 1.
    Unsupported,
    /// The text sent does not hash to the hash sent.
    Mismatch,
}

pub struct PersistedQueries {
    cache: Mutex<Cache>,
}

struct Cache {
    entries: LruCache<String, Arc<str>>,
    bytes: usize,
    budget: usize,
}

impl PersistedQueries {
    /// A cache holding at most `budget` bytes of query text.
    pub fn new(budget: usize) -> Self {
        Self {
            cache: Mutex::new(Cache {
                entries: LruCache::unbounded(),
                bytes: 0,
                budget,
            }),
        }
    }

    /// The query text to run: `query` itself when given (registering it under its hash), or
    /// the registered text for the hash.
    pub fn resolve(
        &self,
        persisted: &PersistedQuery,
        query: Option<String>,
    ) -> Result<Arc<str>, Lookup> {
        if persisted.version != 1 {
            return Err(Lookup::Unsupported);
        }
        let hash = persisted.sha256_hash.to_ascii_lowercase();
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        match query {
            Some(query) => {
                if hex::encode(Sha256::digest(query.as_bytes())) != hash {
                    return Err(Lookup::Mismatch);
                }
                let query: Arc<str> = query.into();
                cache.insert(hash, query.clone());
                Ok(query)
            }
            None => cache.entries.get(&hash).cloned().ok_or(Lookup::NotFound),
        }
    }
}

impl Cache {
    fn insert(&mut self, hash: String, query: Arc<str>) {
        let size = hash.len() + query.len();
        if size > self.budget {
            return;
        }
        if let Some(old) = self.entries.put(hash.clone(), query) {
            self.bytes -= hash.len() + old.len();
        }
        self.bytes += size;
        while self.bytes > self.budget {
            let Some((hash, query)) = self.entries.pop_lru() else {
                break;
            };
            self.bytes -= hash.len() + query.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl PersistedQueries {
        fn bytes(&self) -> usize {
            self.cache.lock().unwrap().bytes
        }
    }

    fn persisted(query: &str) -> PersistedQuery {
        PersistedQuery {
            version: 1,
            sha256_hash: hex::encode(Sha256::digest(query.as_bytes())),
        }
    }

    #[test]
    fn registers_then_answers_by_hash() {
        let cache = PersistedQueries::new(1024);
        let query = "{ __typename }";
        assert_eq!(
            cache.resolve(&persisted(query), None),
            Err(Lookup::NotFound)
        );
        assert_eq!(
            cache
                .resolve(&persisted(query), Some(query.into()))
                .as_deref(),
            Ok(query)
        );
        assert_eq!(cache.resolve(&persisted(query), None).as_deref(), Ok(query));
    }

    #[test]
    fn refuses_a_text_that_does_not_match_its_hash() {
        let cache = PersistedQueries::new(1024);
        let claimed = persisted("{ viewer { id } }");
        assert_eq!(
            cache.resolve(&claimed, Some("{ __typename }".into())),
            Err(Lookup::Mismatch)
        );
        assert_eq!(cache.resolve(&claimed, None), Err(Lookup::NotFound));
    }

    #[test]
    fn evicts_the_least_recently_used_beyond_its_budget() {
        let queries: Vec<String> = (0..10).map(|n| format!("{{ a{n}: __typename }}")).collect();
        let one = 64 + queries[0].len();
        let cache = PersistedQueries::new(one * 3);
        for query in &queries[..3] {
            cache
                .resolve(&persisted(query), Some(query.clone()))
                .unwrap();
        }
        // Touch the first, so the second is the least recently used.
        cache.resolve(&persisted(&queries[0]), None).unwrap();
        cache
            .resolve(&persisted(&queries[3]), Some(queries[3].clone()))
            .unwrap();
        assert!(cache.resolve(&persisted(&queries[0]), None).is_ok());
        assert_eq!(
            cache.resolve(&persisted(&queries[1]), None),
            Err(Lookup::NotFound)
        );
        assert!(cache.bytes() <= one * 3);
        for query in &queries {
            cache
                .resolve(&persisted(query), Some(query.clone()))
                .unwrap();
        }
        assert!(cache.bytes() <= one * 3);
    }

    #[test]
    fn refuses_other_versions() {
        let cache = PersistedQueries::new(1024);
        let mut other = persisted("{ __typename }");
        other.version = 2;
        assert_eq!(cache.resolve(&other, None), Err(Lookup::Unsupported));
    }
}
