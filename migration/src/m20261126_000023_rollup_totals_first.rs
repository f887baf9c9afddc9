//! The rollup tables rebuilt with their totals (`t_calls` … `t_duration`)
//! stored, on SQLite too, and placed right after the keys. Migration 000021
//! could only add them to SQLite as virtual columns, computed from 48 fine
//! columns as each row is read, and both databases found them after every
//! fine column of the row. An unfiltered `callStats` reads only the totals: on
//! SQLite, 90 days by DAY of one owner (8,640 rows) summed in 24 ms with
//! virtual totals, 8 ms with stored ones at the end of the row and 3.2 ms with
//! stored ones first (BENCHMARKS.md, session 6).
//!
//! The rows are copied into a new table, which then takes the old one's name,
//! keys and foreign keys. The column names are spelled here as the application
//! spells them (`entity::call_rollups`); this crate imports nothing from it.

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

/// `(table, key)` of both rollup tables.
const TABLES: [(&str, &str); 2] = [
    ("call_rollups", "owner_id"),
    ("call_number_rollups", "virtual_number_id"),
];

/// The fine columns, in the order migration 000020 created them.
pub(crate) fn fine_columns() -> Vec<String> {
    let mut columns = Vec::new();
    for direction in DIRECTIONS {
        for status in STATUSES {
            for kind in KINDS {
                columns.push(format!("n_{direction}_{status}_{kind}"));
            }
        }
        for kind in KINDS {
            columns.push(format!("d_{direction}_{kind}"));
        }
    }
    columns
}

/// `(column, expression)` for every total, as migration 000021 defined them.
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

/// Where the totals go and how they are kept.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Layout {
    /// Stored, right after the keys (this migration).
    TotalsFirst,
    /// After the fine columns, stored on PostgreSQL and virtual on SQLite (000021).
    TotalsLast,
}

/// The statement creating a rollup table named `created` in `layout`, keyed by
/// `key` and `bucket_start`, with the foreign keys of the table `table`.
pub(crate) fn create_statement(
    backend: DbBackend,
    table: &str,
    created: &str,
    key: &str,
    layout: Layout,
) -> TableCreateStatement {
    let mut create = Table::create();
    create
        .table(Alias::new(created))
        .col(ColumnDef::new(Alias::new(key)).uuid().not_null())
        .col(ColumnDef::new(Alias::new("bucket_start")).big_integer().not_null());
    if key != "owner_id" {
        create.col(ColumnDef::new(Alias::new("owner_id")).uuid().not_null());
    }
    let stored = layout == Layout::TotalsFirst || backend == DbBackend::Postgres;
    let total_columns: Vec<ColumnDef> = totals()
        .into_iter()
        .map(|(column, expression)| {
            ColumnDef::new(Alias::new(column))
                .big_integer()
                .generated(Expr::cust(expression), stored)
                .to_owned()
        })
        .collect();
    if layout == Layout::TotalsFirst {
        for column in &total_columns {
            create.col(column.clone());
        }
    }
    for column in fine_columns() {
        create.col(ColumnDef::new(Alias::new(column)).big_integer().not_null().default(0));
    }
    if layout == Layout::TotalsLast {
        for column in &total_columns {
            create.col(column.clone());
        }
    }
    create
        .primary_key(Index::create().col(Alias::new(key)).col(Alias::new("bucket_start")))
        .foreign_key(
            ForeignKey::create()
                .name(format!("{table}_owner_id_fkey"))
                .from(Alias::new(created), Alias::new("owner_id"))
                .to(Alias::new("users"), Alias::new("id"))
                .on_delete(ForeignKeyAction::Cascade),
        );
    if key != "owner_id" {
        create.foreign_key(
            ForeignKey::create()
                .name(format!("{table}_virtual_number_id_fkey"))
                .from(Alias::new(created), Alias::new(key))
                .to(Alias::new("virtual_numbers"), Alias::new("id"))
                .on_delete(ForeignKeyAction::Cascade),
        );
    }
    create.to_owned()
}

/// Rebuilds `table` in `layout`, keeping its rows, keys and foreign keys.
async fn rebuild(manager: &SchemaManager<'_>, table: &str, key: &str, layout: Layout) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let backend = db.get_database_backend();
    let new = format!("{table}_rebuilt");
    manager
        .create_table(create_statement(backend, table, &new, key, layout))
        .await?;

    let mut copied = vec![key.to_owned(), "bucket_start".to_owned()];
    if key != "owner_id" {
        copied.push("owner_id".to_owned());
    }
    copied.extend(fine_columns());
    let copied = copied.join(", ");
    if backend == DbBackend::Postgres {
        // An instance still serving (a rolling deploy) waits to write the rows
        // until the copy has replaced the table, then fails loudly, rather than
        // adding to rows the copy has already read. SQLite's write lock, held
        // since the CREATE above, does the same.
        db.execute_unprepared(&format!("LOCK TABLE {table} IN EXCLUSIVE MODE"))
            .await?;
    }
    db.execute_unprepared(&format!("INSERT INTO {new} ({copied}) SELECT {copied} FROM {table}"))
        .await?;
    db.execute_unprepared(&format!("DROP TABLE {table}")).await?;
    db.execute_unprepared(&format!("ALTER TABLE {new} RENAME TO {table}"))
        .await?;
    if backend == DbBackend::Postgres {
        // The primary key was named after the new table.
        db.execute_unprepared(&format!(
            "ALTER TABLE {table} RENAME CONSTRAINT {new}_pkey TO {table}_pkey"
        ))
        .await?;
        db.execute_unprepared(&format!("ANALYZE {table}")).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, key) in TABLES {
            rebuild(manager, table, key, Layout::TotalsFirst).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, key) in TABLES {
            rebuild(manager, table, key, Layout::TotalsLast).await?;
        }
        Ok(())
    }
}
