//! The WebSocket side of `/graphql`: `graphql-transport-ws`, and the legacy `graphql-ws`
//! (subscriptions-transport-ws). async-graphql runs the protocol; this loop owns the socket:
//!
//! - `connection_init` must carry `{"authorization": "Bearer …"}` (an access or API token),
//!   checked like the HTTP header; a missing or bad one closes with 4403 before any
//!   subscription runs, and no `connection_init` within 10 s closes with 4408;
//! - the server pings every `TETE_WS_PING_SECONDS` and closes a connection silent for three
//!   intervals (half-open sockets from phones that vanished);
//! - the connection closes with 4403 when the token it was opened with expires;
//! - when the server shuts down, after in-flight requests have finished, every connection
//!   sends what it still has and closes with 1012 (Service Restart): reconnect elsewhere.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use async_graphql::{
    Data,
    http::{ALL_WEBSOCKET_PROTOCOLS, WebSocket as Protocol, WebSocketProtocols, WsMessage},
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
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;

use super::HttpState;
use crate::{
    auth::viewer,
    error::AppError,
    graphql::{context::RequestViewer, loaders::Loaders},
};

/// Largest WebSocket message accepted (the library default is 64 MiB).
const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// The read buffer each connection allocates up front (the library default is 128 KiB, which
/// would be most of an idle subscriber's memory); it grows for larger messages.
const READ_BUFFER_BYTES: usize = 4 * 1024;
/// Outgoing bytes a connection may hold unsent before it is dropped as too slow.
const MAX_WRITE_BUFFER_BYTES: usize = 512 * 1024;
/// At shutdown, how long a connection waits for more to send before it closes…
const DRAIN_QUIET: Duration = Duration::from_millis(250);
/// …and how long it may keep sending in all.
const DRAIN_AT_MOST: Duration = Duration::from_secs(2);
const INIT_TIMEOUT: Duration = Duration::from_secs(10);
const SILENT_INTERVALS: u32 = 3;
const NO_EXPIRY: Duration = Duration::from_secs(365 * 24 * 3600);

/// `graphql-transport-ws` close codes.
const FORBIDDEN: u16 = 4403;
const INIT_TIMED_OUT: u16 = 4408;
const GOING_AWAY: u16 = 1001;
const SERVICE_RESTART: u16 = 1012;

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
fn protocol(headers: &HeaderMap) -> Option<WebSocketProtocols> {
    headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)?
        .to_str()
        .ok()?
        .split(',')
        .find_map(|offered| offered.trim().parse().ok())
}

pub async fn upgrade(http: HttpState, parts: &mut Parts) -> Response {
    let Some(protocol) = protocol(&parts.headers) else {
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
        .read_buffer_size(READ_BUFFER_BYTES)
        // Each message is written as it is sent: an event is due now, not batched.
        .write_buffer_size(0)
        .max_write_buffer_size(MAX_WRITE_BUFFER_BYTES)
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| serve(http, socket, protocol, stopping))
}

/// How the connection's `connection_init` went.
#[derive(Clone, Copy)]
enum Handshake {
    Waiting,
    Accepted {
        expires_at: Option<chrono::DateTime<Utc>>,
    },
    Refused,
}

async fn serve(
    http: HttpState,
    socket: WebSocket,
    protocol: WebSocketProtocols,
    mut stopping: watch::Receiver<bool>,
) {
    let (mut sink, mut source) = socket.split();
    let (incoming, incoming_rx) = mpsc::channel::<String>(16);
    let handshake = Arc::new(Mutex::new(Handshake::Waiting));
    let state = http.state.clone();
    let outcome = handshake.clone();
    let mut engine = Protocol::new(
        http.schema.clone(),
        ReceiverStream::new(incoming_rx),
        protocol,
    )
    .on_connection_init(move |payload| async move {
        let authorization = payload
            .get("authorization")
            .or_else(|| payload.get("Authorization"))
            .and_then(|value| value.as_str());
        let authenticated = viewer::authenticate(&state.store.db, &state.token_keys, authorization)
            .await
            .ok()
            .flatten();
        let mut outcome = outcome
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(authenticated) = authenticated else {
            *outcome = Handshake::Refused;
            return Err(async_graphql::Error::from(AppError::Unauthenticated));
        };
        *outcome = Handshake::Accepted {
            expires_at: authenticated.expires_at,
        };
        let viewer = Arc::new(authenticated.viewer);
        let mut data = Data::default();
        data.insert(Loaders::for_connection(
            &state.store.db,
            Some(viewer.clone()),
            Duration::from_millis(state.config.dataloader_delay_ms),
            state.store.events.live_users.clone(),
        ));
        data.insert(RequestViewer::new(Some(viewer)));
        Ok(data)
    });

    let ping_every = Duration::from_secs(http.state.config.ws_ping_seconds.max(1));
    let mut ping = tokio::time::interval(ping_every);
    ping.tick().await;
    let mut last_heard = Instant::now();
    let opened = tokio::time::Instant::now();
    let handshake_now = || {
        *handshake
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    };

    let close = loop {
        let deadline = match handshake_now() {
            Handshake::Accepted {
                expires_at: Some(expires_at),
            } => {
                let left = (expires_at - Utc::now()).to_std().unwrap_or_default();
                tokio::time::Instant::now() + left
            }
            // API tokens do not expire; revocation ends their subscriptions instead.
            Handshake::Accepted { expires_at: None } => opened + NO_EXPIRY,
            Handshake::Waiting | Handshake::Refused => opened + INIT_TIMEOUT,
        };
        tokio::select! {
            frame = source.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    last_heard = Instant::now();
                    if incoming.send(text.to_string()).await.is_err() {
                        break None;
                    }
                }
                Some(Ok(Message::Binary(bytes))) => {
                    last_heard = Instant::now();
                    let Ok(text) = String::from_utf8(bytes.to_vec()) else {
                        break Some((1003, "messages must be UTF-8 JSON"));
                    };
                    if incoming.send(text).await.is_err() {
                        break None;
                    }
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => last_heard = Instant::now(),
                Some(Ok(Message::Close(_)) | Err(_)) | None => break None,
            },
            message = engine.next() => match message {
                Some(WsMessage::Text(text)) => {
                    if sink.send(Message::Text(text.into())).await.is_err() {
                        break None;
                    }
                }
                Some(WsMessage::Close(code, _)) => {
                    // async-graphql closes a refused `connection_init` with 1002; the protocol
                    // says 4403.
                    break Some(match handshake_now() {
                        Handshake::Refused => (FORBIDDEN, "Forbidden"),
                        _ => (code, "closing"),
                    });
                }
                None => break Some(match handshake_now() {
                    Handshake::Refused => (FORBIDDEN, "Forbidden"),
                    _ => (1000, "done"),
                }),
            },
            _ = ping.tick() => {
                if last_heard.elapsed() > ping_every * SILENT_INTERVALS {
                    break Some((GOING_AWAY, "no answer to pings"));
                }
                if sink.send(Message::Ping(Default::default())).await.is_err() {
                    break None;
                }
            }
            () = stopped(&mut stopping) => {
                drain(&mut engine, &mut sink).await;
                break Some((SERVICE_RESTART, "server restarting: reconnect"));
            }
            () = tokio::time::sleep_until(deadline) => break Some(match handshake_now() {
                Handshake::Accepted { .. } => (FORBIDDEN, "token expired: reconnect with a fresh one"),
                Handshake::Waiting | Handshake::Refused => (INIT_TIMED_OUT, "Connection initialisation timeout"),
            }),
        }
    };
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

/// Completes when the server starts shutting down.
async fn stopped(stopping: &mut watch::Receiver<bool>) {
    let _ = stopping.wait_for(|stop| *stop).await;
}

/// Sends what the engine still has for the client (the events of requests that finished just
/// before shutdown) until it has been quiet for [`DRAIN_QUIET`].
async fn drain(
    engine: &mut (impl futures_util::Stream<Item = WsMessage> + Unpin),
    sink: &mut (impl futures_util::Sink<Message> + Unpin),
) {
    let _ = tokio::time::timeout(DRAIN_AT_MOST, async {
        while let Ok(Some(WsMessage::Text(text))) =
            tokio::time::timeout(DRAIN_QUIET, engine.next()).await
        {
            if sink.send(Message::Text(text.into())).await.is_err() {
                return;
            }
        }
    })
    .await;
}
