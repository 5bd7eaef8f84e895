//! API tokens: a user creates them for integrations, each limited to explicit scopes, and can
//! revoke them. A token acts as its user within its scopes, and no scope reaches private notes
//! or private check-ins. Only the SHA-256 of a token is stored; the secret is shown once.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{Duration, Utc};
use entity::{api_token, user};
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set, sea_query::Expr,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{
    audit::{self, Action, Entry},
    validate::required_line,
};
use crate::{
    auth::Viewer,
    db::{Store, begin_write},
    error::{AppError, AppResult},
    realtime::AccessChange,
};

/// Every API token starts with this, so it is told apart from a session token at a glance
/// (and by secret scanners).
pub const PREFIX: &str = "tete_pat_";
const MAX_NAME_CHARS: usize = 100;
/// `lastUsedAt` is written at most this often per token, not on every request.
const LAST_USED_RESOLUTION: Duration = Duration::minutes(1);

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiScope {
    /// Read series, meetings, agenda, action items and shared check-ins.
    MeetingsRead,
    AgendaWrite,
    /// Read shared notes.
    NotesRead,
    /// Write shared notes.
    NotesWrite,
    ActionItemsWrite,
}

impl ApiScope {
    pub const ALL: [ApiScope; 5] = [
        ApiScope::MeetingsRead,
        ApiScope::AgendaWrite,
        ApiScope::NotesRead,
        ApiScope::NotesWrite,
        ApiScope::ActionItemsWrite,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ApiScope::MeetingsRead => "MEETINGS_READ",
            ApiScope::AgendaWrite => "AGENDA_WRITE",
            ApiScope::NotesRead => "NOTES_READ",
            ApiScope::NotesWrite => "NOTES_WRITE",
            ApiScope::ActionItemsWrite => "ACTION_ITEMS_WRITE",
        }
    }

    /// Whether holding `self` grants `wanted`: each scope itself, and write scopes the reads
    /// they need.
    pub fn includes(self, wanted: ApiScope) -> bool {
        self == wanted
            || matches!(
                (self, wanted),
                (
                    ApiScope::AgendaWrite | ApiScope::ActionItemsWrite,
                    ApiScope::MeetingsRead
                ) | (ApiScope::NotesWrite, ApiScope::NotesRead)
            )
    }

    /// The scopes stored for a token.
    pub fn parse_list(stored: &str) -> Vec<ApiScope> {
        stored
            .split(',')
            .filter_map(|name| ApiScope::ALL.into_iter().find(|scope| scope.name() == name))
            .collect()
    }
}

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Creates a token for the viewer; returns it with its secret, which is never shown again.
pub async fn create(
    db: &DatabaseConnection,
    viewer: &Viewer,
    name: &str,
    scopes: &[ApiScope],
) -> AppResult<(api_token::Model, String)> {
    viewer.require_session()?;
    let name = required_line(name, "name", MAX_NAME_CHARS)?;
    if scopes.is_empty() {
        return Err(AppError::bad_input("a token needs at least one scope"));
    }
    let stored: Vec<&str> = ApiScope::ALL
        .into_iter()
        .filter(|scope| scopes.contains(scope))
        .map(ApiScope::name)
        .collect();
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let tx = begin_write(db).await?;
    let token = api_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(viewer.id()),
        name: Set(name),
        scopes: Set(stored.join(",")),
        token_hash: Set(hash(&secret)),
        created_at: Set(Utc::now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(&tx)
    .await?;
    audit::record(
        &tx,
        Entry::by(viewer, Action::ApiTokenCreated).detail(token.name.clone()),
    )
    .await?;
    tx.commit().await?;
    Ok((token, secret))
}

/// Revokes one of the viewer's tokens; it stops working on the next request, and every
/// connection opened with it closes.
pub async fn revoke(store: &Store, viewer: &Viewer, id: Uuid) -> AppResult<api_token::Model> {
    viewer.require_session()?;
    let token = find_own(&store.db, viewer, id).await?;
    if token.revoked_at.is_some() {
        return Ok(token);
    }
    let tx = store.begin().await?;
    tx.revoke(AccessChange::ApiToken(token.id)).await?;
    let mut active = token.into_active_model();
    active.revoked_at = Set(Some(Utc::now()));
    let token = active.update(&tx).await?;
    audit::record(
        &tx,
        Entry::by(viewer, Action::ApiTokenRevoked).detail(token.name.clone()),
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// The viewer's tokens, newest first.
pub async fn list(db: &DatabaseConnection, viewer: &Viewer) -> AppResult<Vec<api_token::Model>> {
    Ok(api_token::Entity::find()
        .filter(api_token::Column::UserId.eq(viewer.id()))
        .order_by_desc(api_token::Column::Id)
        .all(db)
        .await?)
}

pub async fn find_own(
    db: &DatabaseConnection,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<api_token::Model> {
    api_token::Entity::find_by_id(id)
        .filter(api_token::Column::UserId.eq(viewer.id()))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// The token and its active user for a presented secret; `None` for anything else.
pub async fn authenticate(
    db: &DatabaseConnection,
    secret: &str,
) -> AppResult<Option<(api_token::Model, user::Model)>> {
    let found = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(hash(secret)))
        .filter(api_token::Column::RevokedAt.is_null())
        .find_also_related(user::Entity)
        .one(db)
        .await?;
    let Some((token, Some(user))) = found else {
        return Ok(None);
    };
    if !user.is_active() {
        return Ok(None);
    }
    let now = Utc::now();
    if token
        .last_used_at
        .is_none_or(|last| now - last > LAST_USED_RESOLUTION)
    {
        api_token::Entity::update_many()
            .col_expr(api_token::Column::LastUsedAt, Expr::value(now))
            .filter(api_token::Column::Id.eq(token.id))
            .exec(db)
            .await?;
    }
    Ok(Some((token, user)))
}
