//! `Note` and the note mutations.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::note;

use super::{
    agenda::meeting_in_scope,
    context::ContextExt,
    enums::NoteVisibility,
    meetings::Meeting,
    scoped::{InSeries, in_series},
    series::participant,
    users::User,
};
use crate::{
    domain::{
        access::SeriesScope,
        notes::{self, NewNote},
    },
    error::AppResult,
    ids::{self, NodeKind},
};

/// A markdown note on a meeting: shared by both participants, or private to its author.
pub struct Note {
    pub model: note::Model,
    pub scope: Arc<SeriesScope>,
}

in_series!(Note, note::Model);

impl Note {
    async fn load(ctx: &Context<'_>, id: uuid::Uuid) -> AppResult<Self> {
        let viewer = ctx.viewer()?;
        let (model, scope) = notes::find(&ctx.state()?.store.db, &viewer, id).await?;
        Ok(Self::new(model, Arc::new(scope)))
    }
}

#[Object]
impl Note {
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::Note, self.model.id)
    }

    async fn meeting(&self, ctx: &Context<'_>) -> AppResult<Meeting> {
        meeting_in_scope(ctx, self.model.meeting_id, &self.scope).await
    }

    async fn author(&self, ctx: &Context<'_>) -> AppResult<User> {
        participant(ctx, self.model.author_id).await
    }

    async fn visibility(&self) -> NoteVisibility {
        self.model.visibility.into()
    }

    /// Markdown.
    async fn body(&self, ctx: &Context<'_>) -> AppResult<String> {
        notes::body(&ctx.state()?.data_key, &self.model)
    }

    /// Increases with every edit; `updateNote` must name the version it was based on.
    async fn version(&self) -> i32 {
        self.model.version
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.model.created_at
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.model.updated_at
    }
}

#[derive(InputObject)]
pub struct CreateNoteInput {
    pub meeting_id: ID,
    pub visibility: NoteVisibility,
    /// Markdown, at most 100,000 characters.
    pub body: String,
    pub client_mutation_id: Option<String>,
}

#[derive(SimpleObject)]
pub struct CreateNotePayload {
    pub note: Note,
    pub client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub struct UpdateNoteInput {
    pub note_id: ID,
    pub body: String,
    /// The version this edit is based on; if the note has moved on, the edit is refused with
    /// `CONFLICT` and `extensions.currentVersion`.
    pub expected_version: i32,
}

#[derive(SimpleObject)]
pub struct UpdateNotePayload {
    pub note: Note,
}

#[derive(InputObject)]
pub struct DeleteNoteInput {
    pub note_id: ID,
}

#[derive(SimpleObject)]
pub struct DeleteNotePayload {
    pub deleted_note_id: ID,
}

#[derive(Default)]
pub struct NoteMutation;

#[Object]
impl NoteMutation {
    /// Writes a note on a meeting.
    async fn create_note(
        &self,
        ctx: &Context<'_>,
        input: CreateNoteInput,
    ) -> AppResult<CreateNotePayload> {
        let viewer = ctx.viewer()?;
        let state = ctx.state()?;
        let id = notes::create(
            &state.store,
            &state.data_key,
            &viewer,
            NewNote {
                meeting_id: ids::decode_as(NodeKind::Meeting, &input.meeting_id)?,
                visibility: input.visibility.into(),
                body: input.body,
            },
            input.client_mutation_id.as_deref(),
        )
        .await?;
        Ok(CreateNotePayload {
            note: Note::load(ctx, id).await?,
            client_mutation_id: input.client_mutation_id,
        })
    }

    /// Replaces a note's body, if nobody changed it since `expectedVersion`.
    async fn update_note(
        &self,
        ctx: &Context<'_>,
        input: UpdateNoteInput,
    ) -> AppResult<UpdateNotePayload> {
        let viewer = ctx.viewer()?;
        let state = ctx.state()?;
        let id = ids::decode_as(NodeKind::Note, &input.note_id)?;
        let model = notes::update(
            &state.store,
            &state.data_key,
            &viewer,
            id,
            &input.body,
            input.expected_version,
        )
        .await?;
        let (_, scope) = notes::find(&state.store.db, &viewer, model.id).await?;
        Ok(UpdateNotePayload {
            note: Note::new(model, Arc::new(scope)),
        })
    }

    /// Deletes one of your own notes.
    async fn delete_note(
        &self,
        ctx: &Context<'_>,
        input: DeleteNoteInput,
    ) -> AppResult<DeleteNotePayload> {
        let viewer = ctx.viewer()?;
        let id = ids::decode_as(NodeKind::Note, &input.note_id)?;
        notes::delete(&ctx.state()?.store, &viewer, id).await?;
        Ok(DeleteNotePayload {
            deleted_note_id: input.note_id,
        })
    }
}
