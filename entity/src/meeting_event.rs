use sea_orm::entity::prelude::*;

/// One change to a meeting, in the order it happened (`sequence` counts up from 1 per meeting,
/// without gaps). Carries ids only: subscribers read the current objects with their own access.
///
/// Readers are shown numbers of their own, each counting only the events that reader may
/// receive, so a private event leaves no gap anyone else could see: `shared_sequence` (API
/// tokens, webhooks), `manager_sequence` and `report_sequence` (each participant's sessions,
/// with their own private events). For an event a reader does not receive, their number is
/// the one of the last event they did.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "meeting_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub meeting_id: Uuid,
    pub sequence: i32,
    pub shared_sequence: i32,
    pub manager_sequence: i32,
    pub report_sequence: i32,
    pub kind: MeetingEventKind,
    pub actor_id: Option<Uuid>,
    pub agenda_item_id: Option<Uuid>,
    pub note_id: Option<Uuid>,
    pub action_item_id: Option<Uuid>,
    pub check_in_id: Option<Uuid>,
    pub participant_id: Option<Uuid>,
    /// The global id of a removed object.
    pub removed_id: Option<String>,
    /// Only this user may receive the event (private notes and check-ins).
    pub private_to: Option<Uuid>,
    pub occurred_at: DateTimeUtc,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum MeetingEventKind {
    #[sea_orm(string_value = "MEETING_UPDATED")]
    MeetingUpdated,
    #[sea_orm(string_value = "MEETING_STARTED")]
    MeetingStarted,
    #[sea_orm(string_value = "MEETING_ENDED")]
    MeetingEnded,
    #[sea_orm(string_value = "AGENDA_ITEM_ADDED")]
    AgendaItemAdded,
    #[sea_orm(string_value = "AGENDA_ITEM_UPDATED")]
    AgendaItemUpdated,
    #[sea_orm(string_value = "AGENDA_ITEM_MOVED")]
    AgendaItemMoved,
    #[sea_orm(string_value = "AGENDA_ITEM_REMOVED")]
    AgendaItemRemoved,
    #[sea_orm(string_value = "CURRENT_TOPIC_CHANGED")]
    CurrentTopicChanged,
    #[sea_orm(string_value = "NOTE_CREATED")]
    NoteCreated,
    #[sea_orm(string_value = "NOTE_UPDATED")]
    NoteUpdated,
    #[sea_orm(string_value = "NOTE_DELETED")]
    NoteDeleted,
    #[sea_orm(string_value = "ACTION_ITEM_CREATED")]
    ActionItemCreated,
    #[sea_orm(string_value = "ACTION_ITEM_UPDATED")]
    ActionItemUpdated,
    #[sea_orm(string_value = "CHECK_IN_SUBMITTED")]
    CheckInSubmitted,
    #[sea_orm(string_value = "PARTICIPANT_JOINED")]
    ParticipantJoined,
    #[sea_orm(string_value = "PARTICIPANT_LEFT")]
    ParticipantLeft,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
