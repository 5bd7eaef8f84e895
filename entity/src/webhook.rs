use sea_orm::entity::prelude::*;

/// An admin-registered endpoint that receives signed POSTs for chosen meeting events.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhooks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub url: String,
    /// Comma-separated event kinds.
    pub events: String,
    /// The signing secret, sealed with the data key.
    pub sealed_secret: Vec<u8>,
    pub created_by_id: Uuid,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
