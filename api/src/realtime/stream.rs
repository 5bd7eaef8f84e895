//! One `meetingEvents` subscription: stored events after `afterSequence` first, then live ones,
//! with no gap and no duplicate at the seam (it listens before it reads, and skips what it has
//! sent). Access is checked again every few seconds: a deactivated user or an archived series
//! ends the stream. A subscriber too slow to keep up is told to resume and the stream ends; it
//! comes back with `afterSequence`, and nothing is lost because events are stored.
//!
//! Its reads wait for a turn like any operation (see [`Admission`]), as the subscriber's
//! caller: a burst of subscriptions queues behind other clients' requests instead of taking
//! the database pool from them.

use std::{sync::Arc, time::Duration};

use entity::{api_token, meeting_event::MeetingEventKind, user};
use sea_orm::EntityTrait;
use tokio::sync::{broadcast::error::RecvError, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use uuid::Uuid;

use super::fanout::{PAGE, SharedEvent, read_after};
use crate::{
    admission::{Admission, Turn},
    auth::Viewer,
    db::Store,
    domain::{
        access::{Access, SeriesScope},
        events::{self, Numbering},
        meetings,
    },
    error::{AppError, AppResult},
};

/// How often a live subscription re-checks the subscriber's access.
const RECHECK_EVERY: Duration = Duration::from_secs(5);
/// Deliveries waiting for the socket; a phone that stops reading fills it and stalls only itself.
const OUTBOX: usize = 64;
/// How long one delivery may wait for a slow socket before the stream gives up on it.
const SLOW_SOCKET: Duration = Duration::from_secs(10);

/// An event for a subscriber, with the series scope it is resolved under and its number in
/// the subscriber's numbering.
pub struct Delivery {
    pub event: SharedEvent,
    pub scope: Arc<SeriesScope>,
    pub sequence: i32,
}

/// The scope under which `user_id` may follow the meeting live: an active participant of an
/// active series; `None` otherwise.
pub async fn live_scope(
    store: &Store,
    viewer: &Viewer,
    meeting_id: Uuid,
) -> AppResult<Option<SeriesScope>> {
    let Some(user) = user::Entity::find_by_id(viewer.id())
        .one(&store.db)
        .await?
        .filter(user::Model::is_active)
    else {
        return Ok(None);
    };
    if let Some(token_id) = viewer.api_token_id() {
        let revoked = api_token::Entity::find_by_id(token_id)
            .one(&store.db)
            .await?
            .is_none_or(|token| token.revoked_at.is_some());
        if revoked {
            return Ok(None);
        }
    }
    let viewer = Viewer {
        user,
        credentials: viewer.credentials.clone(),
        reads: None,
        address: None,
    };
    let scope = match meetings::find(&store.db, &viewer, meeting_id).await {
        Ok((_, scope)) => scope,
        Err(AppError::NotFound) => return Ok(None),
        Err(error) => return Err(error),
    };
    Ok(matches!(
        scope.access,
        Access::Participant {
            archived: false,
            ..
        }
    )
    .then_some(scope))
}

/// Starts following a meeting for `viewer`, whose access the caller has checked.
pub fn follow(
    store: Store,
    admission: Arc<Admission>,
    viewer: Arc<Viewer>,
    meeting_id: Uuid,
    after_sequence: Option<i32>,
    scope: SeriesScope,
) -> ReceiverStream<AppResult<Delivery>> {
    let (outbox, stream) = mpsc::channel(OUTBOX);
    let numbering = match scope.access {
        Access::Participant { role, .. } => Numbering::of(&viewer, role),
        Access::Admin => Numbering::Shared,
    };
    tokio::spawn(async move {
        let user_id = viewer.id();
        let presence = store.events.presence.clone();
        let first = presence.join(meeting_id, user_id);
        let mut follower = Follower {
            store: store.clone(),
            admission,
            viewer,
            meeting_id,
            scope: Arc::new(scope),
            numbering,
            outbox,
            last: 0,
            last_shown: 0,
        };
        if let Err(error) = follower.run(after_sequence, first).await {
            tracing::warn!(error = ?error, %meeting_id, "meeting subscription failed");
            let _ = follower.outbox.try_send(Err(error));
        }
        if presence.leave(meeting_id, user_id)
            && let Err(error) = events::record_presence(
                &store,
                meeting_id,
                user_id,
                MeetingEventKind::ParticipantLeft,
            )
            .await
        {
            tracing::warn!(error = ?error, %meeting_id, "could not record a participant leaving");
        }
    });
    ReceiverStream::new(stream)
}

struct Follower {
    store: Store,
    admission: Arc<Admission>,
    viewer: Arc<Viewer>,
    meeting_id: Uuid,
    scope: Arc<SeriesScope>,
    numbering: Numbering,
    outbox: mpsc::Sender<AppResult<Delivery>>,
    /// The last sequence handled (sent, or skipped as not for this subscriber).
    last: i32,
    /// The subscriber's number for the last event handled: where they resume from.
    last_shown: i32,
}

/// Whether the stream goes on after a step.
enum Flow {
    Continue,
    Stop,
}

impl Follower {
    async fn run(&mut self, after_sequence: Option<i32>, first_here: bool) -> AppResult<()> {
        // Listen first, then read: whatever is committed after this point is either in the
        // stored backlog or arrives live, and `last` drops the overlap.
        let mut listening = self.store.events.fanout.listen(self.meeting_id);
        let turn = self.turn().await?;
        (self.last, self.last_shown) = match after_sequence {
            Some(after) => {
                let after = after.max(0);
                (
                    events::position_of(&self.store.db, self.meeting_id, self.numbering, after)
                        .await?,
                    after,
                )
            }
            None => events::head(&self.store.db, self.meeting_id, self.numbering).await?,
        };
        if first_here {
            events::record_presence(
                &self.store,
                self.meeting_id,
                self.viewer.id(),
                MeetingEventKind::ParticipantJoined,
            )
            .await?;
        }
        drop(turn);
        if let Flow::Stop = self.catch_up().await? {
            return Ok(());
        }
        let mut recheck = tokio::time::interval(RECHECK_EVERY);
        recheck.tick().await;
        loop {
            let flow = tokio::select! {
                () = self.outbox.closed() => Flow::Stop,
                _ = recheck.tick() => self.recheck().await,
                received = listening.events.recv() => match received {
                    Ok(event) if event.sequence <= self.last => Flow::Continue,
                    Ok(event) if event.sequence == self.last + 1 => self.deliver(event).await,
                    // A gap (an announcement was missed): the store has everything.
                    Ok(_) => self.catch_up().await?,
                    Err(RecvError::Lagged(_)) => {
                        self.tell_to_resume().await;
                        Flow::Stop
                    }
                    Err(RecvError::Closed) => Flow::Stop,
                },
            };
            if let Flow::Stop = flow {
                return Ok(());
            }
        }
    }

    /// A turn for the subscriber's next read.
    async fn turn(&self) -> AppResult<Turn> {
        self.admission.admit(&self.viewer.caller_key()).await
    }

    /// Sends every stored event after `last`.
    async fn catch_up(&mut self) -> AppResult<Flow> {
        loop {
            let events = {
                let _turn = self.turn().await?;
                read_after(&self.store.db, self.meeting_id, self.last, PAGE).await?
            };
            let full_page = events.len() as u64 == PAGE;
            for event in events {
                if let Flow::Stop = self.deliver(Arc::new(event)).await {
                    return Ok(Flow::Stop);
                }
            }
            if !full_page {
                return Ok(Flow::Continue);
            }
        }
    }

    async fn deliver(&mut self, event: SharedEvent) -> Flow {
        self.last = event.sequence;
        let private_elsewhere = event
            .private_to
            .is_some_and(|user| user != self.viewer.id() || !self.viewer.sees_own_private());
        if private_elsewhere {
            return Flow::Continue;
        }
        self.last_shown = self.numbering.number(&event);
        let delivery = Delivery {
            sequence: self.last_shown,
            event,
            scope: self.scope.clone(),
        };
        match tokio::time::timeout(SLOW_SOCKET, self.outbox.send(Ok(delivery))).await {
            Ok(Ok(())) => Flow::Continue,
            // The client went away, or has not read anything for too long.
            Ok(Err(_)) | Err(_) => Flow::Stop,
        }
    }

    /// Ends the stream when the subscriber lost access. A failed check (the database is busy
    /// or away) keeps the access last confirmed until the next one.
    async fn recheck(&mut self) -> Flow {
        let checked = match self.turn().await {
            Ok(_turn) => {
                let rechecks = &self.store.events.rechecks;
                rechecks
                    .live_scope(&self.store, &self.viewer, self.meeting_id)
                    .await
            }
            Err(busy) => Err(busy),
        };
        match checked {
            Ok(Some(scope)) => {
                self.scope = scope;
                Flow::Continue
            }
            Ok(None) => Flow::Stop,
            Err(error) => {
                tracing::warn!(error = ?error, meeting_id = %self.meeting_id, "could not re-check a subscriber's access");
                Flow::Continue
            }
        }
    }

    async fn tell_to_resume(&self) {
        let error = AppError::ResumeRequired {
            after_sequence: self.last_shown,
        };
        let _ = tokio::time::timeout(Duration::from_secs(1), self.outbox.send(Err(error))).await;
    }
}
