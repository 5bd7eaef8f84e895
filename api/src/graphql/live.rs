//! `meetingEvents`: the live subscription both phones keep open during a meeting.

use async_graphql::{Context, ID, MergedSubscription, Object, Subscription};
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};

use super::{
    action_items::ActionItem, agenda::AgendaItem, check_ins::CheckIn, context::ContextExt,
    enums::MeetingEventKind, meetings::Meeting, notes::Note, scoped::InSeries, series::participant,
    users::User,
};
use crate::{
    domain::{access::Access, api_tokens::ApiScope, check_ins, meetings, notes},
    error::{AppError, AppResult},
    ids::{self, NodeKind},
    realtime::stream::{self, Delivery},
};

/// One change to a meeting. Its nested objects are read when it is delivered, with the
/// subscriber's own access; an object removed since reads as null.
pub struct MeetingEvent(Delivery);

#[Object]
impl MeetingEvent {
    /// Counts up from 1 per meeting, without gaps, over the events this subscriber receives
    /// (so the two participants' numbers differ once either writes privately); resume with
    /// `afterSequence`.
    async fn sequence(&self) -> i32 {
        self.0.sequence
    }

    async fn kind(&self) -> MeetingEventKind {
        self.0.event.kind.into()
    }

    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.event.occurred_at
    }

    /// Who made the change.
    async fn actor(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        match self.0.event.actor_id {
            Some(id) => Ok(Some(participant(ctx, id).await?)),
            None => Ok(None),
        }
    }

    async fn meeting(&self) -> AppResult<Meeting> {
        self.0
            .event
            .meeting
            .clone()
            .filter(|meeting| meeting.one_on_one_id == self.0.scope.series.id)
            .map(|model| Meeting::new(model, self.0.scope.clone()))
            .ok_or(AppError::NotFound)
    }

    async fn agenda_item(&self) -> Option<AgendaItem> {
        self.0
            .event
            .agenda_item
            .clone()
            .filter(|item| item.meeting_id == self.0.event.meeting_id)
            .map(|item| AgendaItem::new(item, self.0.scope.clone()))
    }

    async fn note(&self, ctx: &Context<'_>) -> AppResult<Option<Note>> {
        let viewer = ctx.viewer()?;
        if !viewer.has_scope(ApiScope::NotesRead) {
            return Ok(None);
        }
        Ok(self
            .0
            .event
            .note
            .clone()
            .filter(|note| {
                note.meeting_id == self.0.event.meeting_id && notes::can_read(&viewer, note)
            })
            .map(|note| Note::new(note, self.0.scope.clone())))
    }

    async fn action_item(&self) -> Option<ActionItem> {
        self.0
            .event
            .action_item
            .clone()
            .filter(|item| item.one_on_one_id == self.0.scope.series.id)
            .map(|item| ActionItem::new(item, self.0.scope.clone()))
    }

    /// For `CHECK_IN_SUBMITTED`.
    async fn check_in(&self, ctx: &Context<'_>) -> AppResult<Option<CheckIn>> {
        let viewer = ctx.viewer()?;
        Ok(self
            .0
            .event
            .check_in
            .clone()
            .filter(|check_in| {
                check_in.meeting_id == self.0.event.meeting_id
                    && check_ins::can_read(&viewer, check_in)
            })
            .map(|check_in| CheckIn::new(check_in, self.0.scope.clone())))
    }

    /// Who joined or left, for `PARTICIPANT_JOINED` and `PARTICIPANT_LEFT`.
    async fn participant(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        match self.0.event.participant_id {
            Some(id) => Ok(Some(participant(ctx, id).await?)),
            None => Ok(None),
        }
    }

    /// The id of what was removed, for `AGENDA_ITEM_REMOVED` and `NOTE_DELETED`.
    async fn removed_id(&self) -> Option<ID> {
        self.0.event.removed_id.clone().map(ID)
    }
}

#[derive(Default)]
pub struct MeetingSubscription;

#[Subscription]
impl MeetingSubscription {
    /// Every change to a meeting, live. With `afterSequence`, the stored events after it come
    /// first, then live ones, with no gap and no duplicate. Participants of an active series
    /// only. A subscriber too slow to keep up gets a `RATE_LIMITED` error with
    /// `extensions.resumeAfterSequence`, and the stream ends: subscribe again from there.
    async fn meeting_events(
        &self,
        ctx: &Context<'_>,
        meeting_id: ID,
        after_sequence: Option<i32>,
    ) -> Result<impl Stream<Item = AppResult<MeetingEvent>> + use<>, AppError> {
        let viewer = ctx.viewer()?;
        let state = ctx.state()?;
        let id = ids::decode_as(NodeKind::Meeting, &meeting_id)?;
        if after_sequence.is_some_and(|after| after < 0) {
            return Err(AppError::bad_input("afterSequence must not be negative"));
        }
        let (_, scope) = meetings::find(&state.store.db, &viewer, id).await?;
        match scope.access {
            Access::Admin => return Err(AppError::NotFound),
            Access::Participant { archived: true, .. } => return Err(AppError::Forbidden),
            Access::Participant { .. } => {}
        }
        let events = stream::follow(
            state.store.clone(),
            state.admission.clone(),
            viewer,
            id,
            after_sequence,
            scope,
        );
        ctx.subscription_started();
        Ok(events.map(|delivery| delivery.map(MeetingEvent)))
    }
}

#[derive(MergedSubscription, Default)]
#[graphql(name = "Subscription")]
pub struct SubscriptionRoot(MeetingSubscription);
