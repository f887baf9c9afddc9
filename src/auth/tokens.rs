//! Access tokens: HS256 JWTs with a pinned algorithm and checked `exp`, `iss`,
//! `aud`, naming their user (`sub`) and session (`sid`), signed with the current
//! secret and marked with its `kid`. A previous secret may verify (never sign)
//! while it is being rotated out. A token says who and which session; whether
//! that still stands is the database's answer (see `accounts::authority`).

use std::{
    num::NonZeroUsize,
    sync::{Arc, Mutex},
    time::Duration,
};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use lru::LruCache;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use sha2::{Digest, Sha256};

use crate::error::{AppError, Context as _};

const ISSUER: &str = "switchboard";
const AUDIENCE: &str = "switchboard-api";
/// Seconds a token is still taken after its `exp` (clocks drift).
const LEEWAY: u64 = 5;
/// Tokens remembered as verified (see `TokenKeys::verified`).
const VERIFIED_TOKENS: usize = 10_000;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: Uuid,
    sid: Uuid,
    exp: i64,
    iat: i64,
    iss: String,
    aud: String,
    jti: Uuid,
}

/// What a valid token says: whose it is, which session, and until when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenClaims {
    pub user_id: Uuid,
    pub session_id: Uuid,
    /// Unix seconds.
    pub expires_at: i64,
}

/// One secret: its id (a fingerprint, never the secret) and its keys.
#[derive(Clone)]
struct SigningKey {
    id: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl SigningKey {
    fn new(secret: &[u8]) -> Self {
        let mut fingerprint = Sha256::new();
        fingerprint.update(b"switchboard-kid:");
        fingerprint.update(secret);
        SigningKey {
            id: hex::encode(&fingerprint.finalize()[..8]),
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }
}

/// Mints access tokens with the current secret and checks them with it (or the previous one).
#[derive(Clone)]
pub struct TokenKeys {
    current: SigningKey,
    previous: Option<SigningKey>,
    validation: Validation,
    ttl: Duration,
    /// Tokens that passed `verify`, by their exact text, and what they said.
    /// A client sends the same token with each request until it expires: the
    /// next one is answered from here without the HMAC, the base64 and the
    /// JSON, its expiry still checked. Only a token that verified gets in,
    /// so nothing unsigned can be made to pass.
    verified: Arc<Mutex<LruCache<Box<str>, TokenClaims>>>,
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
        validation.leeway = LEEWAY;
        TokenKeys {
            current: SigningKey::new(secret),
            previous: None,
            validation,
            ttl,
            verified: Arc::new(Mutex::new(LruCache::new(
                NonZeroUsize::new(VERIFIED_TOKENS).unwrap_or(NonZeroUsize::MIN),
            ))),
        }
    }

    /// These keys, also accepting tokens signed with `secret` (the one being rotated out).
    pub fn with_previous(mut self, secret: &[u8]) -> Self {
        self.previous = Some(SigningKey::new(secret));
        self
    }

    /// A token for `user_id` in session `session_id`, signed with the current secret.
    pub fn issue(&self, user_id: Uuid, session_id: Uuid) -> Result<AccessToken, AppError> {
        let now = chrono::Utc::now().timestamp();
        let expires_in = i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX / 2);
        let claims = Claims {
            sub: user_id,
            sid: session_id,
            exp: now.saturating_add(expires_in),
            iat: now,
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            jti: Uuid::now_v7(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.current.id.clone());
        let token = encode(&header, &claims, &self.current.encoding).context("signing an access token")?;
        Ok(AccessToken { token, expires_in })
    }

    /// What a token says; any flaw in it is `UNAUTHENTICATED`. Its `kid` picks the
    /// secret; a token without one is tried with each.
    pub fn verify(&self, token: &str) -> Result<TokenClaims, AppError> {
        let refused = || AppError::Unauthenticated("the access token is invalid or has expired");
        if let Some(claims) = self.remembered(token) {
            let now = jsonwebtoken::get_current_timestamp();
            let expired = claims.expires_at.saturating_add(LEEWAY as i64) < i64::try_from(now).unwrap_or(i64::MAX);
            return if expired { Err(refused()) } else { Ok(claims) };
        }
        let kid = jsonwebtoken::decode_header(token).map_err(|_| refused())?.kid;
        let candidates = [Some(&self.current), self.previous.as_ref()];
        let data = candidates
            .into_iter()
            .flatten()
            .filter(|key| kid.as_deref().is_none_or(|kid| kid == key.id))
            .find_map(|key| decode::<Claims>(token, &key.decoding, &self.validation).ok())
            .ok_or_else(refused)?;
        let claims = TokenClaims {
            user_id: data.claims.sub,
            session_id: data.claims.sid,
            expires_at: data.claims.exp,
        };
        self.lock().put(token.into(), claims);
        Ok(claims)
    }

    fn remembered(&self, token: &str) -> Option<TokenClaims> {
        self.lock().get(token).copied()
    }

    /// A poisoned lock only means a request panicked while holding it; the cache stays consistent.
    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<Box<str>, TokenClaims>> {
        self.verified.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: u8) -> TokenKeys {
        TokenKeys::new(&[secret; 32], Duration::from_secs(60))
    }

    #[test]
    fn a_token_round_trips_to_its_user_and_session() {
        let (user, session) = (Uuid::now_v7(), Uuid::now_v7());

        let token = keys(7).issue(user, session).unwrap();
        let claims = keys(7).verify(&token.token).unwrap();

        assert_eq!((claims.user_id, claims.session_id), (user, session));
        assert_eq!(token.expires_in, 60);
        assert!(jsonwebtoken::decode_header(&token.token).unwrap().kid.is_some());
    }

    #[test]
    fn a_previous_secret_verifies_but_never_signs_and_other_keys_are_refused() {
        let old = keys(7).issue(Uuid::now_v7(), Uuid::now_v7()).unwrap();
        let rotated = keys(8).with_previous(&[7u8; 32]);
        let new = rotated.issue(Uuid::now_v7(), Uuid::now_v7()).unwrap();

        assert!(rotated.verify(&old.token).is_ok());
        assert!(keys(8).verify(&old.token).is_err());
        assert!(keys(8).verify(&new.token).is_ok());
        assert!(keys(7).verify(&new.token).is_err());
        assert!(keys(9).verify(&new.token).is_err());
    }

    #[test]
    fn a_remembered_token_still_expires_and_only_verified_tokens_are_remembered() {
        let keys = keys(7);
        let token = keys.issue(Uuid::now_v7(), Uuid::now_v7()).unwrap().token;
        let claims = keys.verify(&token).unwrap();
        assert_eq!(keys.remembered(&token), Some(claims));
        assert_eq!(keys.verify(&token).unwrap(), claims, "answered from memory");

        // A token one character off (its signature) is not the remembered one.
        let mut forged = token.clone();
        let last = forged.pop().unwrap();
        forged.push(if last == 'A' { 'B' } else { 'A' });
        assert!(keys.verify(&forged).is_err());
        assert!(keys.verify("not.a.token").is_err());
        assert_eq!(keys.lock().len(), 1, "a token that failed is never remembered");

        // Time passes: the remembered token expires like any other.
        let now = jsonwebtoken::get_current_timestamp() as i64;
        keys.lock().put(
            token.clone().into(),
            TokenClaims {
                expires_at: now - LEEWAY as i64 - 1,
                ..claims
            },
        );
        assert!(keys.verify(&token).is_err());
        keys.lock().put(
            token.clone().into(),
            TokenClaims {
                expires_at: now - LEEWAY as i64 + 1,
                ..claims
            },
        );
        assert!(keys.verify(&token).is_ok(), "within the leeway");
    }
}
