//! `virtual_numbers.friendly_name_folded`: the friendly name in Unicode lower
//! case, worked out by the application, so that case-insensitive search gives
//! the same answer on SQLite (whose `lower` knows only ASCII) and PostgreSQL.

use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, Statement},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum VirtualNumbers {
    Table,
    FriendlyNameFolded,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(VirtualNumbers::Table)
                    .add_column(ColumnDef::new(VirtualNumbers::FriendlyNameFolded).text().null())
                    .to_owned(),
            )
            .await?;
        // Fill it for existing rows the way the application will (Rust's `to_lowercase`).
        let db = manager.get_connection();
        let backend = db.get_database_backend();
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT DISTINCT friendly_name FROM virtual_numbers WHERE friendly_name IS NOT NULL",
            ))
            .await?;
        for row in rows {
            let name: String = row.try_get("", "friendly_name")?;
            db.execute_raw(Statement::from_sql_and_values(
                backend,
                match backend {
                    sea_orm::DbBackend::Postgres => {
                        "UPDATE virtual_numbers SET friendly_name_folded = $1 WHERE friendly_name = $2"
                    }
                    _ => "UPDATE virtual_numbers SET friendly_name_folded = ? WHERE friendly_name = ?",
                },
                [name.to_lowercase().into(), name.into()],
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(VirtualNumbers::Table)
                    .drop_column(VirtualNumbers::FriendlyNameFolded)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
