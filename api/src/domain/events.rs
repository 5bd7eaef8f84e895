//! Recording meeting events: every change to a meeting writes one, in the same transaction as
//! the change, with the meeting's next sequence number.

use chrono::Utc;
use entity::{
    meeting,
    meeting_event::{self, MeetingEventKind},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, Set,
    sea_query::{Expr, ExprTrait, Query},
};
use uuid::Uuid;

use super::webhooks;
use crate::{
    db::{Store, WriteTx},
    error::{AppError, AppResult},
    realtime::Announcement,
};

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
    private_to: Option<Uuid>,
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
            private_to: None,
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

    /// Only this user may ever receive the event.
    pub fn private_to(mut self, user_id: Uuid) -> Self {
        self.private_to = Some(user_id);
        self
    }
}

/// Stores the event with the meeting's next sequence and announces it on commit.
pub async fn record(tx: &WriteTx, meeting_id: Uuid, event: NewEvent) -> AppResult<i32> {
    // Incrementing the counter row locks it until commit: concurrent writers to one meeting
    // queue here, so sequences never skip or repeat.
    let next = Query::update()
        .table(meeting::Entity)
        .value(
            meeting::Column::LastEventSequence,
            Expr::col(meeting::Column::LastEventSequence).add(1),
        )
        .and_where(meeting::Column::Id.eq(meeting_id))
        .returning_col(meeting::Column::LastEventSequence)
        .to_owned();
    let row = tx.query_one(&next).await?.ok_or(AppError::NotFound)?;
    let sequence: i32 = row.try_get("", "last_event_sequence")?;
    let stored = meeting_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        meeting_id: Set(meeting_id),
        sequence: Set(sequence),
        kind: Set(event.kind),
        actor_id: Set(event.actor_id),
        agenda_item_id: Set(event.agenda_item_id),
        note_id: Set(event.note_id),
        action_item_id: Set(event.action_item_id),
        check_in_id: Set(event.check_in_id),
        participant_id: Set(event.participant_id),
        removed_id: Set(event.removed_id),
        private_to: Set(event.private_to),
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
