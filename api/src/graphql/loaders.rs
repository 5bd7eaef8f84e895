//! One DataLoader per relation, each answering a whole batch of keys with one `IN` query.
//! Loaders are made per request (see [`super::request_data`]), so no cache outlives a request or
//! crosses users. Parents authorise before they ask: a loader returns rows for keys the parent
//! may already reach, and the notes and check-in loaders narrow further to what the viewer may
//! read.

use std::{collections::HashMap, marker::PhantomData, sync::Arc, time::Duration};

use async_graphql::dataloader::{DataLoader, Loader};
use entity::{action_item, agenda_item, check_in, enums::MeetingStatus, meeting, note, user};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::{
    auth::Viewer,
    db,
    domain::{action_items, agenda, check_ins, notes},
    error::AppError,
    memo::Memo,
};

/// Users by id, as already read.
pub type UsersRead = Memo<Uuid, Option<user::Model>>;

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
        Ok(db::find_by_ids::<E>(&self.0.db, keys.iter().copied()).await?)
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

/// Every loader of one request, or of one WebSocket connection (which keeps no rows between
/// events).
pub struct Loaders {
    user_by_id: DataLoader<ById<user::Entity>>,
    /// Users already read, each read at most once. A DataLoader alone reads a user again when
    /// two batches at different depths ask for them (an agenda item's author, then an open
    /// action item's assignee), so the statement count would depend on timing.
    users_read: Arc<UsersRead>,
    pub reports_by_manager: DataLoader<ReportsByManager>,
    pub meeting_by_id: DataLoader<ById<meeting::Entity>>,
    pub next_meeting_by_series: DataLoader<NextMeetingBySeries>,
    pub agenda_item_by_id: DataLoader<ById<agenda_item::Entity>>,
    pub agenda_by_meeting: DataLoader<AgendaByMeeting>,
    pub notes_by_meeting: DataLoader<NotesByMeeting>,
    pub action_items_by_meeting: DataLoader<ActionItemsByMeeting>,
    pub open_action_items_by_series: DataLoader<OpenActionItemsBySeries>,
    pub check_ins_by_meeting: DataLoader<CheckInsByMeeting>,
}

impl Loaders {
    /// Loaders for one HTTP request: users are read once each, the viewer not at all
    /// (authentication has just read them).
    pub fn for_request(
        db: &DatabaseConnection,
        viewer: Option<Arc<Viewer>>,
        delay: Duration,
    ) -> Self {
        let users_read = Memo::forever();
        if let Some(viewer) = &viewer {
            users_read.insert(viewer.id(), Some(viewer.user.clone()));
        }
        Self::new(db, viewer, delay, Arc::new(users_read))
    }

    /// Loaders for a WebSocket connection, whose events resolve users through `live_users`,
    /// shared by every connection of the process.
    pub fn for_connection(
        db: &DatabaseConnection,
        viewer: Option<Arc<Viewer>>,
        delay: Duration,
        live_users: Arc<UsersRead>,
    ) -> Self {
        Self::new(db, viewer, delay, live_users)
    }

    fn new(
        db: &DatabaseConnection,
        viewer: Option<Arc<Viewer>>,
        delay: Duration,
        users_read: Arc<UsersRead>,
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
            users_read,
            reports_by_manager: make!(ReportsByManager),
            meeting_by_id: make!(ById),
            next_meeting_by_series: make!(NextMeetingBySeries),
            agenda_item_by_id: make!(ById),
            agenda_by_meeting: make!(AgendaByMeeting),
            notes_by_meeting: make!(NotesByMeeting),
            action_items_by_meeting: make!(ActionItemsByMeeting),
            open_action_items_by_series: make!(OpenActionItemsBySeries),
            check_ins_by_meeting: make!(CheckInsByMeeting),
        }
    }

    /// A user by id, batched with the other users asked for at the same moment.
    pub async fn user(&self, id: Uuid) -> Result<Option<user::Model>, AppError> {
        self.users_read
            .get_or_read(id, || self.user_by_id.load_one(id))
            .await
    }
}
