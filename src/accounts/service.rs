//! Account rules: register, authenticate, look up users as a viewer may see them.

use std::{num::NonZeroU32, sync::Arc};

use sea_orm::{
    ActiveValue::Set,
    DatabaseConnection, EntityTrait, QueryFilter,
    prelude::*,
    sea_query::{ExprTrait, Func},
};
use uuid::Uuid;

use super::credentials::{Email, Password, Username};
use crate::{
    auth::{Viewer, passwords},
    entity::{self, users},
    error::{AppError, OnConflict},
    numbers::E164,
};

/// What it takes to open an account; every part already validated.
#[derive(Debug)]
pub struct NewAccount {
    pub username: Username,
    pub password: Password,
    pub email: Option<Email>,
    pub contact_number: Option<E164>,
    pub is_staff: bool,
}

/// Sign-in attempts per lowercased username, refilled over a minute.
type LoginLimiter = governor::DefaultKeyedRateLimiter<String>;

#[derive(Clone)]
pub struct AccountService {
    db: DatabaseConnection,
    login_limiter: Arc<LoginLimiter>,
    /// Whether anyone may open an account (`ALLOW_SIGNUP`); staff always may.
    allow_signup: bool,
}

const BAD_CREDENTIALS: &str = "wrong username or password";
/// How many usernames the login limiter remembers before it drops the idle ones.
const LIMITER_KEYS_BEFORE_CLEANUP: usize = 10_000;
/// Default for `LOGIN_ATTEMPTS_PER_MINUTE`.
pub const DEFAULT_LOGIN_ATTEMPTS_PER_MINUTE: u32 = 10;

impl AccountService {
    pub fn new(db: DatabaseConnection) -> Self {
        Self::with_login_limit(db, DEFAULT_LOGIN_ATTEMPTS_PER_MINUTE)
    }

    /// An account service that allows `attempts_per_minute` sign-ins per username.
    pub fn with_login_limit(db: DatabaseConnection, attempts_per_minute: u32) -> Self {
        let per_minute = NonZeroU32::new(attempts_per_minute).unwrap_or(NonZeroU32::MIN);
        let login_limiter = Arc::new(governor::RateLimiter::keyed(governor::Quota::per_minute(per_minute)));
        AccountService {
            db,
            login_limiter,
            allow_signup: true,
        }
    }

    /// The same service with sign-up open or closed.
    pub fn with_signup(mut self, allowed: bool) -> Self {
        self.allow_signup = allowed;
        self
    }

    /// Opens an account for someone signing up, unless sign-up is closed.
    pub async fn register(&self, account: NewAccount) -> Result<users::Model, AppError> {
        if !self.allow_signup {
            return Err(AppError::Forbidden(
                "sign-up is closed on this server; ask an administrator for an account",
            ));
        }
        self.create(account).await
    }

    /// Opens an account. The database's case-insensitive unique index decides
    /// races, so two registrations of `Alice` and `alice` cannot both succeed.
    pub async fn create(&self, account: NewAccount) -> Result<users::Model, AppError> {
        let password_hash = passwords::hash(account.password.into_inner()).await?;
        let now = entity::now();
        let user = users::ActiveModel {
            id: Set(Uuid::now_v7()),
            username: Set(account.username.as_str().to_owned()),
            email: Set(account.email.map(Email::into_inner)),
            password_hash: Set(password_hash),
            contact_number: Set(account.contact_number.map(|number| number.as_str().to_owned())),
            is_staff: Set(account.is_staff),
            is_active: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
        };
        user.insert(&self.db)
            .await
            .on_conflict(users::USERNAME_KEY, "username", "that username is taken")
    }

    /// The active user with these credentials. Unknown users, wrong passwords and
    /// deactivated accounts all get the same answer, in about the same time.
    pub async fn authenticate(&self, username: &str, password: &str) -> Result<users::Model, AppError> {
        // Limit guesses per account before any work is done, whether the name exists or not.
        if let Err(not_until) = self.login_limiter.check_key(&username.trim().to_ascii_lowercase()) {
            let wait = not_until.wait_time_from(governor::clock::Clock::now(&governor::clock::DefaultClock::default()));
            return Err(AppError::RateLimited {
                retry_after_secs: Ord::max(wait.as_secs(), 1),
            });
        }
        // Forget idle usernames now and then (it walks every key, so not on every attempt).
        if self.login_limiter.len() > LIMITER_KEYS_BEFORE_CLEANUP {
            self.login_limiter.retain_recent();
        }
        let user = self.find_by_username(username).await?;
        let stored = user.as_ref().map(|user| user.password_hash.clone());
        let matched = passwords::verify(password.to_owned(), stored).await?;
        match user {
            Some(user) if matched && user.is_active => Ok(user),
            _ => Err(AppError::Unauthenticated(BAD_CREDENTIALS)),
        }
    }

    async fn find_by_username(&self, username: &str) -> Result<Option<users::Model>, AppError> {
        let lowered = username.trim().to_ascii_lowercase();
        Ok(users::Entity::find()
            .filter(Expr::expr(Func::lower(Expr::col(users::Column::Username))).eq(lowered))
            .one(&self.db)
            .await?)
    }

    /// The signed-in user's own row; a token for a deleted or deactivated user no longer counts.
    pub async fn me(&self, viewer: &Viewer) -> Result<users::Model, AppError> {
        match users::Entity::find_by_id(viewer.user_id).one(&self.db).await? {
            Some(user) if user.is_active => Ok(user),
            _ => Err(AppError::Unauthenticated(
                "this account no longer exists or is deactivated",
            )),
        }
    }

    /// The users among `ids` the viewer may see: themselves (staff: anyone), in one query.
    pub async fn visible_many(&self, viewer: &Viewer, ids: &[Uuid]) -> Result<Vec<users::Model>, AppError> {
        let visible: Vec<Uuid> = ids.iter().copied().filter(|id| viewer.may_act_for(*id)).collect();
        if visible.is_empty() {
            return Ok(Vec::new());
        }
        Ok(users::Entity::find()
            .filter(users::Column::Id.is_in(visible))
            .all(&self.db)
            .await?)
    }
}
