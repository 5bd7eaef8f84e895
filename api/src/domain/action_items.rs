//! Action items: follow-ups assigned to one of the two participants. They belong to the series,
//! so an open item shows on every later meeting until it is done.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use entity::{action_item, meeting_event::MeetingEventKind};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};
use uuid::Uuid;

use super::{
    access::SeriesScope,
    api_tokens::ApiScope,
    events::{self, NewEvent},
    idempotency, meetings, series,
    validate::{self, required_line},
};
use crate::{
    auth::Viewer,
    db::{Store, WriteTx},
    error::{AppError, AppResult},
};

const MAX_TITLE_CHARS: usize = 200;

/// An action item a participant may see, with its scope; `NotFound` otherwise.
pub async fn find(
    conn: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<(action_item::Model, SeriesScope)> {
    let item = action_item::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    let scope = series::find(conn, viewer, item.one_on_one_id).await?;
    scope
        .access
        .read_content()
        .map_err(|_| AppError::NotFound)?;
    Ok((item, scope))
}

fn group<K: std::hash::Hash + Eq>(
    items: Vec<action_item::Model>,
    key: impl Fn(&action_item::Model) -> Option<K>,
) -> HashMap<K, Vec<action_item::Model>> {
    let mut grouped: HashMap<K, Vec<action_item::Model>> = HashMap::new();
    for item in items {
        if let Some(key) = key(&item) {
            grouped.entry(key).or_default().push(item);
        }
    }
    grouped
}

/// Items created in each of several meetings, oldest first.
pub async fn for_meetings(
    conn: &impl ConnectionTrait,
    meeting_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<action_item::Model>>> {
    let items = action_item::Entity::find()
        .filter(action_item::Column::MeetingId.is_in(meeting_ids.iter().copied()))
        .order_by_asc(action_item::Column::Id)
        .all(conn)
        .await?;
    Ok(group(items, |item| item.meeting_id))
}

/// Open items of each of several series, oldest first.
pub async fn open_for_series(
    conn: &impl ConnectionTrait,
    series_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<action_item::Model>>> {
    let items = action_item::Entity::find()
        .filter(action_item::Column::OneOnOneId.is_in(series_ids.iter().copied()))
        .filter(action_item::Column::CompletedAt.is_null())
        .order_by_asc(action_item::Column::Id)
        .all(conn)
        .await?;
    Ok(group(items, |item| Some(item.one_on_one_id)))
}

/// An update shows on the meeting the item came from.
async fn announce_update(
    tx: &WriteTx,
    viewer: &Viewer,
    item: &action_item::Model,
) -> AppResult<()> {
    if let Some(meeting_id) = item.meeting_id {
        let event =
            NewEvent::new(MeetingEventKind::ActionItemUpdated, viewer.id()).action_item(item.id);
        events::record(tx, meeting_id, event).await?;
    }
    Ok(())
}

fn require_participant(scope: &SeriesScope, assignee_id: Uuid) -> AppResult<()> {
    if scope.is_participant(assignee_id) {
        Ok(())
    } else {
        Err(AppError::bad_input(
            "the assignee must be the manager or the report of this 1:1",
        ))
    }
}

pub struct NewActionItem {
    pub meeting_id: Uuid,
    pub title: String,
    pub assignee_id: Uuid,
    pub due_on: Option<NaiveDate>,
}

pub async fn create(
    store: &Store,
    viewer: &Viewer,
    new: NewActionItem,
    client_mutation_id: Option<&str>,
) -> AppResult<Uuid> {
    viewer.require_scope(ApiScope::ActionItemsWrite)?;
    let title = required_line(&new.title, "title", MAX_TITLE_CHARS)?;
    let due_on = new
        .due_on
        .map(|due_on| validate::date(due_on, "dueOn"))
        .transpose()?;
    idempotency::create_once(
        store,
        viewer.id(),
        client_mutation_id,
        "createActionItem",
        async |tx| {
            let (meeting, scope) = meetings::find(tx, viewer, new.meeting_id).await?;
            scope.access.write()?;
            require_participant(&scope, new.assignee_id)?;
            let item = action_item::ActiveModel {
                id: Set(Uuid::now_v7()),
                one_on_one_id: Set(meeting.one_on_one_id),
                meeting_id: Set(Some(meeting.id)),
                assignee_id: Set(new.assignee_id),
                created_by_id: Set(viewer.id()),
                title: Set(title),
                due_on: Set(due_on),
                completed_at: Set(None),
                created_at: Set(Utc::now()),
            }
            .insert(tx)
            .await?;
            events::record(
                tx,
                meeting.id,
                NewEvent::new(MeetingEventKind::ActionItemCreated, viewer.id())
                    .action_item(item.id),
            )
            .await?;
            Ok(item.id)
        },
    )
    .await
}

/// What `updateActionItem` changes: `None` keeps a field; `Some(None)` clears the due date.
pub struct ActionItemChanges {
    pub title: Option<String>,
    pub assignee_id: Option<Uuid>,
    pub due_on: Option<Option<NaiveDate>>,
}

pub async fn update(
    store: &Store,
    viewer: &Viewer,
    id: Uuid,
    changes: ActionItemChanges,
) -> AppResult<action_item::Model> {
    viewer.require_scope(ApiScope::ActionItemsWrite)?;
    let title = changes
        .title
        .map(|title| required_line(&title, "title", MAX_TITLE_CHARS))
        .transpose()?;
    let tx = store.begin().await?;
    let (item, scope) = find(&tx, viewer, id).await?;
    scope.access.write()?;
    let mut active = item.into_active_model();
    if let Some(title) = title {
        active.title = Set(title);
    }
    if let Some(assignee_id) = changes.assignee_id {
        require_participant(&scope, assignee_id)?;
        active.assignee_id = Set(assignee_id);
    }
    if let Some(due_on) = changes.due_on {
        active.due_on = Set(due_on
            .map(|due_on| validate::date(due_on, "dueOn"))
            .transpose()?);
    }
    let item = active.update(&tx).await?;
    announce_update(&tx, viewer, &item).await?;
    tx.commit().await?;
    Ok(item)
}

pub async fn set_done(
    store: &Store,
    viewer: &Viewer,
    id: Uuid,
    done: bool,
) -> AppResult<action_item::Model> {
    viewer.require_scope(ApiScope::ActionItemsWrite)?;
    let tx = store.begin().await?;
    let (item, scope) = find(&tx, viewer, id).await?;
    scope.access.write()?;
    let completed_at = match (done, item.completed_at) {
        (true, Some(already)) => Some(already),
        (true, None) => Some(Utc::now()),
        (false, _) => None,
    };
    let mut active = item.into_active_model();
    active.completed_at = Set(completed_at);
    let item = active.update(&tx).await?;
    announce_update(&tx, viewer, &item).await?;
    tx.commit().await?;
    Ok(item)
}
