//! A small WebSocket client for the live tests: `graphql-transport-ws` (or the legacy
//! `graphql-ws`) over tokio-tungstenite, with a timeout on every read so a silent server fails
//! the test instead of hanging it.

use std::{
    io,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tete_tests::TestApp;
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
    time::Instant,
};
use tokio_tungstenite::{
    WebSocketStream, client_async,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

/// The protocol clients speak today.
pub const TRANSPORT_WS: &str = "graphql-transport-ws";
/// subscriptions-transport-ws, which older clients still speak.
pub const LEGACY_WS: &str = "graphql-ws";
/// How long a read waits for something that must come.
pub const WAIT: Duration = Duration::from_secs(5);

/// The subscription every live test runs, with every field of an event a client reads.
pub const MEETING_EVENTS: &str = "subscription($m: ID!, $a: Int) { meetingEvents(meetingId: $m, afterSequence: $a) { sequence kind actor { id } participant { id } agendaItem { id title } note { id body visibility } actionItem { id title } checkIn { id mood } removedId meeting { id status } } }";

/// One thing read from the socket.
#[derive(Debug)]
pub enum Frame {
    /// A text (or binary) message, parsed as JSON.
    Json(Value),
    /// A WebSocket-level ping from the server.
    Ping,
    /// The server closed the socket, with this close code if it sent one.
    Closed(Option<u16>),
}

/// How a subscription's stream ended.
#[derive(Debug, PartialEq)]
pub enum Ended {
    /// The server sent `complete` for it.
    Complete,
    /// The server closed the socket.
    Closed(Option<u16>),
}

/// A TCP stream whose writes can be silenced: the client still reads, but the server hears
/// nothing more from it, not even the pongs tungstenite sends by itself, like a phone that
/// vanished mid-meeting.
struct Muffled {
    tcp: TcpStream,
    silent: Arc<AtomicBool>,
}

impl AsyncRead for Muffled {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for Muffled {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.silent.load(Ordering::SeqCst) {
            Poll::Ready(Ok(buf.len()))
        } else {
            Pin::new(&mut this.tcp).poll_write(cx, buf)
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.silent.load(Ordering::SeqCst) {
            Poll::Ready(Ok(()))
        } else {
            Pin::new(&mut this.tcp).poll_flush(cx)
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.silent.load(Ordering::SeqCst) {
            Poll::Ready(Ok(()))
        } else {
            Pin::new(&mut this.tcp).poll_shutdown(cx)
        }
    }
}

pub struct Ws {
    stream: WebSocketStream<Muffled>,
    silent: Arc<AtomicBool>,
    protocol: &'static str,
    /// Once the server has closed: its close code, if any.
    closed: Option<Option<u16>>,
    /// Every text message received, verbatim, to check what never reached this client.
    transcript: Vec<String>,
}

impl Ws {
    /// Opens a socket to `app` offering `protocol`; the server must accept it.
    pub async fn connect(app: &TestApp, protocol: &'static str) -> Ws {
        let mut request = app
            .ws_url()
            .into_client_request()
            .expect("a WebSocket request");
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", HeaderValue::from_static(protocol));
        let address = app.address.trim_start_matches("http://");
        let tcp = TcpStream::connect(address)
            .await
            .expect("the server accepts connections");
        tcp.set_nodelay(true).expect("TCP_NODELAY");
        let silent = Arc::new(AtomicBool::new(false));
        let muffled = Muffled {
            tcp,
            silent: silent.clone(),
        };
        let (stream, response) = tokio::time::timeout(WAIT, client_async(request, muffled))
            .await
            .expect("the upgrade answers in time")
            .expect("the server upgrades the connection");
        assert_eq!(
            response.headers()["sec-websocket-protocol"],
            protocol,
            "the server speaks the offered protocol"
        );
        Ws {
            stream,
            silent,
            protocol,
            closed: None,
            transcript: Vec::new(),
        }
    }

    /// Connects with `graphql-transport-ws`, authenticates with `token` and waits for the ack.
    pub async fn open(app: &TestApp, token: &str) -> Ws {
        Self::open_with(app, TRANSPORT_WS, token).await
    }

    /// Connects with `protocol`, authenticates with `token` and waits for the ack.
    pub async fn open_with(app: &TestApp, protocol: &'static str, token: &str) -> Ws {
        let mut ws = Self::connect(app, protocol).await;
        ws.init(Some(token)).await;
        let ack = ws.message().await;
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        ws
    }

    pub async fn send(&mut self, message: Value) {
        self.stream
            .send(Message::text(message.to_string()))
            .await
            .expect("the message is sent");
    }

    /// `connection_init` with `{"authorization": "Bearer <token>"}`, or with no payload at all.
    pub async fn init(&mut self, token: Option<&str>) {
        match token {
            Some(token) => {
                self.init_with(json!({ "authorization": format!("Bearer {token}") }))
                    .await
            }
            None => self.send(json!({ "type": "connection_init" })).await,
        }
    }

    /// `connection_init` with this payload.
    pub async fn init_with(&mut self, payload: Value) {
        self.send(json!({ "type": "connection_init", "payload": payload }))
            .await;
    }

    /// Subscribes to `meetingEvents` under `id` (`subscribe`, or `start` on the legacy protocol).
    pub async fn subscribe(&mut self, id: &str, meeting_id: &str, after_sequence: Option<i64>) {
        self.send(json!({
            "id": id,
            "type": self.start_kind(),
            "payload": {
                "query": MEETING_EVENTS,
                "variables": { "m": meeting_id, "a": after_sequence },
            },
        }))
        .await;
    }

    /// The message type that starts an operation in this socket's protocol.
    fn start_kind(&self) -> &'static str {
        if self.protocol == LEGACY_WS {
            "start"
        } else {
            "subscribe"
        }
    }

    /// Sends operation `id` (a query or mutation) and returns what came back for it, shaped as
    /// an HTTP body: the `next` payload (after which `complete` must follow), or
    /// `{"errors": …}` for an `error` message.
    pub async fn operation(&mut self, id: &str, query: &str, variables: Value) -> Value {
        self.request(id, json!({ "query": query, "variables": variables }))
            .await
    }

    /// [`operation`](Self::operation) with a whole request as its payload (`operationName`,
    /// `extensions`, or anything else a client may put there).
    pub async fn request(&mut self, id: &str, payload: Value) -> Value {
        self.send(json!({ "id": id, "type": self.start_kind(), "payload": payload }))
            .await;
        let message = self.message().await;
        assert_eq!(message["id"], id, "{message}");
        match message["type"].as_str() {
            Some("error") => json!({ "errors": message["payload"] }),
            Some("next" | "data") => {
                let complete = self.message().await;
                assert_eq!(complete["type"], "complete", "{complete}");
                assert_eq!(complete["id"], id, "{complete}");
                message["payload"].clone()
            }
            _ => panic!("a result was expected: {message}"),
        }
    }

    /// Ends the subscription `id` from the client side (`complete`, or `stop` on the legacy
    /// protocol); the socket stays open.
    pub async fn stop(&mut self, id: &str) {
        let kind = if self.protocol == LEGACY_WS {
            "stop"
        } else {
            "complete"
        };
        self.send(json!({ "id": id, "type": kind })).await;
    }

    /// Closes the socket from the client side and waits until the server has seen it.
    pub async fn close(mut self) {
        if self.closed.is_some() {
            return;
        }
        let _ = self.stream.close(None).await;
        let deadline = Instant::now() + WAIT;
        while let Ok(Some(Ok(_))) = tokio::time::timeout_at(deadline, self.stream.next()).await {}
    }

    /// From now on nothing this client writes reaches the server, pongs included; it still
    /// reads what the server sends.
    pub fn go_silent(&self) {
        self.silent.store(true, Ordering::SeqCst);
    }

    /// The next frame, or `None` when nothing came before `deadline`. Reading is also what
    /// answers the server's pings.
    pub async fn frame_before(&mut self, deadline: Instant) -> Option<Frame> {
        if let Some(code) = self.closed {
            return Some(Frame::Closed(code));
        }
        loop {
            let read = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()?;
            let frame = match read {
                Some(Ok(Message::Text(text))) => {
                    self.transcript.push(text.as_str().to_owned());
                    Frame::Json(serde_json::from_str(text.as_str()).unwrap_or_else(|error| {
                        panic!("the server sent text that is not JSON ({error}): {text}")
                    }))
                }
                Some(Ok(Message::Binary(bytes))) => {
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    self.transcript.push(text.clone());
                    Frame::Json(serde_json::from_str(&text).unwrap_or_else(|error| {
                        panic!(
                            "the server sent a binary message that is not JSON ({error}): {text}"
                        )
                    }))
                }
                Some(Ok(Message::Ping(_))) => Frame::Ping,
                Some(Ok(Message::Pong(_) | Message::Frame(_))) => continue,
                Some(Ok(Message::Close(frame))) => {
                    let code = frame.map(|frame| u16::from(frame.code));
                    self.closed = Some(code);
                    Frame::Closed(code)
                }
                Some(Err(_)) | None => {
                    self.closed = Some(None);
                    Frame::Closed(None)
                }
            };
            return Some(frame);
        }
    }

    /// The next JSON message within `WAIT`, skipping pings and legacy keep-alives; panics when
    /// the socket closes or nothing comes.
    pub async fn message(&mut self) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            match self.frame_before(deadline).await {
                Some(Frame::Json(message)) if message["type"] == "ka" => {}
                Some(Frame::Json(message)) => return message,
                Some(Frame::Ping) => {}
                Some(Frame::Closed(code)) => {
                    panic!("the socket closed (code {code:?}) while a message was expected")
                }
                None => panic!("no message within {WAIT:?}"),
            }
        }
    }

    /// The next event of subscription `id`; any other message fails the test.
    pub async fn event(&mut self, id: &str) -> Value {
        let message = self.message().await;
        let data_type = if self.protocol == LEGACY_WS {
            "data"
        } else {
            "next"
        };
        assert_eq!(
            message["type"], data_type,
            "an event was expected: {message}"
        );
        assert_eq!(message["id"], id, "{message}");
        assert!(
            message["payload"].get("errors").is_none(),
            "an event without errors was expected: {message}"
        );
        let event = message["payload"]["data"]["meetingEvents"].clone();
        assert!(event.is_object(), "{message}");
        event
    }

    /// The next `count` events of subscription `id`.
    pub async fn events(&mut self, id: &str, count: usize) -> Vec<Value> {
        let mut events = Vec::with_capacity(count);
        for _ in 0..count {
            events.push(self.event(id).await);
        }
        events
    }

    /// Events of subscription `id` up to and including the first one `last` accepts.
    pub async fn events_until(&mut self, id: &str, last: impl Fn(&Value) -> bool) -> Vec<Value> {
        let mut events = Vec::new();
        loop {
            let event = self.event(id).await;
            let done = last(&event);
            events.push(event);
            if done {
                return events;
            }
        }
    }

    /// Asserts that nothing but presence events (which follow connection timing) arrives
    /// within `window`.
    pub async fn no_change_within(&mut self, window: Duration) {
        let deadline = Instant::now() + window;
        loop {
            match self.frame_before(deadline).await {
                None => return,
                Some(Frame::Ping) => {}
                Some(Frame::Json(message)) => {
                    let kind = &message["payload"]["data"]["meetingEvents"]["kind"];
                    assert!(
                        kind == "PARTICIPANT_JOINED" || kind == "PARTICIPANT_LEFT",
                        "no change was expected within {window:?}, got {message}"
                    );
                }
                Some(Frame::Closed(code)) => {
                    panic!("the socket closed (code {code:?}) while it should stay open")
                }
            }
        }
    }

    /// Asserts that no message arrives within `window` (pings do not count).
    pub async fn no_message_within(&mut self, window: Duration) {
        let deadline = Instant::now() + window;
        loop {
            match self.frame_before(deadline).await {
                None => return,
                Some(Frame::Ping) => {}
                Some(Frame::Json(message)) if message["type"] == "ka" => {}
                Some(Frame::Json(message)) => {
                    panic!("no message was expected within {window:?}, got {message}")
                }
                Some(Frame::Closed(code)) => {
                    panic!("the socket closed (code {code:?}) while it should stay open")
                }
            }
        }
    }

    /// The `extensions.code` of a subscription refused at its start: a `next` (or `data`) whose
    /// payload has errors and no data, then `complete`; or an `error` message.
    pub async fn refusal(&mut self, id: &str) -> String {
        let message = self.message().await;
        assert_eq!(message["id"], id, "{message}");
        let code = match message["type"].as_str() {
            Some("error") => &message["payload"][0]["extensions"]["code"],
            Some("next" | "data") => {
                assert!(
                    message["payload"]["data"].is_null(),
                    "a refusal carries no data: {message}"
                );
                &message["payload"]["errors"][0]["extensions"]["code"]
            }
            _ => panic!("a refusal was expected: {message}"),
        };
        let code = code
            .as_str()
            .unwrap_or_else(|| panic!("the refusal carries a code: {message}"))
            .to_owned();
        if message["type"] != "error" {
            let complete = self.message().await;
            assert_eq!(complete["type"], "complete", "{complete}");
            assert_eq!(complete["id"], id, "{complete}");
        }
        code
    }

    /// Waits up to `within` for subscription `id` to end, skipping any events before it.
    pub async fn ended(&mut self, id: &str, within: Duration) -> Ended {
        let deadline = Instant::now() + within;
        loop {
            match self.frame_before(deadline).await {
                Some(Frame::Json(message)) if message["type"] == "complete" => {
                    assert_eq!(message["id"], id, "{message}");
                    return Ended::Complete;
                }
                Some(Frame::Json(_) | Frame::Ping) => {}
                Some(Frame::Closed(code)) => return Ended::Closed(code),
                None => panic!("the subscription did not end within {within:?}"),
            }
        }
    }

    /// Reads until the server closes the socket (at most `within`); returns the messages that
    /// came before and the close code.
    pub async fn close_code(&mut self, within: Duration) -> (Vec<Value>, Option<u16>) {
        let deadline = Instant::now() + within;
        let mut messages = Vec::new();
        loop {
            match self.frame_before(deadline).await {
                Some(Frame::Json(message)) => messages.push(message),
                Some(Frame::Ping) => {}
                Some(Frame::Closed(code)) => return (messages, code),
                None => {
                    panic!("the server did not close the socket within {within:?}: {messages:?}")
                }
            }
        }
    }

    /// Whether any message received so far contains `needle`.
    pub fn saw(&self, needle: &str) -> bool {
        self.transcript.iter().any(|text| text.contains(needle))
    }
}

/// The `sequence` of each event.
pub fn sequences(events: &[Value]) -> Vec<i64> {
    events
        .iter()
        .map(|event| event["sequence"].as_i64().expect("a sequence"))
        .collect()
}

/// The `kind` of each event.
pub fn kinds(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|event| event["kind"].as_str().expect("a kind"))
        .collect()
}
