//! Per-meeting fan-out inside one process. A meeting with subscribers has a hub; when its events
//! are announced, the hub reads the new stored events once and broadcasts them to every
//! subscriber, so 5,000 phones on one meeting cost one query per change, not 5,000.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use entity::{action_item, agenda_item, check_in, meeting, meeting_event, note};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio::sync::broadcast;
use uuid::Uuid;

use super::bus::Announcement;
use crate::{db::find_by_ids, error::AppResult};

/// Events a subscriber may fall behind by before it is told to resume.
pub const BUFFERED_EVENTS: usize = 256;
/// Stored events read per query when catching up.
pub const PAGE: u64 = 500;
/// Reads of announced events tried before giving up (the next announcement reads them too).
const PULL_ATTEMPTS: u32 = 5;
const PULL_RETRY_AFTER: std::time::Duration = std::time::Duration::from_millis(200);

pub type SharedEvent = Arc<LiveEvent>;

/// A stored event with the rows it is about, read once for every subscriber to resolve with
/// their own access.
pub struct LiveEvent {
    pub stored: meeting_event::Model,
    pub meeting: Option<meeting::Model>,
    pub agenda_item: Option<agenda_item::Model>,
    pub note: Option<note::Model>,
    pub action_item: Option<action_item::Model>,
    pub check_in: Option<check_in::Model>,
}

impl std::ops::Deref for LiveEvent {
    type Target = meeting_event::Model;

    fn deref(&self) -> &meeting_event::Model {
        &self.stored
    }
}

struct Hub {
    sender: broadcast::Sender<SharedEvent>,
    /// The last sequence broadcast; `None` until the first announcement.
    last: tokio::sync::Mutex<Option<i32>>,
}

#[derive(Clone)]
pub struct Fanout {
    db: DatabaseConnection,
    hubs: Arc<Mutex<HashMap<Uuid, Arc<Hub>>>>,
}

/// A subscriber's place on a meeting's hub; leaving drops the hub when it was the last.
pub struct Listening {
    pub events: broadcast::Receiver<SharedEvent>,
    meeting_id: Uuid,
    fanout: Fanout,
}

impl Drop for Listening {
    fn drop(&mut self) {
        let mut hubs = self.fanout.lock();
        if let Some(hub) = hubs.get(&self.meeting_id) {
            // Our receiver is still alive while this runs.
            if hub.sender.receiver_count() <= 1 {
                hubs.remove(&self.meeting_id);
            }
        }
    }
}

impl Fanout {
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            hubs: Arc::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Arc<Hub>>> {
        self.hubs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Starts receiving the meeting's events as they are announced.
    pub fn listen(&self, meeting_id: Uuid) -> Listening {
        let mut hubs = self.lock();
        let hub = hubs.entry(meeting_id).or_insert_with(|| {
            Arc::new(Hub {
                sender: broadcast::channel(BUFFERED_EVENTS).0,
                last: tokio::sync::Mutex::new(None),
            })
        });
        Listening {
            events: hub.sender.subscribe(),
            meeting_id,
            fanout: self.clone(),
        }
    }

    /// New events exist for a meeting: its hub (if anyone listens here) broadcasts them.
    pub fn announce(&self, announcement: Announcement) {
        let Some(hub) = self.lock().get(&announcement.meeting_id).cloned() else {
            return;
        };
        let db = self.db.clone();
        tokio::spawn(async move {
            // A busy or briefly absent database: try again rather than leave subscribers
            // waiting for the next change.
            for attempt in 1..=PULL_ATTEMPTS {
                match hub.pull(&db, announcement).await {
                    Ok(()) => return,
                    Err(error) if attempt == PULL_ATTEMPTS => {
                        tracing::warn!(error = ?error, "could not read announced meeting events");
                    }
                    Err(_) => tokio::time::sleep(PULL_RETRY_AFTER * attempt).await,
                }
            }
        });
    }

    /// Announcements may have been missed (the listener reconnected): every hub re-reads.
    pub fn resync_all(&self) {
        let hubs: Vec<(Uuid, Arc<Hub>)> = self
            .lock()
            .iter()
            .map(|(meeting_id, hub)| (*meeting_id, hub.clone()))
            .collect();
        for (meeting_id, hub) in hubs {
            let db = self.db.clone();
            tokio::spawn(async move {
                let announcement = Announcement {
                    meeting_id,
                    sequence: i32::MAX,
                };
                if let Err(error) = hub.pull(&db, announcement).await {
                    tracing::warn!(error = ?error, "could not resync meeting events");
                }
            });
        }
    }

    /// How many meetings have local subscribers.
    pub fn hub_count(&self) -> usize {
        self.lock().len()
    }
}

impl Hub {
    /// Broadcasts the stored events after the last one sent, in order. Serialised per hub.
    async fn pull(&self, db: &DatabaseConnection, announcement: Announcement) -> AppResult<()> {
        let mut last = self.last.lock().await;
        let mut after = match *last {
            Some(last) if last >= announcement.sequence => return Ok(()),
            Some(last) => last,
            // First announcement since the hub opened: subscribers read older events themselves.
            None if announcement.sequence == i32::MAX => return Ok(()),
            None => announcement.sequence - 1,
        };
        loop {
            let events = read_after(db, announcement.meeting_id, after, PAGE).await?;
            let Some(newest) = events.last().map(|event| event.sequence) else {
                break;
            };
            let full_page = events.len() as u64 == PAGE;
            for event in events {
                // No receivers left is fine: the hub is about to go.
                let _ = self.sender.send(Arc::new(event));
            }
            after = newest;
            *last = Some(newest);
            if !full_page {
                break;
            }
        }
        Ok(())
    }
}

/// Stored events of a meeting after `after`, oldest first, at most `limit`, with the rows they
/// are about (one query per kind of row).
pub async fn read_after(
    db: &DatabaseConnection,
    meeting_id: Uuid,
    after: i32,
    limit: u64,
) -> AppResult<Vec<LiveEvent>> {
    let stored = stored_after(db, meeting_id, after, limit).await?;
    if stored.is_empty() {
        return Ok(Vec::new());
    }
    let meeting = meeting::Entity::find_by_id(meeting_id).one(db).await?;
    let agenda_items = rows::<agenda_item::Entity>(db, &stored, |e| e.agenda_item_id).await?;
    let notes = rows::<note::Entity>(db, &stored, |e| e.note_id).await?;
    let action_items = rows::<action_item::Entity>(db, &stored, |e| e.action_item_id).await?;
    let check_ins = rows::<check_in::Entity>(db, &stored, |e| e.check_in_id).await?;
    Ok(stored
        .into_iter()
        .map(|stored| LiveEvent {
            meeting: meeting.clone(),
            agenda_item: row(&agenda_items, stored.agenda_item_id),
            note: row(&notes, stored.note_id),
            action_item: row(&action_items, stored.action_item_id),
            check_in: row(&check_ins, stored.check_in_id),
            stored,
        })
        .collect())
}

/// Cloned, not moved: two events of one page may be about the same row.
fn row<T: Clone>(rows: &HashMap<Uuid, T>, id: Option<Uuid>) -> Option<T> {
    id.and_then(|id| rows.get(&id).cloned())
}

/// The rows of `E` that `events` refer to through `id`.
async fn rows<E>(
    db: &DatabaseConnection,
    events: &[meeting_event::Model],
    id: impl Fn(&meeting_event::Model) -> Option<Uuid>,
) -> AppResult<HashMap<Uuid, E::Model>>
where
    E: EntityTrait,
{
    let ids: Vec<Uuid> = events.iter().filter_map(id).collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(find_by_ids::<E>(db, ids).await?)
}

async fn stored_after(
    db: &DatabaseConnection,
    meeting_id: Uuid,
    after: i32,
    limit: u64,
) -> AppResult<Vec<meeting_event::Model>> {
    Ok(meeting_event::Entity::find()
        .filter(meeting_event::Column::MeetingId.eq(meeting_id))
        .filter(meeting_event::Column::Sequence.gt(after))
        .order_by_asc(meeting_event::Column::Sequence)
        .limit(limit)
        .all(db)
        .await?)
}
