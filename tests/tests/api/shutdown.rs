//! Graceful shutdown: once told to stop, the server refuses new connections, lets in-flight
//! requests finish, and then closes every WebSocket with 1012 (Service Restart), whose reason
//! tells the client to reconnect, after the events of those requests went out.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tete_tests::{Session, TestApp, spawn_app};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    task::JoinHandle,
    time::Instant,
};
use tokio_tungstenite::{
    WebSocketStream, client_async,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

use crate::{
    support::{agenda, day, pair, schedule},
    ws::{MEETING_EVENTS, TRANSPORT_WS},
};

/// "Service Restart": come back in a moment, to this or another instance.
const SERVICE_RESTART: u16 = 1012;
/// How long the close may take once nothing is in flight.
const CLOSE_WITHIN: Duration = Duration::from_secs(5);
/// How long the server may take to return once its sockets are closed.
const STOP_WITHIN: Duration = Duration::from_secs(5);

/// A `graphql-transport-ws` subscriber to `meetingEvents` that keeps the close frame's reason.
struct Subscriber {
    stream: WebSocketStream<TcpStream>,
}

/// How the server ended the socket.
#[derive(Debug)]
struct Close {
    code: Option<u16>,
    reason: String,
    /// The JSON messages that came before it, in order.
    before: Vec<Value>,
    /// How long after the read started.
    after: Duration,
}

impl Subscriber {
    /// Connects, authenticates as `who`, subscribes to `meeting_id` as `"1"` and reads the first
    /// event (`who` joining), so the subscription is live.
    async fn follow(app: &TestApp, who: &Session, meeting_id: &str) -> Subscriber {
        let mut request = app.ws_url().into_client_request().expect("a request");
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static(TRANSPORT_WS),
        );
        let tcp = TcpStream::connect(app.address.trim_start_matches("http://"))
            .await
            .expect("the server accepts connections");
        let (stream, _) = tokio::time::timeout(CLOSE_WITHIN, client_async(request, tcp))
            .await
            .expect("the upgrade answers in time")
            .expect("the server upgrades");
        let mut subscriber = Subscriber { stream };
        subscriber
            .send(json!({
                "type": "connection_init",
                "payload": { "authorization": format!("Bearer {}", who.access_token) },
            }))
            .await;
        let ack = subscriber.message().await;
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        subscriber
            .send(json!({
                "id": "1",
                "type": "subscribe",
                "payload": { "query": MEETING_EVENTS, "variables": { "m": meeting_id } },
            }))
            .await;
        let joined = subscriber.message().await;
        assert_eq!(
            joined["payload"]["data"]["meetingEvents"]["kind"], "PARTICIPANT_JOINED",
            "{joined}"
        );
        subscriber
    }

    async fn send(&mut self, message: Value) {
        self.stream
            .send(Message::text(message.to_string()))
            .await
            .expect("the message is sent");
    }

    /// The next JSON message within [`CLOSE_WITHIN`].
    async fn message(&mut self) -> Value {
        let deadline = Instant::now() + CLOSE_WITHIN;
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Ok(Some(Ok(Message::Text(text)))) => {
                    return serde_json::from_str(text.as_str()).expect("JSON");
                }
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)))) => {}
                other => panic!("a message was expected, got {other:?}"),
            }
        }
    }

    /// Reads until the server closes the socket, at most `within`.
    async fn close(&mut self, within: Duration) -> Close {
        let since = Instant::now();
        let deadline = since + within;
        let mut before = Vec::new();
        loop {
            let read = tokio::time::timeout_at(deadline, self.stream.next()).await;
            let (code, reason) = match read {
                Err(_) => panic!(
                    "the server did not close the socket within {within:?}; messages: {before:?}"
                ),
                Ok(Some(Ok(Message::Text(text)))) => {
                    before.push(serde_json::from_str(text.as_str()).expect("JSON"));
                    continue;
                }
                Ok(Some(Ok(Message::Close(frame)))) => match frame {
                    Some(frame) => (Some(u16::from(frame.code)), frame.reason.to_string()),
                    None => (None, String::new()),
                },
                Ok(Some(Ok(_))) => continue,
                Ok(Some(Err(error))) => (None, format!("(no close frame: {error})")),
                Ok(None) => (None, "(no close frame: the stream ended)".into()),
            };
            return Close {
                code,
                reason,
                before,
                after: since.elapsed(),
            };
        }
    }
}

/// Asserts the close is 1012 with a reason that says to reconnect.
fn assert_reconnect(close: &Close) {
    assert_eq!(
        close.code,
        Some(SERVICE_RESTART),
        "the socket closed with {:?} ({:?}) after {:?}; before it: {:?}",
        close.code,
        close.reason,
        close.after,
        close.before
    );
    assert!(
        close.reason.to_lowercase().contains("reconnect"),
        "the close reason {:?} does not tell the client to reconnect",
        close.reason
    );
}

/// Waits for the stopping server to return, at most [`STOP_WITHIN`].
async fn stopped(stopping: JoinHandle<std::io::Result<()>>) -> Duration {
    let since = Instant::now();
    let result = tokio::time::timeout(STOP_WITHIN, stopping)
        .await
        .unwrap_or_else(|_| panic!("the server did not stop within {STOP_WITHIN:?}"))
        .expect("the stopping task did not panic");
    result.expect("run_until_stopped returns Ok");
    since.elapsed()
}

#[tokio::test]
async fn shutdown_closes_websockets_with_a_reconnect_code() {
    let mut app = spawn_app().await;
    let pair = pair(&app).await;
    let meeting_id = schedule(&app, &pair.manager, &pair.series, day(1)).await;
    let mut bob = Subscriber::follow(&app, &pair.report, &meeting_id).await;
    let mut max = Subscriber::follow(&app, &pair.manager, &meeting_id).await;

    let stopping = tokio::spawn(app.stop());
    let close = bob.close(CLOSE_WITHIN).await;
    assert_reconnect(&close);
    assert_reconnect(&max.close(CLOSE_WITHIN).await);
    let took = stopped(stopping).await;
    eprintln!("closed after {:?}; stopped {took:?} later", close.after);
}

/// The parts of an HTTP/1.1 request sent by hand, so the body can arrive in two halves.
struct RawRequest {
    tcp: TcpStream,
    rest: Vec<u8>,
}

impl RawRequest {
    /// Sends the headers and half of the body of a GraphQL POST.
    async fn start(app: &TestApp, token: &str, query: &str, variables: Value) -> RawRequest {
        let body = json!({ "query": query, "variables": variables }).to_string();
        let host = app.address.trim_start_matches("http://");
        let head = format!(
            "POST /graphql HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
             Accept: application/graphql-response+json\r\nAuthorization: Bearer {token}\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let (first, rest) = body.as_bytes().split_at(body.len() / 2);
        let mut tcp = TcpStream::connect(host).await.expect("the server accepts");
        tcp.set_nodelay(true).expect("TCP_NODELAY");
        tcp.write_all(head.as_bytes()).await.expect("headers sent");
        tcp.write_all(first).await.expect("half the body sent");
        tcp.flush().await.expect("flushed");
        RawRequest {
            tcp,
            rest: rest.to_vec(),
        }
    }

    /// Sends the rest of the body; returns the status and the JSON body of the answer.
    async fn finish(mut self) -> (u16, Value) {
        self.tcp
            .write_all(&self.rest)
            .await
            .expect("the rest of the body is sent");
        self.tcp.flush().await.expect("flushed");
        let mut raw = Vec::new();
        tokio::time::timeout(Duration::from_secs(15), self.tcp.read_to_end(&mut raw))
            .await
            .expect("the server answers and closes within 15 s")
            .unwrap_or_else(|error| {
                panic!(
                    "reading the answer failed ({error}) after {:?}",
                    String::from_utf8_lossy(&raw)
                )
            });
        parse_response(&raw)
    }
}

/// Status and JSON body of an HTTP/1.1 response read to its end.
fn parse_response(raw: &[u8]) -> (u16, Value) {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("an HTTP response, got {text:?}"));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("a status line, got {head:?}"));
    let chunked = head.lines().any(|line| {
        let line = line.to_ascii_lowercase();
        line.starts_with("transfer-encoding:") && line.contains("chunked")
    });
    let body = if chunked {
        let mut decoded = String::new();
        let mut rest = body;
        while let Some((size, after)) = rest.split_once("\r\n") {
            let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if size == 0 {
                break;
            }
            decoded.push_str(&after[..size]);
            rest = after[size..].trim_start_matches("\r\n");
        }
        decoded
    } else {
        body.to_owned()
    };
    let json = serde_json::from_str(&body)
        .unwrap_or_else(|error| panic!("{status} with a body that is not JSON ({error}): {body}"));
    (status, json)
}

/// Whether a new client is refused: the connection fails, or no answer comes over it.
async fn refuses_new_clients(app: &TestApp) -> Result<(), String> {
    let host = app.address.trim_start_matches("http://");
    let mut tcp = match tokio::time::timeout(Duration::from_secs(2), TcpStream::connect(host)).await
    {
        Err(_) => return Err("connecting hung".into()),
        Ok(Err(_)) => return Ok(()),
        Ok(Ok(tcp)) => tcp,
    };
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    if tcp.write_all(request.as_bytes()).await.is_err() {
        return Ok(());
    }
    let mut answer = Vec::new();
    match tokio::time::timeout(Duration::from_secs(2), tcp.read_to_end(&mut answer)).await {
        Ok(_) if answer.is_empty() => Ok(()),
        Ok(_) => Err(format!(
            "a new connection was served: {:?}",
            String::from_utf8_lossy(&answer)
        )),
        Err(_) => Err("a new connection was accepted and left waiting".into()),
    }
}

/// Polls until new clients are refused, at most 2 s.
async fn until_refused(app: &TestApp) -> Duration {
    let since = Instant::now();
    loop {
        match refuses_new_clients(app).await {
            Ok(()) => return since.elapsed(),
            Err(why) if since.elapsed() > Duration::from_secs(2) => {
                panic!("new clients are still served 2 s after shutdown began: {why}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

const ADD_ITEM: &str = "mutation($input: AddAgendaItemInput!) { addAgendaItem(input: $input) { agendaItem { id title } } }";

#[tokio::test]
async fn shutdown_lets_an_in_flight_mutation_finish_before_closing_sockets() {
    let mut app = spawn_app().await;
    let pair = pair(&app).await;
    let meeting_id = schedule(&app, &pair.manager, &pair.series, day(1)).await;
    let mut bob = Subscriber::follow(&app, &pair.report, &meeting_id).await;

    let title = "Finished during the shutdown";
    let request = RawRequest::start(
        &app,
        &pair.manager.access_token,
        ADD_ITEM,
        json!({ "input": { "meetingId": meeting_id, "title": title, "category": "OTHER" } }),
    )
    .await;
    // Let the server read the headers: the request is in flight.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stopping = tokio::spawn(app.stop());
    let refused_after = until_refused(&app).await;
    assert!(
        !stopping.is_finished(),
        "the server stopped with a request still in flight"
    );
    let (status, body) = request.finish().await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    let item = &body["data"]["addAgendaItem"]["agendaItem"];
    assert_eq!(item["title"], title, "{body}");

    let close = bob.close(CLOSE_WITHIN).await;
    let delivered = close.before.iter().any(|message| {
        let event = &message["payload"]["data"]["meetingEvents"];
        message["type"] == "next"
            && event["kind"] == "AGENDA_ITEM_ADDED"
            && event["agendaItem"]["id"] == item["id"]
    });
    assert!(
        delivered,
        "the subscriber did not get the in-flight mutation's event before the close \
         ({:?} {:?} after {:?}): {:?}",
        close.code, close.reason, close.after, close.before
    );
    assert_reconnect(&close);
    let took = stopped(stopping).await;
    eprintln!(
        "refused new clients after {refused_after:?}; closed after {:?}; stopped {took:?} later",
        close.after
    );

    // Stored: another server on the same database sees it.
    let next = app.spawn_sibling().await;
    let titles: Vec<Value> = agenda(&next, &pair.manager, &meeting_id)
        .await
        .iter()
        .map(|item| item["title"].clone())
        .collect();
    assert_eq!(titles, [title]);
}

#[tokio::test]
async fn new_connections_are_refused_once_shutdown_begins() {
    let mut app = spawn_app().await;
    let pair = pair(&app).await;
    let meeting_id = schedule(&app, &pair.manager, &pair.series, day(1)).await;
    // A request in flight keeps the server shutting down while new clients knock.
    let request = RawRequest::start(
        &app,
        &pair.manager.access_token,
        ADD_ITEM,
        json!({ "input": { "meetingId": meeting_id, "title": "Slow", "category": "OTHER" } }),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stopping = tokio::spawn(app.stop());
    until_refused(&app).await;

    // A WebSocket neither.
    let mut upgrade = app.ws_url().into_client_request().expect("a request");
    upgrade.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static(TRANSPORT_WS),
    );
    if let Ok(tcp) = TcpStream::connect(app.address.trim_start_matches("http://")).await {
        let upgraded = tokio::time::timeout(Duration::from_secs(2), client_async(upgrade, tcp))
            .await
            .is_ok_and(|upgraded| upgraded.is_ok());
        assert!(!upgraded, "a new WebSocket was accepted during shutdown");
    }
    // Nor a client with a pool of its own.
    let fresh = reqwest::Client::new()
        .get(app.url("/healthz"))
        .timeout(Duration::from_secs(2))
        .send()
        .await;
    assert!(
        fresh.is_err(),
        "a new client was served during shutdown: {fresh:?}"
    );

    let (status, body) = request.finish().await;
    assert_eq!(status, 200, "{body}");
    stopped(stopping).await;
}
