use sea_orm::entity::prelude::*;

use crate::enums::{Cadence, MeetingFormat, MeetingLead};

/// A 1:1 series between one manager and one report.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "one_on_ones")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub manager_id: Uuid,
    pub report_id: Uuid,
    pub cadence: Cadence,
    pub default_format: MeetingFormat,
    pub default_duration_minutes: i32,
    pub lead: MeetingLead,
    /// Set when the reporting line ends; the series is read-only from then on.
    pub archived_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
