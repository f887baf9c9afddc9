//! sea-orm entities, one file per table. Entities are storage shapes only:
//! GraphQL types are built from them with `From`, never derived on them.

pub mod api_keys;
pub mod audit_events;
pub mod call_log_exports;
pub mod call_logs;
pub mod refresh_tokens;
pub mod sequences;
pub mod sessions;
pub mod users;
pub mod virtual_numbers;

/// The current time as both databases store it (see [`stored_precision`]).
pub fn now() -> chrono::DateTime<chrono::Utc> {
    stored_precision(chrono::Utc::now())
}

/// A time cut to microseconds: PostgreSQL keeps no more, so SQLite gets the
/// same and values (and cursors) compare alike on both.
pub fn stored_precision(time: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    use chrono::{DurationRound, TimeDelta};
    time.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(time)
}
