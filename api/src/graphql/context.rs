//! Typed access to what a resolver needs: the shared state and the request's viewer.

use std::sync::{Arc, RwLock};

use async_graphql::Context;

use super::loaders::Loaders;
use crate::{auth::Viewer, error::AppError, state::AppState};

/// The caller of this request. A sign-in mutation may set it, so the rest of its payload is
/// resolved as the user who just signed in.
#[derive(Default)]
pub struct RequestViewer(RwLock<Option<Arc<Viewer>>>);

impl RequestViewer {
    pub fn new(viewer: Option<Arc<Viewer>>) -> Self {
        Self(RwLock::new(viewer))
    }

    fn get(&self) -> Option<Arc<Viewer>> {
        self.0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn set(&self, viewer: Viewer) {
        *self
            .0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Arc::new(viewer));
    }
}

/// The client's network address, for the audit log.
pub struct ClientAddress(pub Option<String>);

/// Told by a subscription's resolver once it has started its stream, so the operation gives its
/// turn back then rather than at its first event.
pub struct SubscriptionStarted(pub Arc<tokio::sync::Notify>);

pub trait ContextExt {
    fn client_address(&self) -> Option<&str>;
    fn state(&self) -> Result<&AppState, AppError>;
    /// The signed-in viewer, or `Unauthenticated`.
    fn viewer(&self) -> Result<Arc<Viewer>, AppError>;
    /// Makes `viewer` the caller for the rest of this request.
    fn sign_in_as(&self, viewer: Viewer);
    /// This request's DataLoaders.
    fn loaders(&self) -> Result<&Loaders, AppError>;
    /// Says that the subscription being resolved has started.
    fn subscription_started(&self);
}

impl ContextExt for Context<'_> {
    fn client_address(&self) -> Option<&str> {
        self.data_opt::<ClientAddress>()
            .and_then(|address| address.0.as_deref())
    }

    fn state(&self) -> Result<&AppState, AppError> {
        self.data::<AppState>()
            .map_err(|_| AppError::internal("application state missing from the schema"))
    }

    fn viewer(&self) -> Result<Arc<Viewer>, AppError> {
        self.data_opt::<RequestViewer>()
            .and_then(RequestViewer::get)
            .ok_or(AppError::Unauthenticated)
    }

    fn sign_in_as(&self, viewer: Viewer) {
        if let Some(slot) = self.data_opt::<RequestViewer>() {
            slot.set(viewer);
        }
    }

    fn loaders(&self) -> Result<&Loaders, AppError> {
        self.data::<Loaders>()
            .map_err(|_| AppError::internal("loaders missing from the request"))
    }

    fn subscription_started(&self) {
        if let Some(started) = self.data_opt::<SubscriptionStarted>() {
            started.0.notify_one();
        }
    }
}
