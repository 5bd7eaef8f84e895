//! The soak: an open-loop mix of reads and writes at a fixed arrival rate (requests go out on
//! schedule whether or not earlier ones answered, as phones do), with live subscribers on the
//! meetings being written to. Reports every 30 s window, so a leak or a slow-down shows.

use std::{
    collections::{HashMap, VecDeque},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, Result};
use hdrhistogram::Histogram;
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::{
    api::{self, Api, Session},
    fanout::{self, Subscribers},
    load::{self, Workload},
    seed::MeetingRef,
    server::ServerProcess,
};

pub const WINDOW: Duration = Duration::from_secs(30);
const SUBSCRIBERS: usize = 100;
const CONFLICT_RETRIES: usize = 5;
/// Agenda items the soak keeps on a meeting before it removes its oldest instead of adding.
const AGENDA_CAP: usize = 10;

/// A meeting being written to, and the sessions (indexes) of its two participants.
pub struct HotMeeting {
    pub meeting: MeetingRef,
    pub manager: usize,
    pub report: usize,
}

/// One 30 s window.
pub struct Window {
    pub sent: u64,
    pub errors: u64,
    pub latency: Histogram<u64>,
    pub rss_kib: Option<u64>,
    pub events: u64,
    /// Events the subscribers should get: each successful write times its meeting's subscribers.
    pub events_expected: u64,
}

pub struct Measured {
    /// Requests per second sent.
    pub rate: f64,
    /// The mix's measured capacity, when the rate was derived from it.
    pub capacity: Option<f64>,
    pub subscribers: usize,
    pub windows: Vec<Window>,
    pub errors: u64,
    pub conflicts_retried: u64,
    pub max_in_flight: usize,
    pub subscribers_lost: usize,
    /// The first error of each operation, with its body.
    pub first_errors: Vec<(&'static str, String)>,
}

impl Measured {
    /// RSS of the last window over RSS of the second (the first includes warm-up growth).
    pub fn flatness(&self) -> Option<f64> {
        let second = self.windows.get(1)?.rss_kib? as f64;
        let last = self.windows.last()?.rss_kib? as f64;
        (self.windows.len() > 2).then_some(last / second)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Operation {
    MeetingView,
    Home,
    AgendaWrite,
    NoteUpdate,
    ActionItemDone,
}

impl Operation {
    /// 50 % meeting view, 30 % home, 10 % agenda, 5 % notes, 5 % action items.
    fn nth(n: u64) -> Self {
        match n % 20 {
            0..10 => Self::MeetingView,
            10..16 => Self::Home,
            16 | 17 => Self::AgendaWrite,
            18 => Self::NoteUpdate,
            _ => Self::ActionItemDone,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::MeetingView => "meeting view",
            Self::Home => "home screen",
            Self::AgendaWrite => "addAgendaItem/removeAgendaItem",
            Self::NoteUpdate => "updateNote",
            Self::ActionItemDone => "setActionItemDone",
        }
    }
}

/// What the write operations share: the sessions, the hot meetings, note versions and the
/// agenda items the soak added.
struct Shared {
    api: Api,
    sessions: Vec<Session>,
    hot: Vec<HotMeeting>,
    note_versions: Mutex<HashMap<String, i64>>,
    added: Vec<Mutex<VecDeque<(String, usize)>>>,
    conflicts: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// A finished request.
struct Outcome {
    window: usize,
    operation: Operation,
    latency: Duration,
    error: Option<String>,
    /// The hot meeting a successful write changed.
    wrote: Option<usize>,
}

/// SplitMix64: spreads request `n` over sessions and meetings without a shared RNG.
fn mix(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Shared {
    async fn run(&self, operation: Operation, n: u64) -> (Result<()>, Option<usize>) {
        let h = mix(n);
        let session = &self.sessions[(h % self.sessions.len() as u64) as usize];
        let hot_index = (h % self.hot.len() as u64) as usize;
        let hot = &self.hot[hot_index];
        let actor = if (h >> 32).is_multiple_of(2) {
            hot.manager
        } else {
            hot.report
        };
        let result = match operation {
            Operation::MeetingView => {
                let bodies = Workload::MeetingView.bodies(session);
                self.read(&bodies[((h >> 16) % bodies.len() as u64) as usize], session)
                    .await
            }
            Operation::Home => self.read(&Workload::Home.bodies(session)[0], session).await,
            Operation::AgendaWrite => self.agenda_write(hot_index, actor, n).await,
            Operation::NoteUpdate => {
                let notes = &hot.meeting.shared_notes;
                let note = &notes[((h >> 16) % notes.len() as u64) as usize];
                self.update_note(note, actor, n).await
            }
            Operation::ActionItemDone => {
                let items = &hot.meeting.action_items;
                let item = &items[((h >> 16) % items.len() as u64) as usize];
                self.ok(
                    api::SET_ACTION_ITEM_DONE,
                    json!({ "input": { "actionItemId": item, "done": (h >> 40).is_multiple_of(2) } }),
                    actor,
                )
                .await
                .map(|_| ())
            }
        };
        let wrote = (result.is_ok()
            && !matches!(operation, Operation::MeetingView | Operation::Home))
        .then_some(hot_index);
        (result, wrote)
    }

    async fn read(&self, body: &str, session: &Session) -> Result<()> {
        let (status, bytes) = self
            .api
            .post(body.to_owned(), Some(&session.access_token))
            .await?;
        match api::failure(status, &bytes) {
            Some(failure) => anyhow::bail!(failure),
            None => Ok(()),
        }
    }

    async fn ok(&self, query: &str, variables: Value, actor: usize) -> Result<Value> {
        self.api
            .ok(query, variables, Some(&self.sessions[actor].access_token))
            .await
    }

    /// Adds an item, or once the soak has added [`AGENDA_CAP`] to the meeting, removes its
    /// oldest (as its author), so agendas stay the size people keep.
    async fn agenda_write(&self, hot: usize, actor: usize, n: u64) -> Result<()> {
        let oldest = {
            let mut added = self.added[hot].lock().expect("not poisoned");
            if added.len() >= AGENDA_CAP {
                added.pop_front()
            } else {
                None
            }
        };
        if let Some((item, author)) = oldest {
            self.ok(
                api::REMOVE_AGENDA_ITEM,
                json!({ "input": { "agendaItemId": item } }),
                author,
            )
            .await?;
            return Ok(());
        }
        let meeting = &self.hot[hot].meeting.global_id;
        let title = format!("Soak topic {n}");
        let item =
            fanout::add_agenda_item(&self.api, &self.sessions[actor], meeting, &title).await?;
        self.added[hot]
            .lock()
            .expect("not poisoned")
            .push_back((item, actor));
        Ok(())
    }

    /// Edits a shared note at the version last seen; a `CONFLICT` (someone else edited it
    /// first) is retried at the current version, as the app does.
    async fn update_note(&self, note: &str, actor: usize, n: u64) -> Result<()> {
        let mut version = *self
            .note_versions
            .lock()
            .expect("not poisoned")
            .get(note)
            .unwrap_or(&1);
        for _ in 0..CONFLICT_RETRIES {
            let body = api::body(
                api::UPDATE_NOTE,
                json!({ "input": { "noteId": note, "body": format!("Edited by the soak ({n})"), "expectedVersion": version } }),
            );
            let answer = self
                .api
                .post_json(body, Some(&self.sessions[actor].access_token))
                .await?;
            let current = if api::error_code(&answer) == Some("CONFLICT") {
                self.conflicts.fetch_add(1, Ordering::Relaxed);
                answer["errors"][0]["extensions"]["currentVersion"].as_i64()
            } else if answer.get("errors").is_some() {
                anyhow::bail!("{answer}");
            } else {
                answer["data"]["updateNote"]["note"]["version"].as_i64()
            }
            .with_context(|| format!("no version in {answer}"))?;
            let mut versions = self.note_versions.lock().expect("not poisoned");
            let known = versions.entry(note.to_owned()).or_insert(1);
            *known = (*known).max(current);
            if answer.get("errors").is_none() {
                return Ok(());
            }
            version = *known;
        }
        anyhow::bail!("updateNote conflicted {CONFLICT_RETRIES} times in a row")
    }
}

/// Runs the soak at `rate` requests per second for `duration`.
pub async fn run(
    api: &Api,
    server: &ServerProcess,
    db: &DatabaseConnection,
    sessions: &[Session],
    hot: Vec<HotMeeting>,
    rate: Option<f64>,
    duration: Duration,
) -> Result<Measured> {
    let mut subscribed = Vec::new();
    for meeting in &hot {
        let after = fanout::last_sequence(db, meeting.meeting.id).await? - 1;
        let tokens = [meeting.manager, meeting.report].map(|i| sessions[i].access_token.clone());
        subscribed.push((meeting.meeting.global_id.clone(), tokens, after));
    }
    let (receipts, mut arrived) = mpsc::unbounded_channel();
    let subscribers = Subscribers::open(api, &subscribed, SUBSCRIBERS, receipts).await?;
    let per_meeting: Vec<u64> = (0..hot.len())
        .map(|m| (m..SUBSCRIBERS).step_by(hot.len()).count() as u64)
        .collect();

    let shared = Arc::new(Shared {
        api: api.clone(),
        sessions: sessions.to_vec(),
        added: hot.iter().map(|_| Mutex::default()).collect(),
        hot,
        note_versions: Mutex::default(),
        conflicts: AtomicUsize::new(0),
        in_flight: AtomicUsize::new(0),
        max_in_flight: AtomicUsize::new(0),
    });
    let (rate, capacity) = match rate {
        Some(rate) => (rate, None),
        None => {
            let capacity = capacity(&shared).await;
            ((capacity * LOAD_SHARE).max(1.0), Some(capacity))
        }
    };
    let windows = duration.as_secs_f64() / WINDOW.as_secs_f64();
    let mut measured = Measured {
        rate,
        capacity,
        subscribers: SUBSCRIBERS,
        windows: (0..windows.ceil() as usize)
            .map(|_| Window {
                sent: 0,
                errors: 0,
                latency: load::histogram(),
                rss_kib: None,
                events: 0,
                events_expected: 0,
            })
            .collect(),
        errors: 0,
        conflicts_retried: 0,
        max_in_flight: 0,
        subscribers_lost: 0,
        first_errors: Vec::new(),
    };
    let start = Instant::now();
    let (done, mut finished) = mpsc::unbounded_channel::<Outcome>();
    let scheduler = tokio::spawn(schedule(shared.clone(), rate, start, duration, done));
    let mut rss_tick = tokio::time::interval_at((start + WINDOW).into(), WINDOW);
    loop {
        tokio::select! {
            outcome = finished.recv() => {
                let Some(outcome) = outcome else { break };
                measured.count(outcome, &per_meeting);
            }
            Some((_, at)) = arrived.recv() => {
                let window = (at.saturating_duration_since(start).as_secs_f64() / WINDOW.as_secs_f64()) as usize;
                if let Some(window) = measured.windows.get_mut(window) {
                    window.events += 1;
                }
            }
            _ = rss_tick.tick() => {
                let index = (start.elapsed().as_secs_f64() / WINDOW.as_secs_f64()).round() as usize;
                if let Some(window) = measured.windows.get_mut(index.saturating_sub(1)) {
                    window.rss_kib = Some(server.rss_kib()?);
                    eprintln!("  soak: window {index} done, {} sent, {} errors", window.sent, window.errors);
                }
            }
        }
    }
    scheduler.await?;
    if let Some(last) = measured.windows.last_mut() {
        last.rss_kib.get_or_insert(server.rss_kib()?);
    }
    // Events still in flight when the last request answered.
    tokio::time::sleep(Duration::from_secs(1)).await;
    while let Ok((_, _)) = arrived.try_recv() {
        if let Some(last) = measured.windows.last_mut() {
            last.events += 1;
        }
    }
    measured.subscribers_lost = subscribers.ended();
    subscribers.close().await;
    measured.conflicts_retried = shared.conflicts.load(Ordering::Relaxed) as u64;
    measured.max_in_flight = shared.max_in_flight.load(Ordering::Relaxed);
    Ok(measured)
}

impl Measured {
    fn count(&mut self, outcome: Outcome, per_meeting: &[u64]) {
        let Some(window) = self.windows.get_mut(outcome.window) else {
            return;
        };
        window.sent += 1;
        load::record(&mut window.latency, outcome.latency);
        if let Some(hot) = outcome.wrote {
            window.events_expected += per_meeting[hot];
        }
        if let Some(error) = outcome.error {
            window.errors += 1;
            self.errors += 1;
            let name = outcome.operation.name();
            if !self.first_errors.iter().any(|(seen, _)| *seen == name) {
                eprintln!("  soak error ({name}): {error}");
                self.first_errors.push((name, error));
            }
        }
    }
}

/// The share of the mix's capacity the soak runs at.
pub const LOAD_SHARE: f64 = 0.7;
/// Closed-loop clients and time for measuring the mix's capacity.
const CAPACITY_CLIENTS: usize = 16;
const CAPACITY_FOR: Duration = Duration::from_secs(10);

/// Requests per second the soak's own mix completes with [`CAPACITY_CLIENTS`] closed-loop
/// clients (the writes are what make it slower than reads alone).
async fn capacity(shared: &Arc<Shared>) -> f64 {
    let next = Arc::new(AtomicU64::new(0));
    let end = Instant::now() + CAPACITY_FOR;
    let clients: Vec<_> = (0..CAPACITY_CLIENTS)
        .map(|_| {
            let (shared, next) = (shared.clone(), next.clone());
            tokio::spawn(async move {
                let mut completed = 0u64;
                while Instant::now() < end {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if shared.run(Operation::nth(n), n).await.0.is_ok() {
                        completed += 1;
                    }
                }
                completed
            })
        })
        .collect();
    let mut completed = 0;
    for client in clients {
        completed += client.await.unwrap_or(0);
    }
    completed as f64 / CAPACITY_FOR.as_secs_f64()
}

/// Sends request `n` at `start + n / rate`, each in a task of its own.
async fn schedule(
    shared: Arc<Shared>,
    rate: f64,
    start: Instant,
    duration: Duration,
    done: mpsc::UnboundedSender<Outcome>,
) {
    for n in 0u64.. {
        let offset = Duration::from_secs_f64(n as f64 / rate);
        if offset >= duration {
            break;
        }
        let due = start + offset;
        tokio::time::sleep_until(due.into()).await;
        let (shared, done) = (shared.clone(), done.clone());
        let in_flight = shared.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        shared.max_in_flight.fetch_max(in_flight, Ordering::Relaxed);
        tokio::spawn(async move {
            let operation = Operation::nth(n);
            let (result, wrote) = shared.run(operation, n).await;
            shared.in_flight.fetch_sub(1, Ordering::Relaxed);
            let _ = done.send(Outcome {
                window: (offset.as_secs_f64() / WINDOW.as_secs_f64()) as usize,
                operation,
                // From when it was due, so a stalled server is not hidden by sending late.
                latency: due.elapsed(),
                error: result.err().map(|error| format!("{error:#}")),
                wrote,
            });
        });
    }
}
