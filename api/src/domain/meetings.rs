//! Meetings of a series and their life cycle:
//! `SCHEDULED → IN_PROGRESS → COMPLETED`, or `SCHEDULED → CANCELLED`.
//!
//! Open agenda items always land on the next meeting that actually happens: ending or cancelling
//! a meeting carries them to the series' next scheduled meeting (scheduling one from the cadence
//! if there is none), and starting a meeting skips any earlier meeting still scheduled, carrying
//! its items along.

use chrono::{DateTime, Duration, Months, Utc};
use entity::{
    enums::{Cadence, MeetingFormat, MeetingStatus},
    meeting,
    meeting_event::MeetingEventKind,
    one_on_one,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    sea_query::Expr,
};
use uuid::Uuid;

use super::{
    access::SeriesScope,
    agenda,
    api_tokens::ApiScope,
    events::{self, NewEvent},
    idempotency, series,
    validate::{self, optional_text},
};
use crate::{
    auth::Viewer,
    db::{Store, WriteTx},
    error::{AppError, AppResult},
};

const MAX_LOCATION_CHARS: usize = 200;

/// A meeting the viewer may see, with its series scope; `NotFound` otherwise.
pub async fn find(
    conn: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<(meeting::Model, SeriesScope)> {
    find_needing(conn, viewer, id, ApiScope::MeetingsRead).await
}

/// As [`find`], for a path whose API-token scope is `needed`.
pub async fn find_needing(
    conn: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
    needed: ApiScope,
) -> AppResult<(meeting::Model, SeriesScope)> {
    let (meeting, series) = meeting::Entity::find_by_id(id)
        .find_also_related(one_on_one::Entity)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    let series = series.ok_or(AppError::NotFound)?;
    Ok((meeting, SeriesScope::needing(viewer, series, needed)?))
}

/// A meeting whose content the viewer may reach; `NotFound` for anyone but a participant.
pub async fn find_for_content(
    conn: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<(meeting::Model, SeriesScope)> {
    find_content_needing(conn, viewer, id, ApiScope::MeetingsRead).await
}

/// As [`find_for_content`], for a path whose API-token scope is `needed`.
pub async fn find_content_needing(
    conn: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
    needed: ApiScope,
) -> AppResult<(meeting::Model, SeriesScope)> {
    let (meeting, scope) = find_needing(conn, viewer, id, needed).await?;
    scope
        .access
        .read_content()
        .map_err(|_| AppError::NotFound)?;
    Ok((meeting, scope))
}

/// A meeting the viewer may change (a participant of an active series).
async fn find_writable(
    conn: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<(meeting::Model, SeriesScope)> {
    let (meeting, scope) = find(conn, viewer, id).await?;
    scope.access.write()?;
    Ok((meeting, scope))
}

pub struct NewMeeting {
    pub one_on_one_id: Uuid,
    pub scheduled_at: DateTime<Utc>,
    pub duration_minutes: Option<i32>,
    pub format: Option<MeetingFormat>,
    pub location: Option<String>,
}

/// Schedules a meeting of a series; durations and format default to the series'.
pub async fn schedule(
    store: &Store,
    viewer: &Viewer,
    new: NewMeeting,
    client_mutation_id: Option<&str>,
) -> AppResult<Uuid> {
    viewer.require_session()?;
    let scheduled_at = validate::instant(new.scheduled_at, "scheduledAt")?;
    if let Some(minutes) = new.duration_minutes {
        validate::in_range(minutes, "durationMinutes", series::DURATION_RANGE)?;
    }
    let location = optional_text(new.location, "location", MAX_LOCATION_CHARS)?;
    idempotency::create_once(
        store,
        viewer.id(),
        client_mutation_id,
        "scheduleMeeting",
        async |tx| {
            let scope = series::find(tx, viewer, new.one_on_one_id).await?;
            scope.access.write()?;
            let meeting = insert(
                tx,
                &scope.series,
                scheduled_at,
                new.duration_minutes,
                new.format,
                location,
            )
            .await?;
            events::record(
                tx,
                meeting.id,
                NewEvent::new(MeetingEventKind::MeetingUpdated, viewer.id()),
            )
            .await?;
            Ok(meeting.id)
        },
    )
    .await
}

async fn insert(
    conn: &impl ConnectionTrait,
    series: &one_on_one::Model,
    scheduled_at: DateTime<Utc>,
    duration_minutes: Option<i32>,
    format: Option<MeetingFormat>,
    location: Option<String>,
) -> AppResult<meeting::Model> {
    Ok(meeting::ActiveModel {
        id: Set(Uuid::now_v7()),
        one_on_one_id: Set(series.id),
        scheduled_at: Set(scheduled_at),
        duration_minutes: Set(duration_minutes.unwrap_or(series.default_duration_minutes)),
        format: Set(format.unwrap_or(series.default_format)),
        location: Set(location),
        status: Set(MeetingStatus::Scheduled),
        started_at: Set(None),
        ended_at: Set(None),
        current_topic_id: Set(None),
        created_at: Set(Utc::now()),
        last_event_sequence: Set(0),
        last_shared_sequence: Set(0),
        last_manager_sequence: Set(0),
        last_report_sequence: Set(0),
    }
    .insert(conn)
    .await?)
}

pub async fn reschedule(
    store: &Store,
    viewer: &Viewer,
    id: Uuid,
    scheduled_at: DateTime<Utc>,
) -> AppResult<meeting::Model> {
    viewer.require_session()?;
    let scheduled_at = validate::instant(scheduled_at, "scheduledAt")?;
    let tx = store.begin().await?;
    find_writable(&tx, viewer, id).await?;
    let meeting = transition(
        &tx,
        id,
        MeetingStatus::Scheduled,
        MeetingStatus::Scheduled,
        NewEvent::new(MeetingEventKind::MeetingUpdated, viewer.id()),
        |update| update.col_expr(meeting::Column::ScheduledAt, Expr::value(scheduled_at)),
    )
    .await?;
    tx.commit().await?;
    Ok(meeting)
}

/// Starts a meeting. Earlier meetings of the series still scheduled were skipped: they are
/// cancelled and their open items come to this one.
pub async fn start(store: &Store, viewer: &Viewer, id: Uuid) -> AppResult<meeting::Model> {
    viewer.require_session()?;
    let tx = store.begin().await?;
    let (meeting, _) = find_writable(&tx, viewer, id).await?;
    let now = Utc::now();
    let started = transition(
        &tx,
        id,
        MeetingStatus::Scheduled,
        MeetingStatus::InProgress,
        NewEvent::new(MeetingEventKind::MeetingStarted, viewer.id()),
        |update| update.col_expr(meeting::Column::StartedAt, Expr::value(now)),
    )
    .await?;
    let skipped = meeting::Entity::find()
        .filter(meeting::Column::OneOnOneId.eq(meeting.one_on_one_id))
        .filter(meeting::Column::Status.eq(MeetingStatus::Scheduled))
        .filter(meeting::Column::ScheduledAt.lt(meeting.scheduled_at))
        .order_by_asc(meeting::Column::ScheduledAt)
        .all(&tx)
        .await?;
    for earlier in skipped {
        transition(
            &tx,
            earlier.id,
            MeetingStatus::Scheduled,
            MeetingStatus::Cancelled,
            NewEvent::new(MeetingEventKind::MeetingUpdated, viewer.id()),
            |u| u,
        )
        .await?;
        agenda::carry_over(&tx, viewer.id(), earlier.id, started.id).await?;
    }
    tx.commit().await?;
    Ok(started)
}

/// Ends a meeting; returns it and the next meeting, where its open items now are.
pub async fn end(
    store: &Store,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<(meeting::Model, meeting::Model)> {
    viewer.require_session()?;
    let tx = store.begin().await?;
    let (_, scope) = find_writable(&tx, viewer, id).await?;
    let now = Utc::now();
    let ended = transition(
        &tx,
        id,
        MeetingStatus::InProgress,
        MeetingStatus::Completed,
        NewEvent::new(MeetingEventKind::MeetingEnded, viewer.id()),
        |update| update.col_expr(meeting::Column::EndedAt, Expr::value(now)),
    )
    .await?;
    let next = pass_items_on(&tx, viewer.id(), &scope.series, &ended).await?;
    tx.commit().await?;
    Ok((ended, next))
}

/// Cancels a scheduled meeting; its items go on to the next meeting.
pub async fn cancel(store: &Store, viewer: &Viewer, id: Uuid) -> AppResult<meeting::Model> {
    viewer.require_session()?;
    let tx = store.begin().await?;
    let (_, scope) = find_writable(&tx, viewer, id).await?;
    let cancelled = transition(
        &tx,
        id,
        MeetingStatus::Scheduled,
        MeetingStatus::Cancelled,
        NewEvent::new(MeetingEventKind::MeetingUpdated, viewer.id()),
        |u| u,
    )
    .await?;
    pass_items_on(&tx, viewer.id(), &scope.series, &cancelled).await?;
    tx.commit().await?;
    Ok(cancelled)
}

/// Carries the open items of `from` to the next meeting that will happen, scheduling one from
/// the cadence if the series has none.
async fn pass_items_on(
    tx: &WriteTx,
    actor_id: Uuid,
    series: &one_on_one::Model,
    from: &meeting::Model,
) -> AppResult<meeting::Model> {
    let upcoming = meeting::Entity::find()
        .filter(meeting::Column::OneOnOneId.eq(series.id))
        .filter(meeting::Column::Status.eq(MeetingStatus::Scheduled))
        .filter(meeting::Column::Id.ne(from.id))
        .order_by_asc(meeting::Column::ScheduledAt)
        .one(tx)
        .await?;
    let next = match upcoming {
        Some(next) => next,
        None => {
            let at = next_occurrence(series.cadence, from.scheduled_at, Utc::now());
            let next = insert(tx, series, at, None, None, from.location.clone()).await?;
            events::record(
                tx,
                next.id,
                NewEvent::new(MeetingEventKind::MeetingUpdated, actor_id),
            )
            .await?;
            next
        }
    };
    agenda::carry_over(tx, actor_id, from.id, next.id).await?;
    Ok(next)
}

/// The first time after `now` that is a whole number of cadences after `from`.
pub fn next_occurrence(cadence: Cadence, from: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
    let step = |at: DateTime<Utc>| match cadence {
        Cadence::Weekly => at + Duration::days(7),
        Cadence::Biweekly => at + Duration::days(14),
        Cadence::Monthly => at
            .checked_add_months(Months::new(1))
            .unwrap_or(at + Duration::days(30)),
    };
    let mut next = step(from);
    while next <= now {
        next = step(next);
    }
    next
}

/// Moves a meeting from `from` to `to` only if it is in `from` now (so two racing requests
/// cannot both succeed), applying `extra` to the same UPDATE, and records `event`.
async fn transition(
    tx: &WriteTx,
    id: Uuid,
    from: MeetingStatus,
    to: MeetingStatus,
    event: NewEvent,
    extra: impl FnOnce(sea_orm::UpdateMany<meeting::Entity>) -> sea_orm::UpdateMany<meeting::Entity>,
) -> AppResult<meeting::Model> {
    let update = meeting::Entity::update_many()
        .col_expr(meeting::Column::Status, Expr::value(to))
        .filter(meeting::Column::Id.eq(id))
        .filter(meeting::Column::Status.eq(from));
    let result = extra(update).exec(tx).await?;
    if result.rows_affected == 0 {
        let verb = match (from, to) {
            (_, MeetingStatus::InProgress) => "started",
            (_, MeetingStatus::Completed) => "ended",
            (_, MeetingStatus::Cancelled) => "cancelled",
            _ => "rescheduled",
        };
        let required = match from {
            MeetingStatus::InProgress => "in progress",
            _ => "scheduled",
        };
        return Err(AppError::bad_input(format!(
            "only a {required} meeting can be {verb}"
        )));
    }
    events::record(tx, id, event).await?;
    meeting::Entity::find_by_id(id)
        .one(tx)
        .await?
        .ok_or(AppError::NotFound)
}

/// Whether agenda items of this meeting may still change.
pub fn require_open(meeting: &meeting::Model) -> AppResult<()> {
    match meeting.status {
        MeetingStatus::Scheduled | MeetingStatus::InProgress => Ok(()),
        MeetingStatus::Completed | MeetingStatus::Cancelled => Err(AppError::bad_input(
            "the meeting is over: its agenda can no longer change",
        )),
    }
}

/// Sets or clears the topic being discussed.
pub async fn set_current_topic(
    store: &Store,
    viewer: &Viewer,
    id: Uuid,
    agenda_item_id: Option<Uuid>,
) -> AppResult<meeting::Model> {
    viewer.require_scope(ApiScope::AgendaWrite)?;
    let tx = store.begin().await?;
    let (meeting, _) = find_writable(&tx, viewer, id).await?;
    require_open(&meeting)?;
    if let Some(item_id) = agenda_item_id {
        agenda::require_on_meeting(&tx, item_id, meeting.id).await?;
    }
    let mut active: meeting::ActiveModel = meeting.into();
    active.current_topic_id = Set(agenda_item_id);
    let meeting = active.update(&tx).await?;
    let mut event = NewEvent::new(MeetingEventKind::CurrentTopicChanged, viewer.id());
    if let Some(item_id) = agenda_item_id {
        event = event.agenda_item(item_id);
    }
    events::record(&tx, id, event).await?;
    tx.commit().await?;
    Ok(meeting)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn next_occurrence_follows_the_cadence_into_the_future() {
        let from = Utc.with_ymd_and_hms(2026, 1, 31, 9, 0, 0).unwrap();
        let soon = Utc.with_ymd_and_hms(2026, 1, 31, 10, 0, 0).unwrap();
        assert_eq!(
            next_occurrence(Cadence::Weekly, from, soon),
            from + Duration::days(7)
        );
        assert_eq!(
            next_occurrence(Cadence::Biweekly, from, soon),
            from + Duration::days(14)
        );
        assert_eq!(
            next_occurrence(Cadence::Monthly, from, soon),
            Utc.with_ymd_and_hms(2026, 2, 28, 9, 0, 0).unwrap()
        );
        let much_later = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        assert_eq!(
            next_occurrence(Cadence::Weekly, from, much_later),
            Utc.with_ymd_and_hms(2026, 3, 7, 9, 0, 0).unwrap()
        );
    }
}
