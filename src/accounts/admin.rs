//! Staff administration of users: list (filtered, keyset-paged), create, update,
//! reset a password, end a user's sessions. Every write commits with its audit
//! event in one transaction; a list is recorded as one read event. Only a
//! `Staff` (see `audit`) may call any of it.

use sea_orm::{
    Condition, DatabaseConnection, PaginatorTrait, TransactionTrait,
    prelude::*,
    sea_query::{ExprTrait, Func, LikeExpr},
};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{
    NewAccount,
    audit::{self, AuditAction, Staff},
    credentials::{Email, Password, Username},
    service::{insert_account, new_account_row},
    session_admin::{SESSION_NOT_FOUND, end_session, end_sessions},
};
use crate::{
    auth::passwords,
    entity::{
        self, sessions,
        users::{self, Column},
    },
    error::{AppError, Context as _},
    numbers::E164,
    paging::{self, Page, PageRequest},
};

/// The one answer for a user id that names nobody.
pub const USER_NOT_FOUND: &str = "no such user";

/// Text to find in usernames and emails, any case: 1 to 150 characters once
/// trimmed, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSearch(String);

impl UserSearch {
    /// Reads an optional search: absent or blank means no search.
    pub fn optional(input: Option<&str>) -> Result<Option<Self>, AppError> {
        let Some(text) = input.map(str::trim).filter(|text| !text.is_empty()) else {
            return Ok(None);
        };
        if text.chars().count() > 150 || text.chars().any(char::is_control) {
            return Err(AppError::bad_input(
                "search",
                "a search is at most 150 characters, without control characters",
            ));
        }
        Ok(Some(UserSearch(text.to_lowercase())))
    }

    /// A LIKE pattern finding the text anywhere, its wildcards escaped with `\`.
    fn pattern(&self) -> String {
        let escaped = self.0.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        format!("%{escaped}%")
    }
}

/// Narrows the list of users.
#[derive(Debug, Default, Clone)]
pub struct UserFilter {
    pub search: Option<UserSearch>,
    pub is_active: Option<bool>,
    pub is_staff: Option<bool>,
}

/// Changes to a user; `None` leaves a field, `Some(None)` clears one.
#[derive(Debug, Default)]
pub struct UserChanges {
    pub is_active: Option<bool>,
    pub is_staff: Option<bool>,
    pub email: Option<Option<Email>>,
    pub contact_number: Option<Option<E164>>,
}

#[derive(Clone)]
pub struct AdminService {
    db: DatabaseConnection,
}

impl AdminService {
    pub fn new(db: DatabaseConnection) -> Self {
        AdminService { db }
    }

    /// One page of users, oldest first, recorded as one `users.list` event.
    pub async fn list_users(
        &self,
        staff: &Staff,
        filter: &UserFilter,
        request: &PageRequest<Uuid>,
    ) -> Result<Page<users::Model>, AppError> {
        let query = users::Entity::find().filter(condition(filter));
        // UUIDv7 ids grow with creation time, so id order is creation order.
        let page = paging::by_key(&self.db, query, Column::Id, request)
            .await
            .context("reading a page of users")?;
        let details = json!({
            "filter": {
                "search": filter.search.as_ref().map(|search| search.0.clone()),
                "isActive": filter.is_active,
                "isStaff": filter.is_staff,
            },
            "returned": page.items.len(),
        });
        audit::record(&self.db, staff, AuditAction::UsersList, None, details).await?;
        Ok(page)
    }

    /// How many users the same list holds in all.
    pub async fn count_users(&self, _staff: &Staff, filter: &UserFilter) -> Result<u64, AppError> {
        users::Entity::find()
            .filter(condition(filter))
            .count(&self.db)
            .await
            .context("counting users")
    }

    /// Records that staff read one other user (through `node`); reading oneself is not recorded.
    pub async fn record_read(&self, staff: &Staff, user_id: Uuid) -> Result<(), AppError> {
        if user_id == staff.user_id {
            return Ok(());
        }
        audit::record(&self.db, staff, AuditAction::UserRead, Some(user_id), json!({})).await?;
        Ok(())
    }

    /// Opens an account with the rules of sign-up (staff may make staff).
    pub async fn create_user(&self, staff: &Staff, account: NewAccount) -> Result<users::Model, AppError> {
        let is_staff = account.is_staff;
        let row = new_account_row(account).await?;
        let transaction = self.db.begin().await.context("starting to create a user")?;
        let user = insert_account(&transaction, row).await?;
        let details = json!({ "username": user.username, "isStaff": is_staff });
        audit::record(&transaction, staff, AuditAction::UserCreate, Some(user.id), details).await?;
        transaction.commit().await.context("committing a new user")?;
        Ok(user)
    }

    /// Changes a user. Staff may not deactivate or demote themselves, so an
    /// instance cannot lose its last administrator that way. Deactivating ends
    /// every session of the user, in the same transaction.
    pub async fn update_user(&self, staff: &Staff, id: Uuid, changes: UserChanges) -> Result<users::Model, AppError> {
        if id == staff.user_id {
            if changes.is_active == Some(false) {
                return Err(AppError::bad_input(
                    "isActive",
                    "you may not deactivate yourself; ask another staff member",
                ));
            }
            if changes.is_staff == Some(false) {
                return Err(AppError::bad_input(
                    "isStaff",
                    "you may not remove your own staff rights; ask another staff member",
                ));
            }
        }
        // Read before the transaction: on SQLite a transaction that reads and then
        // writes can fail to upgrade its lock under load.
        let before = self.find(id).await?;
        let deactivates = changes.is_active == Some(false);
        let mut update = users::Entity::update_many()
            .col_expr(Column::UpdatedAt, Expr::value(entity::now()))
            .filter(Column::Id.eq(id));
        if let Some(is_active) = changes.is_active {
            update = update.col_expr(Column::IsActive, Expr::value(is_active));
        }
        if let Some(is_staff) = changes.is_staff {
            update = update.col_expr(Column::IsStaff, Expr::value(is_staff));
        }
        if let Some(email) = changes.email {
            update = update.col_expr(Column::Email, Expr::value(email.map(Email::into_inner)));
        }
        if let Some(number) = changes.contact_number {
            update = update.col_expr(
                Column::ContactNumber,
                Expr::value(number.map(|number| number.as_str().to_owned())),
            );
        }
        let transaction = self.db.begin().await.context("starting to update a user")?;
        let after = update
            .exec_with_returning(&transaction)
            .await
            .context("updating a user")?
            .into_iter()
            .next()
            .ok_or(AppError::NotFound(USER_NOT_FOUND))?;
        let mut details = changed_fields(&before, &after);
        if deactivates {
            let ended = end_sessions(&transaction, id, None).await?;
            details.insert("sessionsEnded".to_owned(), json!(ended));
        }
        audit::record(
            &transaction,
            staff,
            AuditAction::UserUpdate,
            Some(id),
            Value::Object(details),
        )
        .await?;
        transaction.commit().await.context("committing a user update")?;
        Ok(after)
    }

    /// Sets a user's password (the rules of sign-up; nothing is mailed) and ends
    /// every one of their sessions, in one transaction with its audit event.
    pub async fn reset_password(&self, staff: &Staff, id: Uuid, new_password: &str) -> Result<u64, AppError> {
        let user = self.find(id).await?;
        let username = Username::parse(&user.username)?;
        let password = Password::parse(new_password, &username).map_err(|error| match error {
            AppError::BadInput { message, .. } => AppError::bad_input("newPassword", message),
            other => other,
        })?;
        let hashed = passwords::hash(password.into_inner()).await?;
        let transaction = self.db.begin().await.context("starting a password reset")?;
        users::Entity::update_many()
            .col_expr(Column::PasswordHash, Expr::value(hashed))
            .col_expr(Column::UpdatedAt, Expr::value(entity::now()))
            .filter(Column::Id.eq(id))
            .exec(&transaction)
            .await
            .context("storing a reset password")?;
        let ended = end_sessions(&transaction, id, None).await?;
        let details = json!({ "sessionsEnded": ended });
        audit::record(&transaction, staff, AuditAction::UserResetPassword, Some(id), details).await?;
        transaction.commit().await.context("committing a password reset")?;
        Ok(ended)
    }

    /// Ends every session of another user (`logoutEverywhere(userId:)`), with its audit event.
    pub async fn end_sessions_of(&self, staff: &Staff, id: Uuid) -> Result<u64, AppError> {
        self.find(id).await?;
        let transaction = self.db.begin().await.context("starting to end a user's sessions")?;
        let ended = end_sessions(&transaction, id, None).await?;
        let details = json!({ "sessionsEnded": ended });
        audit::record(&transaction, staff, AuditAction::UserSessionsEnd, Some(id), details).await?;
        transaction
            .commit()
            .await
            .context("committing the end of a user's sessions")?;
        Ok(ended)
    }

    /// Ends one session (`endSession`); one of another user's is on record, in
    /// the same transaction. `NOT_FOUND` for one missing or already ended.
    pub async fn end_session_of(&self, staff: &Staff, session_id: Uuid) -> Result<(), AppError> {
        let session = sessions::Entity::find_by_id(session_id)
            .one(&self.db)
            .await
            .context("reading a session to end")?
            .filter(|session| session.ended_at.is_none())
            .ok_or(AppError::NotFound(SESSION_NOT_FOUND))?;
        if session.user_id == staff.user_id {
            return end_session(&self.db, session.id).await;
        }
        let transaction = self.db.begin().await.context("starting to end a session")?;
        end_session(&transaction, session.id).await?;
        let details = json!({ "session": session.id });
        audit::record(
            &transaction,
            staff,
            AuditAction::UserSessionEnd,
            Some(session.user_id),
            details,
        )
        .await?;
        transaction.commit().await.context("committing the end of a session")?;
        Ok(())
    }

    async fn find(&self, id: Uuid) -> Result<users::Model, AppError> {
        users::Entity::find_by_id(id)
            .one(&self.db)
            .await
            .context("reading a user")?
            .ok_or(AppError::NotFound(USER_NOT_FOUND))
    }
}

fn condition(filter: &UserFilter) -> Condition {
    let mut condition = Condition::all();
    if let Some(is_active) = filter.is_active {
        condition = condition.add(Column::IsActive.eq(is_active));
    }
    if let Some(is_staff) = filter.is_staff {
        condition = condition.add(Column::IsStaff.eq(is_staff));
    }
    if let Some(search) = &filter.search {
        let like = |column: Column| {
            Expr::expr(Func::lower(Expr::col(column))).like(LikeExpr::new(search.pattern()).escape('\\'))
        };
        condition = condition.add(Condition::any().add(like(Column::Username)).add(like(Column::Email)));
    }
    condition
}

/// What an update changed, for its audit event: the new flags, and only whether
/// an email or contact number was set or cleared (personal data stays out of a
/// log that can never be edited).
fn changed_fields(before: &users::Model, after: &users::Model) -> Map<String, Value> {
    let mut changed = Map::new();
    if before.is_active != after.is_active {
        changed.insert("isActive".to_owned(), json!(after.is_active));
    }
    if before.is_staff != after.is_staff {
        changed.insert("isStaff".to_owned(), json!(after.is_staff));
    }
    let mut personal = |name: &str, before: &Option<String>, after: &Option<String>| {
        if before != after {
            let what = if after.is_some() { "set" } else { "cleared" };
            changed.insert(name.to_owned(), json!(what));
        }
    };
    personal("email", &before.email, &after.email);
    personal("contactNumber", &before.contact_number, &after.contact_number);
    changed
}
