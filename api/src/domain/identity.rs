//! Signing up, in and out.

use chrono::Utc;
use entity::{organization, user};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use tokio_util::task::TaskTracker;
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

/// Checks an email and password, in `organization_id` when given. Emails are unique per
/// organisation: an email with accounts in several organisations needs `organization_id`.
///
/// Unknown email, wrong password, deactivated account, and an email of several organisations
/// without one chosen all answer `InvalidCredentials` after the same work (one password check,
/// against a dummy hash when no single account is in question), so the answer tells nobody
/// whether, or in how many organisations, an address has an account. Failures of a known email
/// are written to its organisation's audit log after the answer, which then costs the same.
pub async fn sign_in(
    db: &DatabaseConnection,
    keys: &TokenKeys,
    after_response: &TaskTracker,
    attempt: SignIn<'_>,
) -> AppResult<Session> {
    let email = attempt.email.trim().to_lowercase();
    let mut accounts = user::Entity::find().filter(user::Column::Email.eq(email));
    if let Some(organization_id) = attempt.organization_id {
        accounts = accounts.filter(user::Column::OrganizationId.eq(organization_id));
    }
    let accounts = accounts.all(db).await?;
    let account = match accounts.as_slice() {
        [one] => Some(one),
        _ => None,
    };
    let stored = account.map(|user| user.password_hash.clone());
    let password_ok = password::verify(attempt.password, stored).await?;
    let Some(user) = account
        .filter(|user| password_ok && user.is_active())
        .cloned()
    else {
        let (db, address) = (db.clone(), attempt.address.map(str::to_owned));
        after_response.spawn(async move {
            for user in &accounts {
                let entry = signed_in(user, Action::SignInFailed, address.as_deref());
                if let Err(error) = audit::record(&db, entry).await {
                    tracing::warn!(error = ?error, "could not record a failed sign-in");
                }
            }
        });
        return Err(AppError::InvalidCredentials);
    };
    let tx = begin_write(db).await?;
    audit::record(
        &tx,
        signed_in(&user, Action::SignInSucceeded, attempt.address),
    )
    .await?;
    let session = session::start(&tx, keys, user).await?;
    tx.commit().await?;
    Ok(session)
}

/// What a sign-in attempt gives.
pub struct SignIn<'a> {
    pub email: &'a str,
    pub password: String,
    pub organization_id: Option<Uuid>,
    pub address: Option<&'a str>,
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
