//! `rate_limits`: attempts per key per time window (sign-ins, sign-ups), kept
//! in the database so every instance sharing it counts the same attempts.
//! Keys are SHA-256 hashes: no address or username is stored in clear.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RateLimits {
    Table,
    Key,
    WindowStart,
    Hits,
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
                    .table(RateLimits::Table)
                    .col(ColumnDef::new(RateLimits::Key).text().not_null())
                    .col(ColumnDef::new(RateLimits::WindowStart).big_integer().not_null())
                    .col(ColumnDef::new(RateLimits::Hits).integer().not_null())
                    .primary_key(Index::create().col(RateLimits::Key).col(RateLimits::WindowStart))
                    .to_owned(),
            )
            .await?;
        // Pruning deletes old windows by start.
        manager
            .create_index(
                Index::create()
                    .name("rate_limits_window_start_idx")
                    .table(RateLimits::Table)
                    .col(RateLimits::WindowStart)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RateLimits::Table).to_owned())
            .await
    }
}
