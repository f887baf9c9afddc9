//! sea-orm entities, one file per table. Entities are storage shapes only:
//! GraphQL types are built from them with `From`, never derived on them.

pub mod call_logs;
pub mod refresh_tokens;
pub mod users;
pub mod virtual_numbers;

/// The current time as both databases store it: PostgreSQL keeps microseconds,
/// so SQLite gets the same precision and values compare alike on both.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::{DurationRound, TimeDelta, Utc};
    let now = Utc::now();
    now.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(now)
}
