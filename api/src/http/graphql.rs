//! `/graphql` over HTTP, following the GraphQL-over-HTTP spec: JSON POSTs for everything, GET for
//! queries only, `application/graphql-response+json` (or `application/json` for clients that
//! only accept that), and request errors as 4xx. Batches, forms and multipart are refused.

use std::{net::SocketAddr, time::Instant};

use axum::{
    body::Bytes,
    extract::{ConnectInfo, Query, Request, State, rejection::BytesRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{
    HttpState,
    pipeline::{Caller, Executed, Incoming, Pipeline, Refusal, Transport},
    websocket,
};
use crate::error::AppError;

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

/// The same over GET, where `variables` is a JSON-encoded string.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetParams {
    query: Option<String>,
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

/// The response format the client asked for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum MediaType {
    GraphqlResponseJson,
    Json,
}

impl MediaType {
    fn negotiate(headers: &HeaderMap) -> Option<Self> {
        let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
            // Clients that predate the spec send no Accept header and expect JSON.
            return Some(Self::Json);
        };
        let types: Vec<&str> = accept
            .split(',')
            .map(|part| part.split(';').next().unwrap_or_default().trim())
            .collect();
        let accepts = |wanted: &str| types.iter().any(|t| t.eq_ignore_ascii_case(wanted));
        if accepts(GRAPHQL_RESPONSE_JSON) || accepts("*/*") || accepts("application/*") {
            Some(Self::GraphqlResponseJson)
        } else if accepts(JSON) {
            Some(Self::Json)
        } else {
            None
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Self::GraphqlResponseJson => "application/graphql-response+json; charset=utf-8",
            Self::Json => "application/json; charset=utf-8",
        }
    }
}

/// How HTTP answers a request refused before GraphQL ran it.
fn refusal_response(refusal: Refusal, media: MediaType) -> Response {
    let mut extensions = serde_json::json!({ "code": refusal.error.code() });
    if let AppError::RateLimited { retry_after_secs } = refusal.error {
        extensions["retryAfter"] = retry_after_secs.into();
    }
    let body = serde_json::json!({
        "errors": [{
            "message": refusal.error.public_message(),
            "extensions": extensions,
        }]
    });
    let mut response = json_response(refusal.status, media, body.to_string());
    match refusal.status {
        StatusCode::UNAUTHORIZED => {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
            if let AppError::RateLimited { retry_after_secs } = refusal.error {
                insert_retry_after(&mut response, &retry_after_secs.to_string());
            }
        }
        StatusCode::METHOD_NOT_ALLOWED => {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
        }
        _ => {}
    }
    response
}

fn insert_retry_after(response: &mut Response, seconds: &str) {
    if let Ok(value) = HeaderValue::from_str(seconds) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
}

pub async fn post(
    State(http): State<HttpState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let started = Instant::now();
    let Some(media) = MediaType::negotiate(&headers) else {
        return StatusCode::NOT_ACCEPTABLE.into_response();
    };
    let incoming = match read_post(&headers, body) {
        Ok(incoming) => incoming,
        Err(refusal) => {
            http.pipeline.refused_early(None, started);
            return refusal_response(refusal, media);
        }
    };
    execute(&http, &headers, client, incoming, Transport::Post, media).await
}

/// GET: a query in the query string, or the WebSocket upgrade for subscriptions.
pub async fn get(
    State(http): State<HttpState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let (mut parts, _body) = request.into_parts();
    if websocket::is_upgrade(&parts.headers) {
        return websocket::upgrade(http, &mut parts, client).await;
    }
    let started = Instant::now();
    let Some(media) = MediaType::negotiate(&parts.headers) else {
        return StatusCode::NOT_ACCEPTABLE.into_response();
    };
    let incoming = match read_get(Query::try_from_uri(&parts.uri)) {
        Ok(incoming) => incoming,
        Err(refusal) => {
            http.pipeline.refused_early(None, started);
            return refusal_response(refusal, media);
        }
    };
    execute(
        &http,
        &parts.headers,
        client,
        incoming,
        Transport::Get,
        media,
    )
    .await
}

fn read_post(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Incoming, Refusal> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    if !essence.eq_ignore_ascii_case(JSON) {
        return Err(Refusal::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::bad_input("the request body must be application/json"),
        ));
    }
    let body = body.map_err(|rejection| {
        let status = rejection.status();
        let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "the request body is too large"
        } else {
            "the request body could not be read"
        };
        Refusal::new(status, AppError::bad_input(message))
    })?;
    let value: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|_| Refusal::bad_request("the request body is not valid JSON"))?;
    if value.is_array() {
        return Err(Refusal::bad_request("batched requests are not supported"));
    }
    serde_json::from_value(value).map_err(|_| {
        Refusal::bad_request("the request body must be an object with a string `query`")
    })
}

fn read_get(
    query: Result<Query<GetParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Incoming, Refusal> {
    let Query(get) = query.map_err(|_| Refusal::bad_request("the query string is malformed"))?;
    let json = |text: Option<String>, name: &str| {
        text.map(|text| serde_json::from_str(&text))
            .transpose()
            .map_err(|_| Refusal::bad_request(format!("{name} must be JSON")))
    };
    Ok(Incoming {
        query: get.query,
        operation_name: get.operation_name,
        variables: json(get.variables, "variables")?,
        extensions: json(get.extensions, "extensions")?,
    })
}

/// Runs a request through the pipeline and answers it the GraphQL-over-HTTP way.
async fn execute(
    http: &HttpState,
    headers: &HeaderMap,
    client: SocketAddr,
    incoming: Incoming,
    transport: Transport,
    media: MediaType,
) -> Response {
    // A header that is not visible ASCII cannot be a token: it fails like a wrong one.
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(|value| value.to_str().unwrap_or_default().to_owned());
    let caller = Caller {
        authorization,
        address: client.ip(),
    };
    let response = match http.pipeline.execute(incoming, transport, &caller).await {
        Ok(Executed::Single(response)) => *response,
        // The pipeline streams only over WebSocket; HTTP has refused subscriptions before.
        Ok(Executed::Stream(_)) => {
            return refusal_response(
                Refusal::bad_request("subscriptions need the WebSocket transport"),
                media,
            );
        }
        Err(refusal) => return refusal_response(refusal, media),
    };

    let rate_limited = response.errors.iter().find_map(|error| {
        let extensions = error.extensions.as_ref()?;
        (extensions.get("code")? == &async_graphql::Value::from("RATE_LIMITED"))
            .then(|| extensions.get("retryAfter").map(ToString::to_string))
            .flatten()
    });
    let request_error = Pipeline::is_request_error(&response);
    // Serialised straight from the response, so fields keep the order the query asked for.
    let body = if request_error {
        serde_json::to_string(&serde_json::json!({ "errors": response.errors }))
    } else {
        serde_json::to_string(&response)
    };
    let body = match body {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(%error, "could not serialise a response");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    if let Some(retry_after) = &rate_limited {
        let mut response = json_response(StatusCode::TOO_MANY_REQUESTS, media, body);
        insert_retry_after(&mut response, retry_after);
        return response;
    }
    let status = match (request_error, media) {
        (true, MediaType::GraphqlResponseJson) => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    };
    json_response(status, media, body)
}

fn json_response(status: StatusCode, media: MediaType, body: String) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(media.content_type()),
        )],
        body,
    )
        .into_response()
}
