//! The question bank: built-in questions (no organisation) plus each organisation's own.

use chrono::Utc;
use entity::{enums::TopicCategory, question};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Select,
    Set,
};
use uuid::Uuid;

use super::{idempotency, validate::required_line};
use crate::{
    auth::Viewer,
    db::Store,
    error::{AppError, AppResult},
};

const MAX_TEXT_CHARS: usize = 300;

/// The questions the viewer's organisation sees, optionally of one category.
pub fn visible_to(viewer: &Viewer, category: Option<TopicCategory>) -> Select<question::Entity> {
    let mut select = question::Entity::find().filter(
        Condition::any()
            .add(question::Column::OrganizationId.is_null())
            .add(question::Column::OrganizationId.eq(viewer.organization_id())),
    );
    if let Some(category) = category {
        select = select.filter(question::Column::Category.eq(category));
    }
    select
}

pub async fn find(
    conn: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<question::Model> {
    visible_to(viewer, None)
        .filter(question::Column::Id.eq(id))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)
}

/// Admin: adds a question of the organisation's own.
pub async fn add(
    store: &Store,
    viewer: &Viewer,
    category: TopicCategory,
    text: &str,
    client_mutation_id: Option<&str>,
) -> AppResult<Uuid> {
    viewer.require_admin()?;
    let text = required_line(text, "text", MAX_TEXT_CHARS)?;
    idempotency::create_once(
        store,
        viewer.id(),
        client_mutation_id,
        "addQuestion",
        async |tx| {
            let question = question::ActiveModel {
                id: Set(Uuid::now_v7()),
                organization_id: Set(Some(viewer.organization_id())),
                category: Set(category),
                text: Set(text),
                created_at: Set(Utc::now()),
            }
            .insert(tx)
            .await?;
            Ok(question.id)
        },
    )
    .await
}

/// Admin: removes one of the organisation's own questions (built-in ones stay).
pub async fn remove(store: &Store, viewer: &Viewer, id: Uuid) -> AppResult<()> {
    viewer.require_admin()?;
    let question = find(&store.db, viewer, id).await?;
    if question.organization_id.is_none() {
        return Err(AppError::bad_input("built-in questions cannot be removed"));
    }
    question::Entity::delete_by_id(id).exec(&store.db).await?;
    Ok(())
}
