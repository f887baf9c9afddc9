//! `AppError`, the one error type that crosses into GraphQL, and its single
//! conversion into `async_graphql::Error` with a stable `extensions.code`.
//!
//! `AppError` deliberately has no `Display`: async-graphql turns any `Display`
//! error into a GraphQL error *without* a code, so a stray `?` on a foreign
//! error cannot compile into a code-less, possibly leaky response.

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
    BadInput { field: &'static str, message: String },
    /// A uniqueness rule would be broken; `field` names the input field.
    Conflict { field: &'static str, message: String },
    /// Too many requests; retry after this many seconds.
    RateLimited { retry_after_secs: u64 },
    /// Anything else. Logged once with its context; the client sees only "internal error".
    Internal(anyhow::Error),
}

impl AppError {
    pub fn bad_input(field: &'static str, message: impl Into<String>) -> Self {
        AppError::BadInput {
            field,
            message: message.into(),
        }
    }

    pub fn conflict(field: &'static str, message: impl Into<String>) -> Self {
        AppError::Conflict {
            field,
            message: message.into(),
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
        let (message, field, retry_after) = match error {
            AppError::Unauthenticated(message) | AppError::Forbidden(message) | AppError::NotFound(message) => {
                (message.to_owned(), None, None)
            }
            AppError::BadInput { field, message } | AppError::Conflict { field, message } => {
                (message, Some(field), None)
            }
            AppError::RateLimited { retry_after_secs } => (
                format!("too many requests; retry in {retry_after_secs} seconds"),
                None,
                Some(retry_after_secs),
            ),
            AppError::Internal(cause) => {
                // The one place internal detail goes: the log, with the request's span.
                tracing::error!(error = ?cause, "internal error");
                ("internal error".to_owned(), None, None)
            }
        };
        async_graphql::Error::new(message).extend_with(|_, extensions| {
            extensions.set("code", code);
            if let Some(field) = field {
                extensions.set("field", field);
            }
            if let Some(seconds) = retry_after {
                extensions.set("retryAfter", seconds);
            }
        })
    }
}

/// Names the one database failure a caller can act on, where it happens:
/// a broken uniqueness rule becomes `CONFLICT` on `field`; anything else is internal.
pub trait OnConflict<T> {
    fn on_conflict(self, field: &'static str, message: &str) -> Result<T, AppError>;
}

impl<T> OnConflict<T> for Result<T, DbErr> {
    fn on_conflict(self, field: &'static str, message: &str) -> Result<T, AppError> {
        self.map_err(|error| match error.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => AppError::conflict(field, message),
            _ => AppError::from(error),
        })
    }
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
        AppError::BadInput { field, message } | AppError::Conflict { field, message } => format!("{field}: {message}"),
        AppError::RateLimited { retry_after_secs } => format!("rate limited; retry in {retry_after_secs}s"),
        AppError::Internal(cause) => format!("{cause:#}"),
    }
}
