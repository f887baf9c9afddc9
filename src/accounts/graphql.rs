//! Accounts in GraphQL: `User`, `AuthPayload`, `me`, and the session mutations.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::{
    AccountService, NewAccount, Session, SessionOrigin, SessionService,
    credentials::{Email, Password, Username},
};
use crate::{
    auth::{ClientAddress, UserAgent, Viewer},
    entity::users,
    error::AppError,
    graphql::{
        Connection, ContextExt, RelayArgs,
        ids::{self, NodeType},
    },
    numbers::{
        DefaultRegion,
        graphql::{VirtualNumber, VirtualNumberFilter, list_numbers},
    },
};

/// A person who signs in and owns virtual numbers.
#[derive(Clone)]
pub struct User(users::Model);

impl From<users::Model> for User {
    fn from(model: users::Model) -> Self {
        User(model)
    }
}

#[Object]
impl User {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::User, self.0.id)
    }

    /// Sign-in name, unique whatever its case.
    async fn username(&self) -> &str {
        &self.0.username
    }

    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }

    /// The user's own phone number, in E.164.
    async fn contact_number(&self) -> Option<&str> {
        self.0.contact_number.as_deref()
    }

    /// Staff see and act on every user's numbers and calls.
    async fn is_staff(&self) -> bool {
        self.0.is_staff
    }

    /// A deactivated user can no longer sign in; staff can reactivate them.
    async fn is_active(&self) -> bool {
        self.0.is_active
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// This user's unreleased numbers, oldest first.
    async fn virtual_numbers(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<VirtualNumberFilter>,
    ) -> Result<Connection<VirtualNumber>, AppError> {
        let page = RelayArgs {
            first,
            after,
            last,
            before,
        };
        list_numbers(ctx, self.0.id, page, filter).await
    }
}

/// What `register`, `login` and `refresh` return: a session and its user.
#[derive(SimpleObject)]
pub struct AuthPayload {
    /// Send as `Authorization: Bearer <accessToken>`.
    access_token: String,
    /// Trade for a new session with `refresh`; each one works once.
    refresh_token: String,
    /// Always `Bearer`.
    token_type: String,
    /// Seconds until the access token expires.
    expires_in: i32,
    /// Who signed in; the rest of this request (this payload included) acts as them.
    user: User,
}

/// Where this request came from, recorded with a session it starts.
fn origin(ctx: &Context<'_>) -> Result<SessionOrigin, AppError> {
    Ok(SessionOrigin {
        client_address: Some(ctx.service::<ClientAddress>()?.0.to_string()),
        user_agent: ctx.service::<UserAgent>()?.0.clone(),
    })
}

/// The payload of a new session; the rest of the request acts as its user, so
/// that `user { virtualNumbers { … } }` in the same payload resolves.
fn signed_in(ctx: &Context<'_>, session: Session) -> Result<AuthPayload, AppError> {
    ctx.identity()?.signed_in(Viewer {
        user_id: session.user.id,
        is_staff: session.user.is_staff,
        session: Some(session.session_id),
        api_key: None,
    });
    Ok(AuthPayload {
        access_token: session.access_token,
        refresh_token: session.refresh_token,
        token_type: "Bearer".to_owned(),
        expires_in: i32::try_from(session.expires_in)
            .map_err(|_| AppError::Internal(anyhow::anyhow!("ACCESS_TOKEN_TTL is longer than 68 years")))?,
        user: session.user.into(),
    })
}

/// Reads a new account's parts with the rules of sign-up; a blank email or
/// contact number means none.
pub(super) fn parse_account(
    region: &DefaultRegion,
    username: &str,
    password: &str,
    email: Option<&str>,
    contact_number: Option<&str>,
    is_staff: bool,
) -> Result<NewAccount, AppError> {
    let username = Username::parse(username)?;
    let password = Password::parse(password, &username)?;
    let email = email
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(Email::parse)
        .transpose()?;
    let contact_number = contact_number
        .filter(|n| !n.trim().is_empty())
        .map(|n| region.phone(n, "contactNumber"))
        .transpose()?;
    Ok(NewAccount {
        username,
        password,
        email,
        contact_number,
        is_staff,
    })
}

/// A new account.
#[derive(InputObject)]
pub struct RegisterInput {
    /// 3–150 letters, digits and `_ . @ + -`.
    username: String,
    /// 8–128 characters, not the username.
    password: String,
    email: Option<String>,
    /// Any common spelling; stored in E.164.
    contact_number: Option<String>,
}

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The signed-in user.
    async fn me(&self, ctx: &Context<'_>) -> Result<User, AppError> {
        let viewer = ctx.viewer()?;
        Ok(ctx.service::<AccountService>()?.me(viewer).await?.into())
    }
}

#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Opens an account and signs it in (unless sign-up is turned off).
    async fn register(&self, ctx: &Context<'_>, input: RegisterInput) -> Result<AuthPayload, AppError> {
        let region = ctx.service::<DefaultRegion>()?;
        let account = parse_account(
            region,
            &input.username,
            &input.password,
            input.email.as_deref(),
            input.contact_number.as_deref(),
            false,
        )?;
        let address = ctx.service::<ClientAddress>()?.0;
        let user = ctx.service::<AccountService>()?.register(account, address).await?;
        let session = ctx.service::<SessionService>()?.start(user, origin(ctx)?).await?;
        signed_in(ctx, session)
    }

    /// Signs in with a username (any case) and password.
    async fn login(&self, ctx: &Context<'_>, username: String, password: String) -> Result<AuthPayload, AppError> {
        let address = ctx.service::<ClientAddress>()?.0;
        let user = ctx
            .service::<AccountService>()?
            .authenticate(&username, &password, address)
            .await?;
        let session = ctx.service::<SessionService>()?.start(user, origin(ctx)?).await?;
        signed_in(ctx, session)
    }

    /// Trades a refresh token for a new session; the old token stops working, and
    /// using it again ends every session that grew from it.
    async fn refresh(&self, ctx: &Context<'_>, refresh_token: String) -> Result<AuthPayload, AppError> {
        let session = ctx.service::<SessionService>()?.refresh(&refresh_token).await?;
        signed_in(ctx, session)
    }

    /// Ends the session of this refresh token. True when a live session ended.
    /// Access tokens already issued stay valid until they expire.
    async fn logout(&self, ctx: &Context<'_>, refresh_token: String) -> Result<bool, AppError> {
        ctx.service::<SessionService>()?.logout(&refresh_token).await
    }
}
