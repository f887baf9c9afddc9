//! The rollups behind `callStats`: `call_rollups` (per owner and quarter hour,
//! UTC) and `call_number_rollups` (per virtual number and quarter hour), each
//! row holding the calls of every direction × status × counterpart kind and
//! the talk time of every direction × counterpart kind side by side. Filled
//! here from the calls already recorded; kept in step by the application in
//! the transaction that records each call.
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

/// `(column, condition, what it sums)` for every figure column.
fn columns() -> Vec<(String, String, &'static str)> {
    let mut columns = Vec::new();
    for direction in DIRECTIONS {
        for status in STATUSES {
            for kind in KINDS {
                columns.push((
                    format!("n_{direction}_{status}_{kind}"),
                    format!("direction = '{direction}' AND status = '{status}' AND counterpart_kind = '{kind}'"),
                    "1",
                ));
            }
        }
        for kind in KINDS {
            columns.push((
                format!("d_{direction}_{kind}"),
                format!("direction = '{direction}' AND counterpart_kind = '{kind}'"),
                "duration_seconds",
            ));
        }
    }
    columns
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, key) in [
            ("call_rollups", "owner_id"),
            ("call_number_rollups", "virtual_number_id"),
        ] {
            let mut create = Table::create();
            create
                .table(Alias::new(table))
                .col(ColumnDef::new(Alias::new(key)).uuid().not_null())
                .col(ColumnDef::new(Alias::new("bucket_start")).big_integer().not_null());
            if key != "owner_id" {
                create.col(ColumnDef::new(Alias::new("owner_id")).uuid().not_null());
            }
            for (column, _, _) in columns() {
                create.col(ColumnDef::new(Alias::new(column)).big_integer().not_null().default(0));
            }
            create
                .primary_key(Index::create().col(Alias::new(key)).col(Alias::new("bucket_start")))
                .foreign_key(
                    ForeignKey::create()
                        .name(format!("{table}_owner_id_fkey"))
                        .from(Alias::new(table), Alias::new("owner_id"))
                        .to(Alias::new("users"), Alias::new("id"))
                        .on_delete(ForeignKeyAction::Cascade),
                );
            if key != "owner_id" {
                create.foreign_key(
                    ForeignKey::create()
                        .name(format!("{table}_virtual_number_id_fkey"))
                        .from(Alias::new(table), Alias::new(key))
                        .to(Alias::new("virtual_numbers"), Alias::new("id"))
                        .on_delete(ForeignKeyAction::Cascade),
                );
            }
            manager.create_table(create.to_owned()).await?;
        }
        let db = manager.get_connection();
        for statement in fill(db.get_database_backend()) {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["call_number_rollups", "call_rollups"] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// Sums the recorded calls into the empty tables (the statements of
/// `switchboard rollups rebuild`).
fn fill(backend: DbBackend) -> Vec<String> {
    let bucket = match backend {
        DbBackend::Postgres => "(FLOOR(EXTRACT(EPOCH FROM started_at) / 900) * 900)::BIGINT",
        _ => "(CAST(strftime('%s', started_at) AS INTEGER) / 900) * 900",
    };
    let names: Vec<String> = columns().into_iter().map(|(name, _, _)| name).collect();
    let sums: Vec<String> = columns()
        .into_iter()
        .map(|(_, condition, value)| format!("SUM(CASE WHEN {condition} THEN {value} ELSE 0 END)"))
        .collect();
    vec![
        format!(
            "INSERT INTO call_rollups (owner_id, bucket_start, {}) SELECT owner_id, {bucket}, {} \
             FROM call_logs GROUP BY owner_id, {bucket}",
            names.join(", "),
            sums.join(", ")
        ),
        format!(
            "INSERT INTO call_number_rollups (virtual_number_id, bucket_start, owner_id, {}) \
             SELECT virtual_number_id, {bucket}, owner_id, {} \
             FROM call_logs GROUP BY virtual_number_id, owner_id, {bucket}",
            names.join(", "),
            sums.join(", ")
        ),
    ]
}
