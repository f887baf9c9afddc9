//! API keys for backends: made for a signed-in person (shown once), stored only as
//! a SHA-256 hash, listed, revoked. Which fields a key's scopes open lives in
//! `crate::schema::scopes`; who a presented key stands for, in `Authority`.

use chrono::{DateTime, TimeDelta, Utc};
use rand::{Rng, TryRngCore, distr::Alphanumeric, rngs::OsRng};
use sea_orm::{ActiveValue::Set, Condition, DatabaseConnection, PaginatorTrait, QueryOrder, QuerySelect, prelude::*};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{
    auth::{Scopes, Viewer},
    entity::{self, api_keys},
    error::{AppError, Context as _},
    paging::{Direction, Page, PageRequest},
};

/// What every key starts with, so people and secret scanners recognise one.
pub const KEY_PREFIX: &str = "sb_live_";
/// Random characters after the prefix: 43 base62 characters are 256 bits.
const KEY_RANDOM_CHARS: usize = 43;
/// Characters kept for display: the prefix and four random ones.
const DISPLAY_CHARS: usize = KEY_PREFIX.len() + 4;
/// Live (neither revoked nor expired) keys one user may hold.
pub const MOST_LIVE_KEYS: u64 = 50;
/// Longest a key may live.
pub const LONGEST_LIFE: TimeDelta = TimeDelta::days(366);
/// Longest key name, in characters.
const NAME_CHARS: usize = 100;

/// The one answer for a key that is missing or someone else's.
pub const KEY_NOT_FOUND: &str = "no such API key";
/// The one answer for a presented key that is unknown, revoked, expired, or whose owner is deactivated.
pub const KEY_REFUSED: &str = "the API key is not valid";

/// A key's name: trimmed, 1 to 100 characters.
#[derive(Debug, Clone)]
pub struct KeyName(String);

impl KeyName {
    pub fn parse(name: &str) -> Result<Self, AppError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(AppError::bad_input(
                "name",
                "give the key a name, such as the backend that uses it",
            ));
        }
        if name.chars().count() > NAME_CHARS {
            return Err(AppError::bad_input(
                "name",
                format!("a key's name may be at most {NAME_CHARS} characters"),
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(AppError::bad_input(
                "name",
                "a key's name may not contain control characters",
            ));
        }
        Ok(KeyName(name.to_owned()))
    }
}

/// A key to make, already validated.
#[derive(Debug)]
pub struct NewApiKey {
    pub name: KeyName,
    pub scopes: Scopes,
    pub expires_at: Option<DateTime<Utc>>,
}

impl NewApiKey {
    /// Checks the parts that need each other or the clock: at least one scope; an
    /// expiry in the future and at most a year (366 days) away.
    pub fn new(name: KeyName, scopes: Scopes, expires_at: Option<DateTime<Utc>>) -> Result<Self, AppError> {
        if scopes.is_empty() {
            return Err(AppError::bad_input("scopes", "give the key at least one scope"));
        }
        if let Some(at) = expires_at {
            let now = Utc::now();
            if at <= now {
                return Err(AppError::bad_input("expiresAt", "a key's expiry must be in the future"));
            }
            if at > now + LONGEST_LIFE {
                return Err(AppError::bad_input("expiresAt", "a key may live at most 366 days"));
            }
        }
        Ok(NewApiKey {
            name,
            scopes,
            expires_at: expires_at.map(entity::stored_precision),
        })
    }
}

/// A new key and its secret, which is shown this once.
pub struct CreatedKey {
    pub key: api_keys::Model,
    pub secret: String,
}

/// The SHA-256 of a presented key that has a key's shape. A key carries 256 random
/// bits, so a fast hash is enough (no guessing can search that space).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyDigest([u8; 32]);

impl std::fmt::Debug for KeyDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyDigest(…)")
    }
}

impl KeyDigest {
    /// Whether a bearer value is meant as an API key (rather than an access token).
    pub fn is_api_key(presented: &str) -> bool {
        presented.starts_with(KEY_PREFIX)
    }

    /// The digest of a presented key; anything not shaped like one (wrong length,
    /// other characters) is refused before any lookup.
    pub fn of(presented: &str) -> Result<Self, AppError> {
        let random = presented
            .strip_prefix(KEY_PREFIX)
            .ok_or(AppError::Unauthenticated(KEY_REFUSED))?;
        if random.len() != KEY_RANDOM_CHARS || !random.bytes().all(|byte| byte.is_ascii_alphanumeric()) {
            return Err(AppError::Unauthenticated(KEY_REFUSED));
        }
        Ok(KeyDigest(Sha256::digest(presented.as_bytes()).into()))
    }

    pub fn to_hex(self) -> String {
        hex::encode(self.0)
    }
}

/// A new key: the prefix and 43 characters drawn uniformly from the 62 letters
/// and digits by the operating system's generator.
fn new_secret() -> String {
    let mut rng = OsRng.unwrap_err();
    let random: String = (0..KEY_RANDOM_CHARS)
        .map(|_| char::from(rng.sample(Alphanumeric)))
        .collect();
    format!("{KEY_PREFIX}{random}")
}

#[derive(Clone)]
pub struct ApiKeyService {
    db: DatabaseConnection,
}

impl ApiKeyService {
    pub fn new(db: DatabaseConnection) -> Self {
        ApiKeyService { db }
    }

    /// Makes a key for the viewer. A key cannot make keys; a user may hold at most
    /// 50 live keys (a soft cap: two creations racing may pass it by one).
    pub async fn create(&self, viewer: &Viewer, new: NewApiKey) -> Result<CreatedKey, AppError> {
        if viewer.api_key.is_some() {
            return Err(AppError::Forbidden(CREDENTIALS_NEED_A_SESSION));
        }
        let live = api_keys::Entity::find()
            .filter(Self::live(viewer.user_id))
            .count(&self.db)
            .await
            .context("counting live API keys")?;
        if live >= MOST_LIVE_KEYS {
            return Err(AppError::conflict(
                "input",
                format!("you hold {MOST_LIVE_KEYS} live API keys, the most allowed; revoke one you no longer use"),
            ));
        }
        let secret = new_secret();
        let digest = KeyDigest::of(&secret)?;
        let key = api_keys::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(viewer.user_id),
            name: Set(new.name.0),
            token_prefix: Set(secret[..DISPLAY_CHARS].to_owned()),
            secret_hash: Set(digest.to_hex()),
            scopes: Set(new.scopes.to_stored()),
            created_at: Set(entity::now()),
            expires_at: Set(new.expires_at),
            last_used_at: Set(None),
            revoked_at: Set(None),
        }
        .insert(&self.db)
        .await
        .context("storing an API key")?;
        Ok(CreatedKey { key, secret })
    }

    /// One page of the viewer's keys, newest first, revoked and expired ones included.
    pub async fn list(&self, viewer: &Viewer, request: &PageRequest<Uuid>) -> Result<Page<api_keys::Model>, AppError> {
        let mut query = api_keys::Entity::find().filter(api_keys::Column::UserId.eq(viewer.user_id));
        // Newest first: `after` moves to older (smaller) ids.
        if let Some(after) = request.after {
            query = query.filter(api_keys::Column::Id.lt(after));
        }
        if let Some(before) = request.before {
            query = query.filter(api_keys::Column::Id.gt(before));
        }
        query = match request.direction {
            Direction::Forward => query.order_by_desc(api_keys::Column::Id),
            Direction::Backward => query.order_by_asc(api_keys::Column::Id),
        };
        let rows = query
            .limit(request.fetch_limit())
            .all(&self.db)
            .await
            .context("listing API keys")?;
        Ok(Page::from_rows(rows, request))
    }

    /// How many keys the viewer has made and not yet had forgotten.
    pub async fn count(&self, viewer: &Viewer) -> Result<u64, AppError> {
        api_keys::Entity::find()
            .filter(api_keys::Column::UserId.eq(viewer.user_id))
            .count(&self.db)
            .await
            .context("counting API keys")
    }

    /// One of the viewer's keys (never anyone else's, staff included).
    pub async fn find_own(&self, viewer: &Viewer, id: Uuid) -> Result<Option<api_keys::Model>, AppError> {
        api_keys::Entity::find_by_id(id)
            .filter(api_keys::Column::UserId.eq(viewer.user_id))
            .one(&self.db)
            .await
            .context("reading an API key")
    }

    /// Revokes one of the viewer's keys; revoking it again changes nothing.
    /// Requests with it stop within seconds (see `Authority`).
    pub async fn revoke(&self, viewer: &Viewer, id: Uuid) -> Result<api_keys::Model, AppError> {
        if viewer.api_key.is_some() {
            return Err(AppError::Forbidden(CREDENTIALS_NEED_A_SESSION));
        }
        api_keys::Entity::update_many()
            .col_expr(api_keys::Column::RevokedAt, Expr::value(entity::now()))
            .filter(api_keys::Column::Id.eq(id))
            .filter(api_keys::Column::UserId.eq(viewer.user_id))
            .filter(api_keys::Column::RevokedAt.is_null())
            .exec(&self.db)
            .await
            .context("revoking an API key")?;
        self.find_own(viewer, id)
            .await?
            .ok_or(AppError::NotFound(KEY_NOT_FOUND))
    }

    /// Keys that still work: not revoked, not expired.
    fn live(user_id: Uuid) -> Condition {
        Condition::all()
            .add(api_keys::Column::UserId.eq(user_id))
            .add(api_keys::Column::RevokedAt.is_null())
            .add(
                Condition::any()
                    .add(api_keys::Column::ExpiresAt.is_null())
                    .add(api_keys::Column::ExpiresAt.gt(entity::now())),
            )
    }
}

/// Why a key may not touch credentials (its own kind included).
pub const CREDENTIALS_NEED_A_SESSION: &str =
    "API keys cannot sign in or manage credentials, sessions or other keys; sign in as a person";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_have_the_prefix_256_bits_and_a_shape_the_digest_accepts() {
        let secret = new_secret();

        assert!(secret.starts_with("sb_live_"));
        assert_eq!(secret.len(), KEY_PREFIX.len() + 43);
        assert!(KeyDigest::of(&secret).is_ok());
        assert_ne!(new_secret(), secret);
    }

    #[test]
    fn values_not_shaped_like_a_key_are_refused_before_any_lookup() {
        let long = format!("sb_live_{}", "a".repeat(10_000));
        let odd = format!("sb_live_{}", "-".repeat(43));

        for presented in ["sb_live_", "sb_live_short", long.as_str(), odd.as_str(), "eyJhbGciOi"] {
            assert!(KeyDigest::of(presented).is_err(), "{presented}");
        }
    }
}
