//! `OneOnOne`: a manager–report series, and `updateOneOnOne`.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::meeting;

use super::{
    action_items::ActionItem,
    context::ContextExt,
    enums::{Cadence, MeetingFormat, MeetingLead},
    meetings::Meeting,
    pagination::{self, Page},
    scoped::InSeries,
    users::User,
};
use crate::{
    domain::{
        access::SeriesScope,
        series::{self, SeriesChanges},
    },
    error::{AppError, AppResult},
    ids::{self, NodeKind},
};

/// A 1:1 series between a manager and one of their reports.
pub struct OneOnOne {
    pub scope: Arc<SeriesScope>,
}

/// Loads a participant of a series the viewer may see (who takes part is series metadata).
pub async fn participant(ctx: &Context<'_>, id: uuid::Uuid) -> AppResult<User> {
    ctx.loaders()?
        .user(id)
        .await?
        .map(User)
        .ok_or_else(|| AppError::internal("a series participant is missing"))
}

#[Object]
impl OneOnOne {
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::OneOnOne, self.scope.series.id)
    }

    async fn manager(&self, ctx: &Context<'_>) -> AppResult<User> {
        participant(ctx, self.scope.series.manager_id).await
    }

    async fn report(&self, ctx: &Context<'_>) -> AppResult<User> {
        participant(ctx, self.scope.series.report_id).await
    }

    async fn cadence(&self) -> Cadence {
        self.scope.series.cadence.into()
    }

    async fn default_format(&self) -> MeetingFormat {
        self.scope.series.default_format.into()
    }

    async fn default_duration_minutes(&self) -> i32 {
        self.scope.series.default_duration_minutes
    }

    async fn lead(&self) -> MeetingLead {
        self.scope.series.lead.into()
    }

    /// When the reporting line ended; the series is read-only from then on.
    async fn archived_at(&self) -> Option<DateTime<Utc>> {
        self.scope.series.archived_at
    }

    /// The earliest meeting still scheduled or in progress.
    async fn next_meeting(&self, ctx: &Context<'_>) -> AppResult<Option<Meeting>> {
        let next = ctx
            .loaders()?
            .next_meeting_by_series
            .load_one(self.scope.series.id)
            .await?;
        Ok(next.map(|model| Meeting::new(model, self.scope.clone())))
    }

    /// Every meeting of the series, in the order they were scheduled.
    #[graphql(complexity = "pagination::cost(first, child_complexity)")]
    async fn meetings(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> AppResult<Page<Meeting>> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let select =
            meeting::Entity::find().filter(meeting::Column::OneOnOneId.eq(self.scope.series.id));
        pagination::paginate(
            &ctx.state()?.store.db,
            select,
            meeting::Column::Id,
            |meeting| meeting.id,
            first,
            after,
            |model| Ok(Meeting::new(model, self.scope.clone())),
        )
        .await
    }

    /// Every action item of the series not done yet, whichever meeting it came from.
    async fn open_action_items(&self, ctx: &Context<'_>) -> AppResult<Vec<ActionItem>> {
        self.scope.read_meeting_content()?;
        let items = ctx
            .loaders()?
            .open_action_items_by_series
            .load_one(self.scope.series.id)
            .await?
            .unwrap_or_default();
        Ok(ActionItem::wrap_all(items, &self.scope))
    }
}

#[derive(InputObject)]
pub struct UpdateOneOnOneInput {
    pub one_on_one_id: ID,
    pub cadence: Option<Cadence>,
    pub default_format: Option<MeetingFormat>,
    /// 5 to 480.
    pub default_duration_minutes: Option<i32>,
    pub lead: Option<MeetingLead>,
}

#[derive(SimpleObject)]
pub struct UpdateOneOnOnePayload {
    pub one_on_one: OneOnOne,
}

#[derive(Default)]
pub struct SeriesMutation;

#[Object]
impl SeriesMutation {
    /// Changes how a series runs: cadence, usual format and duration, who leads.
    async fn update_one_on_one(
        &self,
        ctx: &Context<'_>,
        input: UpdateOneOnOneInput,
    ) -> AppResult<UpdateOneOnOnePayload> {
        let viewer = ctx.viewer()?;
        let id = ids::decode_as(NodeKind::OneOnOne, &input.one_on_one_id)?;
        let series = series::update(
            &ctx.state()?.store.db,
            &viewer,
            id,
            SeriesChanges {
                cadence: input.cadence.map(Into::into),
                default_format: input.default_format.map(Into::into),
                default_duration_minutes: input.default_duration_minutes,
                lead: input.lead.map(Into::into),
            },
        )
        .await?;
        Ok(UpdateOneOnOnePayload {
            one_on_one: OneOnOne {
                scope: Arc::new(SeriesScope::new(&viewer, series)?),
            },
        })
    }
}
