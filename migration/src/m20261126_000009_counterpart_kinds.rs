//! `call_logs.counterpart_kind`: what the other party of a call was (a valid
//! number, a withheld caller id, a short code, unverifiable digits), and
//! `counterpart_extension`, the extension a valid counterpart came with.
//!
//! The number columns keep their width and stay NOT NULL (SQLite cannot change
//! that without rebuilding the table): a withheld counterpart is stored as `''`,
//! a short code or unverifiable number as its digits. Existing rows are numbers.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CallLogs {
    Table,
    CounterpartKind,
    CounterpartExtension,
}

/// Serves `CallLogFilter.counterpartKind`, newest first, like the other filters' indexes.
const KIND_INDEX: &str = "call_logs_owner_id_counterpart_kind_started_at_id_idx";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(CallLogs::Table)
                    .add_column(
                        ColumnDef::new(CallLogs::CounterpartKind)
                            .text()
                            .not_null()
                            .default("number"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(CallLogs::Table)
                    .add_column(ColumnDef::new(CallLogs::CounterpartExtension).string_len(20).null())
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "CREATE INDEX {KIND_INDEX} ON call_logs (owner_id, counterpart_kind, started_at, id)"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(&format!("DROP INDEX {KIND_INDEX}"))
            .await?;
        for column in [CallLogs::CounterpartExtension, CallLogs::CounterpartKind] {
            manager
                .alter_table(Table::alter().table(CallLogs::Table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
