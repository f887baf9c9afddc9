//! Account management in GraphQL for the signed-in user: password, profile,
//! deactivation, and the sessions they can see and end (staff: anyone's).

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, Utc};

use super::{
    AccountService, AdminService, ProfileChanges, SessionService, admin_graphql::staff, credentials::Email,
    graphql::User, session_admin::SESSION_NOT_FOUND,
};
use crate::{
    auth::ClientAddress,
    entity::sessions,
    error::AppError,
    graphql::{
        ContextExt, Long,
        ids::{self, NodeType},
    },
    numbers::{DefaultRegion, NumberService},
};

/// A signed-in device or client: one sign-in and the refreshes that followed it.
pub struct Session {
    model: sessions::Model,
    current: bool,
}

#[Object]
impl Session {
    /// Opaque id, for `endSession`.
    async fn id(&self) -> ID {
        ids::encode(NodeType::Session, self.model.id)
    }

    /// When the user signed in.
    async fn created_at(&self) -> DateTime<Utc> {
        self.model.created_at
    }

    /// When the session was last used, to the minute.
    async fn last_used_at(&self) -> DateTime<Utc> {
        self.model.last_used_at
    }

    /// The address the sign-in came from.
    async fn client_address(&self) -> Option<&str> {
        self.model.client_address.as_deref()
    }

    /// The `User-Agent` the sign-in came with.
    async fn user_agent(&self) -> Option<&str> {
        self.model.user_agent.as_deref()
    }

    /// Whether this is the session making the request.
    async fn current(&self) -> bool {
        self.current
    }
}

/// Changes to your profile; omitted fields stay as they are, `null` clears one.
#[derive(InputObject)]
pub struct UpdateMeInput {
    email: MaybeUndefined<String>,
    /// Any common spelling; stored in E.164.
    contact_number: MaybeUndefined<String>,
}

#[derive(Default)]
pub struct ManageQuery;

#[Object]
impl ManageQuery {
    /// Where you are signed in, newest first (at most 100).
    async fn my_sessions(&self, ctx: &Context<'_>) -> Result<Vec<Session>, AppError> {
        let viewer = ctx.viewer()?;
        let sessions = ctx
            .service::<SessionService>()?
            .live_sessions(viewer, viewer.user_id)
            .await?;
        Ok(sessions
            .into_iter()
            .map(|model| Session {
                current: viewer.session == Some(model.id),
                model,
            })
            .collect())
    }
}

#[derive(Default)]
pub struct ManageMutation;

#[Object]
impl ManageMutation {
    /// Changes your password (same rules as sign-up) and ends every other session.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        current_password: String,
        new_password: String,
    ) -> Result<bool, AppError> {
        let viewer = ctx.viewer()?;
        let address = ctx.service::<ClientAddress>()?.0;
        ctx.service::<AccountService>()?
            .change_password(viewer, &current_password, &new_password, address)
            .await?;
        ctx.service::<SessionService>()?
            .end_all(viewer, viewer.user_id, viewer.session)
            .await?;
        Ok(true)
    }

    /// Changes your email or contact number.
    async fn update_me(&self, ctx: &Context<'_>, input: UpdateMeInput) -> Result<User, AppError> {
        let viewer = ctx.viewer()?;
        let region = ctx.service::<DefaultRegion>()?;
        let changes = ProfileChanges {
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
        Ok(ctx
            .service::<AccountService>()?
            .update_me(viewer, changes)
            .await?
            .into())
    }

    /// Closes your account: you can no longer sign in, every session ends, and your
    /// numbers are released for others to take; your call logs are kept for the
    /// record (staff can still read them). Asks for your password.
    async fn deactivate_me(&self, ctx: &Context<'_>, password: String) -> Result<bool, AppError> {
        let viewer = ctx.viewer()?;
        let address = ctx.service::<ClientAddress>()?.0;
        let user = ctx
            .service::<AccountService>()?
            .deactivate(viewer, &password, address)
            .await?;
        ctx.service::<NumberService>()?.release_all_of(viewer, user.id).await?;
        ctx.service::<SessionService>()?.end_all(viewer, user.id, None).await?;
        Ok(true)
    }

    /// Ends one of your sessions (staff: anyone's); its tokens stop working within seconds.
    async fn end_session(&self, ctx: &Context<'_>, id: ID) -> Result<bool, AppError> {
        let viewer = ctx.viewer()?;
        let key = ids::decode_existing(&id, NodeType::Session, "id", SESSION_NOT_FOUND)?;
        if viewer.is_staff {
            // Staff ending someone else's session: on record, in the same transaction.
            let staff = staff(ctx)?;
            ctx.service::<AdminService>()?.end_session_of(&staff, key).await?;
        } else {
            ctx.service::<SessionService>()?.end(viewer, key).await?;
        }
        Ok(true)
    }

    /// Ends every one of your sessions, this one included (staff: pass `userId` to
    /// end a user's). Says how many ended.
    async fn logout_everywhere(&self, ctx: &Context<'_>, user_id: Option<ID>) -> Result<Long, AppError> {
        let viewer = ctx.viewer()?;
        let user_id = match &user_id {
            Some(id) => ids::decode_existing(id, NodeType::User, "userId", "no such user")?,
            None => viewer.user_id,
        };
        let ended = if viewer.is_staff && user_id != viewer.user_id {
            // Staff ending someone else's sessions: on record, in the same transaction.
            let staff = staff(ctx)?;
            ctx.service::<AdminService>()?.end_sessions_of(&staff, user_id).await?
        } else {
            ctx.service::<SessionService>()?.end_all(viewer, user_id, None).await?
        };
        Long::try_from(ended).map_err(|_| AppError::Internal(anyhow::anyhow!("more than 2^63 sessions")))
    }
}
