//! Account rules: register, authenticate, look up users as a viewer may see them.

use std::net::IpAddr;

use sea_orm::{
    ActiveValue::Set,
    ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    prelude::*,
    sea_query::{ExprTrait, Func},
};
use uuid::Uuid;

use super::{
    attempts::{AttemptLimits, Attempts},
    credentials::{Email, Password, Username},
};
use crate::{
    auth::{Viewer, passwords},
    entity::{self, users},
    error::{AppError, OnConflict},
    numbers::E164,
};

/// Changes to a user's own profile; `None` leaves a field, `Some(None)` clears it.
#[derive(Debug, Default)]
pub struct ProfileChanges {
    pub email: Option<Option<Email>>,
    pub contact_number: Option<Option<E164>>,
}

/// What it takes to open an account; every part already validated.
#[derive(Debug)]
pub struct NewAccount {
    pub username: Username,
    pub password: Password,
    pub email: Option<Email>,
    pub contact_number: Option<E164>,
    pub is_staff: bool,
}

#[derive(Clone)]
pub struct AccountService {
    db: DatabaseConnection,
    attempts: Attempts,
    /// Whether anyone may open an account (`ALLOW_SIGNUP`); staff always may.
    allow_signup: bool,
}

const BAD_CREDENTIALS: &str = "wrong username or password";

impl AccountService {
    pub fn new(db: DatabaseConnection) -> Self {
        Self::with_limits(db, AttemptLimits::default())
    }

    /// An account service with these sign-in and sign-up limits.
    pub fn with_limits(db: DatabaseConnection, limits: AttemptLimits) -> Self {
        AccountService {
            attempts: Attempts::new(db.clone(), limits),
            db,
            allow_signup: true,
        }
    }

    /// The same service with sign-up open or closed.
    pub fn with_signup(mut self, allowed: bool) -> Self {
        self.allow_signup = allowed;
        self
    }

    /// Opens an account for someone signing up from `address`, unless sign-up
    /// is closed or that address has opened too many lately.
    pub async fn register(&self, account: NewAccount, address: IpAddr) -> Result<users::Model, AppError> {
        if !self.allow_signup {
            return Err(AppError::Forbidden(
                "sign-up is closed on this server; ask an administrator for an account",
            ));
        }
        self.attempts.sign_up(address).await?;
        self.create(account).await
    }

    /// Opens an account. The database's case-insensitive unique index decides
    /// races, so two registrations of `Alice` and `alice` cannot both succeed.
    pub async fn create(&self, account: NewAccount) -> Result<users::Model, AppError> {
        insert_account(&self.db, new_account_row(account).await?).await
    }

    /// The active user with these credentials. Unknown users, wrong passwords and
    /// deactivated accounts all get the same answer, in about the same time.
    pub async fn authenticate(
        &self,
        username: &str,
        password: &str,
        address: IpAddr,
    ) -> Result<users::Model, AppError> {
        // Count the attempt before any work is done, whether the name exists or not.
        self.attempts.sign_in(address, username).await?;
        let user = self.find_by_username(username).await?;
        let stored = user.as_ref().map(|user| user.password_hash.clone());
        let matched = passwords::verify(password.to_owned(), stored).await?;
        match user {
            Some(user) if matched && user.is_active => {
                if passwords::needs_rehash(&user.password_hash) {
                    self.rehash(&user, password).await;
                }
                Ok(user)
            }
            _ => Err(AppError::Unauthenticated(BAD_CREDENTIALS)),
        }
    }

    /// Replaces a hash made with older parameters, now that the password is known.
    /// A failure leaves the old hash, which still verifies: the sign-in goes ahead.
    async fn rehash(&self, user: &users::Model, password: &str) {
        let rehashed = match passwords::hash(password.to_owned()).await {
            Ok(hash) => hash,
            Err(error) => return tracing::warn!(?error, "could not rehash a password"),
        };
        let updated = users::Entity::update_many()
            .col_expr(users::Column::PasswordHash, Expr::value(rehashed))
            .filter(users::Column::Id.eq(user.id))
            .filter(users::Column::PasswordHash.eq(user.password_hash.as_str()))
            .exec(&self.db)
            .await;
        if let Err(error) = updated {
            tracing::warn!(?error, "could not store a rehashed password");
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

    /// Changes the viewer's password after checking the current one (counted as a
    /// sign-in attempt from `address`). The caller ends the other sessions.
    pub async fn change_password(
        &self,
        viewer: &Viewer,
        current: &str,
        new: &str,
        address: IpAddr,
    ) -> Result<(), AppError> {
        let user = self.me(viewer).await?;
        self.attempts.sign_in(address, &user.username).await?;
        if !passwords::verify(current.to_owned(), Some(user.password_hash.clone())).await? {
            return Err(AppError::bad_input("currentPassword", "the current password is wrong"));
        }
        let username = Username::parse(&user.username)?;
        let password = Password::parse(new, &username).map_err(|error| match error {
            AppError::BadInput { message, .. } => AppError::bad_input("newPassword", message),
            other => other,
        })?;
        let hashed = passwords::hash(password.into_inner()).await?;
        users::Entity::update_many()
            .col_expr(users::Column::PasswordHash, Expr::value(hashed))
            .col_expr(users::Column::UpdatedAt, Expr::value(entity::now()))
            .filter(users::Column::Id.eq(user.id))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Changes the viewer's email and contact number; `Some(None)` clears one.
    pub async fn update_me(&self, viewer: &Viewer, changes: ProfileChanges) -> Result<users::Model, AppError> {
        let user = self.me(viewer).await?;
        let mut update = users::Entity::update_many()
            .col_expr(users::Column::UpdatedAt, Expr::value(entity::now()))
            .filter(users::Column::Id.eq(user.id))
            .filter(users::Column::IsActive.eq(true));
        if let Some(email) = changes.email {
            update = update.col_expr(users::Column::Email, Expr::value(email.map(Email::into_inner)));
        }
        if let Some(number) = changes.contact_number {
            update = update.col_expr(
                users::Column::ContactNumber,
                Expr::value(number.map(|number| number.as_str().to_owned())),
            );
        }
        update
            .exec_with_returning(&self.db)
            .await?
            .into_iter()
            .next()
            .ok_or(AppError::Unauthenticated(
                "this account no longer exists or is deactivated",
            ))
    }

    /// Deactivates the viewer's account after checking the password: they can no
    /// longer sign in and every path refuses their tokens. The caller releases their
    /// numbers and ends their sessions; call logs stay for the record.
    pub async fn deactivate(&self, viewer: &Viewer, password: &str, address: IpAddr) -> Result<users::Model, AppError> {
        let user = self.me(viewer).await?;
        self.attempts.sign_in(address, &user.username).await?;
        if !passwords::verify(password.to_owned(), Some(user.password_hash.clone())).await? {
            return Err(AppError::bad_input("password", "the password is wrong"));
        }
        users::Entity::update_many()
            .col_expr(users::Column::IsActive, Expr::value(false))
            .col_expr(users::Column::UpdatedAt, Expr::value(entity::now()))
            .filter(users::Column::Id.eq(user.id))
            .exec(&self.db)
            .await?;
        Ok(user)
    }
}

/// The row of a new account, its password hashed (off the async runtime, and
/// before any transaction it will be inserted in begins).
pub async fn new_account_row(account: NewAccount) -> Result<users::ActiveModel, AppError> {
    let password_hash = passwords::hash(account.password.into_inner()).await?;
    let now = entity::now();
    Ok(users::ActiveModel {
        id: Set(Uuid::now_v7()),
        username: Set(account.username.as_str().to_owned()),
        email: Set(account.email.map(Email::into_inner)),
        password_hash: Set(password_hash),
        contact_number: Set(account.contact_number.map(|number| number.as_str().to_owned())),
        is_staff: Set(account.is_staff),
        is_active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
    })
}

/// Inserts a new account's row with `db`; a username taken in any case is `CONFLICT`.
pub async fn insert_account(db: &impl ConnectionTrait, row: users::ActiveModel) -> Result<users::Model, AppError> {
    row.insert(db)
        .await
        .on_conflict(users::USERNAME_KEY, "username", "that username is taken")
}
