//! Agenda items (talking points). Each person edits and removes only their own; either
//! participant adds, reorders, marks discussed. The order is a fractional index, so a move
//! rewrites one row.

use std::collections::HashMap;

use chrono::Utc;
use entity::{agenda_item, enums::TopicCategory, meeting, meeting_event::MeetingEventKind};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, Set,
    sea_query::Expr,
};
use uuid::Uuid;

use super::{
    access::{Role, SeriesScope},
    api_tokens::ApiScope,
    events::{self, NewEvent},
    idempotency, meetings, ordering,
    validate::{optional_text, required_line},
};
use crate::{
    auth::Viewer,
    db::{Store, WriteTx},
    error::{AppError, AppResult},
    ids::{self, NodeKind},
};

const MAX_TITLE_CHARS: usize = 200;
const MAX_DESCRIPTION_CHARS: usize = 2_000;

/// An agenda item a participant may see, with its meeting and scope; `NotFound` otherwise.
pub async fn find(
    conn: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<(agenda_item::Model, meeting::Model, SeriesScope)> {
    let item = agenda_item::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    let (meeting, scope) = meetings::find_for_content(conn, viewer, item.meeting_id).await?;
    Ok((item, meeting, scope))
}

/// An item the viewer may change, on a meeting that is not over.
async fn find_writable(
    conn: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<(agenda_item::Model, meeting::Model, Role)> {
    let (item, meeting, scope) = find(conn, viewer, id).await?;
    let role = scope.access.write()?;
    meetings::require_open(&meeting)?;
    Ok((item, meeting, role))
}

/// The agendas of several meetings, each in order.
pub async fn for_meetings(
    conn: &impl ConnectionTrait,
    meeting_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<agenda_item::Model>>> {
    let items = agenda_item::Entity::find()
        .filter(agenda_item::Column::MeetingId.is_in(meeting_ids.iter().copied()))
        .all(conn)
        .await?;
    let mut by_meeting: HashMap<Uuid, Vec<agenda_item::Model>> = HashMap::new();
    for item in items {
        by_meeting.entry(item.meeting_id).or_default().push(item);
    }
    for agenda in by_meeting.values_mut() {
        sort(agenda);
    }
    Ok(by_meeting)
}

/// Agenda order: by position key, bytewise (independent of any database collation).
fn sort(items: &mut [agenda_item::Model]) {
    items.sort_by(|a, b| {
        a.position
            .as_bytes()
            .cmp(b.position.as_bytes())
            .then(a.id.cmp(&b.id))
    });
}

async fn agenda_of(
    conn: &impl ConnectionTrait,
    meeting_id: Uuid,
) -> AppResult<Vec<agenda_item::Model>> {
    Ok(for_meetings(conn, &[meeting_id])
        .await?
        .remove(&meeting_id)
        .unwrap_or_default())
}

pub struct NewAgendaItem {
    pub meeting_id: Uuid,
    pub title: String,
    pub description: Option<String>,
    pub category: Option<TopicCategory>,
}

/// Adds an item at the end of a meeting's agenda, authored by the viewer.
pub async fn add(
    store: &Store,
    viewer: &Viewer,
    new: NewAgendaItem,
    client_mutation_id: Option<&str>,
) -> AppResult<Uuid> {
    viewer.require_scope(ApiScope::AgendaWrite)?;
    let title = required_line(&new.title, "title", MAX_TITLE_CHARS)?;
    let description = optional_text(new.description, "description", MAX_DESCRIPTION_CHARS)?;
    idempotency::create_once(
        store,
        viewer.id(),
        client_mutation_id,
        "addAgendaItem",
        async |tx| {
            let (meeting, scope) = meetings::find(tx, viewer, new.meeting_id).await?;
            scope.access.write()?;
            meetings::require_open(&meeting)?;
            let last = agenda_of(tx, meeting.id).await?.pop();
            let item = agenda_item::ActiveModel {
                id: Set(Uuid::now_v7()),
                meeting_id: Set(meeting.id),
                author_id: Set(viewer.id()),
                title: Set(title),
                description: Set(description),
                category: Set(new.category.unwrap_or(TopicCategory::Other)),
                position: Set(ordering::between(
                    last.as_ref().map(|l| l.position.as_str()),
                    None,
                )),
                discussed_at: Set(None),
                carried_over_from_id: Set(None),
                created_at: Set(Utc::now()),
            }
            .insert(tx)
            .await?;
            events::record(
                tx,
                meeting.id,
                NewEvent::new(MeetingEventKind::AgendaItemAdded, viewer.id()).agenda_item(item.id),
            )
            .await?;
            Ok(item.id)
        },
    )
    .await
}

/// What `updateAgendaItem` changes: `None` keeps a field; `Some(None)` clears the description.
pub struct AgendaChanges {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub category: Option<TopicCategory>,
}

/// Edits one of the viewer's own items.
pub async fn update(
    store: &Store,
    viewer: &Viewer,
    id: Uuid,
    changes: AgendaChanges,
) -> AppResult<agenda_item::Model> {
    viewer.require_scope(ApiScope::AgendaWrite)?;
    let title = changes
        .title
        .map(|title| required_line(&title, "title", MAX_TITLE_CHARS))
        .transpose()?;
    let description = changes
        .description
        .map(|text| optional_text(text, "description", MAX_DESCRIPTION_CHARS))
        .transpose()?;
    let tx = store.begin().await?;
    let (item, _, _) = find_own(&tx, viewer, id).await?;
    let mut active = item.into_active_model();
    if let Some(title) = title {
        active.title = Set(title);
    }
    if let Some(description) = description {
        active.description = Set(description);
    }
    if let Some(category) = changes.category {
        active.category = Set(category);
    }
    let item = active.update(&tx).await?;
    events::record(
        &tx,
        item.meeting_id,
        NewEvent::new(MeetingEventKind::AgendaItemUpdated, viewer.id()).agenda_item(item.id),
    )
    .await?;
    tx.commit().await?;
    Ok(item)
}

/// Removes one of the viewer's own items (and clears it as the current topic).
pub async fn remove(store: &Store, viewer: &Viewer, id: Uuid) -> AppResult<meeting::Model> {
    viewer.require_scope(ApiScope::AgendaWrite)?;
    let tx = store.begin().await?;
    let (item, meeting, _) = find_own(&tx, viewer, id).await?;
    // Items carried over from this one keep existing; they just lose the link.
    agenda_item::Entity::update_many()
        .col_expr(
            agenda_item::Column::CarriedOverFromId,
            Expr::value(Option::<Uuid>::None),
        )
        .filter(agenda_item::Column::CarriedOverFromId.eq(item.id))
        .exec(&tx)
        .await?;
    meeting::Entity::update_many()
        .col_expr(
            meeting::Column::CurrentTopicId,
            Expr::value(Option::<Uuid>::None),
        )
        .filter(meeting::Column::CurrentTopicId.eq(item.id))
        .exec(&tx)
        .await?;
    agenda_item::Entity::delete_by_id(item.id).exec(&tx).await?;
    let removed = ids::encode(NodeKind::AgendaItem, item.id).0;
    events::record(
        &tx,
        meeting.id,
        NewEvent::new(MeetingEventKind::AgendaItemRemoved, viewer.id()).removed(removed),
    )
    .await?;
    tx.commit().await?;
    Ok(meeting)
}

async fn find_own(
    conn: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<(agenda_item::Model, meeting::Model, Role)> {
    let found = find_writable(conn, viewer, id).await?;
    if found.0.author_id != viewer.id() {
        return Err(AppError::Forbidden);
    }
    Ok(found)
}

/// Moves an item right after another of the same meeting, or to the top (`after: None`).
pub async fn move_after(
    store: &Store,
    viewer: &Viewer,
    id: Uuid,
    after: Option<Uuid>,
) -> AppResult<meeting::Model> {
    viewer.require_scope(ApiScope::AgendaWrite)?;
    let tx = store.begin().await?;
    let (item, meeting, _) = find_writable(&tx, viewer, id).await?;
    let others: Vec<agenda_item::Model> = agenda_of(&tx, meeting.id)
        .await?
        .into_iter()
        .filter(|other| other.id != item.id)
        .collect();
    let index = match after {
        None => 0,
        Some(after) => {
            let position = others
                .iter()
                .position(|other| other.id == after)
                .ok_or_else(|| {
                    AppError::bad_input(
                        "afterAgendaItemId must be another item of the same meeting",
                    )
                })?;
            position + 1
        }
    };
    let before_key = index.checked_sub(1).map(|i| others[i].position.as_str());
    let after_key = others.get(index).map(|next| next.position.as_str());
    let key = ordering::between(before_key, after_key);
    if key.len() > ordering::MAX_KEY_LEN {
        let mut ordered = others;
        ordered.insert(index, item);
        renumber(&tx, &ordered).await?;
    } else {
        set_position(&tx, item.id, key).await?;
    }
    events::record(
        &tx,
        meeting.id,
        NewEvent::new(MeetingEventKind::AgendaItemMoved, viewer.id()).agenda_item(id),
    )
    .await?;
    tx.commit().await?;
    Ok(meeting)
}

async fn set_position(conn: &impl ConnectionTrait, id: Uuid, key: String) -> AppResult<()> {
    agenda_item::Entity::update_many()
        .col_expr(agenda_item::Column::Position, Expr::value(key))
        .filter(agenda_item::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Gives a whole agenda fresh, short keys in the given order; rare (keys grew too long).
async fn renumber(conn: &impl ConnectionTrait, ordered: &[agenda_item::Model]) -> AppResult<()> {
    for (item, key) in ordered.iter().zip(ordering::spread(ordered.len())) {
        set_position(conn, item.id, key).await?;
    }
    Ok(())
}

/// Marks an item discussed, or not.
pub async fn set_discussed(
    store: &Store,
    viewer: &Viewer,
    id: Uuid,
    discussed: bool,
) -> AppResult<agenda_item::Model> {
    viewer.require_scope(ApiScope::AgendaWrite)?;
    let tx = store.begin().await?;
    let (item, _, _) = find_writable(&tx, viewer, id).await?;
    let mut active = item.into_active_model();
    active.discussed_at = Set(discussed.then(Utc::now));
    let item = active.update(&tx).await?;
    events::record(
        &tx,
        item.meeting_id,
        NewEvent::new(MeetingEventKind::AgendaItemUpdated, viewer.id()).agenda_item(item.id),
    )
    .await?;
    tx.commit().await?;
    Ok(item)
}

/// `NotFound` unless the item is on that meeting.
pub async fn require_on_meeting(
    conn: &impl ConnectionTrait,
    item_id: Uuid,
    meeting_id: Uuid,
) -> AppResult<()> {
    agenda_item::Entity::find_by_id(item_id)
        .filter(agenda_item::Column::MeetingId.eq(meeting_id))
        .one(conn)
        .await?
        .map(|_| ())
        .ok_or(AppError::NotFound)
}

/// Copies the undiscussed items of one meeting to the end of another's agenda, linked to their
/// originals, keeping their order.
pub async fn carry_over(tx: &WriteTx, actor_id: Uuid, from: Uuid, to: Uuid) -> AppResult<()> {
    let open: Vec<agenda_item::Model> = agenda_of(tx, from)
        .await?
        .into_iter()
        .filter(|item| item.discussed_at.is_none())
        .collect();
    if open.is_empty() {
        return Ok(());
    }
    let mut last = agenda_of(tx, to).await?.pop().map(|item| item.position);
    let now = Utc::now();
    let mut copies = Vec::with_capacity(open.len());
    for item in open {
        let position = ordering::between(last.as_deref(), None);
        last = Some(position.clone());
        copies.push(agenda_item::ActiveModel {
            id: Set(Uuid::now_v7()),
            meeting_id: Set(to),
            author_id: Set(item.author_id),
            title: Set(item.title),
            description: Set(item.description),
            category: Set(item.category),
            position: Set(position),
            discussed_at: Set(None),
            carried_over_from_id: Set(Some(item.id)),
            created_at: Set(now),
        });
    }
    let added: Vec<Uuid> = copies
        .iter()
        .filter_map(|copy| copy.id.clone().take())
        .collect();
    agenda_item::Entity::insert_many(copies).exec(tx).await?;
    for id in added {
        events::record(
            tx,
            to,
            NewEvent::new(MeetingEventKind::AgendaItemAdded, actor_id).agenda_item(id),
        )
        .await?;
    }
    Ok(())
}
