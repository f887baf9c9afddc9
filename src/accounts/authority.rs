//! Authority from the database, not from the token: a token names a user and a
//! session; whether the user is still active, whether they are staff, and
//! whether the session still stands are read from the database, cached for a
//! few seconds per instance, so that what the database takes away is gone on
//! every path within seconds.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use sea_orm::{DatabaseConnection, PaginatorTrait, QueryFilter, prelude::*, sea_query::Expr};
use uuid::Uuid;

use crate::{
    auth::{Viewer, tokens::TokenClaims},
    entity::{self, refresh_tokens, sessions, users},
    error::AppError,
};

/// How long an answer is reused: a revoked session or a deactivated or demoted
/// user loses access within this (and well within the promised 10 seconds).
pub const AUTHORITY_CACHE: Duration = Duration::from_secs(5);
/// Answers remembered at most; past this the stale ones are dropped.
const CACHE_ENTRIES: usize = 10_000;

/// Answers by (user, session): the viewer, or `None` when it no longer stands; and when asked.
type Answers = HashMap<(Uuid, Uuid), (Option<Viewer>, Instant)>;

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
        let key = (claims.user_id, claims.session_id);
        let now = Instant::now();
        if let Some((answer, at)) = self.lock().get(&key).copied()
            && now.duration_since(at) < AUTHORITY_CACHE
        {
            return answer.ok_or(AppError::Unauthenticated(ENDED));
        }
        let answer = self.look_up(claims).await?;
        let mut cache = self.lock();
        if cache.len() >= CACHE_ENTRIES {
            cache.retain(|_, (_, at)| now.duration_since(*at) < AUTHORITY_CACHE);
        }
        cache.insert(key, (answer, now));
        answer.ok_or(AppError::Unauthenticated(ENDED))
    }

    async fn look_up(&self, claims: &TokenClaims) -> Result<Option<Viewer>, AppError> {
        let Some(user) = users::Entity::find_by_id(claims.user_id).one(&self.db).await? else {
            return Ok(None);
        };
        if !user.is_active {
            return Ok(None);
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
            return Ok(None);
        }
        // "Last used", to a minute: at most one write a minute per session.
        let now = entity::now();
        sessions::Entity::update_many()
            .col_expr(sessions::Column::LastUsedAt, Expr::value(now))
            .filter(sessions::Column::Id.eq(claims.session_id))
            .filter(sessions::Column::LastUsedAt.lt(now - chrono::TimeDelta::minutes(1)))
            .exec(&self.db)
            .await?;
        Ok(Some(Viewer {
            user_id: user.id,
            is_staff: user.is_staff,
            session: Some(claims.session_id),
        }))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Answers> {
        // A poisoned lock only means a panic mid-insert; the map is still usable.
        self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
