//! Sessions: a short-lived access token plus an opaque refresh token, stored as a
//! SHA-256 hash and rotated on every use. A rotated token that comes back revokes
//! its family (the stolen-token case); duplicates sent together are merely refused.

use std::{
    collections::{HashMap, hash_map::Entry},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};

use base64::Engine;
use rand::RngCore;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseConnection, TransactionTrait, prelude::*, sea_query::Expr};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{
    auth::tokens::TokenKeys,
    entity::{self, refresh_tokens, sessions, users},
    error::{AppError, Context as _},
};

/// What a successful sign-in or refresh hands the client.
pub struct Session {
    /// The session's id (its refresh-token family).
    pub session_id: Uuid,
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
    pub user: users::Model,
}

/// Where a sign-in came from, so the user can recognise the session later.
#[derive(Debug, Clone, Default)]
pub struct SessionOrigin {
    pub client_address: Option<String>,
    /// Cut to 256 characters.
    pub user_agent: Option<String>,
}

#[derive(Clone)]
pub struct SessionService {
    db: DatabaseConnection,
    keys: TokenKeys,
    refresh_ttl: Duration,
    rotations: Rotations,
}

const REFRESH_REFUSED: &str = "the refresh token is invalid, expired or already used; sign in again";

impl SessionService {
    pub fn new(db: DatabaseConnection, keys: TokenKeys, refresh_ttl: Duration) -> Self {
        SessionService {
            db,
            keys,
            refresh_ttl,
            rotations: Rotations::default(),
        }
    }

    pub fn keys(&self) -> &TokenKeys {
        &self.keys
    }

    /// Starts a new session (a new refresh-token family) for a signed-in user, and
    /// forgets that user's expired refresh tokens so the table does not grow forever.
    pub async fn start(&self, user: users::Model, origin: SessionOrigin) -> Result<Session, AppError> {
        refresh_tokens::Entity::delete_many()
            .filter(refresh_tokens::Column::UserId.eq(user.id))
            .filter(refresh_tokens::Column::ExpiresAt.lt(entity::now()))
            .exec(&self.db)
            .await
            .context("deleting expired refresh tokens")?;
        let now = entity::now();
        let session_id = Uuid::now_v7();
        let transaction = self.db.begin().await.context("starting a session")?;
        sessions::ActiveModel {
            id: Set(session_id),
            user_id: Set(user.id),
            created_at: Set(now),
            last_used_at: Set(now),
            client_address: Set(origin.client_address),
            user_agent: Set(origin.user_agent.map(|agent| agent.chars().take(256).collect())),
            ended_at: Set(None),
        }
        .insert(&transaction)
        .await
        .context("recording a session")?;
        let session = self.issue(&transaction, user, session_id).await?;
        transaction.commit().await.context("committing a new session")?;
        Ok(session)
    }

    /// Trades a live refresh token for a new session in the same family.
    pub async fn refresh(&self, presented: &str) -> Result<Session, AppError> {
        // Taken before the token is read: a duplicate that began before the
        // winner answered is no replay, as its sender could not yet know the answer.
        let began = Instant::now();
        let began_at = entity::now();
        let Some(token) = self.find(presented).await? else {
            return Err(AppError::Unauthenticated(REFRESH_REFUSED));
        };
        if token.revoked_at.is_some() {
            return self.refuse_reuse(token.family_id).await;
        }
        if let Some(replaced_at) = token.replaced_at {
            // This process knows when it answered its own rotations; for another
            // instance's, the stored `replaced_at` stands in (a duplicate beginning
            // between that stamp and its commit still counts as a replay).
            let concurrent = self
                .rotations
                .overlapped(token.id, began)
                .unwrap_or(replaced_at >= began_at);
            if concurrent {
                return Err(AppError::Unauthenticated(REFRESH_REFUSED));
            }
            return self.refuse_reuse(token.family_id).await;
        }
        if token.expires_at <= entity::now() {
            return Err(AppError::Unauthenticated(REFRESH_REFUSED));
        }
        let user = match users::Entity::find_by_id(token.user_id).one(&self.db).await? {
            Some(user) if user.is_active => user,
            _ => return Err(AppError::Unauthenticated(REFRESH_REFUSED)),
        };
        let Some(rotation) = self.rotations.start(token.id) else {
            // A duplicate of a refresh this process is already running.
            return Err(AppError::Unauthenticated(REFRESH_REFUSED));
        };
        // The new token and the claim on the old one commit together, so a failure
        // leaves the presented token usable.
        let transaction = self.db.begin().await.context("starting a refresh-token rotation")?;
        let session = self.issue(&transaction, user, token.family_id).await?;
        sessions::Entity::update_many()
            .col_expr(sessions::Column::LastUsedAt, Expr::value(entity::now()))
            .filter(sessions::Column::Id.eq(token.family_id))
            .exec(&transaction)
            .await
            .context("noting a session's use")?;
        let claimed = refresh_tokens::Entity::update_many()
            .col_expr(refresh_tokens::Column::ReplacedAt, Expr::value(entity::now()))
            .filter(refresh_tokens::Column::Id.eq(token.id))
            .filter(refresh_tokens::Column::ReplacedAt.is_null())
            .filter(refresh_tokens::Column::RevokedAt.is_null())
            .exec(&transaction)
            .await
            .context("claiming a refresh token")?;
        if claimed.rows_affected != 1 {
            transaction
                .rollback()
                .await
                .context("abandoning a refresh-token rotation")?;
            return self.lost_the_claim(token.id).await;
        }
        transaction
            .commit()
            .await
            .context("committing a refresh-token rotation")?;
        rotation.answered();
        Ok(session)
    }

    /// Ends the session a refresh token belongs to. True when a live session ended.
    pub async fn logout(&self, presented: &str) -> Result<bool, AppError> {
        let Some(token) = self.find(presented).await? else {
            return Ok(false);
        };
        let live = token.replaced_at.is_none() && token.revoked_at.is_none() && token.expires_at > entity::now();
        self.revoke_family(token.family_id).await?;
        Ok(live)
    }

    async fn find(&self, presented: &str) -> Result<Option<refresh_tokens::Model>, AppError> {
        Ok(refresh_tokens::Entity::find()
            .filter(refresh_tokens::Column::TokenHash.eq(hash(presented)))
            .one(&self.db)
            .await?)
    }

    /// A rotated or revoked token came back: whoever holds the family may be a thief.
    async fn refuse_reuse(&self, family_id: Uuid) -> Result<Session, AppError> {
        self.revoke_family(family_id).await?;
        tracing::warn!(family = %family_id, "refresh token reused; session family revoked");
        Err(AppError::Unauthenticated(REFRESH_REFUSED))
    }

    /// Another instance claimed the token after we read it: a concurrent duplicate,
    /// refused without harming the winner, unless the family was revoked meanwhile.
    async fn lost_the_claim(&self, token_id: Uuid) -> Result<Session, AppError> {
        let token = refresh_tokens::Entity::find_by_id(token_id)
            .one(&self.db)
            .await
            .context("reading a refresh token after a lost claim")?;
        match token {
            Some(token) if token.revoked_at.is_some() => self.refuse_reuse(token.family_id).await,
            _ => Err(AppError::Unauthenticated(REFRESH_REFUSED)),
        }
    }

    /// Ends a session: its refresh tokens are revoked (so its access tokens stop
    /// working too, see `Authority`) and it is marked ended.
    pub(super) async fn revoke_family(&self, family_id: Uuid) -> Result<(), AppError> {
        let now = entity::now();
        refresh_tokens::Entity::update_many()
            .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now))
            .filter(refresh_tokens::Column::FamilyId.eq(family_id))
            .filter(refresh_tokens::Column::RevokedAt.is_null())
            .exec(&self.db)
            .await
            .context("revoking a refresh-token family")?;
        sessions::Entity::update_many()
            .col_expr(sessions::Column::EndedAt, Expr::value(now))
            .filter(sessions::Column::Id.eq(family_id))
            .filter(sessions::Column::EndedAt.is_null())
            .exec(&self.db)
            .await
            .context("marking a session ended")?;
        Ok(())
    }

    pub(super) fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    async fn issue(&self, db: &impl ConnectionTrait, user: users::Model, family_id: Uuid) -> Result<Session, AppError> {
        let access = self.keys.issue(user.id, family_id)?;
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let refresh_token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let now = entity::now();
        let ttl = chrono::Duration::from_std(self.refresh_ttl).unwrap_or(chrono::Duration::days(14));
        refresh_tokens::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user.id),
            family_id: Set(family_id),
            token_hash: Set(hash(&refresh_token)),
            expires_at: Set(now + ttl),
            created_at: Set(now),
            replaced_at: Set(None),
            revoked_at: Set(None),
        }
        .insert(db)
        .await
        .context("storing a refresh token")?;
        Ok(Session {
            session_id: family_id,
            access_token: access.token,
            refresh_token,
            expires_in: access.expires_in,
            user,
        })
    }
}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The refreshes this process is running or answered lately, by the token they
/// rotate: a duplicate that began before its winner answered is then told apart
/// from a replay exactly, with no clock comparison.
#[derive(Clone, Default)]
struct Rotations(Arc<Mutex<HashMap<Uuid, Rotation>>>);

#[derive(Clone, Copy)]
enum Rotation {
    Running,
    Answered(Instant),
}

/// How long an answered rotation is remembered, once many are held; a duplicate
/// in flight for longer is judged by the stored `replaced_at` alone.
const ROTATIONS_REMEMBERED_FOR: Duration = Duration::from_secs(60);
const ROTATIONS_HELD_BEFORE_SWEEPING: usize = 1024;

impl Rotations {
    /// Marks the token as being rotated here; `None` when a refresh of it already is.
    fn start(&self, token: Uuid) -> Option<RunningRotation> {
        let mut rotations = self.lock();
        if rotations.len() > ROTATIONS_HELD_BEFORE_SWEEPING {
            rotations.retain(|_, rotation| match rotation {
                Rotation::Running => true,
                Rotation::Answered(at) => at.elapsed() < ROTATIONS_REMEMBERED_FOR,
            });
        }
        match rotations.entry(token) {
            Entry::Occupied(_) => None,
            Entry::Vacant(slot) => {
                slot.insert(Rotation::Running);
                Some(RunningRotation {
                    rotations: self.clone(),
                    token,
                    answered: false,
                })
            }
        }
    }

    /// Whether a refresh that began at `began` overlapped this process's rotation of
    /// the token; `None` when this process has not rotated it lately.
    fn overlapped(&self, token: Uuid, began: Instant) -> Option<bool> {
        match self.lock().get(&token)? {
            Rotation::Running => Some(true),
            Rotation::Answered(at) => Some(began < *at),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Uuid, Rotation>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A rotation under way; one that ends without an answer (an error, a lost claim)
/// is forgotten, so the token's next refresh is judged afresh.
struct RunningRotation {
    rotations: Rotations,
    token: Uuid,
    answered: bool,
}

impl RunningRotation {
    /// Records that the rotation committed; its answer goes out after this instant.
    fn answered(mut self) {
        self.rotations
            .lock()
            .insert(self.token, Rotation::Answered(Instant::now()));
        self.answered = true;
    }
}

impl Drop for RunningRotation {
    fn drop(&mut self) {
        if !self.answered {
            self.rotations.lock().remove(&self.token);
        }
    }
}
