//! Single-use links to a CSV export of call logs, for browsers (which cannot
//! put an `Authorization` header on a download link): each is made for one
//! user, filter and zone, kept only as a hash, spent on first use and expired
//! after a few minutes. Writing the CSV is the HTTP layer's business.

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use rand::{RngCore, TryRngCore, rngs::OsRng};
use sea_orm::{ActiveValue::Set, QueryFilter, prelude::*, sea_query::Expr};
use sha2::{Digest, Sha256};

use super::{CallFilter, CallService};
use crate::{
    auth::Viewer,
    entity::{self, call_log_exports, users},
    error::AppError,
};

/// How long a link works once made.
pub const EXPORT_LINK_LIFETIME: TimeDelta = TimeDelta::minutes(5);
/// Random bytes in a link's token (256 bits), written as 43 base64url characters.
const TOKEN_BYTES: usize = 32;
const TOKEN_CHARS: usize = 43;

const UNKNOWN: &str = "this export link is not valid; make a new one with createCallLogExport";
const SPENT: &str = "this export link has been used (each works once); make a new one with createCallLogExport";
const EXPIRED: &str = "this export link has expired; make a new one with createCallLogExport";
const INACTIVE: &str = "the account this export link was made for is no longer active";
const SOMEONE_ELSES: &str = "this export link was made for another user";

/// A link just made: its token (shown once) and when it stops working.
#[derive(Debug, Clone)]
pub struct ExportLink {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// What a spent link lets its bearer download.
#[derive(Debug, Clone)]
pub struct ExportGrant {
    /// The user it was made for, as they stand now.
    pub viewer: Viewer,
    pub filter: CallFilter,
    pub time_zone: String,
}

fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl CallService {
    /// Makes a link to the viewer's calls under `filter`, with times in `zone`.
    pub async fn create_export_link(
        &self,
        viewer: &Viewer,
        filter: &CallFilter,
        zone: Tz,
    ) -> Result<ExportLink, AppError> {
        let mut bytes = [0u8; TOKEN_BYTES];
        OsRng.unwrap_err().fill_bytes(&mut bytes);
        use base64::Engine;
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let now = entity::now();
        let expires_at = now + EXPORT_LINK_LIFETIME;
        // Spent and expired links are of no use to anyone: sweep them as new ones are made.
        call_log_exports::Entity::delete_many()
            .filter(call_log_exports::Column::ExpiresAt.lt(now))
            .exec(&self.db)
            .await?;
        call_log_exports::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(viewer.user_id),
            token_hash: Set(digest(&token)),
            as_staff: Set(viewer.is_staff),
            filter: Set(serde_json::to_string(filter).map_err(anyhow::Error::new)?),
            time_zone: Set(zone.name().to_owned()),
            created_at: Set(now),
            expires_at: Set(expires_at),
            used_at: Set(None),
        }
        .insert(&self.db)
        .await?;
        Ok(ExportLink { token, expires_at })
    }

    /// Spends the link `token` names and says what it grants. When someone signed
    /// in presents it, it must be the user it was made for (and stays unspent if not).
    pub async fn redeem_export_link(
        &self,
        token: &str,
        presented_by: Option<&Viewer>,
    ) -> Result<ExportGrant, AppError> {
        if token.len() != TOKEN_CHARS {
            return Err(AppError::Unauthenticated(UNKNOWN));
        }
        let hash = digest(token);
        let link = call_log_exports::Entity::find()
            .filter(call_log_exports::Column::TokenHash.eq(hash.as_str()))
            .one(&self.db)
            .await?
            .ok_or(AppError::Unauthenticated(UNKNOWN))?;
        if presented_by.is_some_and(|viewer| viewer.user_id != link.user_id) {
            return Err(AppError::Forbidden(SOMEONE_ELSES));
        }
        let now = entity::now();
        if link.used_at.is_some() {
            return Err(AppError::Unauthenticated(SPENT));
        }
        if link.expires_at <= now {
            return Err(AppError::Unauthenticated(EXPIRED));
        }
        // Spent by one conditional update, so two downloads racing cannot both win.
        let spent = call_log_exports::Entity::update_many()
            .col_expr(call_log_exports::Column::UsedAt, Expr::value(now))
            .filter(call_log_exports::Column::Id.eq(link.id))
            .filter(call_log_exports::Column::UsedAt.is_null())
            .filter(call_log_exports::Column::ExpiresAt.gt(now))
            .exec(&self.db)
            .await?;
        if spent.rows_affected != 1 {
            return Err(AppError::Unauthenticated(SPENT));
        }
        let user = users::Entity::find_by_id(link.user_id)
            .one(&self.db)
            .await?
            .filter(|user| user.is_active)
            .ok_or(AppError::Unauthenticated(INACTIVE))?;
        let filter: CallFilter = serde_json::from_str(&link.filter).map_err(|error| {
            AppError::Internal(anyhow::Error::new(error).context("reading an export link's filter"))
        })?;
        Ok(ExportGrant {
            viewer: Viewer {
                user_id: user.id,
                // Staff powers only while the maker still has them.
                is_staff: link.as_staff && user.is_staff,
                session: None,
                api_key: None,
            },
            filter,
            time_zone: link.time_zone,
        })
    }
}
