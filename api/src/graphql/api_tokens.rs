//! `ApiToken`, `createApiToken` and `revokeApiToken`.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::api_token;

use super::context::ContextExt;
use crate::{
    domain::api_tokens::{self, ApiScope as Scope},
    error::AppResult,
    ids::{self, NodeKind},
};

/// What an API token may do. No scope reaches private notes or private check-ins.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::domain::api_tokens::ApiScope")]
pub enum ApiScope {
    /// Read series, meetings, agenda items, action items and shared check-ins.
    MeetingsRead,
    /// Add, edit, move and remove agenda items; set the current topic (includes `MEETINGS_READ`).
    AgendaWrite,
    /// Read shared notes.
    NotesRead,
    /// Create, edit and delete shared notes (includes `NOTES_READ`).
    NotesWrite,
    /// Create and update action items (includes `MEETINGS_READ`).
    ActionItemsWrite,
}

/// A token an integration uses instead of signing in. Its secret is shown once, at creation.
pub struct ApiToken(pub api_token::Model);

#[Object]
impl ApiToken {
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::ApiToken, self.0.id)
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn scopes(&self) -> Vec<ApiScope> {
        Scope::parse_list(&self.0.scopes)
            .into_iter()
            .map(Into::into)
            .collect()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// To the minute.
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }

    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
}

#[derive(InputObject)]
pub struct CreateApiTokenInput {
    /// What it is for, e.g. "Calendar sync".
    pub name: String,
    pub scopes: Vec<ApiScope>,
}

#[derive(SimpleObject)]
pub struct CreateApiTokenPayload {
    /// The secret: send it as `Authorization: Bearer <token>`. Shown only this once.
    pub token: String,
    pub api_token: ApiToken,
}

#[derive(InputObject)]
pub struct RevokeApiTokenInput {
    pub api_token_id: ID,
}

#[derive(SimpleObject)]
pub struct RevokeApiTokenPayload {
    pub api_token: ApiToken,
}

#[derive(Default)]
pub struct ApiTokenMutation;

#[Object]
impl ApiTokenMutation {
    /// Creates an API token for an integration (not available to API tokens themselves).
    async fn create_api_token(
        &self,
        ctx: &Context<'_>,
        input: CreateApiTokenInput,
    ) -> AppResult<CreateApiTokenPayload> {
        let viewer = ctx.viewer()?;
        let scopes: Vec<Scope> = input.scopes.into_iter().map(Into::into).collect();
        let (token, secret) =
            api_tokens::create(&ctx.state()?.store.db, &viewer, &input.name, &scopes).await?;
        Ok(CreateApiTokenPayload {
            token: secret,
            api_token: ApiToken(token),
        })
    }

    /// Revokes one of your API tokens; it stops working on the next request.
    async fn revoke_api_token(
        &self,
        ctx: &Context<'_>,
        input: RevokeApiTokenInput,
    ) -> AppResult<RevokeApiTokenPayload> {
        let viewer = ctx.viewer()?;
        let id = ids::decode_as(NodeKind::ApiToken, &input.api_token_id)?;
        let token = api_tokens::revoke(&ctx.state()?.store, &viewer, id).await?;
        Ok(RevokeApiTokenPayload {
            api_token: ApiToken(token),
        })
    }
}
