//! `Meeting` and the mutations that move it through its life cycle.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::meeting;

use super::{
    action_items::ActionItem,
    agenda::AgendaItem,
    check_ins::CheckIn,
    context::ContextExt,
    enums::{MeetingFormat, MeetingStatus},
    notes::Note,
    scoped::{InSeries, in_series},
    series::OneOnOne,
};
use crate::{
    domain::{
        access::SeriesScope,
        api_tokens::ApiScope,
        meetings::{self, NewMeeting},
    },
    error::AppResult,
    ids::{self, NodeKind},
};

/// One occurrence of a 1:1 series. Its time, format and status are metadata (an admin sees
/// them); its agenda, notes, action items and check-ins are for the participants.
pub struct Meeting {
    pub model: meeting::Model,
    pub scope: Arc<SeriesScope>,
}

in_series!(Meeting, meeting::Model);

impl Meeting {
    /// Loads a meeting for the viewer (`NotFound` if they may not see it).
    pub async fn load(ctx: &Context<'_>, id: uuid::Uuid) -> AppResult<Self> {
        let viewer = ctx.viewer()?;
        let (model, scope) = meetings::find(&ctx.state()?.store.db, &viewer, id).await?;
        Ok(Self::new(model, Arc::new(scope)))
    }
}

#[Object]
impl Meeting {
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::Meeting, self.model.id)
    }

    async fn one_on_one(&self) -> OneOnOne {
        OneOnOne {
            scope: self.scope.clone(),
        }
    }

    async fn scheduled_at(&self) -> DateTime<Utc> {
        self.model.scheduled_at
    }

    async fn duration_minutes(&self) -> i32 {
        self.model.duration_minutes
    }

    async fn format(&self) -> MeetingFormat {
        self.model.format.into()
    }

    /// Where it happens: content, like the agenda (participants only; an admin's view of the
    /// meeting is its times, status and counts).
    async fn location(&self) -> AppResult<Option<&str>> {
        self.scope.read_meeting_content()?;
        Ok(self.model.location.as_deref())
    }

    async fn status(&self) -> MeetingStatus {
        self.model.status.into()
    }

    async fn started_at(&self) -> Option<DateTime<Utc>> {
        self.model.started_at
    }

    async fn ended_at(&self) -> Option<DateTime<Utc>> {
        self.model.ended_at
    }

    /// The talking points, in order.
    async fn agenda(&self, ctx: &Context<'_>) -> AppResult<Vec<AgendaItem>> {
        self.scope.read_meeting_content()?;
        let items = ctx
            .loaders()?
            .agenda_by_meeting
            .load_one(self.model.id)
            .await?
            .unwrap_or_default();
        Ok(AgendaItem::wrap_all(items, &self.scope))
    }

    /// The talking point being discussed now.
    async fn current_topic(&self, ctx: &Context<'_>) -> AppResult<Option<AgendaItem>> {
        self.scope.read_meeting_content()?;
        let Some(id) = self.model.current_topic_id else {
            return Ok(None);
        };
        // Through the agenda loader: when `agenda` is asked for too, both share one query.
        let agenda = ctx
            .loaders()?
            .agenda_by_meeting
            .load_one(self.model.id)
            .await?
            .unwrap_or_default();
        Ok(agenda
            .into_iter()
            .find(|item| item.id == id)
            .map(|model| AgendaItem::new(model, self.scope.clone())))
    }

    /// Shared notes, and the viewer's own private notes.
    async fn notes(&self, ctx: &Context<'_>) -> AppResult<Vec<Note>> {
        self.scope.access.read_content()?;
        ctx.viewer()?.require_scope(ApiScope::NotesRead)?;
        let notes = ctx
            .loaders()?
            .notes_by_meeting
            .load_one(self.model.id)
            .await?
            .unwrap_or_default();
        Ok(Note::wrap_all(notes, &self.scope))
    }

    /// Action items created in this meeting.
    async fn action_items(&self, ctx: &Context<'_>) -> AppResult<Vec<ActionItem>> {
        self.scope.read_meeting_content()?;
        let items = ctx
            .loaders()?
            .action_items_by_meeting
            .load_one(self.model.id)
            .await?
            .unwrap_or_default();
        Ok(ActionItem::wrap_all(items, &self.scope))
    }

    /// Shared check-ins, and the viewer's own.
    async fn check_ins(&self, ctx: &Context<'_>) -> AppResult<Vec<CheckIn>> {
        self.scope.read_meeting_content()?;
        let check_ins = ctx
            .loaders()?
            .check_ins_by_meeting
            .load_one(self.model.id)
            .await?
            .unwrap_or_default();
        Ok(CheckIn::wrap_all(check_ins, &self.scope))
    }
}

#[derive(InputObject)]
pub struct ScheduleMeetingInput {
    pub one_on_one_id: ID,
    pub scheduled_at: DateTime<Utc>,
    /// Defaults to the series' usual duration; 5 to 480.
    pub duration_minutes: Option<i32>,
    /// Defaults to the series' usual format.
    pub format: Option<MeetingFormat>,
    pub location: Option<String>,
    /// Makes a retried request return the first result instead of scheduling twice.
    pub client_mutation_id: Option<String>,
}

#[derive(SimpleObject)]
pub struct ScheduleMeetingPayload {
    pub meeting: Meeting,
    pub client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub struct RescheduleMeetingInput {
    pub meeting_id: ID,
    pub scheduled_at: DateTime<Utc>,
}

/// A meeting id, for the mutations that need nothing else.
#[derive(InputObject)]
#[graphql(concrete(name = "StartMeetingInput", params(StartKind)))]
#[graphql(concrete(name = "CancelMeetingInput", params(CancelKind)))]
#[graphql(concrete(name = "EndMeetingInput", params(EndKind)))]
pub struct MeetingIdInput<Kind: Send + Sync + 'static> {
    pub meeting_id: ID,
    #[graphql(skip)]
    pub kind: std::marker::PhantomData<Kind>,
}

pub struct StartKind;
pub struct CancelKind;
pub struct EndKind;

/// A payload holding the changed meeting.
#[derive(SimpleObject)]
#[graphql(concrete(name = "RescheduleMeetingPayload", params(RescheduleKind)))]
#[graphql(concrete(name = "StartMeetingPayload", params(StartKind)))]
#[graphql(concrete(name = "CancelMeetingPayload", params(CancelKind)))]
#[graphql(concrete(name = "SetCurrentTopicPayload", params(TopicKind)))]
#[graphql(concrete(name = "MoveAgendaItemPayload", params(MoveKind)))]
pub struct MeetingPayload<Kind: Send + Sync + 'static> {
    pub meeting: Meeting,
    #[graphql(skip)]
    pub kind: std::marker::PhantomData<Kind>,
}

pub struct RescheduleKind;
pub struct TopicKind;
pub struct MoveKind;

impl<Kind: Send + Sync + 'static> MeetingPayload<Kind> {
    pub fn new(meeting: Meeting) -> Self {
        Self {
            meeting,
            kind: std::marker::PhantomData,
        }
    }
}

#[derive(SimpleObject)]
pub struct EndMeetingPayload {
    pub meeting: Meeting,
    /// Where the open agenda items went: the next scheduled meeting, made from the cadence if
    /// there was none.
    pub next_meeting: Meeting,
}

#[derive(InputObject)]
pub struct SetCurrentTopicInput {
    pub meeting_id: ID,
    /// Null clears the current topic.
    pub agenda_item_id: Option<ID>,
}

#[derive(Default)]
pub struct MeetingMutation;

#[Object]
impl MeetingMutation {
    /// Schedules a meeting of a series.
    async fn schedule_meeting(
        &self,
        ctx: &Context<'_>,
        input: ScheduleMeetingInput,
    ) -> AppResult<ScheduleMeetingPayload> {
        let viewer = ctx.viewer()?;
        let id = meetings::schedule(
            &ctx.state()?.store,
            &viewer,
            NewMeeting {
                one_on_one_id: ids::decode_as(NodeKind::OneOnOne, &input.one_on_one_id)?,
                scheduled_at: input.scheduled_at,
                duration_minutes: input.duration_minutes,
                format: input.format.map(Into::into),
                location: input.location,
            },
            input.client_mutation_id.as_deref(),
        )
        .await?;
        Ok(ScheduleMeetingPayload {
            meeting: Meeting::load(ctx, id).await?,
            client_mutation_id: input.client_mutation_id,
        })
    }

    /// Moves a scheduled meeting to another time.
    async fn reschedule_meeting(
        &self,
        ctx: &Context<'_>,
        input: RescheduleMeetingInput,
    ) -> AppResult<MeetingPayload<RescheduleKind>> {
        let viewer = ctx.viewer()?;
        let id = ids::decode_as(NodeKind::Meeting, &input.meeting_id)?;
        meetings::reschedule(&ctx.state()?.store, &viewer, id, input.scheduled_at).await?;
        Ok(MeetingPayload::new(Meeting::load(ctx, id).await?))
    }

    /// Starts a scheduled meeting.
    async fn start_meeting(
        &self,
        ctx: &Context<'_>,
        input: MeetingIdInput<StartKind>,
    ) -> AppResult<MeetingPayload<StartKind>> {
        let viewer = ctx.viewer()?;
        let id = ids::decode_as(NodeKind::Meeting, &input.meeting_id)?;
        meetings::start(&ctx.state()?.store, &viewer, id).await?;
        Ok(MeetingPayload::new(Meeting::load(ctx, id).await?))
    }

    /// Ends a meeting in progress; open agenda items move on to the next meeting.
    async fn end_meeting(
        &self,
        ctx: &Context<'_>,
        input: MeetingIdInput<EndKind>,
    ) -> AppResult<EndMeetingPayload> {
        let viewer = ctx.viewer()?;
        let id = ids::decode_as(NodeKind::Meeting, &input.meeting_id)?;
        let (ended, next) = meetings::end(&ctx.state()?.store, &viewer, id).await?;
        Ok(EndMeetingPayload {
            meeting: Meeting::load(ctx, ended.id).await?,
            next_meeting: Meeting::load(ctx, next.id).await?,
        })
    }

    /// Cancels a scheduled meeting; its agenda items move on to the next meeting.
    async fn cancel_meeting(
        &self,
        ctx: &Context<'_>,
        input: MeetingIdInput<CancelKind>,
    ) -> AppResult<MeetingPayload<CancelKind>> {
        let viewer = ctx.viewer()?;
        let id = ids::decode_as(NodeKind::Meeting, &input.meeting_id)?;
        meetings::cancel(&ctx.state()?.store, &viewer, id).await?;
        Ok(MeetingPayload::new(Meeting::load(ctx, id).await?))
    }

    /// Sets (or with a null item, clears) the topic being discussed.
    async fn set_current_topic(
        &self,
        ctx: &Context<'_>,
        input: SetCurrentTopicInput,
    ) -> AppResult<MeetingPayload<TopicKind>> {
        let viewer = ctx.viewer()?;
        let id = ids::decode_as(NodeKind::Meeting, &input.meeting_id)?;
        let item = ids::decode_optional(NodeKind::AgendaItem, input.agenda_item_id.as_ref())?;
        meetings::set_current_topic(&ctx.state()?.store, &viewer, id, item).await?;
        Ok(MeetingPayload::new(Meeting::load(ctx, id).await?))
    }
}
