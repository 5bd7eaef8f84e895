//! `ActionItem` and its mutations.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use entity::action_item;

use super::{
    agenda::meeting_in_scope,
    context::ContextExt,
    meetings::Meeting,
    scoped::{InSeries, in_series},
    series::{OneOnOne, participant},
    users::User,
};
use crate::{
    domain::{
        access::SeriesScope,
        action_items::{self, ActionItemChanges, NewActionItem},
    },
    error::AppResult,
    ids::{self, NodeKind},
};

/// A follow-up owned by one of the two participants.
pub struct ActionItem {
    pub model: action_item::Model,
    pub scope: Arc<SeriesScope>,
}

in_series!(ActionItem, action_item::Model);

impl ActionItem {
    async fn load(ctx: &Context<'_>, id: uuid::Uuid) -> AppResult<Self> {
        let viewer = ctx.viewer()?;
        let (model, scope) = action_items::find(&ctx.state()?.store.db, &viewer, id).await?;
        Ok(Self::new(model, Arc::new(scope)))
    }
}

#[Object]
impl ActionItem {
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::ActionItem, self.model.id)
    }

    async fn one_on_one(&self) -> OneOnOne {
        OneOnOne {
            scope: self.scope.clone(),
        }
    }

    /// The meeting it was created in.
    async fn meeting(&self, ctx: &Context<'_>) -> AppResult<Option<Meeting>> {
        match self.model.meeting_id {
            Some(id) => Ok(Some(meeting_in_scope(ctx, id, &self.scope).await?)),
            None => Ok(None),
        }
    }

    async fn assignee(&self, ctx: &Context<'_>) -> AppResult<User> {
        participant(ctx, self.model.assignee_id).await
    }

    async fn created_by(&self, ctx: &Context<'_>) -> AppResult<User> {
        participant(ctx, self.model.created_by_id).await
    }

    async fn title(&self) -> &str {
        &self.model.title
    }

    async fn due_on(&self) -> Option<NaiveDate> {
        self.model.due_on
    }

    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.model.completed_at
    }
}

#[derive(InputObject)]
pub struct CreateActionItemInput {
    pub meeting_id: ID,
    pub title: String,
    /// The manager or the report of the series.
    pub assignee_id: ID,
    pub due_on: Option<NaiveDate>,
    pub client_mutation_id: Option<String>,
}

#[derive(SimpleObject)]
pub struct CreateActionItemPayload {
    pub action_item: ActionItem,
    pub client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub struct UpdateActionItemInput {
    pub action_item_id: ID,
    pub title: Option<String>,
    pub assignee_id: Option<ID>,
    /// Null clears the due date; leaving it out keeps it.
    pub due_on: MaybeUndefined<NaiveDate>,
}

#[derive(InputObject)]
pub struct SetActionItemDoneInput {
    pub action_item_id: ID,
    pub done: bool,
}

/// A payload holding the changed action item.
#[derive(SimpleObject)]
#[graphql(concrete(name = "UpdateActionItemPayload", params(UpdateKind)))]
#[graphql(concrete(name = "SetActionItemDonePayload", params(DoneKind)))]
pub struct ActionItemPayload<Kind: Send + Sync + 'static> {
    pub action_item: ActionItem,
    #[graphql(skip)]
    kind: std::marker::PhantomData<Kind>,
}

pub struct UpdateKind;
pub struct DoneKind;

#[derive(Default)]
pub struct ActionItemMutation;

#[Object]
impl ActionItemMutation {
    /// Records a follow-up from a meeting.
    async fn create_action_item(
        &self,
        ctx: &Context<'_>,
        input: CreateActionItemInput,
    ) -> AppResult<CreateActionItemPayload> {
        let viewer = ctx.viewer()?;
        let id = action_items::create(
            &ctx.state()?.store,
            &viewer,
            NewActionItem {
                meeting_id: ids::decode_as(NodeKind::Meeting, &input.meeting_id)?,
                title: input.title,
                assignee_id: ids::decode_as(NodeKind::User, &input.assignee_id)?,
                due_on: input.due_on,
            },
            input.client_mutation_id.as_deref(),
        )
        .await?;
        Ok(CreateActionItemPayload {
            action_item: ActionItem::load(ctx, id).await?,
            client_mutation_id: input.client_mutation_id,
        })
    }

    /// Changes an action item's title, assignee or due date.
    async fn update_action_item(
        &self,
        ctx: &Context<'_>,
        input: UpdateActionItemInput,
    ) -> AppResult<ActionItemPayload<UpdateKind>> {
        let viewer = ctx.viewer()?;
        let id = ids::decode_as(NodeKind::ActionItem, &input.action_item_id)?;
        action_items::update(
            &ctx.state()?.store,
            &viewer,
            id,
            ActionItemChanges {
                title: input.title,
                assignee_id: ids::decode_optional(NodeKind::User, input.assignee_id.as_ref())?,
                due_on: input.due_on.into(),
            },
        )
        .await?;
        Ok(ActionItemPayload {
            action_item: ActionItem::load(ctx, id).await?,
            kind: std::marker::PhantomData,
        })
    }

    /// Marks an action item done (or open again).
    async fn set_action_item_done(
        &self,
        ctx: &Context<'_>,
        input: SetActionItemDoneInput,
    ) -> AppResult<ActionItemPayload<DoneKind>> {
        let viewer = ctx.viewer()?;
        let id = ids::decode_as(NodeKind::ActionItem, &input.action_item_id)?;
        action_items::set_done(&ctx.state()?.store, &viewer, id, input.done).await?;
        Ok(ActionItemPayload {
            action_item: ActionItem::load(ctx, id).await?,
            kind: std::marker::PhantomData,
        })
    }
}
