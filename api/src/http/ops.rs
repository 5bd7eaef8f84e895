//! Operational endpoints: liveness, readiness, metrics and the GraphiQL page.

use async_graphql::http::GraphiQLSource;
use axum::{
    extract::{Path, State},
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
};

use super::HttpState;
use crate::{db, domain::calendar, error::AppError};

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

/// A personal calendar feed (`/calendar/{token}.ics`); any token that is not current is 404.
pub async fn calendar(State(http): State<HttpState>, Path(file): Path<String>) -> Response {
    let token = file.strip_suffix(".ics").unwrap_or(&file);
    let state = &http.state;
    match calendar::feed(&state.store.db, &state.data_key, token).await {
        Ok(ics) => (
            [(header::CONTENT_TYPE, "text/calendar; charset=utf-8")],
            ics,
        )
            .into_response(),
        Err(AppError::NotFound) => StatusCode::NOT_FOUND.into_response(),
        Err(error) => {
            tracing::error!(error = ?error, "calendar feed failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
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
