use sea_orm::entity::prelude::*;

/// A read of a series' content through an API token or an export, or an admin's view of its
/// metadata: what each participant's access log lists.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "access_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub one_on_one_id: Uuid,
    pub reader_id: Uuid,
    /// `API_TOKEN`, `EXPORT` or `ADMIN_VIEW`.
    pub via: String,
    pub api_token_id: Option<Uuid>,
    pub occurred_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
