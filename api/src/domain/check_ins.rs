//! Check-ins: the report's 1–5 mood at a meeting, shared with the manager or kept to
//! themselves. A private check-in exists for its author alone.

use std::collections::HashMap;

use chrono::Utc;
use entity::{check_in, meeting_event::MeetingEventKind};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    sea_query::OnConflict,
};
use uuid::Uuid;

use super::{
    access::{Role, SeriesScope},
    events::{self, NewEvent},
    idempotency, meetings,
    validate::{self, optional_text},
};
use crate::{
    auth::Viewer,
    db::Store,
    error::{AppError, AppResult},
};

const MAX_COMMENT_CHARS: usize = 2_000;

/// SQL form of "check-ins the viewer may read", given they are a participant of the meeting.
pub fn readable_by(viewer: &Viewer) -> Condition {
    let shared = Condition::any().add(check_in::Column::SharedWithManager.eq(true));
    if viewer.sees_own_private() {
        shared.add(check_in::Column::AuthorId.eq(viewer.id()))
    } else {
        shared
    }
}

/// Whether the viewer (a participant of the meeting) may read the check-in.
pub fn can_read(viewer: &Viewer, check_in: &check_in::Model) -> bool {
    check_in.shared_with_manager || (check_in.author_id == viewer.id() && viewer.sees_own_private())
}

pub async fn find(
    conn: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<(check_in::Model, SeriesScope)> {
    let check_in = check_in::Entity::find_by_id(id)
        .one(conn)
        .await?
        .filter(|check_in| can_read(viewer, check_in))
        .ok_or(AppError::NotFound)?;
    let (_, scope) = meetings::find_for_content(conn, viewer, check_in.meeting_id).await?;
    Ok((check_in, scope))
}

/// The check-ins the viewer may read on several meetings (whose content they may reach).
pub async fn for_meetings(
    conn: &impl ConnectionTrait,
    viewer: &Viewer,
    meeting_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<check_in::Model>>> {
    let check_ins = check_in::Entity::find()
        .filter(check_in::Column::MeetingId.is_in(meeting_ids.iter().copied()))
        .filter(readable_by(viewer))
        .order_by_asc(check_in::Column::Id)
        .all(conn)
        .await?;
    let mut by_meeting: HashMap<Uuid, Vec<check_in::Model>> = HashMap::new();
    for check_in in check_ins {
        by_meeting
            .entry(check_in.meeting_id)
            .or_default()
            .push(check_in);
    }
    Ok(by_meeting)
}

pub struct NewCheckIn {
    pub meeting_id: Uuid,
    pub mood: i32,
    pub comment: Option<String>,
    pub shared_with_manager: bool,
}

/// The report's check-in for a meeting; a second one for the same meeting replaces the first.
pub async fn submit(
    store: &Store,
    viewer: &Viewer,
    new: NewCheckIn,
    client_mutation_id: Option<&str>,
) -> AppResult<Uuid> {
    viewer.require_session()?;
    let mood = validate::in_range(new.mood, "mood", 1..=5)?;
    let comment = optional_text(new.comment, "comment", MAX_COMMENT_CHARS)?;
    idempotency::create_once(
        store,
        viewer.id(),
        client_mutation_id,
        "submitCheckIn",
        async |tx| {
            let (meeting, scope) = meetings::find(tx, viewer, new.meeting_id).await?;
            if scope.access.write()? != Role::Report {
                return Err(AppError::Forbidden);
            }
            // One statement, not a read then a write: two first submissions racing each
            // other both found nothing, and the second insert broke the unique index
            // (`INTERNAL` on PostgreSQL).
            let saved = check_in::Entity::insert(check_in::ActiveModel {
                id: Set(Uuid::now_v7()),
                meeting_id: Set(meeting.id),
                author_id: Set(viewer.id()),
                mood: Set(mood),
                comment: Set(comment),
                shared_with_manager: Set(new.shared_with_manager),
                created_at: Set(Utc::now()),
            })
            .on_conflict(
                OnConflict::columns([check_in::Column::MeetingId, check_in::Column::AuthorId])
                    .update_columns([
                        check_in::Column::Mood,
                        check_in::Column::Comment,
                        check_in::Column::SharedWithManager,
                    ])
                    .to_owned(),
            )
            .exec_with_returning(tx)
            .await?;
            let mut event =
                NewEvent::new(MeetingEventKind::CheckInSubmitted, viewer.id()).check_in(saved.id);
            if !saved.shared_with_manager {
                event = event.private_to(viewer.id(), Role::Report);
            }
            events::record(tx, meeting.id, event).await?;
            Ok(saved.id)
        },
    )
    .await
}
