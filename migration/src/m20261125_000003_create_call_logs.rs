//! `call_logs`: one row per call a virtual number made or received.
//!
//! `owner_id` (the number's owner when the call was logged) and
//! `counterpart_number` (the other party) are copied onto each row so that a
//! user's history, and its filters, are single index range scans.

use sea_orm_migration::prelude::*;

use crate::{m20261125_000001_create_users::Users, m20261125_000002_create_virtual_numbers::VirtualNumbers};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CallLogs {
    Table,
    Id,
    VirtualNumberId,
    OwnerId,
    Direction,
    Status,
    CallerNumber,
    CalledNumber,
    CounterpartNumber,
    StartedAt,
    DurationSeconds,
    ExternalId,
    CreatedAt,
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
                    .table(CallLogs::Table)
                    .col(ColumnDef::new(CallLogs::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(CallLogs::VirtualNumberId).uuid().not_null())
                    .col(ColumnDef::new(CallLogs::OwnerId).uuid().not_null())
                    .col(ColumnDef::new(CallLogs::Direction).string_len(16).not_null())
                    .col(ColumnDef::new(CallLogs::Status).string_len(16).not_null())
                    .col(ColumnDef::new(CallLogs::CallerNumber).string_len(16).not_null())
                    .col(ColumnDef::new(CallLogs::CalledNumber).string_len(16).not_null())
                    .col(ColumnDef::new(CallLogs::CounterpartNumber).string_len(16).not_null())
                    .col(
                        ColumnDef::new(CallLogs::StartedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(CallLogs::DurationSeconds).integer().not_null())
                    .col(ColumnDef::new(CallLogs::ExternalId).string_len(128).null())
                    .col(
                        ColumnDef::new(CallLogs::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("call_logs_virtual_number_id_fkey")
                            .from(CallLogs::Table, CallLogs::VirtualNumberId)
                            .to(VirtualNumbers::Table, VirtualNumbers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("call_logs_owner_id_fkey")
                            .from(CallLogs::Table, CallLogs::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        // Idempotent ingestion: one log per (number, external id); NULLs never collide.
        db.execute_unprepared(
            "CREATE UNIQUE INDEX call_logs_virtual_number_id_external_id_key \
             ON call_logs (virtual_number_id, external_id)",
        )
        .await?;
        // Every list is newest first by (started_at, id), paged by keyset; each
        // index below serves one way of narrowing it, and `callStats` ranges.
        for (name, columns) in [
            ("call_logs_owner_id_started_at_id_idx", "owner_id, started_at, id"),
            (
                "call_logs_virtual_number_id_started_at_id_idx",
                "virtual_number_id, started_at, id",
            ),
            (
                "call_logs_owner_id_counterpart_started_at_id_idx",
                "owner_id, counterpart_number, started_at, id",
            ),
            (
                "call_logs_owner_id_direction_started_at_id_idx",
                "owner_id, direction, started_at, id",
            ),
            (
                "call_logs_owner_id_status_started_at_id_idx",
                "owner_id, status, started_at, id",
            ),
            ("call_logs_started_at_id_idx", "started_at, id"),
        ] {
            db.execute_unprepared(&format!("CREATE INDEX {name} ON call_logs ({columns})"))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CallLogs::Table).to_owned())
            .await
    }
}
