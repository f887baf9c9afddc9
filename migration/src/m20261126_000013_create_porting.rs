//! Number porting: `porting_orders` (a port-in order and what the losing
//! carrier demands), `porting_order_numbers` (its numbers; `reserved` while the
//! order waits for them, unique among reserved rows so no two live orders hold
//! one number), `porting_events` (status changes and comments, numbered by the
//! `porting_events` sequence for `portingOrderUpdated` to resume from), and
//! `virtual_numbers.porting_order_id` (the order a number arrived by).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PortingOrders {
    Table,
    Id,
    OwnerId,
    Status,
    CountryCode,
    NumberType,
    AccountHolderName,
    AccountNumber,
    AccountPin,
    ServiceStreet,
    ServiceLocality,
    ServiceRegion,
    ServicePostalCode,
    AuthorizedPersonName,
    RequestedFocDate,
    ConfirmedFocDate,
    ExceptionReason,
    CreatedAt,
    UpdatedAt,
    SubmittedAt,
    CompletedAt,
}

#[derive(DeriveIden)]
enum PortingOrderNumbers {
    Table,
    OrderId,
    PhoneNumber,
    Position,
    Reserved,
    VirtualNumberId,
}

#[derive(DeriveIden)]
enum PortingEvents {
    Table,
    Id,
    Seq,
    OrderId,
    OwnerId,
    Kind,
    FromStatus,
    ToStatus,
    ActorId,
    ActorRole,
    Comment,
    CreatedAt,
}

#[derive(DeriveIden)]
enum VirtualNumbers {
    Table,
    PortingOrderId,
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
        let text = |column: PortingOrders, length: u32| ColumnDef::new(column).string_len(length).null().to_owned();
        manager
            .create_table(
                Table::create()
                    .table(PortingOrders::Table)
                    .col(ColumnDef::new(PortingOrders::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(PortingOrders::OwnerId).uuid().not_null())
                    .col(ColumnDef::new(PortingOrders::Status).string_len(32).not_null())
                    .col(ColumnDef::new(PortingOrders::CountryCode).string_len(2).not_null())
                    .col(ColumnDef::new(PortingOrders::NumberType).string_len(32).not_null())
                    .col(text(PortingOrders::AccountHolderName, 200))
                    .col(text(PortingOrders::AccountNumber, 200))
                    .col(text(PortingOrders::AccountPin, 200))
                    .col(text(PortingOrders::ServiceStreet, 200))
                    .col(text(PortingOrders::ServiceLocality, 200))
                    .col(text(PortingOrders::ServiceRegion, 200))
                    .col(text(PortingOrders::ServicePostalCode, 200))
                    .col(text(PortingOrders::AuthorizedPersonName, 200))
                    .col(ColumnDef::new(PortingOrders::RequestedFocDate).date().null())
                    .col(ColumnDef::new(PortingOrders::ConfirmedFocDate).date().null())
                    .col(ColumnDef::new(PortingOrders::ExceptionReason).string_len(1000).null())
                    .col(
                        ColumnDef::new(PortingOrders::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PortingOrders::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PortingOrders::SubmittedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(PortingOrders::CompletedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("porting_orders_owner_id_fkey")
                            .from(PortingOrders::Table, PortingOrders::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // A user's orders are listed by id (UUIDv7: creation order).
        manager
            .create_index(
                Index::create()
                    .name("porting_orders_owner_id_id_idx")
                    .table(PortingOrders::Table)
                    .col(PortingOrders::OwnerId)
                    .col(PortingOrders::Id)
                    .to_owned(),
            )
            .await?;
        // Activation finds the orders whose confirmed date has come.
        manager
            .create_index(
                Index::create()
                    .name("porting_orders_status_foc_idx")
                    .table(PortingOrders::Table)
                    .col(PortingOrders::Status)
                    .col(PortingOrders::ConfirmedFocDate)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PortingOrderNumbers::Table)
                    .col(ColumnDef::new(PortingOrderNumbers::OrderId).uuid().not_null())
                    .col(
                        ColumnDef::new(PortingOrderNumbers::PhoneNumber)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(PortingOrderNumbers::Position).integer().not_null())
                    .col(ColumnDef::new(PortingOrderNumbers::Reserved).boolean().not_null())
                    .col(ColumnDef::new(PortingOrderNumbers::VirtualNumberId).uuid().null())
                    .primary_key(
                        Index::create()
                            .col(PortingOrderNumbers::OrderId)
                            .col(PortingOrderNumbers::PhoneNumber),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("porting_order_numbers_order_id_fkey")
                            .from(PortingOrderNumbers::Table, PortingOrderNumbers::OrderId)
                            .to(PortingOrders::Table, PortingOrders::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        // One live order per number: the database decides a race between two submissions.
        db.execute_unprepared(
            "CREATE UNIQUE INDEX porting_order_numbers_reserved_key \
             ON porting_order_numbers (phone_number) WHERE reserved",
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name("porting_order_numbers_phone_number_idx")
                    .table(PortingOrderNumbers::Table)
                    .col(PortingOrderNumbers::PhoneNumber)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PortingEvents::Table)
                    .col(ColumnDef::new(PortingEvents::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(PortingEvents::Seq).big_integer().not_null())
                    .col(ColumnDef::new(PortingEvents::OrderId).uuid().not_null())
                    .col(ColumnDef::new(PortingEvents::OwnerId).uuid().not_null())
                    .col(ColumnDef::new(PortingEvents::Kind).string_len(32).not_null())
                    .col(ColumnDef::new(PortingEvents::FromStatus).string_len(32).null())
                    .col(ColumnDef::new(PortingEvents::ToStatus).string_len(32).null())
                    .col(ColumnDef::new(PortingEvents::ActorId).uuid().null())
                    .col(ColumnDef::new(PortingEvents::ActorRole).string_len(16).not_null())
                    .col(ColumnDef::new(PortingEvents::Comment).string_len(2000).null())
                    .col(
                        ColumnDef::new(PortingEvents::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("porting_events_order_id_fkey")
                            .from(PortingEvents::Table, PortingEvents::OrderId)
                            .to(PortingOrders::Table, PortingOrders::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("porting_events_seq_key")
                    .table(PortingEvents::Table)
                    .col(PortingEvents::Seq)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("porting_events_order_id_seq_idx")
                    .table(PortingEvents::Table)
                    .col(PortingEvents::OrderId)
                    .col(PortingEvents::Seq)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("porting_events_owner_id_seq_idx")
                    .table(PortingEvents::Table)
                    .col(PortingEvents::OwnerId)
                    .col(PortingEvents::Seq)
                    .to_owned(),
            )
            .await?;
        db.execute_unprepared("INSERT INTO sequences (name, value) VALUES ('porting_events', 0)")
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(VirtualNumbers::Table)
                    .add_column(ColumnDef::new(VirtualNumbers::PortingOrderId).uuid().null())
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        manager
            .alter_table(
                Table::alter()
                    .table(VirtualNumbers::Table)
                    .drop_column(VirtualNumbers::PortingOrderId)
                    .to_owned(),
            )
            .await?;
        db.execute_unprepared("DELETE FROM sequences WHERE name = 'porting_events'")
            .await?;
        manager
            .drop_table(Table::drop().table(PortingEvents::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(PortingOrderNumbers::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(PortingOrders::Table).to_owned())
            .await
    }
}
