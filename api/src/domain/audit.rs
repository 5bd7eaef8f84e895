//! The organisation's audit log: every admin action and every sign-in, with who, what, when
//! and from which address. Entries carry ids and emails at most, never 1:1 content.

use chrono::Utc;
use entity::audit_entry;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Select, Set,
};
use uuid::Uuid;

use crate::{auth::Viewer, error::AppResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
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

impl Action {
    pub const ALL: [Action; 11] = [
        Action::SignedUp,
        Action::SignInSucceeded,
        Action::SignInFailed,
        Action::UserCreated,
        Action::UserDeactivated,
        Action::ManagerChanged,
        Action::ApiTokenCreated,
        Action::ApiTokenRevoked,
        Action::DataExported,
        Action::WebhookCreated,
        Action::WebhookDeleted,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Action::SignedUp => "SIGNED_UP",
            Action::SignInSucceeded => "SIGN_IN_SUCCEEDED",
            Action::SignInFailed => "SIGN_IN_FAILED",
            Action::UserCreated => "USER_CREATED",
            Action::UserDeactivated => "USER_DEACTIVATED",
            Action::ManagerChanged => "MANAGER_CHANGED",
            Action::ApiTokenCreated => "API_TOKEN_CREATED",
            Action::ApiTokenRevoked => "API_TOKEN_REVOKED",
            Action::DataExported => "DATA_EXPORTED",
            Action::WebhookCreated => "WEBHOOK_CREATED",
            Action::WebhookDeleted => "WEBHOOK_DELETED",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|action| action.name() == stored)
    }
}

/// One entry to write.
pub struct Entry<'a> {
    pub organization_id: Uuid,
    pub actor_id: Option<Uuid>,
    pub action: Action,
    pub subject_user_id: Option<Uuid>,
    pub detail: Option<String>,
    pub address: Option<&'a str>,
}

impl<'a> Entry<'a> {
    /// An action the viewer took.
    pub fn by(viewer: &'a Viewer, action: Action) -> Self {
        Self {
            organization_id: viewer.organization_id(),
            actor_id: Some(viewer.id()),
            action,
            subject_user_id: None,
            detail: None,
            address: viewer.address.as_deref(),
        }
    }

    pub fn subject(mut self, user_id: Uuid) -> Self {
        self.subject_user_id = Some(user_id);
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

pub async fn record(conn: &impl ConnectionTrait, entry: Entry<'_>) -> AppResult<()> {
    audit_entry::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(entry.organization_id),
        actor_id: Set(entry.actor_id),
        action: Set(entry.action.name().to_owned()),
        subject_user_id: Set(entry.subject_user_id),
        detail: Set(entry.detail),
        address: Set(entry.address.map(str::to_owned)),
        occurred_at: Set(Utc::now()),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// The viewer's organisation's log (the caller checks the viewer is an admin).
pub fn of_organization(viewer: &Viewer) -> Select<audit_entry::Entity> {
    audit_entry::Entity::find()
        .filter(audit_entry::Column::OrganizationId.eq(viewer.organization_id()))
}
