//! `AuditEntry`: one line of the organisation's audit log.

use async_graphql::{Context, Enum, Object};
use chrono::{DateTime, Utc};
use entity::audit_entry;

use super::{context::ContextExt, users::User};
use crate::{domain::audit, error::AppResult};

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::domain::audit::Action")]
pub enum AuditAction {
    SignedUp,
    SignInSucceeded,
    SignInFailed,
    UserCreated,
    UserDeactivated,
    ManagerChanged,
    ApiTokenCreated,
    ApiTokenRevoked,
    DataExported,
    WebhookCreated,
    WebhookDeleted,
}

/// An admin action or a sign-in. Never any 1:1 content.
pub struct AuditEntry(pub audit_entry::Model);

impl AuditEntry {
    async fn user(ctx: &Context<'_>, id: Option<uuid::Uuid>) -> AppResult<Option<User>> {
        let Some(id) = id else {
            return Ok(None);
        };
        Ok(ctx.loaders()?.user(id).await?.map(User))
    }
}

#[Object]
impl AuditEntry {
    async fn action(&self) -> Option<AuditAction> {
        audit::Action::parse(&self.0.action).map(Into::into)
    }

    /// Who did it.
    async fn actor(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        Self::user(ctx, self.0.actor_id).await
    }

    /// Whom it was about.
    async fn subject_user(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        Self::user(ctx, self.0.subject_user_id).await
    }

    /// A short description (an email, a token name), never content.
    async fn detail(&self) -> Option<&str> {
        self.0.detail.as_deref()
    }

    /// The client's network address.
    async fn address(&self) -> Option<&str> {
        self.0.address.as_deref()
    }

    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
}
