//! The GraphQL enums of the 1:1 core, mirroring the stored ones (`remote` derives both
//! conversions, so the two cannot drift apart silently).

use async_graphql::Enum;
use entity::enums;

/// How often the 1:1 takes place.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "enums::Cadence")]
pub enum Cadence {
    Weekly,
    Biweekly,
    Monthly,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "enums::MeetingFormat")]
pub enum MeetingFormat {
    InPerson,
    Video,
    Phone,
    WalkAndTalk,
}

/// Who is expected to lead the conversation.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "enums::MeetingLead")]
pub enum MeetingLead {
    Manager,
    Report,
    Shared,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "enums::MeetingStatus")]
pub enum MeetingStatus {
    Scheduled,
    InProgress,
    Completed,
    Cancelled,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "enums::TopicCategory")]
pub enum TopicCategory {
    Priorities,
    Progress,
    Development,
    Wellbeing,
    Feedback,
    Other,
}

/// `PRIVATE`: the author alone, ever. `SHARED`: both participants.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "enums::NoteVisibility")]
pub enum NoteVisibility {
    Private,
    Shared,
}

/// What changed in a meeting.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::meeting_event::MeetingEventKind")]
pub enum MeetingEventKind {
    MeetingUpdated,
    MeetingStarted,
    MeetingEnded,
    AgendaItemAdded,
    AgendaItemUpdated,
    AgendaItemMoved,
    AgendaItemRemoved,
    CurrentTopicChanged,
    NoteCreated,
    NoteUpdated,
    NoteDeleted,
    ActionItemCreated,
    ActionItemUpdated,
    CheckInSubmitted,
    ParticipantJoined,
    ParticipantLeft,
}
