//! The caller of one request, built once from its credentials.

use chrono::{DateTime, Utc};
use entity::user;
use sea_orm::{DatabaseConnection, EntityTrait};
use uuid::Uuid;

use super::jwt::TokenKeys;
use crate::error::AppError;

/// An authenticated, active user. Access rules take this, never a raw id.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user: user::Model,
}

impl Viewer {
    pub fn new(user: user::Model) -> Self {
        Self { user }
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

    /// Admin-only operations call this first.
    pub fn require_admin(&self) -> Result<(), AppError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }
}

/// A viewer and when their credentials stop being valid.
pub struct Authenticated {
    pub viewer: Viewer,
    pub expires_at: DateTime<Utc>,
}

/// Reads the `Authorization` header value: `None` (anonymous) when absent, the viewer when it
/// holds a valid token of an active user, `Unauthenticated` for anything else. The user is
/// re-read on every request, so a deactivated user is refused at once.
pub async fn authenticate(
    db: &DatabaseConnection,
    keys: &TokenKeys,
    authorization: Option<&str>,
) -> Result<Option<Authenticated>, AppError> {
    let Some(value) = authorization else {
        return Ok(None);
    };
    let token = bearer_token(value).ok_or(AppError::Unauthenticated)?;
    let claims = keys.verify(token)?;
    let user = user::Entity::find_by_id(claims.sub)
        .one(db)
        .await?
        .filter(|user| user.is_active() && user.token_version == claims.ver)
        .ok_or(AppError::Unauthenticated)?;
    Ok(Some(Authenticated {
        viewer: Viewer { user },
        expires_at: DateTime::from_timestamp(claims.exp, 0).unwrap_or_else(Utc::now),
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
