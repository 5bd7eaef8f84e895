//! Organisations: a member sees their own, nobody sees another.

use entity::organization;
use sea_orm::{ConnectionTrait, EntityTrait};
use uuid::Uuid;

use crate::{
    auth::Viewer,
    error::{AppError, AppResult},
};

/// The viewer's own organisation; any other id is `NotFound`.
pub async fn find_visible(
    conn: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<organization::Model> {
    if id != viewer.organization_id() {
        return Err(AppError::NotFound);
    }
    organization::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)
}
