//! `CheckIn` and `submitCheckIn`.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::check_in;

use super::{
    agenda::meeting_in_scope,
    context::ContextExt,
    meetings::Meeting,
    scoped::{InSeries, in_series},
    series::participant,
    users::User,
};
use crate::{
    domain::{
        access::SeriesScope,
        check_ins::{self, NewCheckIn},
    },
    error::AppResult,
    ids::{self, NodeKind},
};

/// The report's mood at a meeting.
pub struct CheckIn {
    pub model: check_in::Model,
    pub scope: Arc<SeriesScope>,
}

in_series!(CheckIn, check_in::Model);

#[Object]
impl CheckIn {
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::CheckIn, self.model.id)
    }

    async fn meeting(&self, ctx: &Context<'_>) -> AppResult<Meeting> {
        meeting_in_scope(ctx, self.model.meeting_id, &self.scope).await
    }

    async fn author(&self, ctx: &Context<'_>) -> AppResult<User> {
        participant(ctx, self.model.author_id).await
    }

    /// 1 (low) to 5 (high).
    async fn mood(&self) -> i32 {
        self.model.mood
    }

    async fn comment(&self) -> Option<&str> {
        self.model.comment.as_deref()
    }

    /// False: the report keeps it to themselves.
    async fn shared_with_manager(&self) -> bool {
        self.model.shared_with_manager
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.model.created_at
    }
}

#[derive(InputObject)]
pub struct SubmitCheckInInput {
    pub meeting_id: ID,
    /// 1 to 5.
    pub mood: i32,
    pub comment: Option<String>,
    pub shared_with_manager: bool,
    pub client_mutation_id: Option<String>,
}

#[derive(SimpleObject)]
pub struct SubmitCheckInPayload {
    pub check_in: CheckIn,
    pub client_mutation_id: Option<String>,
}

#[derive(Default)]
pub struct CheckInMutation;

#[Object]
impl CheckInMutation {
    /// The report's check-in for a meeting; submitting again replaces it.
    async fn submit_check_in(
        &self,
        ctx: &Context<'_>,
        input: SubmitCheckInInput,
    ) -> AppResult<SubmitCheckInPayload> {
        let viewer = ctx.viewer()?;
        let store = &ctx.state()?.store;
        let id = check_ins::submit(
            store,
            &viewer,
            NewCheckIn {
                meeting_id: ids::decode_as(NodeKind::Meeting, &input.meeting_id)?,
                mood: input.mood,
                comment: input.comment,
                shared_with_manager: input.shared_with_manager,
            },
            input.client_mutation_id.as_deref(),
        )
        .await?;
        let (model, scope) = check_ins::find(&store.db, &viewer, id).await?;
        Ok(SubmitCheckInPayload {
            check_in: CheckIn::new(model, Arc::new(scope)),
            client_mutation_id: input.client_mutation_id,
        })
    }
}
