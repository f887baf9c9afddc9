//! Connecting to the database (SQLite or PostgreSQL through one code path) and
//! running migrations.

use std::time::Duration;

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DbBackend,
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous},
};

/// How PostgreSQL plans a connection's prepared statements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Planning {
    /// PostgreSQL's default: custom plans for a statement's first five runs,
    /// then its generic plan when that looks as cheap. A page or a lookup by
    /// key stops paying for planning (0.12–0.21 ms a statement against
    /// 0.02–0.07 ms to run it, BENCHMARKS.md).
    Cached,
    /// `plan_cache_mode = force_custom_plan`: every run is planned for its
    /// parameters. For statistics, where one customer holds most of the calls:
    /// the generic plan of the stats query took 210 ms where the custom one
    /// takes 22.
    PerRun,
}

/// Opens a pool. SQLite gets WAL, a busy timeout and foreign keys on every
/// connection, and a real pool (sea-orm's default for SQLite is one
/// connection); PostgreSQL plans statements as `planning` says.
pub async fn connect(url: &str, max_connections: u32, planning: Planning) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections.max(1))
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|sqlite| {
            sqlite
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    if planning == Planning::PerRun {
        options.map_sqlx_postgres_opts(|postgres| postgres.options([("plan_cache_mode", "force_custom_plan")]));
    }
    Database::connect(options)
        .await
        .with_context(|| format!("connecting to the database at {}", redact(url)))
}

/// The pool statistics read (`callStats`, reports): on PostgreSQL a pool of
/// its own, half the size of the main one, planning every run; on SQLite the
/// main pool (it keeps no plans across runs that could go stale).
pub async fn analytics(
    url: &str,
    max_connections: u32,
    main: &DatabaseConnection,
) -> anyhow::Result<DatabaseConnection> {
    if main.get_database_backend() == DbBackend::Postgres {
        connect(url, (max_connections / 2).max(1), Planning::PerRun).await
    } else {
        Ok(main.clone())
    }
}

/// Brings the schema up to date.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None).await.context("running database migrations")
}

/// The URL with any password replaced, fit for logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_never_reach_the_log() {
        assert_eq!(super::redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(super::redact("sqlite://x.db?mode=rwc"), "sqlite://x.db?mode=rwc");
    }
}
