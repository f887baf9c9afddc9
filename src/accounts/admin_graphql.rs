//! Staff administration in GraphQL: `users`, `createUser`, `updateUser`,
//! `resetPassword` (the audit log's side is `audit_graphql`). Every field here
//! is `FORBIDDEN` to non-staff (`UNAUTHENTICATED` when anonymous) before
//! anything is read or written.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use uuid::Uuid;

use super::{
    AdminService,
    admin::{USER_NOT_FOUND, UserChanges, UserFilter, UserSearch},
    audit::Staff,
    credentials::Email,
    graphql::{User, parse_account},
};
use crate::{
    auth::ClientAddress,
    error::AppError,
    graphql::{
        Connection, ConnectionNode, ContextExt, RelayArgs,
        ids::{self, NodeType},
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
