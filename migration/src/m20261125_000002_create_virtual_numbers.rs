//! `virtual_numbers`: E.164 numbers owned by users. A number is unique among
//! unreleased numbers, so a released one can be taken again.

use sea_orm_migration::prelude::*;

use crate::m20261125_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum VirtualNumbers {
    Table,
    Id,
    OwnerId,
    PhoneNumber,
    FriendlyName,
    CountryCode,
    IsActive,
    ReleasedAt,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    // SQLite too: a failed migration leaves no half-made schema behind.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(VirtualNumbers::Table)
                    .col(ColumnDef::new(VirtualNumbers::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(VirtualNumbers::OwnerId).uuid().not_null())
                    .col(ColumnDef::new(VirtualNumbers::PhoneNumber).string_len(16).not_null())
                    .col(ColumnDef::new(VirtualNumbers::FriendlyName).string_len(64).null())
                    .col(ColumnDef::new(VirtualNumbers::CountryCode).string_len(2).null())
                    .col(
                        ColumnDef::new(VirtualNumbers::IsActive)
                            .boolean()
                            .not_null()
                            .default(true),
                    )
                    .col(
                        ColumnDef::new(VirtualNumbers::ReleasedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(VirtualNumbers::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(VirtualNumbers::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("virtual_numbers_owner_id_fkey")
                            .from(VirtualNumbers::Table, VirtualNumbers::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        // One holder at a time: unique among numbers that are not released.
        db.execute_unprepared(
            "CREATE UNIQUE INDEX virtual_numbers_phone_number_key \
             ON virtual_numbers (phone_number) WHERE released_at IS NULL",
        )
        .await?;
        // Serves "my numbers, oldest first" (ids are UUIDv7, so id order is creation order).
        db.execute_unprepared("CREATE INDEX virtual_numbers_owner_id_id_idx ON virtual_numbers (owner_id, id)")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(VirtualNumbers::Table).to_owned())
            .await
    }
}
