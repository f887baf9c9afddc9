//! Staff administration in GraphQL: `users`, `createUser`, `updateUser`,
//! `resetPassword`, and the audit log (`auditEvents`, `AuditEvent`). Every field
//! here is `FORBIDDEN` to non-staff (`UNAUTHENTICATED` when anonymous) before
//! anything is read or written.

use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    AdminService, AuditLog,
    admin::{USER_NOT_FOUND, UserChanges, UserFilter, UserSearch},
    audit::{self, AuditFilter, AuditKey, Staff, SubjectType},
    credentials::Email,
    graphql::{User, parse_account},
    loaders::UserLoader,
};
use crate::{
    auth::ClientAddress,
    entity::audit_events,
    error::AppError,
    graphql::{
        Connection, ConnectionNode, ContextExt, RelayArgs,
        ids::{self, NodeType},
        loaders::unshare,
    },
    numbers::DefaultRegion,
};

/// The viewer as a staff member acting from this request's address, or
/// `UNAUTHENTICATED` (anonymous) / `FORBIDDEN` (not staff).
pub fn staff(ctx: &Context<'_>) -> Result<Staff, AppError> {
    let viewer = ctx.viewer()?;
    let address = ctx.service::<ClientAddress>()?.0.to_string();
    Staff::check(viewer, Some(address))
}

/// Records that staff read another user through `node(id)`.
pub async fn audit_user_read(ctx: &Context<'_>, user_id: Uuid) -> Result<(), AppError> {
    let staff = staff(ctx)?;
    ctx.service::<AdminService>()?.record_read(&staff, user_id).await
}

impl ConnectionNode for User {
    const NAME: &'static str = "User";
}

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
        };
        self.0.subject_id.map(|key| ids::encode(kind, key))
    }

    /// The user acted on; `null` for a list.
    async fn subject(&self, ctx: &Context<'_>) -> Result<Option<User>, AppError> {
        let Some(key) = self.0.subject_id else {
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

/// Narrows the list of users.
#[derive(InputObject, Default)]
#[graphql(name = "UserFilter")]
pub struct UserFilterInput {
    /// Text in the username or email, any case.
    search: Option<String>,
    /// Only active (true) or only deactivated (false) users.
    is_active: Option<bool>,
    /// Only staff (true) or only non-staff (false).
    is_staff: Option<bool>,
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

/// A new account, opened by staff: the rules of `register`.
#[derive(InputObject)]
pub struct CreateUserInput {
    /// 3–150 letters, digits and `_ . @ + -`.
    username: String,
    /// 8–128 characters, not the username, not a common password.
    password: String,
    email: Option<String>,
    /// Any common spelling; stored in E.164.
    contact_number: Option<String>,
    /// Give the user staff rights.
    #[graphql(default)]
    is_staff: bool,
}

/// Changes to a user; omitted fields stay as they are, `null` clears one.
#[derive(InputObject)]
pub struct UpdateUserInput {
    /// `false` deactivates the user and ends every session; `true` reactivates.
    is_active: Option<bool>,
    /// Grant or remove staff rights.
    is_staff: Option<bool>,
    email: MaybeUndefined<String>,
    /// Any common spelling; stored in E.164.
    contact_number: MaybeUndefined<String>,
}

fn user_id(id: &ID, field: &'static str) -> Result<Uuid, AppError> {
    ids::decode_existing(id, NodeType::User, field, USER_NOT_FOUND)
}

#[derive(Default)]
pub struct AdminQuery;

#[Object]
impl AdminQuery {
    /// Staff only: every user, oldest first. Each request is recorded in the audit log.
    async fn users(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<UserFilterInput>,
    ) -> Result<Connection<User>, AppError> {
        let staff = staff(ctx)?;
        let request = RelayArgs {
            first,
            after,
            last,
            before,
        }
        .page_request()?;
        let filter = filter.unwrap_or_default();
        let filter = UserFilter {
            search: UserSearch::optional(filter.search.as_deref())?,
            is_active: filter.is_active,
            is_staff: filter.is_staff,
        };
        let admin = ctx.service::<AdminService>()?.clone();
        let page = admin.list_users(&staff, &filter, &request).await?;
        let count = async move { admin.count_users(&staff, &filter).await };
        Ok(Connection::new(page, |user| user.id, User::from, count))
    }

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

#[derive(Default)]
pub struct AdminMutation;

#[Object]
impl AdminMutation {
    /// Staff only: opens an account with the rules of `register` (sign-up may be closed).
    async fn create_user(&self, ctx: &Context<'_>, input: CreateUserInput) -> Result<User, AppError> {
        let staff = staff(ctx)?;
        let account = parse_account(
            ctx.service::<DefaultRegion>()?,
            &input.username,
            &input.password,
            input.email.as_deref(),
            input.contact_number.as_deref(),
            input.is_staff,
        )?;
        let user = ctx.service::<AdminService>()?.create_user(&staff, account).await?;
        Ok(user.into())
    }

    /// Staff only: changes a user. Deactivating ends their sessions (their numbers
    /// stay theirs); you may not deactivate or demote yourself.
    async fn update_user(&self, ctx: &Context<'_>, id: ID, input: UpdateUserInput) -> Result<User, AppError> {
        let staff = staff(ctx)?;
        let id = user_id(&id, "id")?;
        let region = ctx.service::<DefaultRegion>()?;
        let changes = UserChanges {
            is_active: input.is_active,
            is_staff: input.is_staff,
            email: match input.email {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(email) if email.trim().is_empty() => Some(None),
                MaybeUndefined::Value(email) => Some(Some(Email::parse(&email)?)),
            },
            contact_number: match input.contact_number {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(number) if number.trim().is_empty() => Some(None),
                MaybeUndefined::Value(number) => Some(Some(region.phone(&number, "contactNumber")?)),
            },
        };
        let user = ctx.service::<AdminService>()?.update_user(&staff, id, changes).await?;
        Ok(user.into())
    }

    /// Staff only: sets a user's password (the rules of sign-up; nothing is
    /// mailed: hand it over yourself) and ends every one of their sessions.
    async fn reset_password(&self, ctx: &Context<'_>, id: ID, new_password: String) -> Result<bool, AppError> {
        let staff = staff(ctx)?;
        let id = user_id(&id, "id")?;
        ctx.service::<AdminService>()?
            .reset_password(&staff, id, &new_password)
            .await?;
        Ok(true)
    }
}
