//! Signing up, in and out.

use chrono::Utc;
use entity::{organization, user};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::{
    audit::{self, Action, Entry},
    users::{self, NewUser},
};
use crate::{
    auth::{
        jwt::TokenKeys,
        password,
        session::{self, Session},
    },
    db::begin_write,
    error::{AppError, AppResult},
};

pub struct SignUp {
    pub organization_name: String,
    pub email: String,
    pub password: String,
    pub display_name: String,
}

/// Creates an organisation with its first admin and signs that admin in.
pub async fn sign_up(
    db: &DatabaseConnection,
    keys: &TokenKeys,
    input: SignUp,
    address: Option<&str>,
) -> AppResult<Session> {
    let organization_name = users::normalize_name(&input.organization_name, "organizationName")?;
    let organization_id = Uuid::now_v7();
    let (new_user, hash) = users::prepare(NewUser {
        organization_id,
        email: input.email,
        display_name: input.display_name,
        password: input.password,
        role: user::Role::Admin,
        manager_id: None,
    })
    .await?;
    let tx = begin_write(db).await?;
    organization::ActiveModel {
        id: Set(organization_id),
        name: Set(organization_name),
        created_at: Set(Utc::now()),
    }
    .insert(&tx)
    .await?;
    let user = users::insert(&tx, new_user, hash).await?;
    audit::record(&tx, signed_in(&user, Action::SignedUp, address)).await?;
    let session = session::start(&tx, keys, user).await?;
    tx.commit().await?;
    Ok(session)
}

/// Checks an email and password. Unknown email, wrong password and deactivated account all
/// answer `InvalidCredentials` after the same amount of hashing work.
pub async fn sign_in(
    db: &DatabaseConnection,
    keys: &TokenKeys,
    email: &str,
    password: String,
    address: Option<&str>,
) -> AppResult<Session> {
    let email = email.trim().to_lowercase();
    let found = user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .one(db)
        .await?;
    let stored = found.as_ref().map(|user| user.password_hash.clone());
    let password_ok = password::verify(password, stored).await?;
    let Some(user) = found else {
        // An unknown email belongs to no organisation's log.
        return Err(AppError::InvalidCredentials);
    };
    if !(password_ok && user.is_active()) {
        audit::record(db, signed_in(&user, Action::SignInFailed, address)).await?;
        return Err(AppError::InvalidCredentials);
    }
    let tx = begin_write(db).await?;
    audit::record(&tx, signed_in(&user, Action::SignInSucceeded, address)).await?;
    let session = session::start(&tx, keys, user).await?;
    tx.commit().await?;
    Ok(session)
}

/// A sign-in (or sign-up) of `user`, by themselves.
fn signed_in<'a>(user: &user::Model, action: Action, address: Option<&'a str>) -> Entry<'a> {
    Entry {
        organization_id: user.organization_id,
        actor_id: Some(user.id),
        action,
        subject_user_id: Some(user.id),
        detail: Some(user.email.clone()),
        address,
    }
}
