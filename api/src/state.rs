//! What every part of the server shares: one value made at start-up, cloned cheaply.

use std::sync::Arc;

use secrecy::SecretBox;
use tokio_util::task::TaskTracker;

use crate::{
    admission::{Admission, SubscriptionSlots},
    auth::jwt::TokenKeys,
    config::Config,
    db::Store,
    metrics::Metrics,
    rate_limit::RateLimits,
};

#[derive(Clone)]
pub struct AppState {
    /// The database, and the event bus that announces meeting changes.
    pub store: Store,
    pub config: Arc<Config>,
    pub metrics: Metrics,
    pub token_keys: Arc<TokenKeys>,
    /// Encrypts private notes at rest.
    pub data_key: Arc<SecretBox<[u8; 32]>>,
    /// Where clients reach this server, for links such as calendar feeds.
    pub public_url: String,
    pub rate_limits: Arc<RateLimits>,
    /// Turns for operations (and for the database work of live subscriptions).
    pub admission: Arc<Admission>,
    pub subscription_slots: Arc<SubscriptionSlots>,
    /// Work a request leaves to do after its answer; shutdown waits for it.
    pub after_response: TaskTracker,
}
