//! Authority from the database, not from the token: a token names a user and a
//! session, an API key names itself; whether the user is still active, whether
//! they are staff, and whether the session or key still stands are read from
//! the database, cached for a few seconds per instance, so that what the
//! database takes away is gone on every path within seconds.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use sea_orm::{DatabaseConnection, PaginatorTrait, QueryFilter, prelude::*, sea_query::Expr};
use uuid::Uuid;

use super::api_keys::{KEY_REFUSED, KeyDigest};
use crate::{
    auth::{ApiKeyGrant, Scopes, Viewer, tokens::TokenClaims},
    entity::{self, api_keys, refresh_tokens, sessions, users},
    error::AppError,
};

/// How long an answer is reused: a revoked session or a deactivated or demoted
/// user loses access within this (and well within the promised 10 seconds).
pub const AUTHORITY_CACHE: Duration = Duration::from_secs(5);
/// Answers remembered at most; past this the stale ones are dropped.
const CACHE_ENTRIES: usize = 10_000;

/// What a request presented: a session's token, or an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Presented {
    Session { user: Uuid, session: Uuid },
    Key(KeyDigest),
}

/// What the database said: the viewer (or `None` when it no longer stands), until
/// when that holds at the latest (a key's expiry), and when it was asked.
#[derive(Clone, Copy)]
struct Answer {
    viewer: Option<Viewer>,
    until: Option<chrono::DateTime<chrono::Utc>>,
    at: Instant,
}

type Answers = HashMap<Presented, Answer>;

/// What a lookup finds: the viewer, if it stands, and until when at the latest.
type Standing = (Option<Viewer>, Option<chrono::DateTime<chrono::Utc>>);

const ENDED: &str = "this session has ended or the account is deactivated; sign in again";

#[derive(Clone)]
pub struct Authority {
    db: DatabaseConnection,
    cache: Arc<Mutex<Answers>>,
}

impl Authority {
    pub fn new(db: DatabaseConnection) -> Self {
        Authority {
            db,
            cache: Arc::default(),
        }
    }

    /// The viewer a valid token's claims stand for now, or `UNAUTHENTICATED` when
    /// the user is gone or deactivated or the session has ended.
    pub async fn viewer(&self, claims: &TokenClaims) -> Result<Viewer, AppError> {
        let presented = Presented::Session {
            user: claims.user_id,
            session: claims.session_id,
        };
        self.cached(presented, || self.look_up(claims))
            .await?
            .ok_or(AppError::Unauthenticated(ENDED))
    }

    /// The viewer an API key stands for now: its owner, with the key's scopes and
    /// never staff powers; `UNAUTHENTICATED` (saying only that the key is not valid)
    /// when it is unknown, revoked or expired, or its owner is deactivated.
    pub async fn key_viewer(&self, digest: KeyDigest) -> Result<Viewer, AppError> {
        self.cached(Presented::Key(digest), || self.look_up_key(digest))
            .await?
            .ok_or(AppError::Unauthenticated(KEY_REFUSED))
    }

    /// The answer for `presented`, from the cache while it is fresh.
    async fn cached<F>(&self, presented: Presented, look_up: impl FnOnce() -> F) -> Result<Option<Viewer>, AppError>
    where
        F: Future<Output = Result<Standing, AppError>>,
    {
        let now = Instant::now();
        if let Some(answer) = self.lock().get(&presented).copied()
            && now.duration_since(answer.at) < AUTHORITY_CACHE
        {
            let lapsed = answer.until.is_some_and(|until| until <= chrono::Utc::now());
            return Ok(answer.viewer.filter(|_| !lapsed));
        }
        let (viewer, until) = look_up().await?;
        let mut cache = self.lock();
        if cache.len() >= CACHE_ENTRIES {
            cache.retain(|_, answer| now.duration_since(answer.at) < AUTHORITY_CACHE);
        }
        cache.insert(presented, Answer { viewer, until, at: now });
        Ok(viewer)
    }

    async fn look_up(&self, claims: &TokenClaims) -> Result<Standing, AppError> {
        let Some(user) = users::Entity::find_by_id(claims.user_id).one(&self.db).await? else {
            return Ok((None, None));
        };
        if !user.is_active {
            return Ok((None, None));
        }
        // A session stands while its family has a token neither revoked nor expired.
        let live = refresh_tokens::Entity::find()
            .filter(refresh_tokens::Column::FamilyId.eq(claims.session_id))
            .filter(refresh_tokens::Column::UserId.eq(claims.user_id))
            .filter(refresh_tokens::Column::RevokedAt.is_null())
            .filter(refresh_tokens::Column::ExpiresAt.gt(entity::now()))
            .count(&self.db)
            .await?;
        if live == 0 {
            return Ok((None, None));
        }
        // "Last used", to a minute: at most one write a minute per session.
        let now = entity::now();
        sessions::Entity::update_many()
            .col_expr(sessions::Column::LastUsedAt, Expr::value(now))
            .filter(sessions::Column::Id.eq(claims.session_id))
            .filter(sessions::Column::LastUsedAt.lt(now - chrono::TimeDelta::minutes(1)))
            .exec(&self.db)
            .await?;
        let viewer = Viewer {
            user_id: user.id,
            is_staff: user.is_staff,
            session: Some(claims.session_id),
            api_key: None,
        };
        Ok((Some(viewer), None))
    }

    /// One indexed lookup by the digest of the whole presented key (never by its
    /// prefix), with its owner.
    async fn look_up_key(&self, digest: KeyDigest) -> Result<Standing, AppError> {
        let found = api_keys::Entity::find()
            .filter(api_keys::Column::SecretHash.eq(digest.to_hex()))
            .find_also_related(users::Entity)
            .one(&self.db)
            .await?;
        let Some((key, Some(owner))) = found else {
            return Ok((None, None));
        };
        let now = entity::now();
        if key.revoked_at.is_some() || key.expires_at.is_some_and(|at| at <= now) || !owner.is_active {
            return Ok((None, None));
        }
        // "Last used", to a minute: at most one write a minute per key; a failure
        // costs the record, not the request.
        let noted = api_keys::Entity::update_many()
            .col_expr(api_keys::Column::LastUsedAt, Expr::value(now))
            .filter(api_keys::Column::Id.eq(key.id))
            .filter(
                sea_orm::Condition::any()
                    .add(api_keys::Column::LastUsedAt.is_null())
                    .add(api_keys::Column::LastUsedAt.lt(now - chrono::TimeDelta::minutes(1))),
            )
            .exec(&self.db)
            .await;
        if let Err(error) = noted {
            tracing::warn!(key = %key.id, error = %error, "could not note an API key's last use");
        }
        let viewer = Viewer {
            user_id: owner.id,
            // A key never carries staff powers, whoever owns it.
            is_staff: false,
            session: None,
            api_key: Some(ApiKeyGrant {
                id: key.id,
                scopes: Scopes::from_stored(&key.scopes),
            }),
        };
        Ok((Some(viewer), key.expires_at))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Answers> {
        // A poisoned lock only means a panic mid-insert; the map is still usable.
        self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
