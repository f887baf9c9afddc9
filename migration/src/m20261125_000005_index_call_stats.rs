//! A covering index for `callStats`: one user's calls in a time range, with the
//! columns the figures need, so statistics read the index and never the table.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX call_logs_owner_id_started_at_figures_idx \
                 ON call_logs (owner_id, started_at, direction, status, duration_seconds)",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX call_logs_owner_id_started_at_figures_idx")
            .await?;
        Ok(())
    }
}
