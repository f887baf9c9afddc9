//! Totals beside the rollups' fine columns: `t_calls`, `t_inbound`,
//! `t_outbound`, `t_completed`, `t_missed` and `t_duration`, each the sum of
//! the fine columns it stands for, as generated columns, so they are always in
//! step with them and nothing else writes them. An unfiltered `callStats` reads
//! 6 columns a row instead of adding up 110 (13.5 ms to about 3 for 90 days of
//! 96 buckets, BENCHMARKS.md). PostgreSQL stores them; SQLite, which can add only
//! virtual generated columns to a table, computes them as it reads.
//!
//! The column names are spelled here as the application spells them
//! (`entity::call_rollups`); this crate imports nothing from it.

use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, DbBackend},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

const DIRECTIONS: [&str; 2] = ["inbound", "outbound"];
const STATUSES: [&str; 5] = ["completed", "no_answer", "busy", "failed", "canceled"];
const KINDS: [&str; 4] = ["number", "withheld", "short_code", "unverifiable"];
/// The statuses of an inbound call that count as missed (`CallStatus::is_missed`).
const MISSED: [&str; 3] = ["no_answer", "busy", "canceled"];

/// `(column, expression)` for every total.
fn totals() -> Vec<(&'static str, String)> {
    let counts = |keep: &dyn Fn(&str, &str) -> bool| -> String {
        let mut columns = Vec::new();
        for direction in DIRECTIONS {
            for status in STATUSES {
                if keep(direction, status) {
                    for kind in KINDS {
                        columns.push(format!("n_{direction}_{status}_{kind}"));
                    }
                }
            }
        }
        columns.join(" + ")
    };
    let durations = DIRECTIONS
        .iter()
        .flat_map(|direction| KINDS.iter().map(move |kind| format!("d_{direction}_{kind}")))
        .collect::<Vec<_>>()
        .join(" + ");
    vec![
        ("t_calls", counts(&|_, _| true)),
        ("t_inbound", counts(&|direction, _| direction == "inbound")),
        ("t_outbound", counts(&|direction, _| direction == "outbound")),
        ("t_completed", counts(&|_, status| status == "completed")),
        (
            "t_missed",
            counts(&|direction, status| direction == "inbound" && MISSED.contains(&status)),
        ),
        ("t_duration", durations),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let (kind, storage) = match db.get_database_backend() {
            DbBackend::Postgres => ("BIGINT", "STORED"),
            _ => ("INTEGER", "VIRTUAL"),
        };
        for table in ["call_rollups", "call_number_rollups"] {
            for (column, expression) in totals() {
                db.execute_unprepared(&format!(
                    "ALTER TABLE {table} ADD COLUMN {column} {kind} GENERATED ALWAYS AS ({expression}) {storage}"
                ))
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for table in ["call_rollups", "call_number_rollups"] {
            for (column, _) in totals() {
                db.execute_unprepared(&format!("ALTER TABLE {table} DROP COLUMN {column}"))
                    .await?;
            }
        }
        Ok(())
    }
}
