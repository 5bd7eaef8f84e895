//! Access tokens: short-lived HS256 JWTs naming the user and the token version they were issued
//! under. Validation pins the algorithm and requires `exp`, `iss`, `aud` and `sub`.

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::AppError;

pub const ISSUER: &str = "tete";
pub const AUDIENCE: &str = "tete-api";
pub const ACCESS_TOKEN_TTL: Duration = Duration::minutes(15);

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The user's id.
    pub sub: Uuid,
    /// The user's token version when the token was issued; bumping it revokes older tokens.
    pub ver: i32,
    pub iat: i64,
    pub exp: i64,
}

pub struct AccessToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// Signs and checks access tokens with the server's key.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl TokenKeys {
    pub fn new(secret: &SecretString) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // We issue and check on the same servers: no clock skew to forgive.
        validation.leeway = 0;
        Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            validation,
        }
    }

    pub fn issue(&self, user_id: Uuid, token_version: i32) -> Result<AccessToken, AppError> {
        let now = Utc::now();
        let expires_at = now + ACCESS_TOKEN_TTL;
        let claims = Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: user_id,
            ver: token_version,
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(AppError::internal)?;
        Ok(AccessToken { token, expires_at })
    }

    /// The claims of a valid token; `Unauthenticated` for anything else.
    pub fn verify(&self, token: &str) -> Result<Claims, AppError> {
        decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|_| AppError::Unauthenticated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new(&SecretString::from("k".repeat(40)))
    }

    #[test]
    fn issued_tokens_verify() {
        let user = Uuid::now_v7();
        let token = keys().issue(user, 3).unwrap();
        let claims = keys().verify(&token.token).unwrap();
        assert_eq!(claims.sub, user);
        assert_eq!(claims.ver, 3);
    }

    #[test]
    fn another_key_is_refused() {
        let token = keys().issue(Uuid::now_v7(), 0).unwrap();
        let other = TokenKeys::new(&SecretString::from("x".repeat(40)));
        assert!(other.verify(&token.token).is_err());
    }
}
