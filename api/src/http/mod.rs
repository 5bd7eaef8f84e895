//! The HTTP surface: routes, and the middleware every request passes through.

mod document;
mod graphql;
mod ops;
mod persisted;
mod websocket;

pub use websocket::OpenSockets;

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderName, Request},
    routing::get,
};
use tower::ServiceBuilder;
use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::{DefaultOnResponse, TraceLayer},
};
use tracing::Level;

use self::persisted::PersistedQueries;
use crate::{graphql::AppSchema, state::AppState};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(Clone)]
pub struct HttpState {
    pub state: AppState,
    pub schema: AppSchema,
    persisted_queries: Arc<PersistedQueries>,
    sockets: Arc<OpenSockets>,
    admission: Arc<Admission>,
}

/// How many GraphQL requests run at once; the others wait a little, then are refused.
struct Admission {
    running: tokio::sync::Semaphore,
}

impl Admission {
    /// How long a request may wait for its turn.
    const WAIT: Duration = Duration::from_secs(1);

    /// A turn, or `None` when none came within [`Self::WAIT`].
    async fn admit(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        tokio::time::timeout(Self::WAIT, self.running.acquire())
            .await
            .ok()?
            .ok()
    }
}

/// Every route, with request ids, tracing and the body limit. `sockets` lets shutdown close the
/// WebSocket connections it serves.
pub fn router(state: AppState, schema: AppSchema, sockets: Arc<OpenSockets>) -> Router {
    let body_limit = state.config.body_limit_bytes;
    let persisted_queries = Arc::new(PersistedQueries::new(
        state.config.persisted_query_cache_bytes,
    ));
    let admission = Arc::new(Admission {
        running: tokio::sync::Semaphore::new(state.config.max_in_flight.max(1)),
    });
    let http = HttpState {
        state,
        schema,
        persisted_queries,
        sockets,
        admission,
    };
    let trace = TraceLayer::new_for_http()
        .make_span_with(|request: &Request<_>| {
            let request_id = request
                .headers()
                .get(&REQUEST_ID)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default();
            tracing::info_span!(
                "request",
                method = %request.method(),
                path = %request.uri().path(),
                request_id,
            )
        })
        .on_response(DefaultOnResponse::new().level(Level::INFO));
    Router::new()
        .route("/", get(ops::graphiql))
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/calendar/{file}", get(ops::calendar))
        .with_state(http)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(trace)
                .layer(PropagateRequestIdLayer::new(REQUEST_ID)),
        )
}

/// How long graceful shutdown waits for in-flight requests.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
