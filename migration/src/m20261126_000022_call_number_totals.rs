//! Every number's calls counted for all time, `call_number_totals`
//! (`virtual_number_id`, `owner_id`, `calls`), kept by the application in the
//! transaction that records each call, beside the quarter-hour rollups. A
//! `totalCount` with no filter and no range, the common case of a page of
//! numbers with their call counts, reads one row per number instead of
//! summing every quarter hour of its history (10 numbers holding 910,000
//! calls: 86,000 rollup rows, 54 ms).
//!
//! The names are spelled here as the application spells them
//! (`entity::call_rollups`); this crate imports nothing from it.

use sea_orm_migration::{prelude::*, sea_orm::ConnectionTrait};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "call_number_totals";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new(TABLE))
                    .col(
                        ColumnDef::new(Alias::new("virtual_number_id"))
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Alias::new("owner_id")).uuid().not_null())
                    .col(ColumnDef::new(Alias::new("calls")).big_integer().not_null().default(0))
                    .foreign_key(
                        ForeignKey::create()
                            .name(format!("{TABLE}_virtual_number_id_fkey"))
                            .from(Alias::new(TABLE), Alias::new("virtual_number_id"))
                            .to(Alias::new("virtual_numbers"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name(format!("{TABLE}_owner_id_fkey"))
                            .from(Alias::new(TABLE), Alias::new("owner_id"))
                            .to(Alias::new("users"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(format!("{TABLE}_owner_id_idx"))
                    .table(Alias::new(TABLE))
                    .col(Alias::new("owner_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "INSERT INTO {TABLE} (virtual_number_id, owner_id, calls) \
                 SELECT virtual_number_id, owner_id, COUNT(*) FROM call_logs GROUP BY virtual_number_id, owner_id"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Alias::new(TABLE)).to_owned())
            .await
    }
}
