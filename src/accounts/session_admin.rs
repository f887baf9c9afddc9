//! Sessions a user can see and end: the live sessions of a user, ending one or
//! all (staff: anyone's), and the sweep that forgets expired and ended ones.

use sea_orm::{
    Condition, ConnectionTrait, QueryOrder, QuerySelect,
    prelude::*,
    sea_query::{Expr, Query},
};
use uuid::Uuid;

use super::SessionService;
use crate::{
    auth::Viewer,
    entity::{self, refresh_tokens, sessions},
    error::{AppError, Context as _},
};

/// Most sessions listed: a person has a few devices, not hundreds.
const MOST_LISTED: u64 = 100;
/// Ended and expired sessions are forgotten this long after.
const KEPT_AFTER_END: chrono::TimeDelta = chrono::TimeDelta::days(30);

/// The one answer for a session that is missing, ended or someone else's.
pub const SESSION_NOT_FOUND: &str = "no such session";

impl SessionService {
    /// `user_id`'s live sessions, newest first: those not ended whose refresh
    /// token is still usable. Empty for a viewer who may not see them.
    pub async fn live_sessions(&self, viewer: &Viewer, user_id: Uuid) -> Result<Vec<sessions::Model>, AppError> {
        if !viewer.may_act_for(user_id) {
            return Ok(Vec::new());
        }
        let usable = Query::select()
            .column(refresh_tokens::Column::FamilyId)
            .from(refresh_tokens::Entity)
            .and_where(refresh_tokens::Column::UserId.eq(user_id))
            .and_where(refresh_tokens::Column::RevokedAt.is_null())
            .and_where(refresh_tokens::Column::ExpiresAt.gt(entity::now()))
            .to_owned();
        Ok(sessions::Entity::find()
            .filter(
                Condition::all()
                    .add(sessions::Column::UserId.eq(user_id))
                    .add(sessions::Column::EndedAt.is_null())
                    .add(sessions::Column::Id.in_subquery(usable)),
            )
            .order_by_desc(sessions::Column::CreatedAt)
            .limit(MOST_LISTED)
            .all(self.db())
            .await?)
    }

    /// Ends one session (the viewer's own; staff: anyone's). `NOT_FOUND` for one
    /// that is missing, already ended or not the viewer's.
    pub async fn end(&self, viewer: &Viewer, session_id: Uuid) -> Result<(), AppError> {
        let session = sessions::Entity::find_by_id(session_id)
            .one(self.db())
            .await?
            .filter(|session| session.ended_at.is_none() && viewer.may_act_for(session.user_id))
            .ok_or(AppError::NotFound(SESSION_NOT_FOUND))?;
        end_session(self.db(), session.id).await
    }

    /// Ends every session of `user_id` but `keep` (the viewer's own; staff: anyone's),
    /// and says how many ended.
    pub async fn end_all(&self, viewer: &Viewer, user_id: Uuid, keep: Option<Uuid>) -> Result<u64, AppError> {
        if !viewer.may_act_for(user_id) {
            return Err(AppError::NotFound("no such user"));
        }
        end_sessions(self.db(), user_id, keep).await
    }

    /// Forgets refresh tokens that expired or were revoked over a day ago, and
    /// sessions ended (or left with no token) over 30 days ago.
    pub async fn sweep(&self) -> Result<(), AppError> {
        let now = entity::now();
        let day_ago = now - chrono::TimeDelta::days(1);
        refresh_tokens::Entity::delete_many()
            .filter(
                Condition::any()
                    .add(refresh_tokens::Column::ExpiresAt.lt(day_ago))
                    .add(refresh_tokens::Column::RevokedAt.lt(day_ago)),
            )
            .exec(self.db())
            .await
            .context("sweeping old refresh tokens")?;
        let with_tokens = Query::select()
            .column(refresh_tokens::Column::FamilyId)
            .from(refresh_tokens::Entity)
            .to_owned();
        sessions::Entity::delete_many()
            .filter(
                Condition::any()
                    .add(sessions::Column::EndedAt.lt(now - KEPT_AFTER_END))
                    .add(
                        Condition::all()
                            .add(sessions::Column::LastUsedAt.lt(now - KEPT_AFTER_END))
                            .add(sessions::Column::Id.not_in_subquery(with_tokens)),
                    ),
            )
            .exec(self.db())
            .await
            .context("sweeping old sessions")?;
        Ok(())
    }
}

/// Ends one session with `db` (a transaction, when the ending must commit with
/// another change): its refresh tokens are revoked and it is marked ended.
pub async fn end_session(db: &impl ConnectionTrait, session_id: Uuid) -> Result<(), AppError> {
    let now = entity::now();
    refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now))
        .filter(refresh_tokens::Column::FamilyId.eq(session_id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await
        .context("revoking a session's refresh tokens")?;
    sessions::Entity::update_many()
        .col_expr(sessions::Column::EndedAt, Expr::value(now))
        .filter(sessions::Column::Id.eq(session_id))
        .filter(sessions::Column::EndedAt.is_null())
        .exec(db)
        .await
        .context("marking a session ended")?;
    Ok(())
}

/// Ends every session of `user_id` but `keep` with `db` (a transaction, when the
/// ending must commit with another change): their refresh tokens are revoked, so
/// their access tokens stop working too (see `Authority`), and they are marked
/// ended. Says how many sessions ended.
pub async fn end_sessions(db: &impl ConnectionTrait, user_id: Uuid, keep: Option<Uuid>) -> Result<u64, AppError> {
    let now = entity::now();
    let mut tokens = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now))
        .filter(refresh_tokens::Column::UserId.eq(user_id))
        .filter(refresh_tokens::Column::RevokedAt.is_null());
    let mut open = sessions::Entity::update_many()
        .col_expr(sessions::Column::EndedAt, Expr::value(now))
        .filter(sessions::Column::UserId.eq(user_id))
        .filter(sessions::Column::EndedAt.is_null());
    if let Some(keep) = keep {
        tokens = tokens.filter(refresh_tokens::Column::FamilyId.ne(keep));
        open = open.filter(sessions::Column::Id.ne(keep));
    }
    tokens.exec(db).await.context("revoking a user's refresh tokens")?;
    let ended = open.exec(db).await.context("marking a user's sessions ended")?;
    Ok(ended.rows_affected)
}
