//! The one path every GraphQL operation takes, whichever transport brought it (an HTTP POST, a
//! GET, or a message on a WebSocket), so that no guard exists on one transport only. In order:
//!
//! 1. the query text, through the automatic persisted query cache;
//! 2. parsed once, and the operation to run picked; the transport must allow its type;
//! 3. the document's limits ([`document::check`]): fragment spreads and their expanded size,
//!    aliases, introspection depth, string lengths and control characters; depth, complexity
//!    and directives follow in async-graphql's validation, whose work step 3 has bounded;
//! 4. the caller's credentials, with failed attempts limited per address;
//! 5. the caller's request budget;
//! 6. a turn among the operations running at once, only a few of them per caller;
//! 7. execution with this operation's data (viewer, loaders, address);
//! 8. the access log of what it read;
//! 9. metrics.

use std::{net::IpAddr, sync::Arc, time::Instant};

use async_graphql::{
    Variables,
    futures_util::stream::BoxStream,
    parser::{parse_query, types::OperationType},
};
use axum::http::StatusCode;
use futures_util::StreamExt;
use serde::Deserialize;
use tokio::sync::Notify;

use super::{
    document::{self, DocumentLimits},
    persisted::{Lookup, PersistedQueries, PersistedQuery},
};
use crate::{
    auth::{Viewer, viewer},
    domain::access_log::ReadRecorder,
    error::AppError,
    graphql::{self, AppSchema, context::SubscriptionStarted, loaders::Loaders},
    metrics::Outcome,
    state::AppState,
};

/// A GraphQL request as a transport received it.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Incoming {
    pub query: Option<String>,
    pub operation_name: Option<String>,
    pub variables: Option<serde_json::Value>,
    pub extensions: Option<serde_json::Value>,
}

/// How the operation arrived, which decides the operation types it may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Queries only: a GET must not change anything.
    Get,
    /// Queries and mutations.
    Post,
    /// Anything, subscriptions included.
    WebSocket,
}

/// Who sent the operation: the credentials it carries and the network address it came from.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The `Authorization` value (HTTP header, or the WebSocket's `connection_init`).
    pub authorization: Option<String>,
    pub address: IpAddr,
}

/// An operation refused before it ran; `status` is what HTTP answers.
#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub error: AppError,
}

impl Refusal {
    pub fn new(status: StatusCode, error: AppError) -> Self {
        Self { status, error }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, AppError::bad_input(message))
    }

    /// The refusal of an error that stopped an operation early.
    fn of(error: AppError) -> Self {
        let status = match &error {
            AppError::Unauthenticated | AppError::InvalidCredentials => StatusCode::UNAUTHORIZED,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::BadUserInput(_) => StatusCode::BAD_REQUEST,
            AppError::Internal(source) => {
                tracing::error!(error = %source, "an operation failed before it ran");
                StatusCode::INTERNAL_SERVER_ERROR
            }
            _ => StatusCode::BAD_REQUEST,
        };
        Self::new(status, error)
    }

    /// Past capacity: retry in a second (503, where a spent budget is 429).
    fn overloaded() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            AppError::RateLimited {
                retry_after_secs: 1,
            },
        )
    }
}

/// What an operation produced: one response, or a stream of them (a subscription).
pub enum Executed {
    Single(Box<async_graphql::Response>),
    Stream(BoxStream<'static, async_graphql::Response>),
}

/// An operation that passed steps 1–3, ready for its caller.
struct Checked {
    request: async_graphql::Request,
    kind: Option<OperationType>,
    /// The operation's name for metrics: the request's, or the document's own.
    label: Option<String>,
}

/// The steps, shared by every transport of one server.
pub struct Pipeline {
    state: AppState,
    schema: AppSchema,
    persisted_queries: PersistedQueries,
}

impl Pipeline {
    pub fn new(state: AppState, schema: AppSchema) -> Self {
        let persisted_queries = PersistedQueries::new(state.config.persisted_query_cache_bytes);
        Self {
            state,
            schema,
            persisted_queries,
        }
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Runs one operation from `caller` that arrived over `transport`.
    pub async fn execute(
        &self,
        incoming: Incoming,
        transport: Transport,
        caller: &Caller,
    ) -> Result<Executed, Refusal> {
        let started = Instant::now();
        let mut label = incoming.operation_name.clone();
        let outcome = self.run(incoming, transport, caller, &mut label).await;
        let observed = match &outcome {
            Ok(Executed::Single(response)) => Self::outcome_of(response),
            Ok(Executed::Stream(_)) => Outcome::Ok,
            Err(_) => Outcome::Rejected,
        };
        self.state
            .metrics
            .observe_request(label.as_deref(), observed, started.elapsed());
        outcome
    }

    /// Records a request its transport refused before the pipeline saw it.
    pub fn refused_early(&self, operation: Option<&str>, started: Instant) {
        self.state
            .metrics
            .observe_request(operation, Outcome::Rejected, started.elapsed());
    }

    async fn run(
        &self,
        incoming: Incoming,
        transport: Transport,
        caller: &Caller,
        label: &mut Option<String>,
    ) -> Result<Executed, Refusal> {
        let checked = self.check(incoming, transport)?;
        *label = checked.label.clone();
        let viewer = self.authenticate(caller).await?;
        let budget_key = match &viewer {
            Some(authenticated) => authenticated.viewer.caller_key(),
            None => format!("address:{}", caller.address),
        };
        self.state
            .rate_limits
            .requests
            .take(&budget_key)
            .map_err(Refusal::of)?;
        let turn = self
            .state
            .admission
            .admit(&budget_key)
            .await
            .map_err(|_| Refusal::overloaded())?;
        let address = caller.address.to_string();
        let viewer = viewer.map(|authenticated| Viewer {
            reads: Some(ReadRecorder::new()),
            address: Some(address.clone()),
            ..authenticated.viewer
        });
        let reader = viewer.clone();
        let viewer = viewer.map(Arc::new);
        let state = &self.state;
        let delay = std::time::Duration::from_millis(state.config.dataloader_delay_ms);

        if checked.kind != Some(OperationType::Subscription) {
            let loaders = Loaders::for_request(&state.store.db, viewer.clone(), delay);
            let request = graphql::request_data(checked.request, viewer, address, loaders);
            let response = self.schema.execute(request).await;
            drop(turn);
            if let Some(reader) = &reader {
                flush_reads(state, reader).await;
            }
            return Ok(Executed::Single(Box::new(response)));
        }

        // A subscription holds its turn while it starts (validation, the resolver's access
        // check), then gives it back: a live stream must not keep others waiting.
        let viewer_id = viewer
            .as_ref()
            .map(|viewer| viewer.id())
            .ok_or(Refusal::of(AppError::Unauthenticated))?;
        let slot = state
            .subscription_slots
            .take(viewer_id)
            .map_err(Refusal::of)?;
        let loaders = Loaders::for_connection(
            &state.store.db,
            viewer.clone(),
            delay,
            state.store.events.live_users.clone(),
        );
        let started = Arc::new(Notify::new());
        let request = graphql::request_data(checked.request, viewer, address, loaders)
            .data(SubscriptionStarted(started.clone()));
        let mut stream = self.schema.execute_stream(request);
        let first = tokio::select! {
            first = stream.next() => first,
            () = started.notified() => None,
        };
        drop(turn);
        let state = state.clone();
        let stream = futures_util::stream::iter(first)
            .chain(stream)
            .then(move |response| {
                // The slot lives as long as the stream.
                let _slot = &slot;
                let (state, reader) = (state.clone(), reader.clone());
                async move {
                    if let Some(reader) = &reader {
                        flush_reads(&state, reader).await;
                    }
                    response
                }
            });
        Ok(Executed::Stream(stream.boxed()))
    }

    /// Steps 1–3: the text, parsed once, the operation picked and the document's limits.
    fn check(&self, incoming: Incoming, transport: Transport) -> Result<Checked, Refusal> {
        let query = self.query_text(incoming.extensions.as_ref(), incoming.query)?;
        let Some(query) = query.filter(|query| !query.trim().is_empty()) else {
            return Err(Refusal::bad_request("the request has no query"));
        };
        let variables = match incoming.variables {
            None | Some(serde_json::Value::Null) => None,
            Some(object @ serde_json::Value::Object(_)) => Some(object),
            Some(_) => return Err(Refusal::bad_request("variables must be a JSON object")),
        };
        let limits = DocumentLimits::from(&*self.state.config);
        // Refused before parsing when even the tokens are too many to be worth it.
        document::check_size(&query, &limits).map_err(Refusal::bad_request)?;
        let parsed = parse_query(&query)
            .map_err(|error| Refusal::bad_request(format!("the query does not parse: {error}")))?;
        let selected = document::selected_operation(&parsed, incoming.operation_name.as_deref());
        let label = incoming
            .operation_name
            .clone()
            .or_else(|| selected.and_then(|(name, _)| name).map(str::to_owned));
        let kind = selected.map(|(_, kind)| kind);
        match (transport, kind) {
            (Transport::Get, Some(OperationType::Mutation)) => {
                return Err(Refusal::new(
                    StatusCode::METHOD_NOT_ALLOWED,
                    AppError::bad_input("mutations must be sent with POST"),
                ));
            }
            (Transport::Get | Transport::Post, Some(OperationType::Subscription)) => {
                return Err(Refusal::bad_request(
                    "subscriptions need the WebSocket transport (graphql-transport-ws)",
                ));
            }
            _ => {}
        }
        document::check(&parsed, variables.as_ref(), &limits).map_err(Refusal::bad_request)?;
        let mut request = async_graphql::Request::new(query);
        request.set_parsed_query(parsed);
        if let Some(name) = incoming.operation_name {
            request = request.operation_name(name);
        }
        if let Some(variables) = variables {
            request = request.variables(Variables::from_json(variables));
        }
        Ok(Checked {
            request,
            kind,
            label,
        })
    }

    /// The query text, through the automatic persisted query cache when the request carries
    /// `extensions.persistedQuery`.
    fn query_text(
        &self,
        extensions: Option<&serde_json::Value>,
        query: Option<String>,
    ) -> Result<Option<String>, Refusal> {
        let Some(persisted) = extensions.and_then(|extensions| extensions.get("persistedQuery"))
        else {
            return Ok(query);
        };
        let persisted = PersistedQuery::deserialize(persisted).map_err(|_| {
            Refusal::bad_request("extensions.persistedQuery needs a version and a sha256Hash")
        })?;
        match self.persisted_queries.resolve(&persisted, query) {
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

    /// Step 4: the caller's credentials. An address that keeps sending bad ones is refused
    /// for a while without their being checked, so guessing costs the server nothing.
    pub async fn authenticate(
        &self,
        caller: &Caller,
    ) -> Result<Option<viewer::Authenticated>, Refusal> {
        let Some(authorization) = caller.authorization.as_deref() else {
            return Ok(None);
        };
        let limits = &self.state.rate_limits;
        let address = caller.address.to_string();
        limits
            .failed_credentials_by_address
            .check(&address)
            .map_err(Refusal::of)?;
        let state = &self.state;
        match viewer::authenticate(&state.store.db, &state.token_keys, Some(authorization)).await {
            Ok(authenticated) => Ok(authenticated),
            Err(error) => {
                if matches!(error, AppError::Unauthenticated) {
                    // Spent after the fact: the next attempt past the budget is refused.
                    let _ = limits.failed_credentials_by_address.take(&address);
                }
                Err(Refusal::of(error))
            }
        }
    }

    /// Request errors (refused by validation or variable coercion) carry no data and no paths.
    pub fn is_request_error(response: &async_graphql::Response) -> bool {
        response.data == async_graphql::Value::Null
            && !response.errors.is_empty()
            && response.errors.iter().all(|error| error.path.is_empty())
    }

    fn outcome_of(response: &async_graphql::Response) -> Outcome {
        if Self::is_request_error(response) {
            Outcome::Rejected
        } else if response.errors.is_empty() {
            Outcome::Ok
        } else {
            Outcome::FieldError
        }
    }
}

/// Step 8: writes the access-log entries of what the operation read so far.
async fn flush_reads(state: &AppState, reader: &Viewer) {
    if let Some(reads) = &reader.reads
        && let Err(error) = reads.flush(&state.store.db, reader).await
    {
        tracing::error!(error = ?error, "could not write the access log");
    }
}
