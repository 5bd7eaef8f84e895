//! Sign-in sessions: an access token plus an opaque refresh token. Refresh tokens are stored only
//! as SHA-256 hashes, rotate on every use, and belong to a family; presenting a token that was
//! already used means it leaked, so the whole family is revoked.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use entity::{refresh_token, user};
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set, sea_query::Expr,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::jwt::{AccessToken, TokenKeys};
use crate::{db::begin_write, error::AppError};

pub const REFRESH_TOKEN_TTL: Duration = Duration::days(30);

/// What a successful sign-in, sign-up or refresh hands the client.
pub struct Session {
    pub access: AccessToken,
    pub refresh_token: String,
    pub user: user::Model,
}

/// Opens a new token family for `user`.
pub async fn start(
    conn: &impl ConnectionTrait,
    keys: &TokenKeys,
    user: user::Model,
) -> Result<Session, AppError> {
    let refresh_token = insert_refresh_token(conn, user.id, Uuid::now_v7()).await?;
    let access = keys.issue(user.id, user.token_version)?;
    Ok(Session {
        access,
        refresh_token,
        user,
    })
}

/// Trades a refresh token for a new session in the same family.
pub async fn refresh(
    db: &DatabaseConnection,
    keys: &TokenKeys,
    presented: &str,
) -> Result<Session, AppError> {
    let now = Utc::now();
    let tx = begin_write(db).await?;
    let Some(token) = find(&tx, presented).await? else {
        return Err(AppError::Unauthenticated);
    };
    if token.revoked_at.is_some() || token.expires_at <= now {
        return Err(AppError::Unauthenticated);
    }
    // Conditional on `used_at IS NULL`, so of two concurrent uses exactly one wins.
    let claimed = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .filter(refresh_token::Column::Id.eq(token.id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .exec(&tx)
        .await?;
    if token.used_at.is_some() || claimed.rows_affected == 0 {
        revoke_family(&tx, token.family_id, now).await?;
        tx.commit().await?;
        tracing::warn!(user_id = %token.user_id, "refresh token reused: revoked its family");
        return Err(AppError::Unauthenticated);
    }
    let user = user::Entity::find_by_id(token.user_id)
        .one(&tx)
        .await?
        .filter(user::Model::is_active)
        .ok_or(AppError::Unauthenticated)?;
    let refresh_token = insert_refresh_token(&tx, user.id, token.family_id).await?;
    tx.commit().await?;
    let access = keys.issue(user.id, user.token_version)?;
    Ok(Session {
        access,
        refresh_token,
        user,
    })
}

/// Ends the session the refresh token belongs to. Unknown tokens are ignored, so signing out
/// twice is harmless.
pub async fn end(db: &DatabaseConnection, presented: &str) -> Result<(), AppError> {
    let tx = begin_write(db).await?;
    if let Some(token) = find(&tx, presented).await? {
        revoke_family(&tx, token.family_id, Utc::now()).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Revokes every session of a user (on deactivation).
pub async fn revoke_all(conn: &impl ConnectionTrait, user_id: Uuid) -> Result<(), AppError> {
    revoke(conn, refresh_token::Column::UserId.eq(user_id), Utc::now()).await
}

async fn find(
    conn: &impl ConnectionTrait,
    presented: &str,
) -> Result<Option<refresh_token::Model>, AppError> {
    Ok(refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(hash(presented)))
        .one(conn)
        .await?)
}

async fn revoke_family(
    conn: &impl ConnectionTrait,
    family_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    revoke(conn, refresh_token::Column::FamilyId.eq(family_id), now).await
}

/// Marks every not-yet-revoked token matching `which` as revoked at `now`.
async fn revoke(
    conn: &impl ConnectionTrait,
    which: Expr,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(which)
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

async fn insert_refresh_token(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    family_id: Uuid,
) -> Result<String, AppError> {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let now = Utc::now();
    refresh_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        family_id: Set(family_id),
        token_hash: Set(hash(&token)),
        expires_at: Set(now + REFRESH_TOKEN_TTL),
        used_at: Set(None),
        revoked_at: Set(None),
        created_at: Set(now),
    }
    .insert(conn)
    .await?;
    Ok(token)
}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}
