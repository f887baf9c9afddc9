//! The audit log in GraphQL: `AuditEvent`, `AuditAction` and `auditEvents`,
//! for staff only. Nothing here writes: recording happens where staff act.

use async_graphql::{Context, Enum, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    AuditLog,
    admin_graphql::staff,
    audit::{self, AuditFilter, AuditKey, SubjectType},
    graphql::User,
    loaders::UserLoader,
};
use crate::{
    entity::audit_events,
    error::AppError,
    graphql::{
        Connection, ConnectionNode, ContextExt, RelayArgs,
        ids::{self, NodeType},
        loaders::unshare,
    },
};

/// What a staff member did.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "audit::AuditAction")]
pub enum AuditAction {
    /// Opened an account (`createUser`).
    UserCreate,
    /// Changed a user (`updateUser`).
    UserUpdate,
    /// Set a user's password (`resetPassword`).
    UserResetPassword,
    /// Ended every session of a user (`logoutEverywhere(userId:)`).
    UserSessionsEnd,
    /// Ended one session of a user (`endSession`).
    UserSessionEnd,
    /// Read one other user (`node(id:)`).
    UserRead,
    /// Listed users (`users`); the filter is in `details`.
    UsersList,
    /// Changed a customer's port-in order (`updatePortingOrder`).
    PortingOrderUpdate,
    /// Submitted a customer's port-in order (`submitPortingOrder`).
    PortingOrderSubmit,
    /// Cancelled a customer's port-in order (`cancelPortingOrder`).
    PortingOrderCancel,
    /// Took a port-in order up with the losing carrier (`startPortingOrder`).
    PortingOrderStart,
    /// Recorded the losing carrier's FOC date (`confirmPortingOrderFocDate`).
    PortingOrderConfirmFocDate,
    /// Completed a port (`completePortingOrder`).
    PortingOrderComplete,
    /// Sent a port back to its owner to fix (`raisePortingOrderException`).
    PortingOrderRaiseException,
}

/// One entry of the audit log: who did what to which object, when, from where.
/// Entries are never changed or deleted.
#[derive(Clone)]
pub struct AuditEvent(audit_events::Model);

impl From<audit_events::Model> for AuditEvent {
    fn from(model: audit_events::Model) -> Self {
        AuditEvent(model)
    }
}

impl ConnectionNode for AuditEvent {
    const NAME: &'static str = "AuditEvent";
}

#[Object]
impl AuditEvent {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::AuditEvent, self.0.id)
    }

    async fn action(&self) -> AuditAction {
        self.0.action.into()
    }

    /// The staff member who acted.
    async fn actor(&self, ctx: &Context<'_>) -> Result<Option<User>, AppError> {
        let actor = ctx
            .loader::<UserLoader>()?
            .load_one(self.0.actor_id)
            .await
            .map_err(unshare)?;
        Ok(actor.map(User::from))
    }

    /// The global id of the object acted on; `null` for a list.
    async fn subject_id(&self) -> Option<ID> {
        let kind = match self.0.subject_type {
            SubjectType::User => NodeType::User,
            SubjectType::PortingOrder => NodeType::PortingOrder,
        };
        self.0.subject_id.map(|key| ids::encode(kind, key))
    }

    /// The user acted on; `null` for a list.
    async fn subject(&self, ctx: &Context<'_>) -> Result<Option<User>, AppError> {
        let (Some(key), SubjectType::User) = (self.0.subject_id, self.0.subject_type) else {
            return Ok(None);
        };
        let subject = ctx.loader::<UserLoader>()?.load_one(key).await.map_err(unshare)?;
        Ok(subject.map(User::from))
    }

    /// A JSON object: the fields an update changed (an email or contact number
    /// only as `set` or `cleared`), sessions ended, a list's filter. Never a password or token.
    async fn details(&self) -> &str {
        &self.0.details
    }

    /// The address the request came from.
    async fn client_address(&self) -> Option<&str> {
        self.0.client_address.as_deref()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// Narrows the audit log.
#[derive(InputObject, Default)]
pub struct AuditEventFilter {
    /// Only what this staff member did.
    actor_id: Option<ID>,
    /// Only what was done to this object.
    subject_id: Option<ID>,
    /// Only this kind of action.
    action: Option<AuditAction>,
}

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// Staff only: the audit log, newest first.
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<AuditEventFilter>,
    ) -> Result<Connection<AuditEvent>, AppError> {
        let staff = staff(ctx)?;
        let request = RelayArgs {
            first,
            after,
            last,
            before,
        }
        .page_request()?;
        let filter = filter.unwrap_or_default();
        // An id of another type names no one: nothing matches it.
        let actor_id = filter
            .actor_id
            .as_ref()
            .map(|id| ids::decode_as(id, NodeType::User, "actorId").map(|key| key.unwrap_or(Uuid::nil())))
            .transpose()?;
        let subject_id = filter
            .subject_id
            .as_ref()
            .map(|id| ids::decode(id, "subjectId").map(|(_, key)| key))
            .transpose()?;
        let log = ctx.service::<AuditLog>()?.clone();
        let filter = AuditFilter {
            actor_id,
            subject_id,
            action: filter.action.map(Into::into),
        };
        let page = log.list(&staff, &filter, &request).await?;
        let count = async move { log.count(&staff, &filter).await };
        Ok(Connection::new(page, AuditKey::of, AuditEvent::from, count))
    }
}
