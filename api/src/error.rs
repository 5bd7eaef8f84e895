//! The one error type of the API and its mapping to `extensions.code`.
//!
//! `AppError` deliberately does not implement `Display`: that keeps async-graphql's blanket
//! `From<T: Display>` (which would drop the code) from applying, so `?` in a resolver always goes
//! through [`From<AppError> for async_graphql::Error`] below. Internal errors are logged with their
//! detail and reach clients as a bare `INTERNAL`.

use std::sync::Arc;

use async_graphql::ErrorExtensions;
use sea_orm::DbErr;

/// Every way a request can fail, as clients see it.
#[derive(Debug, Clone)]
pub enum AppError {
    /// No valid credentials (missing, malformed, expired or revoked token, deactivated user).
    Unauthenticated,
    /// A sign-in with an unknown email, a wrong password or a deactivated account: one answer
    /// for all three, so it reveals nothing.
    InvalidCredentials,
    /// The caller may know the thing exists but may not do this to it.
    Forbidden,
    /// The thing does not exist, or the caller must not learn that it does.
    NotFound,
    /// The input is invalid; the message says why (and never echoes secrets).
    BadUserInput(String),
    /// The write was based on stale state.
    Conflict {
        message: String,
        current_version: Option<i32>,
    },
    /// Too many requests; retry after this many seconds.
    RateLimited { retry_after_secs: u64 },
    /// An automatic persisted query's hash this server does not know: send the text with it.
    PersistedQueryNotFound,
    /// A live subscriber fell too far behind; it should subscribe again from this sequence.
    ResumeRequired { after_sequence: i32 },
    /// Anything else: a bug or an unavailable dependency. The detail is logged, never shown.
    Internal(Arc<dyn std::error::Error + Send + Sync>),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::BadUserInput(message.into())
    }

    pub fn internal(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Internal(Arc::from(error.into()))
    }

    /// The `extensions.code` clients switch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated | Self::InvalidCredentials => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::BadUserInput(_) => "BAD_USER_INPUT",
            Self::Conflict { .. } => "CONFLICT",
            Self::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
            Self::RateLimited { .. } | Self::ResumeRequired { .. } => "RATE_LIMITED",
            Self::Internal(_) => "INTERNAL",
        }
    }

    /// The message clients see.
    pub fn public_message(&self) -> String {
        match self {
            Self::Unauthenticated => "authentication required".into(),
            Self::InvalidCredentials => "invalid email or password".into(),
            Self::Forbidden => "not allowed".into(),
            Self::NotFound => "not found".into(),
            Self::BadUserInput(message) => message.clone(),
            Self::Conflict { message, .. } => message.clone(),
            Self::RateLimited { .. } => "too many requests".into(),
            // The exact text Apollo clients look for.
            Self::PersistedQueryNotFound => "PersistedQueryNotFound".into(),
            Self::ResumeRequired { after_sequence } => format!(
                "too slow to follow live: subscribe again with afterSequence {after_sequence}"
            ),
            Self::Internal(_) => "internal error".into(),
        }
    }
}

impl From<DbErr> for AppError {
    fn from(error: DbErr) -> Self {
        Self::Internal(Arc::new(error))
    }
}

/// DataLoaders share their error between every waiting field.
impl From<Arc<DbErr>> for AppError {
    fn from(error: Arc<DbErr>) -> Self {
        Self::Internal(error)
    }
}

/// Turns a unique-constraint violation into the given client error, where it happens, instead
/// of a racy "select, then insert".
pub trait OnUniqueViolation<T> {
    fn on_unique_violation(self, error: impl FnOnce() -> AppError) -> Result<T, AppError>;
}

impl<T> OnUniqueViolation<T> for Result<T, DbErr> {
    fn on_unique_violation(self, error: impl FnOnce() -> AppError) -> Result<T, AppError> {
        self.map_err(|db_error| match db_error.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => error(),
            _ => db_error.into(),
        })
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(error: AppError) -> Self {
        if let AppError::Internal(source) = &error {
            tracing::error!(error = %source, "internal error");
        }
        let code = error.code();
        async_graphql::Error::new(error.public_message()).extend_with(|_, extensions| {
            extensions.set("code", code);
            match &error {
                AppError::Conflict {
                    current_version: Some(version),
                    ..
                } => extensions.set("currentVersion", *version),
                AppError::RateLimited { retry_after_secs } => {
                    extensions.set("retryAfter", *retry_after_secs)
                }
                AppError::ResumeRequired { after_sequence } => {
                    extensions.set("retryAfter", 0);
                    extensions.set("resumeAfterSequence", *after_sequence);
                }
                _ => {}
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_hide_their_detail() {
        let error: async_graphql::Error =
            AppError::from(DbErr::Custom("SELECT secret FROM notes".into())).into();
        assert_eq!(error.message, "internal error");
        let rendered = format!("{:?}", error.extensions);
        assert!(rendered.contains("INTERNAL"));
        assert!(!rendered.contains("SELECT"));
    }

    #[test]
    fn conflicts_carry_the_current_version() {
        let error: async_graphql::Error = AppError::Conflict {
            message: "stale".into(),
            current_version: Some(7),
        }
        .into();
        let extensions = format!("{:?}", error.extensions);
        assert!(extensions.contains("CONFLICT"));
        assert!(extensions.contains('7'));
    }
}
