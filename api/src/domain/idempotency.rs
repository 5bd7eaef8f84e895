//! Create mutations that a flaky network may retry: the first call with a `clientMutationId`
//! records the id of what it created, in the same transaction; any later call with the same id
//! from the same user returns that first result and creates nothing.

use chrono::Utc;
use entity::client_mutation;
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, Set};
use uuid::Uuid;

use crate::{
    db::{Store, WriteTx},
    error::{AppError, AppResult},
};

const MAX_KEY_CHARS: usize = 100;

/// Runs `create` in a write transaction unless `key` was already used by `user_id`; returns the
/// id of the created (or first-created) object.
pub async fn create_once(
    store: &Store,
    user_id: Uuid,
    key: Option<&str>,
    mutation: &'static str,
    create: impl AsyncFnOnce(&WriteTx) -> AppResult<Uuid>,
) -> AppResult<Uuid> {
    if let Some(key) = key {
        if key.is_empty() || key.chars().count() > MAX_KEY_CHARS {
            return Err(AppError::bad_input(format!(
                "clientMutationId must be 1 to {MAX_KEY_CHARS} characters"
            )));
        }
        if let Some(first) = lookup(&store.db, user_id, key, mutation).await? {
            return Ok(first);
        }
    }
    let tx = store.begin().await?;
    let id = create(&tx).await?;
    if let Some(key) = key {
        let recorded = client_mutation::ActiveModel {
            user_id: Set(user_id),
            client_mutation_id: Set(key.to_owned()),
            mutation: Set(mutation.to_owned()),
            result_id: Set(id),
            created_at: Set(Utc::now()),
        }
        .insert(&tx)
        .await;
        if let Err(error) = recorded {
            // A concurrent retry got there first: undo ours and answer with theirs.
            tx.rollback().await?;
            if let Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) = error.sql_err() {
                return lookup(&store.db, user_id, key, mutation)
                    .await?
                    .ok_or_else(|| AppError::internal("a recorded client mutation vanished"));
            }
            return Err(error.into());
        }
    }
    tx.commit().await?;
    Ok(id)
}

async fn lookup(
    db: &DatabaseConnection,
    user_id: Uuid,
    key: &str,
    mutation: &str,
) -> Result<Option<Uuid>, AppError> {
    let found = client_mutation::Entity::find_by_id((user_id, key.to_owned()))
        .one(db)
        .await?;
    match found {
        Some(first) if first.mutation == mutation => Ok(Some(first.result_id)),
        Some(_) => Err(AppError::bad_input(
            "this clientMutationId was already used for another mutation",
        )),
        None => Ok(None),
    }
}
