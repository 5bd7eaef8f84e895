//! `/graphql` over HTTP, following the GraphQL-over-HTTP spec: JSON POSTs for everything, GET for
//! queries only, `application/graphql-response+json` (or `application/json` for clients that
//! only accept that), and request errors as 4xx. Batches, forms and multipart are refused.

use std::{net::SocketAddr, time::Instant};

use async_graphql::{
    Variables,
    parser::{parse_query, types::OperationType},
};
use axum::{
    body::Bytes,
    extract::{ConnectInfo, Query, Request, State, rejection::BytesRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{
    HttpState,
    document::{self, DocumentLimits},
    persisted::{Lookup, PersistedQuery},
    websocket,
};
use crate::{
    auth::{Viewer, viewer},
    domain::access_log::ReadRecorder,
    error::AppError,
    graphql,
    metrics::Outcome,
};

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

/// The fields of a GraphQL-over-HTTP request, from a JSON body or a query string.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Params {
    query: Option<String>,
    operation_name: Option<String>,
    variables: Option<serde_json::Value>,
    extensions: Option<serde_json::Value>,
}

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

/// A request refused before GraphQL ran it.
struct Refusal {
    status: StatusCode,
    error: AppError,
}

impl Refusal {
    fn new(status: StatusCode, error: AppError) -> Self {
        Self { status, error }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, AppError::bad_input(message))
    }

    fn into_response(self, media: MediaType) -> Response {
        let mut extensions = serde_json::json!({ "code": self.error.code() });
        if let AppError::RateLimited { retry_after_secs } = self.error {
            extensions["retryAfter"] = retry_after_secs.into();
        }
        let body = serde_json::json!({
            "errors": [{
                "message": self.error.public_message(),
                "extensions": extensions,
            }]
        });
        let mut response = json_response(self.status, media, &body);
        match self.status {
            StatusCode::UNAUTHORIZED => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
                if let AppError::RateLimited { retry_after_secs } = self.error
                    && let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string())
                {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
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
    let params = match read_post(&headers, body) {
        Ok(params) => params,
        Err(refusal) => return http.refused(refusal, media, None, started),
    };
    execute(
        &http,
        &headers,
        client,
        params,
        OperationType::Mutation,
        media,
        started,
    )
    .await
}

/// GET: a query in the query string, or the WebSocket upgrade for subscriptions.
pub async fn get(
    State(http): State<HttpState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let (mut parts, _body) = request.into_parts();
    if websocket::is_upgrade(&parts.headers) {
        return websocket::upgrade(http, &mut parts).await;
    }
    let started = Instant::now();
    let Some(media) = MediaType::negotiate(&parts.headers) else {
        return StatusCode::NOT_ACCEPTABLE.into_response();
    };
    let params = match read_get(Query::try_from_uri(&parts.uri)) {
        Ok(params) => params,
        Err(refusal) => return http.refused(refusal, media, None, started),
    };
    execute(
        &http,
        &parts.headers,
        client,
        params,
        OperationType::Query,
        media,
        started,
    )
    .await
}

fn read_post(headers: &HeaderMap, body: Result<Bytes, BytesRejection>) -> Result<Params, Refusal> {
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
) -> Result<Params, Refusal> {
    let Query(get) = query.map_err(|_| Refusal::bad_request("the query string is malformed"))?;
    let json = |text: Option<String>, name: &str| {
        text.map(|text| serde_json::from_str(&text))
            .transpose()
            .map_err(|_| Refusal::bad_request(format!("{name} must be JSON")))
    };
    Ok(Params {
        query: get.query,
        operation_name: get.operation_name,
        variables: json(get.variables, "variables")?,
        extensions: json(get.extensions, "extensions")?,
    })
}

/// The query text of a request, through the automatic persisted query cache when the request
/// carries `extensions.persistedQuery`.
fn persisted_query(
    http: &HttpState,
    extensions: Option<&serde_json::Value>,
    query: Option<String>,
) -> Result<Option<String>, Refusal> {
    let Some(persisted) = extensions.and_then(|extensions| extensions.get("persistedQuery")) else {
        return Ok(query);
    };
    let persisted = PersistedQuery::deserialize(persisted).map_err(|_| {
        Refusal::bad_request("extensions.persistedQuery needs a version and a sha256Hash")
    })?;
    match http.persisted_queries.resolve(&persisted, query) {
        Ok(query) => Ok(Some(query.to_string())),
        // Apollo clients expect this answer with a 200, and then send the text.
        Err(Lookup::NotFound) => Err(Refusal::new(
            StatusCode::OK,
            AppError::PersistedQueryNotFound,
        )),
        Err(Lookup::Mismatch) => Err(Refusal::bad_request("provided sha does not match query")),
        Err(Lookup::Unsupported) => Err(Refusal::bad_request("PersistedQueryNotSupported")),
    }
}

/// Runs a request whose transport allows operations up to `allowed` (queries only over GET).
async fn execute(
    http: &HttpState,
    headers: &HeaderMap,
    client: SocketAddr,
    params: Params,
    allowed: OperationType,
    media: MediaType,
    started: Instant,
) -> Response {
    let operation_name = params.operation_name.clone();
    let operation = operation_name.as_deref();
    let state = &http.state;

    let query = match persisted_query(http, params.extensions.as_ref(), params.query) {
        Ok(query) => query,
        Err(refusal) => return http.refused(refusal, media, operation, started),
    };
    let Some(query) = query.filter(|q| !q.trim().is_empty()) else {
        return http.refused(
            Refusal::bad_request("the request has no query"),
            media,
            operation,
            started,
        );
    };
    let variables = match params.variables {
        None | Some(serde_json::Value::Null) => None,
        Some(object @ serde_json::Value::Object(_)) => Some(object),
        Some(_) => {
            return http.refused(
                Refusal::bad_request("variables must be a JSON object"),
                media,
                operation,
                started,
            );
        }
    };
    let document = match parse_query(&query) {
        Ok(document) => document,
        Err(error) => {
            return http.refused(
                Refusal::bad_request(format!("the query does not parse: {error}")),
                media,
                operation,
                started,
            );
        }
    };
    let selected = document::selected_operation(&document, operation);
    // Label metrics by the operation's own name when the request does not give one.
    let label = operation_name
        .clone()
        .or_else(|| selected.and_then(|(name, _)| name).map(str::to_owned));
    let operation = label.as_deref();
    if allowed == OperationType::Query
        && selected.is_some_and(|(_, ty)| ty == OperationType::Mutation)
    {
        return http.refused(
            Refusal::new(
                StatusCode::METHOD_NOT_ALLOWED,
                AppError::bad_input("mutations must be sent with POST"),
            ),
            media,
            operation,
            started,
        );
    }
    let limits = DocumentLimits {
        max_aliases: state.config.max_aliases,
        max_string_length: state.config.max_string_length,
    };
    if let Err(message) = document::check(&document, variables.as_ref(), &limits) {
        return http.refused(Refusal::bad_request(message), media, operation, started);
    }

    // Past capacity, a queue only grows: shed what cannot start soon, with a time to retry.
    let Some(_admitted) = http.admission.admit().await else {
        return http.refused(
            Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                AppError::RateLimited {
                    retry_after_secs: 1,
                },
            ),
            media,
            operation,
            started,
        );
    };
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(|value| value.to_str().unwrap_or_default());
    let viewer = match viewer::authenticate(&state.store.db, &state.token_keys, authorization).await
    {
        Ok(authenticated) => authenticated.map(|authenticated| Viewer {
            reads: Some(ReadRecorder::new()),
            address: Some(client.ip().to_string()),
            ..authenticated.viewer
        }),
        Err(error) => {
            let status = match error {
                AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            if let AppError::Internal(source) = &error {
                tracing::error!(error = %source, "authentication failed");
            }
            return http.refused(Refusal::new(status, error), media, operation, started);
        }
    };

    let mut request = async_graphql::Request::new(query);
    request.set_parsed_query(document);
    if let Some(name) = operation_name.clone() {
        request = request.operation_name(name);
    }
    if let Some(variables) = variables {
        request = request.variables(Variables::from_json(variables));
    }
    let limited = match &viewer {
        Some(viewer) => match viewer.api_token_id() {
            Some(token) => format!("token:{token}"),
            None => format!("user:{}", viewer.id()),
        },
        None => format!("address:{}", client.ip()),
    };
    if let Err(error) = state.rate_limits.requests.take(&limited) {
        return http.refused(
            Refusal::new(StatusCode::TOO_MANY_REQUESTS, error),
            media,
            operation,
            started,
        );
    }
    let reader = viewer.clone();
    let request = graphql::request_data(request, state, viewer, Some(client.ip().to_string()));
    let response = http.schema.execute(request).await;
    if let Some(reader) = reader
        && let Some(reads) = &reader.reads
        && let Err(error) = reads.flush(&state.store.db, &reader).await
    {
        tracing::error!(error = ?error, "could not write the access log");
    }

    // Refused before execution (validation, variable coercion): no `data`, no error paths.
    let request_error = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|error| error.path.is_empty());
    let outcome = if request_error {
        Outcome::Rejected
    } else if response.errors.is_empty() {
        Outcome::Ok
    } else {
        Outcome::FieldError
    };
    state
        .metrics
        .observe_request(operation, outcome, started.elapsed());

    let mut body = match serde_json::to_value(&response) {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(%error, "could not serialise a response");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let rate_limited = response.errors.iter().find_map(|error| {
        let extensions = error.extensions.as_ref()?;
        (extensions.get("code")? == &async_graphql::Value::from("RATE_LIMITED"))
            .then(|| extensions.get("retryAfter").map(ToString::to_string))
            .flatten()
    });
    let status = if let Some(retry_after) = &rate_limited {
        let mut response = json_response(StatusCode::TOO_MANY_REQUESTS, media, &body);
        if let Ok(value) = HeaderValue::from_str(retry_after) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    } else if request_error {
        if let Some(object) = body.as_object_mut() {
            object.remove("data");
        }
        match media {
            MediaType::GraphqlResponseJson => StatusCode::BAD_REQUEST,
            MediaType::Json => StatusCode::OK,
        }
    } else {
        StatusCode::OK
    };
    json_response(status, media, &body)
}

impl HttpState {
    fn refused(
        &self,
        refusal: Refusal,
        media: MediaType,
        operation: Option<&str>,
        started: Instant,
    ) -> Response {
        self.state
            .metrics
            .observe_request(operation, Outcome::Rejected, started.elapsed());
        refusal.into_response(media)
    }
}

fn json_response(status: StatusCode, media: MediaType, body: &serde_json::Value) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(media.content_type()),
        )],
        body.to_string(),
    )
        .into_response()
}
