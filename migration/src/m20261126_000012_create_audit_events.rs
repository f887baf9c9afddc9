//! `audit_events`: what staff did to or read of other users' data (who, what,
//! which object, when, from where). Append-only: a trigger on each database
//! refuses every UPDATE and DELETE (and, on PostgreSQL, TRUNCATE).

use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, DbBackend},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    ActorId,
    Action,
    SubjectType,
    SubjectId,
    Details,
    ClientAddress,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

const POSTGRES_GUARD: &[&str] = &[
    "CREATE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP; END $$",
    "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events \
     FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change()",
    "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events \
     FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change()",
];

const SQLITE_GUARD: &[&str] = &[
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events \
     BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused'); END",
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events \
     BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused'); END",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(ColumnDef::new(AuditEvents::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(AuditEvents::ActorId).uuid().not_null())
                    .col(ColumnDef::new(AuditEvents::Action).string_len(64).not_null())
                    .col(ColumnDef::new(AuditEvents::SubjectType).string_len(64).not_null())
                    .col(ColumnDef::new(AuditEvents::SubjectId).uuid().null())
                    .col(ColumnDef::new(AuditEvents::Details).text().not_null())
                    .col(ColumnDef::new(AuditEvents::ClientAddress).text().null())
                    .col(
                        ColumnDef::new(AuditEvents::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    // Users are deactivated, never deleted; one who acted stays on record.
                    .foreign_key(
                        ForeignKey::create()
                            .name("audit_events_actor_id_fkey")
                            .from(AuditEvents::Table, AuditEvents::ActorId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        // The whole log, newest first; and one object's history, newest first.
        for (name, columns) in [
            ("audit_events_created_at_id_idx", "created_at, id"),
            (
                "audit_events_subject_id_created_at_id_idx",
                "subject_id, created_at, id",
            ),
            ("audit_events_actor_id_created_at_id_idx", "actor_id, created_at, id"),
        ] {
            manager
                .get_connection()
                .execute_unprepared(&format!("CREATE INDEX {name} ON audit_events ({columns})"))
                .await?;
        }
        let db = manager.get_connection();
        let guard = match db.get_database_backend() {
            DbBackend::Postgres => POSTGRES_GUARD,
            _ => SQLITE_GUARD,
        };
        for statement in guard {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditEvents::Table).to_owned())
            .await?;
        if manager.get_connection().get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP FUNCTION audit_events_refuse_change()")
                .await?;
        }
        Ok(())
    }
}
