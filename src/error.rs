//! `AppError`, the one error type that crosses into GraphQL, and its single
//! conversion into `async_graphql::Error` with a stable `extensions.code`.
//!
//! `AppError` deliberately has no `Display`: async-graphql turns any `Display`
//! error into a GraphQL error *without* a code, so a stray `?` on a foreign
//! error cannot compile into a code-less, possibly leaky response.

use std::borrow::Cow;

use async_graphql::ErrorExtensions;
use sea_orm::{DbErr, SqlErr};

/// Why a request failed; each variant is one `extensions.code`.
#[derive(Debug)]
pub enum AppError {
    /// No, bad or expired credentials.
    Unauthenticated(&'static str),
    /// Signed in, but not allowed to do this.
    Forbidden(&'static str),
    /// No such object visible to the viewer.
    NotFound(&'static str),
    /// An argument is invalid; `field` names the input field.
    BadInput { field: Cow<'static, str>, message: String },
    /// A uniqueness rule would be broken; `field` names the input field and
    /// `reason`, when there is one, says which rule (`extensions.reason`).
    Conflict {
        field: Cow<'static, str>,
        message: String,
        reason: Option<&'static str>,
    },
    /// Too many requests; retry after this many seconds.
    RateLimited { retry_after_secs: u64 },
    /// The document is over one of the limits: `limit` names it.
    TooComplex {
        limit: &'static str,
        maximum: u64,
        found: u64,
    },
    /// A persisted query sent by hash alone that this instance does not hold
    /// (Apollo's protocol: the client sends it again with its text).
    PersistedQueryNotFound,
    /// Anything else. Logged once with its context; the client sees only "internal error".
    Internal(anyhow::Error),
}

impl AppError {
    pub fn bad_input(field: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        AppError::BadInput {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn conflict(field: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        AppError::Conflict {
            field: field.into(),
            message: message.into(),
            reason: None,
        }
    }

    /// A conflict with a machine-readable `reason` (such as `ALREADY_IN_AN_ORDER`).
    pub fn conflict_because(
        field: impl Into<Cow<'static, str>>,
        reason: &'static str,
        message: impl Into<String>,
    ) -> Self {
        AppError::Conflict {
            field: field.into(),
            message: message.into(),
            reason: Some(reason),
        }
    }

    /// The stable `extensions.code` of this error.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated(_) => "UNAUTHENTICATED",
            AppError::Forbidden(_) => "FORBIDDEN",
            AppError::NotFound(_) => "NOT_FOUND",
            AppError::BadInput { .. } => "BAD_USER_INPUT",
            AppError::Conflict { .. } => "CONFLICT",
            AppError::RateLimited { .. } => "RATE_LIMITED",
            AppError::TooComplex { .. } => "QUERY_TOO_COMPLEX",
            AppError::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
            AppError::Internal(_) => "INTERNAL_SERVER_ERROR",
        }
    }
}

impl From<DbErr> for AppError {
    fn from(error: DbErr) -> Self {
        AppError::Internal(anyhow::Error::new(error))
    }
}

impl From<anyhow::Error> for AppError {
    fn from(error: anyhow::Error) -> Self {
        AppError::Internal(error)
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(error: AppError) -> Self {
        let code = error.code();
        let mut limit = None;
        let mut reason = None;
        let (message, field, retry_after) = match error {
            AppError::Unauthenticated(message) | AppError::Forbidden(message) | AppError::NotFound(message) => {
                (message.to_owned(), None, None)
            }
            AppError::BadInput { field, message } => (message, Some(field), None),
            AppError::Conflict {
                field,
                message,
                reason: why,
            } => {
                reason = why;
                (message, Some(field), None)
            }
            AppError::RateLimited { retry_after_secs } => (
                format!("too many requests; retry in {retry_after_secs} seconds"),
                None,
                Some(retry_after_secs),
            ),
            AppError::TooComplex {
                limit: name,
                maximum,
                found,
            } => {
                limit = Some((name, maximum, found));
                (
                    format!("the query's {name} is {found}, over the limit of {maximum}; ask for less"),
                    None,
                    None,
                )
            }
            // The message Apollo's clients look for, besides the code.
            AppError::PersistedQueryNotFound => ("PersistedQueryNotFound".to_owned(), None, None),
            AppError::Internal(cause) => {
                // The one place internal detail goes: the log, with the request's span.
                tracing::error!(error = ?cause, "internal error");
                ("internal error".to_owned(), None, None)
            }
        };
        async_graphql::Error::new(message).extend_with(|_, extensions| {
            extensions.set("code", code);
            if let Some(field) = &field {
                extensions.set("field", field.as_ref());
            }
            if let Some(reason) = reason {
                extensions.set("reason", reason);
            }
            if let Some(seconds) = retry_after {
                extensions.set("retryAfter", seconds);
            }
            if let Some((name, maximum, found)) = limit {
                extensions.set("limit", name);
                extensions.set("maximum", maximum);
                extensions.set("found", found);
            }
        })
    }
}

/// A unique index as each database names it in a violation: PostgreSQL gives the
/// index name; SQLite gives it for an expression index (`index 'name'`) and the
/// `table.column` list otherwise.
#[derive(Debug, Clone, Copy)]
pub struct UniqueIndex {
    pub name: &'static str,
    /// As SQLite lists them: `table.column`, comma-separated.
    pub columns: &'static str,
}

impl UniqueIndex {
    /// Whether a database's unique-violation message is about this index.
    pub fn is_named_in(&self, message: &str) -> bool {
        let quoted = [format!("\"{}\"", self.name), format!("'{}'", self.name)];
        if quoted.iter().any(|name| message.contains(name.as_str())) {
            return true;
        }
        message
            .split_once("UNIQUE constraint failed: ")
            .is_some_and(|(_, columns)| columns.trim() == self.columns)
    }
}

/// Names the one database failure a caller can act on, where it happens: a
/// broken uniqueness rule *of this index* becomes `CONFLICT` on `field`; any other
/// failure (another unique index included) is internal, never a wrong field.
pub trait OnConflict<T> {
    fn on_conflict(self, index: UniqueIndex, field: &'static str, message: &str) -> Result<T, AppError>;
}

impl<T> OnConflict<T> for Result<T, DbErr> {
    fn on_conflict(self, index: UniqueIndex, field: &'static str, message: &str) -> Result<T, AppError> {
        self.map_err(|error| match error.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(text)) if index.is_named_in(&text) => {
                AppError::conflict(field, message)
            }
            _ => AppError::from(error),
        })
    }
}

/// Whether a database error broke exactly this unique index.
pub fn violates(error: &DbErr, index: UniqueIndex) -> bool {
    matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(text)) if index.is_named_in(&text))
}

/// Adds a context sentence to an internal failure so the log reads as a story.
pub trait Context<T> {
    fn context(self, what: &'static str) -> Result<T, AppError>;
}

impl<T, E> Context<T> for Result<T, E>
where
    E: std::error::Error + Send + Sync + 'static,
{
    fn context(self, what: &'static str) -> Result<T, AppError> {
        self.map_err(|error| AppError::Internal(anyhow::Error::new(error).context(what)))
    }
}

/// A one-line description for a person at a terminal (the CLI), never for a client.
pub fn describe(error: &AppError) -> String {
    match error {
        AppError::Unauthenticated(message) | AppError::Forbidden(message) | AppError::NotFound(message) => {
            (*message).to_owned()
        }
        AppError::BadInput { field, message } => format!("{field}: {message}"),
        AppError::Conflict { field, message, .. } => format!("{field}: {message}"),
        AppError::RateLimited { retry_after_secs } => format!("rate limited; retry in {retry_after_secs}s"),
        AppError::TooComplex { limit, maximum, found } => format!("{limit} {found} is over {maximum}"),
        AppError::PersistedQueryNotFound => "no persisted query has that hash".to_owned(),
        AppError::Internal(cause) => format!("{cause:#}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NUMBERS: UniqueIndex = UniqueIndex {
        name: "virtual_numbers_phone_number_key",
        columns: "virtual_numbers.phone_number",
    };

    #[test]
    fn unique_indexes_are_recognised_by_name_on_both_databases() {
        let postgres = "duplicate key value violates unique constraint \"virtual_numbers_phone_number_key\"";
        let sqlite = "UNIQUE constraint failed: virtual_numbers.phone_number";
        let sqlite_expression = "UNIQUE constraint failed: index 'virtual_numbers_phone_number_key'";

        assert!(NUMBERS.is_named_in(postgres));
        assert!(NUMBERS.is_named_in(sqlite));
        assert!(NUMBERS.is_named_in(sqlite_expression));
        assert!(!NUMBERS.is_named_in("UNIQUE constraint failed: virtual_numbers.phone_number, virtual_numbers.x"));
        assert!(!NUMBERS.is_named_in("duplicate key value violates unique constraint \"users_username_lower_key\""));
    }
}
