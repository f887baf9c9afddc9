//! Sessions: a short-lived access token plus an opaque refresh token. Refresh
//! tokens are stored only as SHA-256 hashes and rotate on every use; presenting
//! one that was already rotated revokes its whole family (the stolen-token case).

use std::time::Duration;

use base64::Engine;
use rand::RngCore;
use sea_orm::{ActiveValue::Set, DatabaseConnection, prelude::*, sea_query::Expr};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{
    auth::{Viewer, tokens::TokenKeys},
    entity::{self, refresh_tokens, users},
    error::{AppError, Context as _},
};

/// What a successful sign-in or refresh hands the client.
pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
    pub user: users::Model,
}

#[derive(Clone)]
pub struct SessionService {
    db: DatabaseConnection,
    keys: TokenKeys,
    refresh_ttl: Duration,
}

const REFRESH_REFUSED: &str = "the refresh token is invalid, expired or already used; sign in again";

impl SessionService {
    pub fn new(db: DatabaseConnection, keys: TokenKeys, refresh_ttl: Duration) -> Self {
        SessionService { db, keys, refresh_ttl }
    }

    pub fn keys(&self) -> &TokenKeys {
        &self.keys
    }

    /// Starts a new session (a new refresh-token family) for a signed-in user, and
    /// forgets that user's expired refresh tokens so the table does not grow forever.
    pub async fn start(&self, user: users::Model) -> Result<Session, AppError> {
        refresh_tokens::Entity::delete_many()
            .filter(refresh_tokens::Column::UserId.eq(user.id))
            .filter(refresh_tokens::Column::ExpiresAt.lt(entity::now()))
            .exec(&self.db)
            .await
            .context("deleting expired refresh tokens")?;
        self.issue(user, Uuid::now_v7()).await
    }

    /// Trades a live refresh token for a new session in the same family.
    pub async fn refresh(&self, presented: &str) -> Result<Session, AppError> {
        let Some(token) = self.find(presented).await? else {
            return Err(AppError::Unauthenticated(REFRESH_REFUSED));
        };
        if token.replaced_at.is_some() || token.revoked_at.is_some() {
            // A rotated token came back: whoever holds the family may be a thief.
            self.revoke_family(token.family_id).await?;
            tracing::warn!(family = %token.family_id, "refresh token reused; session family revoked");
            return Err(AppError::Unauthenticated(REFRESH_REFUSED));
        }
        if token.expires_at <= entity::now() {
            return Err(AppError::Unauthenticated(REFRESH_REFUSED));
        }
        // Claim the token atomically: of two concurrent refreshes only one wins;
        // the other is treated as reuse and ends the family.
        let claimed = refresh_tokens::Entity::update_many()
            .col_expr(refresh_tokens::Column::ReplacedAt, Expr::value(entity::now()))
            .filter(refresh_tokens::Column::Id.eq(token.id))
            .filter(refresh_tokens::Column::ReplacedAt.is_null())
            .filter(refresh_tokens::Column::RevokedAt.is_null())
            .exec(&self.db)
            .await?;
        if claimed.rows_affected != 1 {
            self.revoke_family(token.family_id).await?;
            return Err(AppError::Unauthenticated(REFRESH_REFUSED));
        }
        let user = match users::Entity::find_by_id(token.user_id).one(&self.db).await? {
            Some(user) if user.is_active => user,
            _ => return Err(AppError::Unauthenticated(REFRESH_REFUSED)),
        };
        self.issue(user, token.family_id).await
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

    async fn revoke_family(&self, family_id: Uuid) -> Result<(), AppError> {
        refresh_tokens::Entity::update_many()
            .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(entity::now()))
            .filter(refresh_tokens::Column::FamilyId.eq(family_id))
            .filter(refresh_tokens::Column::RevokedAt.is_null())
            .exec(&self.db)
            .await
            .context("revoking a refresh-token family")?;
        Ok(())
    }

    async fn issue(&self, user: users::Model, family_id: Uuid) -> Result<Session, AppError> {
        let viewer = Viewer {
            user_id: user.id,
            is_staff: user.is_staff,
        };
        let access = self.keys.issue(viewer)?;
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
        .insert(&self.db)
        .await
        .context("storing a refresh token")?;
        Ok(Session {
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
