//! Argon2id password hashing, run off the async workers because it is deliberately slow.

use std::sync::{LazyLock, OnceLock};

use tokio::sync::Semaphore;

use argon2::{
    Argon2,
    password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash},
};

use crate::error::AppError;

pub const MIN_PASSWORD_CHARS: usize = 10;
/// Bounds the hashing work an attacker can ask for.
pub const MAX_PASSWORD_CHARS: usize = 256;

/// A hash to verify against when the email is unknown, so that answer takes as long as a wrong
/// password does.
static DUMMY_HASH: OnceLock<String> = OnceLock::new();

pub fn validate(password: &str) -> Result<(), AppError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(AppError::bad_input(format!(
            "password must be at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(AppError::bad_input(format!(
            "password must be at most {MAX_PASSWORD_CHARS} characters"
        )));
    }
    Ok(())
}

/// Runs one Argon2 computation on the blocking pool, at most one per core at a time: each takes
/// 19 MiB, and a burst of sign-ins on as many threads would leave the process that much larger
/// (the allocator keeps freed arenas) without finishing any sooner.
async fn argon2<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    static SLOTS: LazyLock<Semaphore> = LazyLock::new(|| {
        Semaphore::new(std::thread::available_parallelism().map_or(2, |cores| cores.get()))
    });
    let _slot = SLOTS.acquire().await.map_err(AppError::internal)?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(AppError::internal)?
}

pub async fn hash(password: String) -> Result<String, AppError> {
    argon2(move || hash_now(&password)).await
}

fn hash_now(password: &str) -> Result<String, AppError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|error| AppError::internal(error.to_string()))
}

/// Checks `password` against `stored`, or against a dummy hash when there is no user, taking
/// the same time either way. True only for a real match.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, AppError> {
    argon2(move || {
        let is_real = stored.is_some();
        let phc = match stored {
            Some(hash) => hash,
            None => dummy_hash()?.to_owned(),
        };
        let parsed =
            PasswordHash::new(&phc).map_err(|error| AppError::internal(error.to_string()))?;
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(is_real && matches)
    })
    .await
}

/// Computes the dummy hash ahead of the first sign-in; called at start-up.
pub async fn warm_up() -> Result<(), AppError> {
    argon2(|| dummy_hash().map(|_| ())).await
}

fn dummy_hash() -> Result<&'static str, AppError> {
    if let Some(hash) = DUMMY_HASH.get() {
        return Ok(hash);
    }
    let hash = hash_now("a password nobody has")?;
    Ok(DUMMY_HASH.get_or_init(|| hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn verifies_only_the_right_password() {
        let stored = hash("correct horse battery".into()).await.unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(
            verify("correct horse battery".into(), Some(stored.clone()))
                .await
                .unwrap()
        );
        assert!(
            !verify("wrong horse battery".into(), Some(stored))
                .await
                .unwrap()
        );
        assert!(!verify("a password nobody has".into(), None).await.unwrap());
    }

    #[test]
    fn enforces_length() {
        assert!(validate("short").is_err());
        assert!(validate("long enough!").is_ok());
        assert!(validate(&"x".repeat(MAX_PASSWORD_CHARS + 1)).is_err());
    }
}
