//! The audit log: what staff did to, or read of, other users' data. Writes are
//! recorded in the caller's transaction, so an action and its record commit
//! together or not at all; reads are recorded before the answer goes out. The
//! table is append-only (database triggers refuse UPDATE and DELETE).

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    Condition, ConnectionTrait, DatabaseConnection, PaginatorTrait, QueryOrder, QuerySelect,
    prelude::*,
    sea_query::{ExprTrait, SimpleExpr},
};
use uuid::Uuid;

pub use crate::entity::audit_events::{AuditAction, SubjectType};
use crate::{
    auth::Viewer,
    entity::{
        self,
        audit_events::{self, Column},
    },
    error::{AppError, Context as _},
    paging::{CursorKey, Direction, Page, PageRequest},
};

/// A staff member acting, and the address they act from. Only `Staff::check`
/// makes one, so whatever takes a `&Staff` has already refused everyone else.
#[derive(Debug, Clone)]
pub struct Staff {
    pub user_id: Uuid,
    pub client_address: Option<String>,
}

impl Staff {
    /// The viewer as a staff member, or `FORBIDDEN`. Staff status is the
    /// database's (the authority reads it for every request), not the token's.
    pub fn check(viewer: &Viewer, client_address: Option<String>) -> Result<Staff, AppError> {
        Self::require(viewer, client_address, "only staff may administer users")
    }

    /// Like `check`, refusing everyone else with `why`.
    pub fn require(viewer: &Viewer, client_address: Option<String>, why: &'static str) -> Result<Staff, AppError> {
        if !viewer.is_staff {
            return Err(AppError::Forbidden(why));
        }
        Ok(Staff {
            user_id: viewer.user_id,
            client_address,
        })
    }
}

/// Writes one event about a user with `db`: pass the transaction that makes the change.
pub async fn record(
    db: &impl ConnectionTrait,
    staff: &Staff,
    action: AuditAction,
    subject_id: Option<Uuid>,
    details: serde_json::Value,
) -> Result<audit_events::Model, AppError> {
    record_about(db, staff, action, SubjectType::User, subject_id, details).await
}

/// Writes one event about any kind of object with `db` (the change's transaction).
pub async fn record_about(
    db: &impl ConnectionTrait,
    staff: &Staff,
    action: AuditAction,
    subject_type: SubjectType,
    subject_id: Option<Uuid>,
    details: serde_json::Value,
) -> Result<audit_events::Model, AppError> {
    audit_events::ActiveModel {
        id: Set(Uuid::now_v7()),
        actor_id: Set(staff.user_id),
        action: Set(action),
        subject_type: Set(subject_type),
        subject_id: Set(subject_id),
        details: Set(details.to_string()),
        client_address: Set(staff.client_address.clone()),
        created_at: Set(entity::now()),
    }
    .insert(db)
    .await
    .context("recording an audit event")
}

/// Narrows the audit log.
#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub actor_id: Option<Uuid>,
    pub subject_id: Option<Uuid>,
    pub action: Option<AuditAction>,
}

/// The newest-first sort key of the audit log: `(created_at, id)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AuditKey {
    pub created_at: DateTime<Utc>,
    pub id: Uuid,
}

impl AuditKey {
    pub fn of(event: &audit_events::Model) -> Self {
        AuditKey {
            created_at: event.created_at,
            id: event.id,
        }
    }
}

impl CursorKey for AuditKey {
    fn to_cursor_text(&self) -> String {
        format!("audit:{}:{}", self.created_at.timestamp_micros(), self.id)
    }

    fn from_cursor_text(text: &str) -> Option<Self> {
        let (micros, id) = text.strip_prefix("audit:")?.split_once(':')?;
        Some(AuditKey {
            created_at: DateTime::from_timestamp_micros(micros.parse().ok()?)?,
            id: id.parse().ok()?,
        })
    }
}

/// Reads the audit log (staff only); nothing here changes it.
#[derive(Clone)]
pub struct AuditLog {
    db: DatabaseConnection,
}

impl AuditLog {
    pub fn new(db: DatabaseConnection) -> Self {
        AuditLog { db }
    }

    /// Records a read by staff (no change to commit it with).
    pub async fn record_read(
        &self,
        staff: &Staff,
        action: AuditAction,
        subject_id: Option<Uuid>,
        details: serde_json::Value,
    ) -> Result<(), AppError> {
        record(&self.db, staff, action, subject_id, details).await.map(|_| ())
    }

    /// One page of events, newest first.
    pub async fn list(
        &self,
        _staff: &Staff,
        filter: &AuditFilter,
        request: &PageRequest<AuditKey>,
    ) -> Result<Page<audit_events::Model>, AppError> {
        let mut query = audit_events::Entity::find().filter(condition(filter));
        if let Some(after) = request.after {
            query = query.filter(sort_key().lt(key_value(after)));
        }
        if let Some(before) = request.before {
            query = query.filter(sort_key().gt(key_value(before)));
        }
        query = match request.direction {
            Direction::Forward => query.order_by_desc(Column::CreatedAt).order_by_desc(Column::Id),
            Direction::Backward => query.order_by_asc(Column::CreatedAt).order_by_asc(Column::Id),
        };
        let rows = query
            .limit(request.fetch_limit())
            .all(&self.db)
            .await
            .context("reading a page of the audit log")?;
        Ok(Page::from_rows(rows, request))
    }

    /// How many events the same list holds in all.
    pub async fn count(&self, _staff: &Staff, filter: &AuditFilter) -> Result<u64, AppError> {
        audit_events::Entity::find()
            .filter(condition(filter))
            .count(&self.db)
            .await
            .context("counting audit events")
    }

    /// The events among `ids`, for staff; nothing for anyone else (for `node`).
    pub async fn visible_many(&self, viewer: &Viewer, ids: &[Uuid]) -> Result<Vec<audit_events::Model>, AppError> {
        if !viewer.is_staff {
            return Ok(Vec::new());
        }
        audit_events::Entity::find()
            .filter(Column::Id.is_in(ids.iter().copied()))
            .all(&self.db)
            .await
            .context("looking up audit events")
    }
}

fn condition(filter: &AuditFilter) -> Condition {
    let mut condition = Condition::all();
    if let Some(actor) = filter.actor_id {
        condition = condition.add(Column::ActorId.eq(actor));
    }
    if let Some(subject) = filter.subject_id {
        condition = condition.add(Column::SubjectId.eq(subject));
    }
    if let Some(action) = filter.action {
        condition = condition.add(Column::Action.eq(action));
    }
    condition
}

// A row-value comparison, so both databases bound the index range with it.
fn sort_key() -> SimpleExpr {
    Expr::tuple([Expr::col(Column::CreatedAt), Expr::col(Column::Id)])
}

fn key_value(key: AuditKey) -> SimpleExpr {
    Expr::tuple([Expr::val(key.created_at), Expr::val(key.id)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_only_staff_pass_the_check() {
        let key = AuditKey {
            created_at: entity::now(),
            id: Uuid::now_v7(),
        };
        let member = Viewer {
            user_id: Uuid::now_v7(),
            is_staff: false,
            session: None,
            api_key: None,
        };

        assert_eq!(AuditKey::decode_cursor(&key.encode_cursor()), Some(key));
        assert!(AuditKey::decode_cursor("garbage").is_none());
        assert!(Staff::check(&member, None).is_err());
        assert!(
            Staff::check(
                &Viewer {
                    is_staff: true,
                    ..member
                },
                None
            )
            .is_ok()
        );
    }
}
