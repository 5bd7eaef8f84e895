//! `AgendaItem` and the agenda mutations.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::agenda_item;

use super::{
    context::ContextExt,
    enums::TopicCategory,
    meetings::{Meeting, MeetingPayload, MoveKind},
    scoped::{InSeries, in_series},
    series::participant,
    users::User,
};
use crate::{
    domain::{
        access::SeriesScope,
        agenda::{self, AgendaChanges, NewAgendaItem},
    },
    error::AppResult,
    ids::{self, NodeKind},
};

/// A talking point on a meeting's agenda.
pub struct AgendaItem {
    pub model: agenda_item::Model,
    pub scope: Arc<SeriesScope>,
}

in_series!(AgendaItem, agenda_item::Model);

impl AgendaItem {
    async fn load(ctx: &Context<'_>, id: uuid::Uuid) -> AppResult<Self> {
        let viewer = ctx.viewer()?;
        let (model, _, scope) = agenda::find(&ctx.state()?.store.db, &viewer, id).await?;
        Ok(Self::new(model, Arc::new(scope)))
    }
}

/// The meeting a content object sits on, by id, within the same series.
pub async fn meeting_in_scope(
    ctx: &Context<'_>,
    meeting_id: uuid::Uuid,
    scope: &Arc<SeriesScope>,
) -> AppResult<Meeting> {
    ctx.loaders()?
        .meeting_by_id
        .load_one(meeting_id)
        .await?
        .filter(|meeting| meeting.one_on_one_id == scope.series.id)
        .map(|model| Meeting::new(model, scope.clone()))
        .ok_or(crate::error::AppError::NotFound)
}

#[Object]
impl AgendaItem {
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::AgendaItem, self.model.id)
    }

    async fn meeting(&self, ctx: &Context<'_>) -> AppResult<Meeting> {
        meeting_in_scope(ctx, self.model.meeting_id, &self.scope).await
    }

    async fn author(&self, ctx: &Context<'_>) -> AppResult<User> {
        participant(ctx, self.model.author_id).await
    }

    async fn title(&self) -> &str {
        &self.model.title
    }

    async fn description(&self) -> Option<&str> {
        self.model.description.as_deref()
    }

    async fn category(&self) -> TopicCategory {
        self.model.category.into()
    }

    async fn discussed_at(&self) -> Option<DateTime<Utc>> {
        self.model.discussed_at
    }

    /// The item of an earlier meeting this one continues.
    async fn carried_over_from(&self, ctx: &Context<'_>) -> AppResult<Option<AgendaItem>> {
        let Some(id) = self.model.carried_over_from_id else {
            return Ok(None);
        };
        let Some(original) = ctx.loaders()?.agenda_item_by_id.load_one(id).await? else {
            return Ok(None);
        };
        // Only ever within the same series.
        meeting_in_scope(ctx, original.meeting_id, &self.scope).await?;
        Ok(Some(Self::new(original, self.scope.clone())))
    }
}

#[derive(InputObject)]
pub struct AddAgendaItemInput {
    pub meeting_id: ID,
    /// 1 to 200 characters.
    pub title: String,
    pub description: Option<String>,
    /// Defaults to `OTHER`.
    pub category: Option<TopicCategory>,
    pub client_mutation_id: Option<String>,
}

#[derive(SimpleObject)]
pub struct AddAgendaItemPayload {
    pub agenda_item: AgendaItem,
    pub client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub struct UpdateAgendaItemInput {
    pub agenda_item_id: ID,
    pub title: Option<String>,
    /// Null clears the description; leaving it out keeps it.
    pub description: MaybeUndefined<String>,
    pub category: Option<TopicCategory>,
}

#[derive(InputObject)]
pub struct SetAgendaItemDiscussedInput {
    pub agenda_item_id: ID,
    pub discussed: bool,
}

/// A payload holding the changed agenda item.
#[derive(SimpleObject)]
#[graphql(concrete(name = "UpdateAgendaItemPayload", params(UpdateKind)))]
#[graphql(concrete(name = "SetAgendaItemDiscussedPayload", params(DiscussedKind)))]
pub struct AgendaItemPayload<Kind: Send + Sync + 'static> {
    pub agenda_item: AgendaItem,
    #[graphql(skip)]
    kind: std::marker::PhantomData<Kind>,
}

pub struct UpdateKind;
pub struct DiscussedKind;

#[derive(InputObject)]
pub struct MoveAgendaItemInput {
    pub agenda_item_id: ID,
    /// The item to place it after; null moves it to the top.
    pub after_agenda_item_id: Option<ID>,
}

#[derive(InputObject)]
pub struct RemoveAgendaItemInput {
    pub agenda_item_id: ID,
}

#[derive(SimpleObject)]
pub struct RemoveAgendaItemPayload {
    pub removed_agenda_item_id: ID,
}

#[derive(Default)]
pub struct AgendaMutation;

#[Object]
impl AgendaMutation {
    /// Adds a talking point at the end of a meeting's agenda.
    async fn add_agenda_item(
        &self,
        ctx: &Context<'_>,
        input: AddAgendaItemInput,
    ) -> AppResult<AddAgendaItemPayload> {
        let viewer = ctx.viewer()?;
        let id = agenda::add(
            &ctx.state()?.store,
            &viewer,
            NewAgendaItem {
                meeting_id: ids::decode_as(NodeKind::Meeting, &input.meeting_id)?,
                title: input.title,
                description: input.description,
                category: input.category.map(Into::into),
            },
            input.client_mutation_id.as_deref(),
        )
        .await?;
        Ok(AddAgendaItemPayload {
            agenda_item: AgendaItem::load(ctx, id).await?,
            client_mutation_id: input.client_mutation_id,
        })
    }

    /// Edits one of your own talking points.
    async fn update_agenda_item(
        &self,
        ctx: &Context<'_>,
        input: UpdateAgendaItemInput,
    ) -> AppResult<AgendaItemPayload<UpdateKind>> {
        let viewer = ctx.viewer()?;
        let id = ids::decode_as(NodeKind::AgendaItem, &input.agenda_item_id)?;
        agenda::update(
            &ctx.state()?.store,
            &viewer,
            id,
            AgendaChanges {
                title: input.title,
                description: input.description.into(),
                category: input.category.map(Into::into),
            },
        )
        .await?;
        Ok(AgendaItemPayload {
            agenda_item: AgendaItem::load(ctx, id).await?,
            kind: std::marker::PhantomData,
        })
    }

    /// Moves a talking point after another one of the same meeting, or to the top.
    async fn move_agenda_item(
        &self,
        ctx: &Context<'_>,
        input: MoveAgendaItemInput,
    ) -> AppResult<MeetingPayload<MoveKind>> {
        let viewer = ctx.viewer()?;
        let id = ids::decode_as(NodeKind::AgendaItem, &input.agenda_item_id)?;
        let after =
            ids::decode_optional(NodeKind::AgendaItem, input.after_agenda_item_id.as_ref())?;
        let meeting = agenda::move_after(&ctx.state()?.store, &viewer, id, after).await?;
        Ok(MeetingPayload::new(Meeting::load(ctx, meeting.id).await?))
    }

    /// Marks a talking point discussed (or not).
    async fn set_agenda_item_discussed(
        &self,
        ctx: &Context<'_>,
        input: SetAgendaItemDiscussedInput,
    ) -> AppResult<AgendaItemPayload<DiscussedKind>> {
        let viewer = ctx.viewer()?;
        let id = ids::decode_as(NodeKind::AgendaItem, &input.agenda_item_id)?;
        agenda::set_discussed(&ctx.state()?.store, &viewer, id, input.discussed).await?;
        Ok(AgendaItemPayload {
            agenda_item: AgendaItem::load(ctx, id).await?,
            kind: std::marker::PhantomData,
        })
    }

    /// Removes one of your own talking points.
    async fn remove_agenda_item(
        &self,
        ctx: &Context<'_>,
        input: RemoveAgendaItemInput,
    ) -> AppResult<RemoveAgendaItemPayload> {
        let viewer = ctx.viewer()?;
        let id = ids::decode_as(NodeKind::AgendaItem, &input.agenda_item_id)?;
        agenda::remove(&ctx.state()?.store, &viewer, id).await?;
        Ok(RemoveAgendaItemPayload {
            removed_agenda_item_id: input.agenda_item_id,
        })
    }
}
