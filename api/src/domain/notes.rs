//! Notes on a meeting. Shared notes belong to both participants; a private note exists for its
//! author alone (everyone else gets `NotFound`, on every path) and its body is stored only
//! sealed with the server's data key. Every edit names the version it was based on.

use std::collections::HashMap;

use chrono::Utc;
use entity::{enums::NoteVisibility, meeting_event::MeetingEventKind, note};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, Set,
    sea_query::{Expr, ExprTrait},
};
use secrecy::SecretBox;
use uuid::Uuid;

use super::{
    access::{Role, SeriesScope},
    api_tokens::ApiScope,
    crypto,
    events::{self, NewEvent},
    idempotency, meetings,
};
use crate::{
    auth::Viewer,
    db::Store,
    error::{AppError, AppResult},
    ids::{self, NodeKind},
};

pub const MAX_BODY_CHARS: usize = 100_000;

/// SQL form of "notes the viewer may read", given they are a participant of the meeting.
pub fn readable_by(viewer: &Viewer) -> Condition {
    let shared = Condition::any().add(note::Column::Visibility.eq(NoteVisibility::Shared));
    if viewer.sees_own_private() {
        shared.add(note::Column::AuthorId.eq(viewer.id()))
    } else {
        shared
    }
}

/// An event about a private note reaches its author alone (on the `role` side of the series).
fn about(event: NewEvent, visibility: NoteVisibility, author: &Viewer, role: Role) -> NewEvent {
    match visibility {
        NoteVisibility::Private => event.private_to(author.id(), role),
        NoteVisibility::Shared => event,
    }
}

/// Whether the viewer (a participant of the note's meeting) may read it.
pub fn can_read(viewer: &Viewer, note: &note::Model) -> bool {
    note.visibility == NoteVisibility::Shared
        || (note.author_id == viewer.id() && viewer.sees_own_private())
}

/// A note the viewer may read, with its scope; `NotFound` otherwise.
pub async fn find(
    conn: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<(note::Model, SeriesScope)> {
    let note = note::Entity::find_by_id(id)
        .one(conn)
        .await?
        .filter(|note| can_read(viewer, note))
        .ok_or(AppError::NotFound)?;
    let (_, scope) =
        meetings::find_content_needing(conn, viewer, note.meeting_id, ApiScope::NotesRead).await?;
    Ok((note, scope))
}

/// The notes the viewer may read on several meetings (whose content they may reach), oldest
/// first.
pub async fn for_meetings(
    conn: &impl ConnectionTrait,
    viewer: &Viewer,
    meeting_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<note::Model>>> {
    let notes = note::Entity::find()
        .filter(note::Column::MeetingId.is_in(meeting_ids.iter().copied()))
        .filter(readable_by(viewer))
        .order_by_asc(note::Column::Id)
        .all(conn)
        .await?;
    let mut by_meeting: HashMap<Uuid, Vec<note::Model>> = HashMap::new();
    for note in notes {
        by_meeting.entry(note.meeting_id).or_default().push(note);
    }
    Ok(by_meeting)
}

/// The note's body in clear.
pub fn body(data_key: &SecretBox<[u8; 32]>, note: &note::Model) -> AppResult<String> {
    match (&note.body, &note.sealed_body) {
        (_, Some(sealed)) => crypto::open(data_key, note.id, sealed),
        (Some(body), None) => Ok(body.clone()),
        (None, None) => Ok(String::new()),
    }
}

/// The stored form of a body: in clear for shared notes, sealed for private ones.
fn stored_body(
    data_key: &SecretBox<[u8; 32]>,
    id: Uuid,
    visibility: NoteVisibility,
    body: &str,
) -> AppResult<(Option<String>, Option<Vec<u8>>)> {
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(AppError::bad_input(format!(
            "body must be at most {MAX_BODY_CHARS} characters"
        )));
    }
    Ok(match visibility {
        NoteVisibility::Shared => (Some(body.to_owned()), None),
        NoteVisibility::Private => (None, Some(crypto::seal(data_key, id, body)?)),
    })
}

pub struct NewNote {
    pub meeting_id: Uuid,
    pub visibility: NoteVisibility,
    pub body: String,
}

pub async fn create(
    store: &Store,
    data_key: &SecretBox<[u8; 32]>,
    viewer: &Viewer,
    new: NewNote,
    client_mutation_id: Option<&str>,
) -> AppResult<Uuid> {
    viewer.require_scope(ApiScope::NotesWrite)?;
    if new.visibility == NoteVisibility::Private && !viewer.sees_own_private() {
        // No scope ever reaches private notes.
        return Err(AppError::Forbidden);
    }
    let id = Uuid::now_v7();
    let (body, sealed_body) = stored_body(data_key, id, new.visibility, &new.body)?;
    idempotency::create_once(
        store,
        viewer.id(),
        client_mutation_id,
        "createNote",
        async |tx| {
            let (meeting, scope) =
                meetings::find_needing(tx, viewer, new.meeting_id, ApiScope::NotesWrite).await?;
            let role = scope.access.write()?;
            let now = Utc::now();
            note::ActiveModel {
                id: Set(id),
                meeting_id: Set(meeting.id),
                author_id: Set(viewer.id()),
                visibility: Set(new.visibility),
                body: Set(body),
                sealed_body: Set(sealed_body),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(tx)
            .await?;
            let event = about(
                NewEvent::new(MeetingEventKind::NoteCreated, viewer.id()).note(id),
                new.visibility,
                viewer,
                role,
            );
            events::record(tx, meeting.id, event).await?;
            Ok(id)
        },
    )
    .await
}

/// Replaces a note's body if it is still at `expected_version`; otherwise `Conflict` with the
/// current version, so no edit is silently lost.
pub async fn update(
    store: &Store,
    data_key: &SecretBox<[u8; 32]>,
    viewer: &Viewer,
    id: Uuid,
    body: &str,
    expected_version: i32,
) -> AppResult<note::Model> {
    viewer.require_scope(ApiScope::NotesWrite)?;
    let tx = store.begin().await?;
    let (note, scope) = find(&tx, viewer, id).await?;
    let role = scope.access.write()?;
    let (body, sealed_body) = stored_body(data_key, note.id, note.visibility, body)?;
    let updated = note::Entity::update_many()
        .col_expr(note::Column::Body, Expr::value(body))
        .col_expr(note::Column::SealedBody, Expr::value(sealed_body))
        .col_expr(
            note::Column::Version,
            Expr::col(note::Column::Version).add(1),
        )
        .col_expr(note::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(note::Column::Id.eq(id))
        .filter(note::Column::Version.eq(expected_version))
        .exec(&tx)
        .await?;
    let current = note::Entity::find_by_id(id)
        .one(&tx)
        .await?
        .ok_or(AppError::NotFound)?;
    if updated.rows_affected == 0 {
        return Err(AppError::Conflict {
            message: format!(
                "the note changed since version {expected_version}; it is now at version {}",
                current.version
            ),
            current_version: Some(current.version),
        });
    }
    let event = about(
        NewEvent::new(MeetingEventKind::NoteUpdated, viewer.id()).note(id),
        current.visibility,
        viewer,
        role,
    );
    events::record(&tx, current.meeting_id, event).await?;
    tx.commit().await?;
    Ok(current)
}

/// Deletes one of the viewer's own notes.
pub async fn delete(store: &Store, viewer: &Viewer, id: Uuid) -> AppResult<note::Model> {
    viewer.require_scope(ApiScope::NotesWrite)?;
    let tx = store.begin().await?;
    let (note, scope) = find(&tx, viewer, id).await?;
    let role = scope.access.write()?;
    if note.author_id != viewer.id() {
        return Err(AppError::Forbidden);
    }
    note::Entity::delete_by_id(id).exec(&tx).await?;
    let removed = NewEvent::new(MeetingEventKind::NoteDeleted, viewer.id())
        .removed(ids::encode(NodeKind::Note, id).0);
    events::record(
        &tx,
        note.meeting_id,
        about(removed, note.visibility, viewer, role),
    )
    .await?;
    tx.commit().await?;
    Ok(note)
}
