//! `call_log_exports`: single-use links to a CSV export of call logs, for
//! browsers that cannot send an `Authorization` header. Only the SHA-256 of a
//! link's token is kept (unique: a lookup is one index probe), with the user
//! and filter it was made for, its expiry and when it was used.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CallLogExports {
    Table,
    Id,
    UserId,
    TokenHash,
    AsStaff,
    Filter,
    TimeZone,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
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
                    .table(CallLogExports::Table)
                    .col(ColumnDef::new(CallLogExports::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(CallLogExports::UserId).uuid().not_null())
                    .col(ColumnDef::new(CallLogExports::TokenHash).string_len(64).not_null())
                    .col(ColumnDef::new(CallLogExports::AsStaff).boolean().not_null())
                    .col(ColumnDef::new(CallLogExports::Filter).text().not_null())
                    .col(ColumnDef::new(CallLogExports::TimeZone).string_len(64).not_null())
                    .col(
                        ColumnDef::new(CallLogExports::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CallLogExports::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(CallLogExports::UsedAt).timestamp_with_time_zone().null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("call_log_exports_user_id_fkey")
                            .from(CallLogExports::Table, CallLogExports::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("call_log_exports_token_hash_key")
                    .table(CallLogExports::Table)
                    .col(CallLogExports::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Expired links are swept by expiry.
        manager
            .create_index(
                Index::create()
                    .name("call_log_exports_expires_at_idx")
                    .table(CallLogExports::Table)
                    .col(CallLogExports::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CallLogExports::Table).to_owned())
            .await
    }
}
