//! The caller of one request, built once from its credentials.

use chrono::{DateTime, Utc};
use entity::user;
use sea_orm::{DatabaseConnection, EntityTrait};
use uuid::Uuid;

use super::jwt::TokenKeys;
use std::sync::Arc;

use crate::{
    domain::{
        access_log::ReadRecorder,
        api_tokens::{self, ApiScope},
    },
    error::AppError,
};

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// A signed-in person (access token from sign-in).
    Session,
    /// An integration, limited to its scopes.
    ApiToken { id: Uuid, scopes: Vec<ApiScope> },
}

/// An authenticated, active user. Access rules take this, never a raw id.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user: user::Model,
    pub credentials: Credentials,
    /// Notes the series this request reads in ways the participants' access log shows.
    pub reads: Option<Arc<ReadRecorder>>,
    /// The client's network address, for the audit log.
    pub address: Option<String>,
}

impl Viewer {
    /// A signed-in person.
    pub fn new(user: user::Model) -> Self {
        Self {
            user,
            credentials: Credentials::Session,
            reads: None,
            address: None,
        }
    }

    pub fn id(&self) -> Uuid {
        self.user.id
    }

    pub fn organization_id(&self) -> Uuid {
        self.user.organization_id
    }

    pub fn is_admin(&self) -> bool {
        self.user.is_admin()
    }

    /// The API token in use, if the caller is an integration.
    pub fn api_token_id(&self) -> Option<Uuid> {
        match &self.credentials {
            Credentials::Session => None,
            Credentials::ApiToken { id, .. } => Some(*id),
        }
    }

    /// The key of the caller's request budget and turns: each API token has its own, apart
    /// from its owner's.
    pub fn caller_key(&self) -> String {
        match self.api_token_id() {
            Some(token) => format!("token:{token}"),
            None => format!("user:{}", self.id()),
        }
    }

    /// Admin-only operations call this first.
    pub fn require_admin(&self) -> Result<(), AppError> {
        self.require_session()?;
        if self.is_admin() {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// What no API token may do (tokens, exports, administration, meeting life cycle).
    pub fn require_session(&self) -> Result<(), AppError> {
        match self.credentials {
            Credentials::Session => Ok(()),
            Credentials::ApiToken { .. } => Err(AppError::Forbidden),
        }
    }

    /// Whether the caller may use `scope` (a person always may). A write scope includes
    /// reading what it writes.
    pub fn has_scope(&self, scope: ApiScope) -> bool {
        match &self.credentials {
            Credentials::Session => true,
            Credentials::ApiToken { scopes, .. } => scopes.iter().any(|held| held.includes(scope)),
        }
    }

    pub fn require_scope(&self, scope: ApiScope) -> Result<(), AppError> {
        if self.has_scope(scope) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// Whether private notes and private check-ins written by this user are visible: to the
    /// person, never to their integrations.
    pub fn sees_own_private(&self) -> bool {
        self.credentials == Credentials::Session
    }
}

/// A viewer and when their credentials stop being valid (`None`: until revoked).
pub struct Authenticated {
    pub viewer: Viewer,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Reads the `Authorization` header value: `None` (anonymous) when absent, the viewer when it
/// holds a valid access token or API token of an active user, `Unauthenticated` for anything
/// else. The user is re-read on every request, so a deactivated user is refused at once.
pub async fn authenticate(
    db: &DatabaseConnection,
    keys: &TokenKeys,
    authorization: Option<&str>,
) -> Result<Option<Authenticated>, AppError> {
    let Some(value) = authorization else {
        return Ok(None);
    };
    let token = bearer_token(value).ok_or(AppError::Unauthenticated)?;
    if token.starts_with(api_tokens::PREFIX) {
        let (api_token, user) = api_tokens::authenticate(db, token)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        return Ok(Some(Authenticated {
            viewer: Viewer {
                user,
                credentials: Credentials::ApiToken {
                    id: api_token.id,
                    scopes: ApiScope::parse_list(&api_token.scopes),
                },
                reads: None,
                address: None,
            },
            expires_at: None,
        }));
    }
    let claims = keys.verify(token)?;
    let user = user::Entity::find_by_id(claims.sub)
        .one(db)
        .await?
        .filter(|user| user.is_active() && user.token_version == claims.ver)
        .ok_or(AppError::Unauthenticated)?;
    Ok(Some(Authenticated {
        viewer: Viewer::new(user),
        expires_at: DateTime::from_timestamp(claims.exp, 0),
    }))
}

fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn reads_bearer_tokens_only() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer  abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token("abc"), None);
    }
}
