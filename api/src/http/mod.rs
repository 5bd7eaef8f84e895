//! The HTTP surface: routes, and the middleware every request passes through.

mod document;
mod graphql;
mod ops;
mod persisted;
pub mod pipeline;
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

use self::pipeline::Pipeline;
use crate::{graphql::AppSchema, state::AppState};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(Clone)]
pub struct HttpState {
    pub state: AppState,
    /// What every GraphQL operation goes through, over HTTP and WebSocket alike.
    pipeline: Arc<Pipeline>,
    sockets: Arc<OpenSockets>,
}

/// Every route, with request ids, tracing and the body limit. `sockets` lets shutdown close the
/// WebSocket connections it serves.
pub fn router(state: AppState, schema: AppSchema, sockets: Arc<OpenSockets>) -> Router {
    let body_limit = state.config.body_limit_bytes;
    let http = HttpState {
        pipeline: Arc::new(Pipeline::new(state.clone(), schema)),
        state,
        sockets,
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
