//! One DataLoader per relation, each answering a whole batch of keys with one `IN` query.
//! Loaders are made per request (see [`super::request_data`]), so no cache outlives a request or
//! crosses users. They load rows only; the access rules are applied by the field that asks.

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::{DataLoader, Loader};
use entity::user;
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

/// Users by id.
pub struct UserById(pub DatabaseConnection);

impl Loader<Uuid> for UserById {
    type Value = user::Model;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let users = user::Entity::find()
            .filter(user::Column::Id.is_in(keys.iter().copied()))
            .all(&self.0)
            .await?;
        Ok(users.into_iter().map(|user| (user.id, user)).collect())
    }
}

/// A manager's direct reports, by the manager's id, oldest first.
pub struct ReportsByManager(pub DatabaseConnection);

impl Loader<Uuid> for ReportsByManager {
    type Value = Vec<user::Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let users = user::Entity::find()
            .filter(user::Column::ManagerId.is_in(keys.iter().copied()))
            .order_by_asc(user::Column::Id)
            .all(&self.0)
            .await?;
        let mut by_manager: HashMap<Uuid, Vec<user::Model>> = HashMap::new();
        for user in users {
            if let Some(manager_id) = user.manager_id {
                by_manager.entry(manager_id).or_default().push(user);
            }
        }
        Ok(by_manager)
    }
}

/// Every loader of one request.
pub struct Loaders {
    pub user_by_id: DataLoader<UserById>,
    pub reports_by_manager: DataLoader<ReportsByManager>,
}

impl Loaders {
    pub fn new(db: &DatabaseConnection) -> Self {
        Self {
            user_by_id: DataLoader::new(UserById(db.clone()), tokio::spawn),
            reports_by_manager: DataLoader::new(ReportsByManager(db.clone()), tokio::spawn),
        }
    }
}
