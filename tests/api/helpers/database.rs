//! A fresh database for each test: an SQLite file in a temp dir, or (with
//! `TEST_DATABASE_URL`) a PostgreSQL copy of a template migrated once per set of
//! migrations. Starting the app on it lives in `helpers.rs`.

use std::{io::Write, sync::Once};

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

/// A database made for one test, gone when this is dropped.
pub struct FreshDatabase {
    pub url: String,
    _sqlite_dir: Option<tempfile::TempDir>,
    _postgres: Option<PostgresDatabase>,
}

/// A new database: on PostgreSQL already migrated, on SQLite empty (its
/// migrations take milliseconds; the app runs them at start-up either way).
pub async fn fresh_database() -> FreshDatabase {
    match std::env::var("TEST_DATABASE_URL").ok().filter(|url| !url.is_empty()) {
        Some(admin_url) => {
            say_once_which_database(true);
            let template = template(&admin_url).await;
            let name = format!("switchboard_test_{}", uuid::Uuid::now_v7().simple());
            let admin = Database::connect(&admin_url)
                .await
                .expect("connecting to TEST_DATABASE_URL");
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""))
                .await
                .expect("copying the template into a test database");
            admin.close().await.expect("closing the admin connection");
            FreshDatabase {
                url: database_url(&admin_url, &name),
                _sqlite_dir: None,
                _postgres: Some(PostgresDatabase { admin_url, name }),
            }
        }
        None => {
            say_once_which_database(false);
            let dir = tempfile::tempdir().expect("making a temp dir");
            FreshDatabase {
                url: format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display()),
                _sqlite_dir: Some(dir),
                _postgres: None,
            }
        }
    }
}

/// The URL of database `name` on the server `admin_url` points at.
fn database_url(admin_url: &str, name: &str) -> String {
    let (base, _) = admin_url.rsplit_once('/').expect("TEST_DATABASE_URL names a database");
    format!("{base}/{name}")
}

/// The template's name, made once per test process; every test's own runtime
/// shares the name, never a pool.
async fn template(admin_url: &str) -> &'static str {
    static TEMPLATE: OnceCell<String> = OnceCell::const_new();
    TEMPLATE.get_or_init(|| make_template(admin_url)).await
}

/// Serialises template building across every process on the server (CI and a
/// developer at once): all of them take this advisory lock first.
const TEMPLATE_LOCK: i64 = 0x5357_4254_504c; // "SWBTPL"

/// Finds or builds the migrated template for this set of migrations.
async fn make_template(admin_url: &str) -> String {
    let name = template_name();
    // One connection, so the session-level lock and its unlock share a session.
    let mut options = ConnectOptions::new(admin_url.to_owned());
    options.max_connections(1).sqlx_logging(false);
    let admin = Database::connect(options)
        .await
        .expect("connecting to TEST_DATABASE_URL");
    run(&admin, &format!("SELECT pg_advisory_lock({TEMPLATE_LOCK})")).await;
    let exists = admin
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT 1 FROM pg_database WHERE datname = '{name}'"),
        ))
        .await
        .expect("looking for the template")
        .is_some();
    if !exists {
        build_template(&admin, admin_url, &name).await;
    }
    run(&admin, &format!("SELECT pg_advisory_unlock({TEMPLATE_LOCK})")).await;
    admin.close().await.expect("closing the admin connection");
    name
}

/// Migrates under a working name and renames when done, so a build that dies
/// half-way never leaves a half-migrated template behind the real name.
async fn build_template(admin: &DatabaseConnection, admin_url: &str, name: &str) {
    let building = format!("{name}_building");
    // Holding the lock, no one else is building: a leftover is from a build that died.
    run(admin, &format!("DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE)")).await;
    run(admin, &format!("CREATE DATABASE \"{building}\"")).await;
    let db = Database::connect(database_url(admin_url, &building))
        .await
        .expect("connecting to the template being built");
    switchboard::db::migrate(&db).await.expect("migrating the template");
    db.close().await.expect("closing the template");
    // A database being copied must have no connections; refuse them all.
    run(
        admin,
        &format!("ALTER DATABASE \"{building}\" WITH ALLOW_CONNECTIONS false"),
    )
    .await;
    run(admin, &format!("ALTER DATABASE \"{building}\" RENAME TO \"{name}\"")).await;
}

async fn run(admin: &DatabaseConnection, sql: &str) {
    admin
        .execute_unprepared(sql)
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"));
}

/// `switchboard_template_<hash>`, the hash of every migration's name and of the
/// migration crate's sources: a new migration, or one edited in place, gets a
/// new template rather than a stale one.
fn template_name() -> String {
    let mut hash = Sha256::new();
    for migration in Migrator::migrations() {
        hash.update(migration.name());
        hash.update([0]);
    }
    let sources = concat!(env!("CARGO_MANIFEST_DIR"), "/migration/src");
    let mut files: Vec<_> = std::fs::read_dir(sources)
        .expect("reading the migration sources")
        .map(|entry| entry.expect("a migration source").path())
        .collect();
    files.sort();
    for file in files {
        hash.update(std::fs::read(&file).expect("reading a migration source"));
    }
    format!("switchboard_template_{}", &hex::encode(hash.finalize())[..16])
}

/// A PostgreSQL database made for one test and dropped after it.
struct PostgresDatabase {
    admin_url: String,
    name: String,
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs inside the test's runtime; do the async work on a thread of its own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let admin = Database::connect(&admin_url).await?;
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await?;
                admin.close().await
            })?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        })
        .join();
    }
}

fn say_once_which_database(postgres: bool) {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Straight to stderr (not eprintln!), so the note shows past the test harness's capture.
        let note = if postgres {
            "note: TEST_DATABASE_URL is set: this suite runs on PostgreSQL\n"
        } else {
            "note: TEST_DATABASE_URL is not set: PostgreSQL runs SKIPPED; this suite runs on SQLite\n"
        };
        let _ = std::io::stderr().write_all(note.as_bytes());
    });
}
