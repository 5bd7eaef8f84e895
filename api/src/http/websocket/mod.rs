//! The WebSocket side of `/graphql`: `graphql-transport-ws`, and the legacy `graphql-ws`
//! (subscriptions-transport-ws). This loop owns the socket and the protocol; every operation a
//! client sends runs through the same [`Pipeline`] as an HTTP request, in a task of its own, so
//! the loop itself never waits on an operation:
//!
//! - `connection_init` must carry `{"authorization": "Bearer …"}` (an access or API token),
//!   checked like the HTTP header; a missing or bad one closes with 4403, no `connection_init`
//!   within 10 s closes with 4408, a second one with 4429;
//! - an operation before the acknowledgement closes with 4401, one whose id is in use with
//!   4409, a message that is not the protocol's with 4400, one over 64 KiB with 1009; past
//!   [`crate::Config::ws_max_operations`] at once, one more is refused with an `error` message;
//! - the server pings every `TETE_WS_PING_SECONDS` and closes a connection silent for three
//!   intervals (half-open sockets from phones that vanished);
//! - the connection closes with 4403 when the token it was opened with expires, is revoked, or
//!   its user is deactivated;
//! - when the server shuts down, after in-flight requests have finished, every connection
//!   sends what it still has and closes with 1012 (Service Restart): reconnect elsewhere.

mod protocol;

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{
    extract::{
        FromRequestParts,
        ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade},
    },
    http::{HeaderMap, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use chrono::Utc;
use futures_util::{SinkExt, StreamExt, stream::SplitSink};
use serde_json::Value;
use tokio::{
    sync::{broadcast, mpsc, watch},
    task::AbortHandle,
};
use tokio_tungstenite::tungstenite::error::{CapacityError, Error as WsError};

use self::protocol::{ClientMessage, Protocol};
use super::{
    HttpState,
    pipeline::{Caller, Executed, Incoming, Pipeline},
};
use crate::{error::AppError, realtime::AccessChange};

/// Largest WebSocket message accepted (the library default is 64 MiB).
const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// The read buffer each connection allocates up front (the library default is 128 KiB, which
/// would be most of an idle subscriber's memory); it grows for larger messages.
const READ_BUFFER_BYTES: usize = 4 * 1024;
/// Outgoing bytes a connection may hold unsent before it is dropped as too slow.
const MAX_WRITE_BUFFER_BYTES: usize = 512 * 1024;
/// Results the connection's operations may have waiting for the socket; past that, each
/// operation waits for its own turn to send (and a live one falls behind and is told so).
const OUTBOX: usize = 64;
/// At shutdown, how long a connection waits for more to send before it closes…
const DRAIN_QUIET: Duration = Duration::from_millis(250);
/// …and how long it may keep sending in all.
const DRAIN_AT_MOST: Duration = Duration::from_secs(2);
const INIT_TIMEOUT: Duration = Duration::from_secs(10);
const SILENT_INTERVALS: u32 = 3;
const NO_EXPIRY: Duration = Duration::from_secs(365 * 24 * 3600);

/// Close codes: the WebSocket standard's, then `graphql-transport-ws`'s.
const NORMAL: u16 = 1000;
const GOING_AWAY: u16 = 1001;
const UNSUPPORTED_DATA: u16 = 1003;
const MESSAGE_TOO_BIG: u16 = 1009;
const SERVICE_RESTART: u16 = 1012;
const BAD_REQUEST: u16 = 4400;
const UNAUTHORIZED: u16 = 4401;
const FORBIDDEN: u16 = 4403;
const INIT_TIMED_OUT: u16 = 4408;
const SUBSCRIBER_EXISTS: u16 = 4409;
const TOO_MANY_INITS: u16 = 4429;

/// The WebSocket connections this process serves, so that shutdown can close them all.
pub struct OpenSockets {
    stopping: watch::Sender<bool>,
}

impl Default for OpenSockets {
    fn default() -> Self {
        Self {
            stopping: watch::Sender::new(false),
        }
    }
}

impl OpenSockets {
    /// Tells every connection to close with 1012, and waits until they have (at most `within`).
    pub async fn close_all(&self, within: Duration) {
        self.stopping.send_replace(true);
        let _ = tokio::time::timeout(within, self.stopping.closed()).await;
    }
}

pub fn is_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.eq_ignore_ascii_case("websocket"))
}

/// The subprotocol the client offers first that we speak.
fn offered_protocol(headers: &HeaderMap) -> Option<Protocol> {
    headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)?
        .to_str()
        .ok()?
        .split(',')
        .find_map(|offered| Protocol::named(offered.trim()))
}

pub async fn upgrade(http: HttpState, parts: &mut Parts, client: SocketAddr) -> Response {
    let Some(protocol) = offered_protocol(&parts.headers) else {
        return (
            StatusCode::BAD_REQUEST,
            "offer the graphql-transport-ws or graphql-ws subprotocol",
        )
            .into_response();
    };
    let upgrade = match WebSocketUpgrade::from_request_parts(parts, &()).await {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    let stopping = http.sockets.stopping.subscribe();
    upgrade
        .max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
        .read_buffer_size(READ_BUFFER_BYTES)
        // Each message is written as it is sent: an event is due now, not batched.
        .write_buffer_size(0)
        .max_write_buffer_size(MAX_WRITE_BUFFER_BYTES)
        .protocols([protocol.name()])
        .on_upgrade(move |socket| {
            let connection = Connection::new(http, protocol, client.ip());
            connection.serve(socket, stopping)
        })
}

/// What an operation's task hands the connection: a message to send, or its end.
enum Outgoing {
    Message {
        id: String,
        generation: u64,
        text: String,
    },
    /// The operation finished; `complete` tells the client so (an `error` needs none).
    Done {
        id: String,
        generation: u64,
        complete: bool,
    },
}

/// An accepted `connection_init`.
struct Session {
    caller: Caller,
    user_id: uuid::Uuid,
    api_token_id: Option<uuid::Uuid>,
    /// When the access token expires (`None`: an API token, valid until revoked).
    expires_at: Option<chrono::DateTime<Utc>>,
}

/// An operation in progress; `generation` tells its messages from those of an earlier
/// operation that used the same id.
struct Running {
    generation: u64,
    task: AbortHandle,
}

/// Why the loop stopped, and the close frame to send (if any).
type Close = Option<(u16, String)>;

struct Connection {
    http: HttpState,
    protocol: Protocol,
    address: IpAddr,
    session: Option<Session>,
    operations: HashMap<String, Running>,
    generations: u64,
    outbox: mpsc::Sender<Outgoing>,
    results: mpsc::Receiver<Outgoing>,
}

type Sink = SplitSink<WebSocket, Message>;

impl Connection {
    fn new(http: HttpState, protocol: Protocol, address: IpAddr) -> Self {
        let (outbox, results) = mpsc::channel(OUTBOX);
        Self {
            http,
            protocol,
            address,
            session: None,
            operations: HashMap::new(),
            generations: 0,
            outbox,
            results,
        }
    }

    async fn serve(mut self, socket: WebSocket, mut stopping: watch::Receiver<bool>) {
        let (mut sink, mut source) = socket.split();
        let mut access_changes = self.http.state.store.events.access_changes();
        let ping_every = Duration::from_secs(self.http.state.config.ws_ping_seconds.max(1));
        let mut ping = tokio::time::interval(ping_every);
        ping.tick().await;
        let mut last_heard = Instant::now();
        let opened = tokio::time::Instant::now();

        let close: Close = loop {
            let deadline = match &self.session {
                Some(Session {
                    expires_at: Some(expires_at),
                    ..
                }) => {
                    let left = (*expires_at - Utc::now()).to_std().unwrap_or_default();
                    tokio::time::Instant::now() + left
                }
                // API tokens do not expire; revocation closes their connections instead.
                Some(Session {
                    expires_at: None, ..
                }) => opened + NO_EXPIRY,
                None => opened + INIT_TIMEOUT,
            };
            tokio::select! {
                frame = source.next() => {
                    last_heard = Instant::now();
                    let text = match frame {
                        Some(Ok(Message::Text(text))) => text.to_string(),
                        Some(Ok(Message::Binary(bytes))) => match String::from_utf8(bytes.to_vec()) {
                            Ok(text) => text,
                            Err(_) => break Some((UNSUPPORTED_DATA, "messages must be UTF-8 JSON".into())),
                        },
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                        Some(Err(error)) if too_big(&error) => {
                            break Some((MESSAGE_TOO_BIG, format!("messages are limited to {MAX_MESSAGE_BYTES} bytes")));
                        }
                        Some(Ok(Message::Close(_)) | Err(_)) | None => break None,
                    };
                    match self.receive(&text, &mut sink).await {
                        Ok(()) => {}
                        Err(close) => break close,
                    }
                }
                Some(outgoing) = self.results.recv() => {
                    if let Some(text) = self.deliverable(outgoing)
                        && sink.send(Message::Text(text.into())).await.is_err()
                    {
                        break None;
                    }
                }
                change = access_changes.recv() => {
                    if let Some(close) = self.on_access_change(change).await {
                        break Some(close);
                    }
                }
                _ = ping.tick() => {
                    if last_heard.elapsed() > ping_every * SILENT_INTERVALS {
                        break Some((GOING_AWAY, "no answer to pings".into()));
                    }
                    if sink.send(Message::Ping(Default::default())).await.is_err() {
                        break None;
                    }
                    if self.session.is_some()
                        && let Some(keep_alive) = self.protocol.keep_alive()
                        && sink.send(Message::Text(keep_alive.into())).await.is_err()
                    {
                        break None;
                    }
                }
                () = stopped(&mut stopping) => {
                    self.drain(&mut sink).await;
                    break Some((SERVICE_RESTART, "server restarting: reconnect".into()));
                }
                () = tokio::time::sleep_until(deadline) => break Some(match self.session {
                    Some(_) => (FORBIDDEN, "token expired: reconnect with a fresh one".into()),
                    None => (INIT_TIMED_OUT, "Connection initialisation timeout".into()),
                }),
            }
        };
        for running in self.operations.values() {
            running.task.abort();
        }
        if let Some((code, reason)) = close {
            let _ = sink
                .send(Message::Close(Some(CloseFrame {
                    code,
                    reason: reason.into(),
                })))
                .await;
        }
        let _ = sink.close().await;
    }

    /// Handles one message from the client; `Err` closes the connection.
    async fn receive(&mut self, text: &str, sink: &mut Sink) -> Result<(), Close> {
        let message = self
            .protocol
            .parse(text)
            .map_err(|reason| Some((BAD_REQUEST, reason)))?;
        match message {
            ClientMessage::ConnectionInit(payload) => self.initialise(payload, sink).await,
            ClientMessage::Subscribe { id, operation } => {
                if self.session.is_none() {
                    return Err(Some((UNAUTHORIZED, "Unauthorized".into())));
                }
                if self.operations.contains_key(&id) {
                    return Err(Some((
                        SUBSCRIBER_EXISTS,
                        format!("Subscriber for {id} already exists"),
                    )));
                }
                let limit = self.http.state.config.ws_max_operations;
                if self.operations.len() >= limit {
                    let error = AppError::RateLimited {
                        retry_after_secs: 1,
                    };
                    let refused = format!("at most {limit} operations at once on one connection");
                    let errors = errors_json(&error, Some(&refused));
                    return send(sink, self.protocol.error(&id, &errors)).await;
                }
                self.start(id, operation);
                Ok(())
            }
            ClientMessage::Complete { id } => match self.operations.remove(&id) {
                // Confirmed, as clients of the async-graphql server before this one saw it.
                Some(running) => {
                    running.task.abort();
                    send(sink, self.protocol.complete(&id)).await
                }
                None => Ok(()),
            },
            ClientMessage::Ping(payload) => send(sink, self.protocol.pong(payload)).await,
            ClientMessage::Pong => Ok(()),
            ClientMessage::Terminate => Err(Some((NORMAL, "terminated".into()))),
        }
    }

    /// `connection_init`: the connection's credentials, checked as the pipeline checks them.
    async fn initialise(&mut self, payload: Option<Value>, sink: &mut Sink) -> Result<(), Close> {
        if self.session.is_some() {
            return Err(Some((
                TOO_MANY_INITS,
                "Too many initialisation requests".into(),
            )));
        }
        let authorization = payload.as_ref().and_then(|payload| {
            payload
                .get("authorization")
                .or_else(|| payload.get("Authorization"))?
                .as_str()
                .map(str::to_owned)
        });
        let caller = Caller {
            authorization,
            address: self.address,
        };
        let authenticated = match &caller.authorization {
            Some(_) => self
                .http
                .pipeline
                .authenticate(&caller)
                .await
                .ok()
                .flatten(),
            None => None,
        };
        let Some(authenticated) = authenticated else {
            if let Some(refusal) = self.protocol.connection_error("authentication required") {
                let _ = sink.send(Message::Text(refusal.into())).await;
            }
            return Err(Some((FORBIDDEN, "Forbidden".into())));
        };
        self.session = Some(Session {
            user_id: authenticated.viewer.id(),
            api_token_id: authenticated.viewer.api_token_id(),
            expires_at: authenticated.expires_at,
            caller,
        });
        send(sink, self.protocol.ack()).await?;
        match self.protocol.keep_alive() {
            Some(keep_alive) => send(sink, keep_alive).await,
            None => Ok(()),
        }
    }

    /// Runs operation `id` in a task of its own.
    fn start(&mut self, id: String, operation: Incoming) {
        let Some(session) = &self.session else {
            return;
        };
        self.generations += 1;
        let generation = self.generations;
        let task = tokio::spawn(run_operation(
            self.http.pipeline.clone(),
            self.protocol,
            session.caller.clone(),
            Reply {
                id: id.clone(),
                generation,
                outbox: self.outbox.clone(),
            },
            operation,
        ));
        self.operations.insert(
            id,
            Running {
                generation,
                task: task.abort_handle(),
            },
        );
    }

    /// The text to send for an operation's result, unless the client is done with it.
    fn deliverable(&mut self, outgoing: Outgoing) -> Option<String> {
        let current = |operations: &HashMap<String, Running>, id: &str, generation: u64| {
            operations
                .get(id)
                .is_some_and(|running| running.generation == generation)
        };
        match outgoing {
            Outgoing::Message {
                id,
                generation,
                text,
            } => current(&self.operations, &id, generation).then_some(text),
            Outgoing::Done {
                id,
                generation,
                complete,
            } => {
                if !current(&self.operations, &id, generation) {
                    return None;
                }
                self.operations.remove(&id);
                complete.then(|| self.protocol.complete(&id))
            }
        }
    }

    /// Closes the connection when its own credentials were revoked; after announcements may
    /// have been lost, checks them again.
    async fn on_access_change(
        &mut self,
        change: Result<AccessChange, broadcast::error::RecvError>,
    ) -> Option<(u16, String)> {
        let session = self.session.as_ref()?;
        let revoked = match change {
            Ok(AccessChange::User(id)) => id == session.user_id,
            Ok(AccessChange::ApiToken(id)) => Some(id) == session.api_token_id,
            Ok(AccessChange::Unknown) | Err(broadcast::error::RecvError::Lagged(_)) => !matches!(
                self.http.pipeline.authenticate(&session.caller).await,
                Ok(Some(_))
            ),
            Err(broadcast::error::RecvError::Closed) => false,
        };
        revoked.then(|| (FORBIDDEN, "credentials revoked".into()))
    }

    /// Sends what the operations still have for the client (the events of requests that
    /// finished just before shutdown) until they have been quiet for [`DRAIN_QUIET`].
    async fn drain(&mut self, sink: &mut Sink) {
        let _ = tokio::time::timeout(DRAIN_AT_MOST, async {
            while let Ok(Some(outgoing)) =
                tokio::time::timeout(DRAIN_QUIET, self.results.recv()).await
            {
                if let Some(text) = self.deliverable(outgoing)
                    && sink.send(Message::Text(text.into())).await.is_err()
                {
                    return;
                }
            }
        })
        .await;
    }
}

/// Where an operation's task sends its results.
struct Reply {
    id: String,
    generation: u64,
    outbox: mpsc::Sender<Outgoing>,
}

impl Reply {
    /// `false` once the connection is gone.
    async fn send(&self, text: String) -> bool {
        let message = Outgoing::Message {
            id: self.id.clone(),
            generation: self.generation,
            text,
        };
        self.outbox.send(message).await.is_ok()
    }

    async fn done(self, complete: bool) {
        let done = Outgoing::Done {
            id: self.id,
            generation: self.generation,
            complete,
        };
        let _ = self.outbox.send(done).await;
    }
}

/// One operation of a connection, through the pipeline, its results sent as they come.
async fn run_operation(
    pipeline: Arc<Pipeline>,
    protocol: Protocol,
    caller: Caller,
    reply: Reply,
    operation: Incoming,
) {
    let refused = |error: &AppError| protocol.error(&reply.id, &errors_json(error, None));
    let mut responses = match pipeline
        .execute(operation, super::pipeline::Transport::WebSocket, &caller)
        .await
    {
        Ok(Executed::Single(response)) => futures_util::stream::iter([*response]).boxed(),
        Ok(Executed::Stream(stream)) => stream,
        Err(refusal) => {
            if reply.send(refused(&refusal.error)).await {
                reply.done(false).await;
            }
            return;
        }
    };
    let mut first = true;
    while let Some(response) = responses.next().await {
        // A document refused by validation ran nothing: the protocol's `error`, not `next`.
        if first && Pipeline::is_request_error(&response) {
            let errors = serde_json::to_string(&response.errors).unwrap_or_else(|_| "[]".into());
            if reply.send(protocol.error(&reply.id, &errors)).await {
                reply.done(false).await;
            }
            return;
        }
        first = false;
        let payload = match serde_json::to_string(&response) {
            Ok(payload) => payload,
            Err(error) => {
                tracing::error!(%error, "could not serialise a result");
                continue;
            }
        };
        if !reply.send(protocol.next(&reply.id, &payload)).await {
            return;
        }
    }
    reply.done(true).await;
}

/// A JSON array with one GraphQL error for `error` (with `message` instead of its own).
fn errors_json(error: &AppError, message: Option<&str>) -> String {
    let mut extensions = serde_json::json!({ "code": error.code() });
    if let AppError::RateLimited { retry_after_secs } = error {
        extensions["retryAfter"] = (*retry_after_secs).into();
    }
    let message = message.map_or_else(|| error.public_message(), str::to_owned);
    serde_json::json!([{ "message": message, "extensions": extensions }]).to_string()
}

async fn send(sink: &mut Sink, text: String) -> Result<(), Close> {
    sink.send(Message::Text(text.into()))
        .await
        .map_err(|_| None)
}

/// Whether a read failed because the client sent a message over the limit.
fn too_big(error: &axum::Error) -> bool {
    std::error::Error::source(error)
        .and_then(|source| source.downcast_ref::<WsError>())
        .is_some_and(|error| {
            matches!(
                error,
                WsError::Capacity(CapacityError::MessageTooLong { .. })
            )
        })
}

/// Completes when the server starts shutting down.
async fn stopped(stopping: &mut watch::Receiver<bool>) {
    let _ = stopping.wait_for(|stop| *stop).await;
}
