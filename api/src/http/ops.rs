//! Operational endpoints: liveness, readiness, metrics and the GraphiQL page.

use async_graphql::http::GraphiQLSource;
use axum::{
    extract::State,
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
};

use super::HttpState;
use crate::db;

/// The process is up.
pub async fn healthz() -> &'static str {
    "ok"
}

/// The database answers; 503 otherwise, so a load balancer stops sending traffic.
pub async fn readyz(State(http): State<HttpState>) -> Response {
    if db::is_ready(&http.state.store.db).await {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
    }
}

pub async fn metrics(State(http): State<HttpState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        http.state.metrics.render(),
    )
        .into_response()
}

/// GraphiQL, for people exploring the API.
pub async fn graphiql() -> Html<String> {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql")
            .title("Tête-à-tête")
            .finish(),
    )
}
