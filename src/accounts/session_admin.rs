//! Sessions a user can see and end: the live sessions of a user, ending one or
//! all (staff: anyone's), and the sweep that forgets expired and ended ones.

use sea_orm::{Condition, QueryOrder, QuerySelect, prelude::*, sea_query::Query};
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
        self.revoke_family(session.id).await
    }

    /// Ends every session of `user_id` but `keep` (the viewer's own; staff: anyone's),
    /// and says how many ended.
    pub async fn end_all(&self, viewer: &Viewer, user_id: Uuid, keep: Option<Uuid>) -> Result<u64, AppError> {
        if !viewer.may_act_for(user_id) {
            return Err(AppError::NotFound("no such user"));
        }
        let mut open = sessions::Entity::find()
            .filter(sessions::Column::UserId.eq(user_id))
            .filter(sessions::Column::EndedAt.is_null());
        if let Some(keep) = keep {
            open = open.filter(sessions::Column::Id.ne(keep));
        }
        let ids: Vec<Uuid> = open
            .select_only()
            .column(sessions::Column::Id)
            .into_tuple()
            .all(self.db())
            .await?;
        for id in &ids {
            self.revoke_family(*id).await?;
        }
        Ok(ids.len() as u64)
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
