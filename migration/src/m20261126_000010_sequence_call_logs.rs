//! `call_logs.seq`: the order calls were recorded in, for `callLogged` to
//! replay from a cursor and hand over to live events with no gap and no
//! duplicate.
//!
//! The number comes from one row of `sequences`, bumped inside the recording
//! transaction: the row lock makes PostgreSQL commit calls in `seq` order, so a
//! reader that has seen `seq = n` has seen every call below it (SQLite has one
//! writer at a time anyway). Existing calls are numbered by `created_at, id`.

use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, DbBackend},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Sequences {
    Table,
    Name,
    Value,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Sequences::Table)
                    .col(ColumnDef::new(Sequences::Name).string_len(64).not_null().primary_key())
                    .col(ColumnDef::new(Sequences::Value).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared("ALTER TABLE call_logs ADD COLUMN seq BIGINT")
            .await?;
        db.execute_unprepared(
            "UPDATE call_logs SET seq = numbered.n \
             FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY created_at, id) AS n FROM call_logs) AS numbered \
             WHERE call_logs.id = numbered.id",
        )
        .await?;
        if db.get_database_backend() == DbBackend::Postgres {
            // SQLite cannot add NOT NULL to a column in place; the application always sets it.
            db.execute_unprepared("ALTER TABLE call_logs ALTER COLUMN seq SET NOT NULL")
                .await?;
        }
        db.execute_unprepared("CREATE UNIQUE INDEX call_logs_seq_key ON call_logs (seq)")
            .await?;
        // Replaying one user's calls from a cursor is a range scan of this index.
        db.execute_unprepared("CREATE INDEX call_logs_owner_id_seq_idx ON call_logs (owner_id, seq)")
            .await?;
        db.execute_unprepared(
            "INSERT INTO sequences (name, value) SELECT 'call_logs', COALESCE(MAX(seq), 0) FROM call_logs",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX call_logs_owner_id_seq_idx").await?;
        db.execute_unprepared("DROP INDEX call_logs_seq_key").await?;
        db.execute_unprepared("ALTER TABLE call_logs DROP COLUMN seq").await?;
        manager
            .drop_table(Table::drop().table(Sequences::Table).to_owned())
            .await
    }
}
