use sea_orm::entity::prelude::*;

use crate::enums::{MeetingFormat, MeetingStatus};

/// One occurrence of a series.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "meetings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub one_on_one_id: Uuid,
    pub scheduled_at: DateTimeUtc,
    pub duration_minutes: i32,
    pub format: MeetingFormat,
    pub location: Option<String>,
    pub status: MeetingStatus,
    pub started_at: Option<DateTimeUtc>,
    pub ended_at: Option<DateTimeUtc>,
    pub current_topic_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    /// The sequence of the meeting's latest event.
    pub last_event_sequence: i32,
    /// The latest number of each reader's numbering (see `meeting_event`).
    pub last_shared_sequence: i32,
    pub last_manager_sequence: i32,
    pub last_report_sequence: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::one_on_one::Entity",
        from = "Column::OneOnOneId",
        to = "super::one_on_one::Column::Id"
    )]
    OneOnOne,
}

impl Related<super::one_on_one::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::OneOnOne.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
