//! sea-orm entities, one file per table. Entities are storage shapes only:
//! GraphQL types are built from them with `From`, never derived on them.

pub mod api_keys;
#[macro_use]
pub mod by_position;
pub mod audit_events;
pub mod call_log_exports;
pub mod call_logs;
pub mod call_rollups;
pub mod porting_events;
pub mod porting_order_numbers;
pub mod porting_orders;
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

/// Takes PostgreSQL's transaction-scoped advisory lock on each number, in one
/// order (so two transactions never wait on each other in a circle). Every
/// path that creates, reserves or ports a number takes it first.
pub async fn lock_numbers(db: &impl sea_orm::ConnectionTrait, numbers: &[String]) -> Result<(), sea_orm::DbErr> {
    use sea_orm::{DbBackend, Statement};
    if db.get_database_backend() != DbBackend::Postgres || numbers.is_empty() {
        return Ok(());
    }
    let mut sorted: Vec<&String> = numbers.iter().collect();
    sorted.sort();
    sorted.dedup();
    for number in sorted {
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            // The first key namespaces the locks: 0x5342 is "SB".
            "SELECT pg_advisory_xact_lock(21314, hashtext($1))",
            [number.as_str().into()],
        ))
        .await?;
    }
    Ok(())
}
