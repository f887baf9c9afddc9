//! `callLogged` events. Each new log is announced once; every instance hears it:
//! on PostgreSQL through `NOTIFY`/`LISTEN` (so instances behind a load balancer
//! all see every call), on SQLite (one process) through an in-process channel.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use tokio::{sync::broadcast, task::JoinHandle};

use crate::{entity::call_logs, error::AppError};

/// The PostgreSQL channel new call logs are announced on.
const CHANNEL: &str = "switchboard_call_logged";
/// Events a slow subscriber may fall behind by before it misses some.
const BUFFER: usize = 1024;

/// Announces new call logs and lets subscribers hear them.
#[derive(Clone)]
pub struct CallEvents {
    sender: broadcast::Sender<call_logs::Model>,
    db: DatabaseConnection,
}

impl CallEvents {
    /// Starts hearing events; on PostgreSQL this spawns the `LISTEN` task, whose
    /// handle the caller aborts at shutdown.
    pub async fn start(db: DatabaseConnection) -> anyhow::Result<(CallEvents, Option<JoinHandle<()>>)> {
        let (sender, _) = broadcast::channel(BUFFER);
        let listener = match db.get_database_backend() {
            DbBackend::Postgres => {
                let mut listener =
                    sea_orm::sqlx::postgres::PgListener::connect_with(db.get_postgres_connection_pool()).await?;
                listener.listen(CHANNEL).await?;
                let sender = sender.clone();
                Some(tokio::spawn(async move {
                    loop {
                        match listener.recv().await {
                            Ok(notification) => {
                                match serde_json::from_str::<call_logs::Model>(notification.payload()) {
                                    Ok(log) => {
                                        let _ = sender.send(log);
                                    }
                                    Err(error) => {
                                        tracing::warn!(%error, "ignoring a malformed call_logged notification")
                                    }
                                }
                            }
                            Err(error) => {
                                // PgListener reconnects on the next recv; pause so a dead server is not spun on.
                                tracing::warn!(%error, "call_logged listener lost its connection; retrying");
                                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                            }
                        }
                    }
                }))
            }
            _ => None,
        };
        Ok((CallEvents { sender, db }, listener))
    }

    /// Announces a new log to every subscriber on every instance.
    pub async fn publish(&self, log: &call_logs::Model) -> Result<(), AppError> {
        match self.db.get_database_backend() {
            DbBackend::Postgres => {
                let payload = serde_json::to_string(log).map_err(|e| AppError::Internal(e.into()))?;
                self.db
                    .execute_raw(Statement::from_sql_and_values(
                        DbBackend::Postgres,
                        "SELECT pg_notify($1, $2)",
                        [CHANNEL.into(), payload.into()],
                    ))
                    .await?;
            }
            _ => {
                let _ = self.sender.send(log.clone());
            }
        }
        Ok(())
    }

    pub fn subscribe(&self) -> broadcast::Receiver<call_logs::Model> {
        self.sender.subscribe()
    }
}
