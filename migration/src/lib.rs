//! Switchboard's database migrations: one change per file, applied in order.
//! This crate imports nothing from the application, so old migrations never
//! change when the application's types do.

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_create_users;
mod m20261125_000002_create_virtual_numbers;
mod m20261125_000003_create_call_logs;
mod m20261125_000004_create_refresh_tokens;
mod m20261125_000005_index_call_stats;
mod m20261126_000006_fold_friendly_names;
mod m20261126_000007_create_rate_limits;
mod m20261126_000008_create_sessions;
mod m20261126_000009_counterpart_kinds;
mod m20261126_000010_sequence_call_logs;
mod m20261126_000011_create_api_keys;
mod m20261126_000012_create_audit_events;
mod m20261126_000013_create_porting;
mod m20261126_000014_create_call_log_exports;
mod m20261126_000020_create_call_rollups;
mod m20261126_000021_rollup_totals;
mod m20261126_000022_call_number_totals;
mod m20261126_000023_rollup_totals_first;
mod m20261127_000024_hour_rollups;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_create_users::Migration),
            Box::new(m20261125_000002_create_virtual_numbers::Migration),
            Box::new(m20261125_000003_create_call_logs::Migration),
            Box::new(m20261125_000004_create_refresh_tokens::Migration),
            Box::new(m20261125_000005_index_call_stats::Migration),
            Box::new(m20261126_000006_fold_friendly_names::Migration),
            Box::new(m20261126_000007_create_rate_limits::Migration),
            Box::new(m20261126_000008_create_sessions::Migration),
            Box::new(m20261126_000009_counterpart_kinds::Migration),
            Box::new(m20261126_000010_sequence_call_logs::Migration),
            Box::new(m20261126_000011_create_api_keys::Migration),
            Box::new(m20261126_000012_create_audit_events::Migration),
            Box::new(m20261126_000013_create_porting::Migration),
            Box::new(m20261126_000014_create_call_log_exports::Migration),
            Box::new(m20261126_000020_create_call_rollups::Migration),
            Box::new(m20261126_000021_rollup_totals::Migration),
            Box::new(m20261126_000022_call_number_totals::Migration),
            Box::new(m20261126_000023_rollup_totals_first::Migration),
            Box::new(m20261127_000024_hour_rollups::Migration),
        ]
    }
}
