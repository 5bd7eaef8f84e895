//! One DataLoader per relation, each answering a whole batch of keys with one `IN` query.
//! Loaders are made per request (see [`super::request_data`]), so no cache outlives a request or
//! crosses users. Parents authorise before they ask: a loader returns rows for keys the parent
//! may already reach, and the notes and check-in loaders narrow further to what the viewer may
//! read.

use std::{
    collections::HashMap,
    marker::PhantomData,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_graphql::dataloader::{DataLoader, Loader};
use entity::{action_item, agenda_item, check_in, enums::MeetingStatus, meeting, note, user};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, Iterable, ModelTrait, PrimaryKeyToColumn,
    QueryFilter, QueryOrder, sea_query::ValueType,
};
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::{
    auth::Viewer,
    domain::{action_items, agenda, check_ins, notes},
    error::AppError,
};

/// What every loader reads from: the database, and the viewer for the viewer-scoped ones.
#[derive(Clone)]
pub struct Source {
    db: DatabaseConnection,
    viewer: Option<Arc<Viewer>>,
}

/// Declares a loader over a [`Source`] with its `load` body.
macro_rules! loader {
    ($(#[$doc:meta])* $name:ident, $value:ty, |$this:ident, $keys:ident| $body:expr) => {
        $(#[$doc])*
        pub struct $name(Source);

        impl Loader<Uuid> for $name {
            type Value = $value;
            type Error = AppError;

            async fn load(&self, $keys: &[Uuid]) -> Result<HashMap<Uuid, $value>, AppError> {
                let $this = &self.0;
                $body
            }
        }
    };
}

/// Rows of any entity keyed by a UUID primary key.
pub struct ById<E>(Source, PhantomData<E>);

impl<E> Loader<Uuid> for ById<E>
where
    E: EntityTrait + Send + Sync,
    E::Model: Clone + Send + Sync,
{
    type Value = E::Model;
    type Error = AppError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, E::Model>, AppError> {
        let Some(key) = E::PrimaryKey::iter().next() else {
            return Ok(HashMap::new());
        };
        let column = key.into_column();
        let rows = E::find()
            .filter(column.is_in(keys.iter().copied()))
            .all(&self.0.db)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| Some((<Uuid as ValueType>::try_from(row.get(column)).ok()?, row)))
            .collect())
    }
}

loader!(
    /// A manager's direct reports, by the manager's id, oldest first.
    ReportsByManager, Vec<user::Model>, |this, keys| {
        let rows = user::Entity::find()
            .filter(user::Column::ManagerId.is_in(keys.iter().copied()))
            .order_by_asc(user::Column::Id)
            .all(&this.db)
            .await?;
        let mut by_manager: HashMap<Uuid, Vec<user::Model>> = HashMap::new();
        for row in rows {
            if let Some(manager_id) = row.manager_id {
                by_manager.entry(manager_id).or_default().push(row);
            }
        }
        Ok(by_manager)
    }
);

loader!(
    /// The next meeting of each series: its earliest scheduled or running one.
    NextMeetingBySeries, meeting::Model, |this, keys| {
        let rows = meeting::Entity::find()
            .filter(meeting::Column::OneOnOneId.is_in(keys.iter().copied()))
            .filter(meeting::Column::Status.is_in([MeetingStatus::Scheduled, MeetingStatus::InProgress]))
            .order_by_desc(meeting::Column::ScheduledAt)
            .all(&this.db)
            .await?;
        // Descending, so the earliest of each series is inserted last and wins.
        Ok(rows.into_iter().map(|row| (row.one_on_one_id, row)).collect())
    }
);

loader!(
    /// Each meeting's agenda, in order.
    AgendaByMeeting, Vec<agenda_item::Model>, |this, keys| agenda::for_meetings(&this.db, keys).await
);

loader!(
    /// Each meeting's notes that the viewer may read.
    NotesByMeeting, Vec<note::Model>, |this, keys| match &this.viewer {
        Some(viewer) => notes::for_meetings(&this.db, viewer, keys).await,
        None => Ok(HashMap::new()),
    }
);

loader!(
    /// Action items created in each meeting.
    ActionItemsByMeeting, Vec<action_item::Model>, |this, keys| action_items::for_meetings(&this.db, keys).await
);

loader!(
    /// Open action items of each series.
    OpenActionItemsBySeries, Vec<action_item::Model>, |this, keys| action_items::open_for_series(&this.db, keys).await
);

loader!(
    /// Each meeting's check-ins that the viewer may read.
    CheckInsByMeeting, Vec<check_in::Model>, |this, keys| match &this.viewer {
        Some(viewer) => check_ins::for_meetings(&this.db, viewer, keys).await,
        None => Ok(HashMap::new()),
    }
);

/// Users already read in one HTTP request, each read at most once. A DataLoader alone reads a
/// user again when two batches at different depths ask for them (an agenda item's author, then
/// an open action item's assignee), so the statement count would depend on timing.
struct UsersRead(Mutex<HashMap<Uuid, Arc<OnceCell<Option<user::Model>>>>>);

impl UsersRead {
    /// Starts with the viewer's own row, which authentication has just read.
    fn new(viewer: Option<&Viewer>) -> Self {
        let known = viewer
            .map(|viewer| {
                let row = Some(viewer.user.clone());
                (viewer.id(), Arc::new(OnceCell::new_with(Some(row))))
            })
            .into_iter()
            .collect();
        Self(Mutex::new(known))
    }

    fn cell(&self, id: Uuid) -> Arc<OnceCell<Option<user::Model>>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .entry(id)
            .or_default()
            .clone()
    }
}

/// Every loader of one request, or of one WebSocket connection (which keeps no rows between
/// events).
pub struct Loaders {
    user_by_id: DataLoader<ById<user::Entity>>,
    users_read: Option<UsersRead>,
    pub reports_by_manager: DataLoader<ReportsByManager>,
    pub meeting_by_id: DataLoader<ById<meeting::Entity>>,
    pub next_meeting_by_series: DataLoader<NextMeetingBySeries>,
    pub agenda_item_by_id: DataLoader<ById<agenda_item::Entity>>,
    pub agenda_by_meeting: DataLoader<AgendaByMeeting>,
    pub notes_by_meeting: DataLoader<NotesByMeeting>,
    pub action_items_by_meeting: DataLoader<ActionItemsByMeeting>,
    pub open_action_items_by_series: DataLoader<OpenActionItemsBySeries>,
    pub check_ins_by_meeting: DataLoader<CheckInsByMeeting>,
    pub note_by_id: DataLoader<ById<note::Entity>>,
    pub action_item_by_id: DataLoader<ById<action_item::Entity>>,
    pub check_in_by_id: DataLoader<ById<check_in::Entity>>,
}

impl Loaders {
    /// Loaders for one HTTP request: users are read once each.
    pub fn for_request(
        db: &DatabaseConnection,
        viewer: Option<Arc<Viewer>>,
        delay: Duration,
    ) -> Self {
        let users_read = UsersRead::new(viewer.as_deref());
        Self {
            users_read: Some(users_read),
            ..Self::for_connection(db, viewer, delay)
        }
    }

    /// Loaders for a WebSocket connection: every event reads afresh.
    pub fn for_connection(
        db: &DatabaseConnection,
        viewer: Option<Arc<Viewer>>,
        delay: Duration,
    ) -> Self {
        let source = Source {
            db: db.clone(),
            viewer,
        };
        macro_rules! make {
            (ById) => {
                DataLoader::new(ById(source.clone(), PhantomData), tokio::spawn).delay(delay)
            };
            ($loader:ident) => {
                DataLoader::new($loader(source.clone()), tokio::spawn).delay(delay)
            };
        }
        Self {
            user_by_id: make!(ById),
            users_read: None,
            reports_by_manager: make!(ReportsByManager),
            meeting_by_id: make!(ById),
            next_meeting_by_series: make!(NextMeetingBySeries),
            agenda_item_by_id: make!(ById),
            agenda_by_meeting: make!(AgendaByMeeting),
            notes_by_meeting: make!(NotesByMeeting),
            action_items_by_meeting: make!(ActionItemsByMeeting),
            open_action_items_by_series: make!(OpenActionItemsBySeries),
            check_ins_by_meeting: make!(CheckInsByMeeting),
            note_by_id: make!(ById),
            action_item_by_id: make!(ById),
            check_in_by_id: make!(ById),
        }
    }

    /// A user by id, batched with the other users asked for at the same moment.
    pub async fn user(&self, id: Uuid) -> Result<Option<user::Model>, AppError> {
        let Some(users_read) = &self.users_read else {
            return self.user_by_id.load_one(id).await;
        };
        users_read
            .cell(id)
            .get_or_try_init(|| self.user_by_id.load_one(id))
            .await
            .cloned()
    }
}
