use sea_orm::entity::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Role {
    #[sea_orm(string_value = "ADMIN")]
    Admin,
    #[sea_orm(string_value = "MEMBER")]
    Member,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    /// Lower-cased at write time; unique.
    pub email: String,
    pub display_name: String,
    /// Argon2id PHC string. Never leaves the service layer.
    pub password_hash: String,
    pub role: Role,
    pub time_zone: String,
    pub manager_id: Option<Uuid>,
    pub token_version: i32,
    pub deactivated_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    /// Mixed into the MAC of the user's calendar-feed URL; replaced when they rotate it.
    pub calendar_feed_salt: Option<String>,
}

impl Model {
    pub fn is_active(&self) -> bool {
        self.deactivated_at.is_none()
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::organization::Entity",
        from = "Column::OrganizationId",
        to = "super::organization::Column::Id"
    )]
    Organization,
}

impl Related<super::organization::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organization.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
