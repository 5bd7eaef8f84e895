//! WebSocket fan-out: N phones following one meeting over `graphql-transport-ws`. Measures the
//! server memory an idle subscription costs, and how long a change takes to reach every phone.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use sea_orm::{DatabaseConnection, EntityTrait};
use serde_json::{Value, json};
use tokio::{
    net::TcpStream,
    sync::{Semaphore, mpsc, watch},
};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};
use uuid::Uuid;

use crate::{
    api::{self, Api, Session},
    load,
    seed::MeetingRef,
    server::ServerProcess,
};

/// Connections being opened at once.
const OPENING_AT_ONCE: usize = 200;
/// How long one connection may take from connect to its first event.
const OPEN_TIMEOUT: Duration = Duration::from_secs(60);
const CHANGES: usize = 5;
const SUBSCRIPTION: &str = "subscription MeetingEvents($m: ID!, $a: Int) { meetingEvents(meetingId: $m, afterSequence: $a) { sequence kind } }";

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A change delivered to one subscriber: its sequence and when it arrived.
pub type Receipt = (i32, Instant);

/// What one fan-out run measured.
pub struct Measured {
    pub subscribers: usize,
    pub opened_in: Duration,
    pub rss_before_kib: u64,
    pub rss_after_kib: u64,
    pub idle_statements_per_second: f64,
    pub received: usize,
    pub expected: usize,
    pub latency: Histogram<u64>,
}

impl Measured {
    pub fn kib_per_subscription(&self) -> f64 {
        (self.rss_after_kib as f64 - self.rss_before_kib as f64) / self.subscribers as f64
    }
}

/// The meeting's latest event sequence, read from the database.
pub async fn last_sequence(db: &DatabaseConnection, meeting: Uuid) -> Result<i32> {
    Ok(entity::meeting::Entity::find_by_id(meeting)
        .one(db)
        .await?
        .context("the meeting exists")?
        .last_event_sequence)
}

/// Adds an agenda item as `who`; returns the new item's id.
pub async fn add_agenda_item(
    api: &Api,
    who: &Session,
    meeting: &str,
    title: &str,
) -> Result<String> {
    let data = api
        .ok(
            api::ADD_AGENDA_ITEM,
            json!({ "input": { "meetingId": meeting, "title": title } }),
            Some(&who.access_token),
        )
        .await?;
    Ok(data["addAgendaItem"]["agendaItem"]["id"]
        .as_str()
        .context("agenda item id")?
        .to_owned())
}

/// Subscribers that are open and live, and how to stop them.
pub struct Subscribers {
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<Result<()>>>,
}

impl Subscribers {
    /// Opens `n` subscriptions to `meeting`, alternating the two participants' tokens, at most
    /// [`OPENING_AT_ONCE`] at a time; returns once every one has received its first event.
    /// Each subscribes after `after`, so a stored event arrives at once and proves it live.
    pub async fn open(
        api: &Api,
        meetings: &[(String, [String; 2], i32)],
        n: usize,
        receipts: mpsc::UnboundedSender<Receipt>,
    ) -> Result<Self> {
        let url = format!("ws://{}/graphql", api.addr);
        let (stop, stopped) = watch::channel(false);
        let (live, mut lives) = mpsc::channel::<Result<()>>(n.max(1));
        let opening = Arc::new(Semaphore::new(OPENING_AT_ONCE));
        let tasks = (0..n)
            .map(|i| {
                let (meeting, tokens, after) = &meetings[i % meetings.len()];
                let subscriber = Subscriber {
                    url: url.clone(),
                    token: tokens[(i / meetings.len()) % 2].clone(),
                    meeting: meeting.clone(),
                    after: *after,
                };
                let (opening, live, receipts, stopped) = (
                    opening.clone(),
                    live.clone(),
                    receipts.clone(),
                    stopped.clone(),
                );
                tokio::spawn(subscriber.run(opening, live, receipts, stopped))
            })
            .collect();
        let subscribers = Self { stop, tasks };
        for _ in 0..n {
            match lives.recv().await {
                Some(Ok(())) => {}
                Some(Err(error)) => {
                    subscribers.close().await;
                    return Err(error.context("opening a subscription"));
                }
                None => bail!("a subscriber ended before it was live"),
            }
        }
        Ok(subscribers)
    }

    /// Closes every connection and waits for them to end.
    pub async fn close(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }
    }

    /// How many subscriber tasks have ended (dropped or failed connections).
    pub fn ended(&self) -> usize {
        self.tasks.iter().filter(|task| task.is_finished()).count()
    }
}

struct Subscriber {
    url: String,
    token: String,
    meeting: String,
    after: i32,
}

impl Subscriber {
    async fn run(
        self,
        opening: Arc<Semaphore>,
        live: mpsc::Sender<Result<()>>,
        receipts: mpsc::UnboundedSender<Receipt>,
        mut stopped: watch::Receiver<bool>,
    ) -> Result<()> {
        let permit = opening.acquire_owned().await?;
        let opened = tokio::time::timeout(OPEN_TIMEOUT, self.open(&receipts)).await;
        drop(permit);
        let mut socket = match opened {
            Ok(Ok(socket)) => socket,
            Ok(Err(error)) => {
                let message = error.to_string();
                let _ = live.send(Err(error)).await;
                bail!(message);
            }
            Err(_) => {
                let _ = live
                    .send(Err(anyhow::anyhow!("not live within {OPEN_TIMEOUT:?}")))
                    .await;
                bail!("timed out");
            }
        };
        let _ = live.send(Ok(())).await;
        loop {
            tokio::select! {
                _ = stopped.changed() => break,
                message = socket.next() => {
                    let Some(message) = message else { bail!("the server closed the connection") };
                    handle(&mut socket, message?, &receipts).await?;
                }
            }
        }
        let _ = socket.close(None).await;
        Ok(())
    }

    /// Connects, initialises, subscribes and waits for the first event.
    async fn open(&self, receipts: &mpsc::UnboundedSender<Receipt>) -> Result<Socket> {
        let mut request = self.url.as_str().into_client_request()?;
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
        send(
            &mut socket,
            json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {}", self.token) } }),
        )
        .await?;
        loop {
            let message = socket
                .next()
                .await
                .context("closed before connection_ack")??;
            if let Message::Text(text) = &message {
                let message: Value = serde_json::from_str(text)?;
                match message["type"].as_str() {
                    Some("connection_ack") => break,
                    Some("ping") => send(&mut socket, json!({ "type": "pong" })).await?,
                    _ => bail!("expected connection_ack, got {message}"),
                }
            }
        }
        send(
            &mut socket,
            json!({ "id": "1", "type": "subscribe", "payload": {
                "query": SUBSCRIPTION,
                "variables": { "m": self.meeting, "a": self.after },
            }}),
        )
        .await?;
        loop {
            let message = socket
                .next()
                .await
                .context("closed before the first event")??;
            if handle(&mut socket, message, receipts).await? {
                return Ok(socket);
            }
        }
    }
}

async fn send(socket: &mut Socket, message: Value) -> Result<()> {
    socket.send(Message::text(message.to_string())).await?;
    Ok(())
}

/// Handles one message; true when it was an event. Anything but events, pings and pongs is an
/// error. (WebSocket ping frames are answered by tungstenite while reading.)
async fn handle(
    socket: &mut Socket,
    message: Message,
    receipts: &mpsc::UnboundedSender<Receipt>,
) -> Result<bool> {
    let arrived = Instant::now();
    let text = match message {
        Message::Text(text) => text,
        Message::Close(frame) => bail!("the server closed the connection: {frame:?}"),
        _ => return Ok(false),
    };
    let message: Value = serde_json::from_str(&text)?;
    match message["type"].as_str() {
        Some("next") if message["payload"].get("errors").is_none() => {
            let sequence = message["payload"]["data"]["meetingEvents"]["sequence"]
                .as_i64()
                .context("an event without a sequence")?;
            let _ = receipts.send((i32::try_from(sequence)?, arrived));
            Ok(true)
        }
        Some("ping") => {
            send(socket, json!({ "type": "pong" })).await?;
            Ok(false)
        }
        Some("pong") => Ok(false),
        _ => bail!("unexpected message: {message}"),
    }
}

/// One fan-out run with `n` subscribers on `meeting`, whose participants are `manager` and
/// `report`.
pub async fn run(
    api: &Api,
    server: &ServerProcess,
    db: &DatabaseConnection,
    meeting: &MeetingRef,
    manager: &Session,
    report: &Session,
    n: usize,
) -> Result<Measured> {
    // A stored event to replay proves each subscription live.
    add_agenda_item(api, manager, &meeting.global_id, "Fan-out warm-up").await?;
    let after = last_sequence(db, meeting.id).await? - 1;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_before_kib = server.rss_kib()?;
    let (receipts, mut arrived) = mpsc::unbounded_channel();
    let started = Instant::now();
    let tokens = [manager.access_token.clone(), report.access_token.clone()];
    let subscribers = Subscribers::open(
        api,
        &[(meeting.global_id.clone(), tokens, after)],
        n,
        receipts,
    )
    .await?;
    let opened_in = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after_kib = server.rss_kib()?;
    // Idle subscriptions are not free if the server polls for each of them.
    let before = api.statements().await?;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let idle_statements_per_second = (api.statements().await? - before) as f64 / 5.0;

    let mut sent_at = HashMap::new();
    for change in 0..CHANGES {
        let sent = Instant::now();
        add_agenda_item(
            api,
            manager,
            &meeting.global_id,
            &format!("Fan-out change {change}"),
        )
        .await?;
        sent_at.insert(last_sequence(db, meeting.id).await?, sent);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let expected = n * CHANGES;
    let mut latency = load::histogram();
    let mut received = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while received < expected {
        let Ok(Some((sequence, at))) = tokio::time::timeout_at(deadline, arrived.recv()).await
        else {
            break;
        };
        if let Some(sent) = sent_at.get(&sequence) {
            received += 1;
            load::record(&mut latency, at.saturating_duration_since(*sent));
        }
    }
    let dropped = subscribers.ended();
    subscribers.close().await;
    if dropped > 0 {
        bail!(
            "{dropped} of {n} subscriber connections ended early; {}",
            server.log_tail()
        );
    }
    Ok(Measured {
        subscribers: n,
        opened_in,
        rss_before_kib,
        rss_after_kib,
        idle_statements_per_second,
        received,
        expected,
        latency,
    })
}
