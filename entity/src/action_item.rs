use sea_orm::entity::prelude::*;

/// A follow-up owned by one participant; belongs to the series until done.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "action_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub one_on_one_id: Uuid,
    /// The meeting it was created in.
    pub meeting_id: Option<Uuid>,
    pub assignee_id: Uuid,
    pub created_by_id: Uuid,
    pub title: String,
    pub due_on: Option<Date>,
    pub completed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
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
