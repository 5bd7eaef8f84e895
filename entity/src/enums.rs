//! String-backed enums stored in the 1:1 tables. Their GraphQL twins live in `api`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Cadence {
    #[sea_orm(string_value = "WEEKLY")]
    Weekly,
    #[sea_orm(string_value = "BIWEEKLY")]
    Biweekly,
    #[sea_orm(string_value = "MONTHLY")]
    Monthly,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum MeetingFormat {
    #[sea_orm(string_value = "IN_PERSON")]
    InPerson,
    #[sea_orm(string_value = "VIDEO")]
    Video,
    #[sea_orm(string_value = "PHONE")]
    Phone,
    #[sea_orm(string_value = "WALK_AND_TALK")]
    WalkAndTalk,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum MeetingLead {
    #[sea_orm(string_value = "MANAGER")]
    Manager,
    #[sea_orm(string_value = "REPORT")]
    Report,
    #[sea_orm(string_value = "SHARED")]
    Shared,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum MeetingStatus {
    #[sea_orm(string_value = "SCHEDULED")]
    Scheduled,
    #[sea_orm(string_value = "IN_PROGRESS")]
    InProgress,
    #[sea_orm(string_value = "COMPLETED")]
    Completed,
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum TopicCategory {
    #[sea_orm(string_value = "PRIORITIES")]
    Priorities,
    #[sea_orm(string_value = "PROGRESS")]
    Progress,
    #[sea_orm(string_value = "DEVELOPMENT")]
    Development,
    #[sea_orm(string_value = "WELLBEING")]
    Wellbeing,
    #[sea_orm(string_value = "FEEDBACK")]
    Feedback,
    #[sea_orm(string_value = "OTHER")]
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum NoteVisibility {
    #[sea_orm(string_value = "PRIVATE")]
    Private,
    #[sea_orm(string_value = "SHARED")]
    Shared,
}
