//! Hourly rollups beside the quarter hours: `call_hour_rollups` (per owner)
//! and `call_number_hour_rollups` (per virtual number), the same columns as
//! `call_rollups` and `call_number_rollups` (totals stored first, migration
//! 000023) summed over each UTC hour. A local day in a whole-hour zone is 24
//! of their rows instead of 96; in a zone 30 or 45 minutes off the hour it is
//! 23 hours and the quarter hours at either end. Filled here from the quarter
//! hours; kept in step by the application in the transaction that records
//! each call.
//!
//! The names are spelled here as the application spells them
//! (`entity::call_rollups`); this crate imports nothing from it.

use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, DbBackend},
};

use crate::m20261126_000023_rollup_totals_first::{Layout, create_statement, fine_columns};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `(hourly table, key, the quarter-hour table it sums)`.
const TABLES: [(&str, &str, &str); 2] = [
    ("call_hour_rollups", "owner_id", "call_rollups"),
    ("call_number_hour_rollups", "virtual_number_id", "call_number_rollups"),
];

/// The start of the UTC hour of a quarter hour's `bucket_start` (Unix
/// seconds), rounded down on both databases whatever its sign.
const HOUR_OF_BUCKET: &str = "(bucket_start - ((bucket_start % 3600) + 3600) % 3600)";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = db.get_database_backend();
        if backend == DbBackend::Postgres {
            // An instance still serving (a rolling deploy) waits to record calls
            // until the hours are filled, rather than adding to quarter hours
            // the copy has already read. SQLite's write lock does the same. An
            // instance of an older build keeps adding to the quarter hours
            // only: `switchboard rollups rebuild` once every instance runs
            // this build sets the hours right.
            db.execute_unprepared("LOCK TABLE call_rollups, call_number_rollups IN SHARE MODE")
                .await?;
        }
        for (table, key, quarters) in TABLES {
            manager
                .create_table(create_statement(backend, table, table, key, Layout::TotalsFirst))
                .await?;
            let mut keys = vec![key];
            if key != "owner_id" {
                keys.push("owner_id");
            }
            let keys = keys.join(", ");
            let fine = fine_columns();
            let sums = fine.iter().map(|column| format!("SUM({column})")).collect::<Vec<_>>();
            db.execute_unprepared(&format!(
                "INSERT INTO {table} ({keys}, bucket_start, {}) \
                 SELECT {keys}, {HOUR_OF_BUCKET}, {} FROM {quarters} GROUP BY {keys}, {HOUR_OF_BUCKET}",
                fine.join(", "),
                sums.join(", "),
            ))
            .await?;
            if backend == DbBackend::Postgres {
                db.execute_unprepared(&format!("ANALYZE {table}")).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, _, _) in TABLES {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
