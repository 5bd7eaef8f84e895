//! Recording meeting events: every change to a meeting writes one, in the same transaction as
//! the change, with the meeting's next sequence number and the next number of each reader who
//! receives it (see [`Numbering`]).

use chrono::Utc;
use entity::{
    meeting,
    meeting_event::{self, MeetingEventKind},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IdenStatic, QueryFilter,
    QuerySelect, Set,
    sea_query::{Expr, ExprTrait, Query},
};
use uuid::Uuid;

use super::{access::Role, webhooks};
use crate::{
    auth::Viewer,
    db::{Store, WriteTx},
    error::{AppError, AppResult},
    realtime::Announcement,
};

/// The numbers a reader is shown for a meeting's events: each numbering counts only the
/// events its reader receives, so nobody can tell from a gap that someone else wrote
/// privately, and resuming after the last number seen misses nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Numbering {
    /// Shared events only: API tokens (which never receive private events) and webhooks.
    Shared,
    /// Shared events and the manager's own private ones.
    Manager,
    /// Shared events and the report's own private ones.
    Report,
}

impl Numbering {
    /// The numbering of `viewer`, who takes part in the series as `role`.
    pub fn of(viewer: &Viewer, role: Role) -> Self {
        match (viewer.sees_own_private(), role) {
            (false, _) => Self::Shared,
            (true, Role::Manager) => Self::Manager,
            (true, Role::Report) => Self::Report,
        }
    }

    /// This reader's number for `event`.
    pub fn number(self, event: &meeting_event::Model) -> i32 {
        match self {
            Self::Shared => event.shared_sequence,
            Self::Manager => event.manager_sequence,
            Self::Report => event.report_sequence,
        }
    }

    pub fn column(self) -> meeting_event::Column {
        match self {
            Self::Shared => meeting_event::Column::SharedSequence,
            Self::Manager => meeting_event::Column::ManagerSequence,
            Self::Report => meeting_event::Column::ReportSequence,
        }
    }

    /// The meeting's counter of this numbering.
    fn counter(self) -> meeting::Column {
        match self {
            Self::Shared => meeting::Column::LastSharedSequence,
            Self::Manager => meeting::Column::LastManagerSequence,
            Self::Report => meeting::Column::LastReportSequence,
        }
    }

    const ALL: [Self; 3] = [Self::Shared, Self::Manager, Self::Report];
}

/// Who receives an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Audience {
    Everyone,
    /// One participant alone, on their sessions (private notes and check-ins).
    Only {
        user_id: Uuid,
        role: Role,
    },
}

impl Audience {
    fn counted_by(self, numbering: Numbering) -> bool {
        match (self, numbering) {
            (Self::Everyone, _) => true,
            (Self::Only { role, .. }, Numbering::Manager) => role == Role::Manager,
            (Self::Only { role, .. }, Numbering::Report) => role == Role::Report,
            (Self::Only { .. }, Numbering::Shared) => false,
        }
    }

    fn private_to(self) -> Option<Uuid> {
        match self {
            Self::Everyone => None,
            Self::Only { user_id, .. } => Some(user_id),
        }
    }
}

/// What happened, and to which objects (ids only).
pub struct NewEvent {
    kind: MeetingEventKind,
    actor_id: Option<Uuid>,
    agenda_item_id: Option<Uuid>,
    note_id: Option<Uuid>,
    action_item_id: Option<Uuid>,
    check_in_id: Option<Uuid>,
    participant_id: Option<Uuid>,
    removed_id: Option<String>,
    audience: Audience,
}

impl NewEvent {
    pub fn new(kind: MeetingEventKind, actor_id: Uuid) -> Self {
        Self {
            kind,
            actor_id: Some(actor_id),
            agenda_item_id: None,
            note_id: None,
            action_item_id: None,
            check_in_id: None,
            participant_id: None,
            removed_id: None,
            audience: Audience::Everyone,
        }
    }

    pub fn agenda_item(mut self, id: Uuid) -> Self {
        self.agenda_item_id = Some(id);
        self
    }

    pub fn note(mut self, id: Uuid) -> Self {
        self.note_id = Some(id);
        self
    }

    pub fn action_item(mut self, id: Uuid) -> Self {
        self.action_item_id = Some(id);
        self
    }

    pub fn check_in(mut self, id: Uuid) -> Self {
        self.check_in_id = Some(id);
        self
    }

    pub fn participant(mut self, id: Uuid) -> Self {
        self.participant_id = Some(id);
        self
    }

    /// The global id of the object that was removed.
    pub fn removed(mut self, global_id: String) -> Self {
        self.removed_id = Some(global_id);
        self
    }

    /// Only this user, the series' participant on side `role`, may ever receive the event.
    pub fn private_to(mut self, user_id: Uuid, role: Role) -> Self {
        self.audience = Audience::Only { user_id, role };
        self
    }
}

/// Stores the event with the meeting's next sequence (and each reader's next number) and
/// announces it on commit.
pub async fn record(tx: &WriteTx, meeting_id: Uuid, event: NewEvent) -> AppResult<i32> {
    // Incrementing the counters locks the meeting's row until commit: concurrent writers to one
    // meeting queue here, so numbers never skip or repeat.
    let mut next = Query::update();
    next.table(meeting::Entity)
        .value(
            meeting::Column::LastEventSequence,
            Expr::col(meeting::Column::LastEventSequence).add(1),
        )
        .and_where(meeting::Column::Id.eq(meeting_id))
        .returning(
            Query::returning().columns(
                [meeting::Column::LastEventSequence]
                    .into_iter()
                    .chain(Numbering::ALL.map(Numbering::counter)),
            ),
        );
    for numbering in Numbering::ALL {
        let step = i32::from(event.audience.counted_by(numbering));
        next.value(
            numbering.counter(),
            Expr::col(numbering.counter()).add(step),
        );
    }
    let row = tx.query_one(&next).await?.ok_or(AppError::NotFound)?;
    let sequence: i32 = row.try_get("", "last_event_sequence")?;
    let number = |numbering: Numbering| -> AppResult<i32> {
        Ok(row.try_get("", numbering.counter().as_str())?)
    };
    let stored = meeting_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        meeting_id: Set(meeting_id),
        sequence: Set(sequence),
        shared_sequence: Set(number(Numbering::Shared)?),
        manager_sequence: Set(number(Numbering::Manager)?),
        report_sequence: Set(number(Numbering::Report)?),
        kind: Set(event.kind),
        actor_id: Set(event.actor_id),
        agenda_item_id: Set(event.agenda_item_id),
        note_id: Set(event.note_id),
        action_item_id: Set(event.action_item_id),
        check_in_id: Set(event.check_in_id),
        participant_id: Set(event.participant_id),
        removed_id: Set(event.removed_id),
        private_to: Set(event.audience.private_to()),
        occurred_at: Set(Utc::now()),
    }
    .insert(tx)
    .await?;
    webhooks::enqueue(tx, &stored).await?;
    tx.announce(Announcement {
        meeting_id,
        sequence,
    })
    .await?;
    Ok(sequence)
}

/// Where a reader who last saw number `after` of their numbering is in the meeting's total
/// order: the sequence of the last event up to it (0 before the first).
pub async fn position_of(
    conn: &impl ConnectionTrait,
    meeting_id: Uuid,
    numbering: Numbering,
    after: i32,
) -> AppResult<i32> {
    let last = meeting_event::Entity::find()
        .select_only()
        .column_as(meeting_event::Column::Sequence.max(), "last")
        .filter(meeting_event::Column::MeetingId.eq(meeting_id))
        .filter(numbering.column().lte(after))
        .into_tuple::<Option<i32>>()
        .one(conn)
        .await?;
    Ok(last.flatten().unwrap_or(0))
}

/// The meeting's latest sequence, and the reader's latest number.
pub async fn head(
    conn: &impl ConnectionTrait,
    meeting_id: Uuid,
    numbering: Numbering,
) -> AppResult<(i32, i32)> {
    let head = meeting::Entity::find_by_id(meeting_id)
        .select_only()
        .column(meeting::Column::LastEventSequence)
        .column(numbering.counter())
        .into_tuple::<(i32, i32)>()
        .one(conn)
        .await?;
    Ok(head.unwrap_or((0, 0)))
}

/// Records that a participant opened or closed the meeting screen.
pub async fn record_presence(
    store: &Store,
    meeting_id: Uuid,
    user_id: Uuid,
    kind: MeetingEventKind,
) -> AppResult<()> {
    let tx = store.begin().await?;
    record(
        &tx,
        meeting_id,
        NewEvent::new(kind, user_id).participant(user_id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
