//! Access tokens: HS256 JWTs with a pinned algorithm and checked `exp`, `iss`, `aud`.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Viewer;
use crate::error::{AppError, Context as _};

const ISSUER: &str = "switchboard";
const AUDIENCE: &str = "switchboard-api";

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: Uuid,
    exp: i64,
    iat: i64,
    iss: String,
    aud: String,
    jti: Uuid,
    #[serde(default)]
    staff: bool,
}

/// Mints and checks access tokens with one secret.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// A freshly minted access token and its lifetime in seconds.
pub struct AccessToken {
    pub token: String,
    pub expires_in: i64,
}

impl TokenKeys {
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        // Only HS256 is accepted, so `alg: none` or an RS/HS confusion cannot pass.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = 5;
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl,
        }
    }

    pub fn issue(&self, viewer: Viewer) -> Result<AccessToken, AppError> {
        let now = chrono::Utc::now().timestamp();
        let expires_in = i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX / 2);
        let claims = Claims {
            sub: viewer.user_id,
            exp: now.saturating_add(expires_in),
            iat: now,
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            jti: Uuid::now_v7(),
            staff: viewer.is_staff,
        };
        let token =
            encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).context("signing an access token")?;
        Ok(AccessToken { token, expires_in })
    }

    /// The viewer a token speaks for; any flaw in the token is `UNAUTHENTICATED`.
    pub fn verify(&self, token: &str) -> Result<Viewer, AppError> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| AppError::Unauthenticated("the access token is invalid or has expired"))?;
        Ok(Viewer {
            user_id: data.claims.sub,
            is_staff: data.claims.staff,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new(&[7u8; 32], Duration::from_secs(60))
    }

    #[test]
    fn a_token_round_trips_to_its_viewer() {
        let viewer = Viewer {
            user_id: Uuid::now_v7(),
            is_staff: true,
        };

        let token = keys().issue(viewer).unwrap();

        assert_eq!(keys().verify(&token.token).unwrap(), viewer);
        assert_eq!(token.expires_in, 60);
    }

    #[test]
    fn a_token_signed_with_another_key_is_refused() {
        let other = TokenKeys::new(&[8u8; 32], Duration::from_secs(60));
        let token = other
            .issue(Viewer {
                user_id: Uuid::now_v7(),
                is_staff: false,
            })
            .unwrap();

        assert!(keys().verify(&token.token).is_err());
    }
}
