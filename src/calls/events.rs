//! `callLogged` events, in the order calls were recorded, on every instance.
//!
//! Every call log carries `seq`, the order it was recorded in (see
//! `entity::sequences`: PostgreSQL commits calls in `seq` order). Each instance
//! runs one *pump* that reads the logs past the last `seq` it announced and
//! broadcasts them, in order, to its subscribers. The pump is woken by the
//! instance's own `recordCall`, on PostgreSQL by a `NOTIFY` from any instance
//! (whose payload is only the new `seq`: the row is read once per instance, not
//! once per subscriber), after the `LISTEN` connection is re-established, and
//! every few seconds in any case. A notification lost with its connection only
//! delays an event; it never loses one.

use std::{
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, QueryOrder, QuerySelect, Statement, prelude::*};
use tokio::{
    sync::{Notify, broadcast},
    task::JoinHandle,
};

use crate::{
    entity::call_logs::{self, Column},
    error::AppError,
};

/// The PostgreSQL channel new call logs are announced on.
const CHANNEL: &str = "switchboard_call_logged";
/// Events a subscriber may fall behind by before it re-reads from the database.
const BUFFER: usize = 1024;
/// How many logs the pump reads per query.
const BATCH: u64 = 500;
/// How often the pump looks for new logs even when nothing woke it.
const POLL_EVERY: Duration = Duration::from_secs(5);

/// One announced call log, shared by every subscriber of the instance.
pub type Event = Arc<call_logs::Model>;

/// Announces new call logs and lets subscribers hear them.
#[derive(Clone)]
pub struct CallEvents {
    sender: broadcast::Sender<Event>,
    wake: Arc<Notify>,
    /// The `seq` of the last log broadcast on this instance.
    latest: Arc<AtomicI64>,
    backend: DbBackend,
}

/// The pump and (on PostgreSQL) the `LISTEN` task; aborted on drop.
pub struct EventTasks(Vec<JoinHandle<()>>);

impl Drop for EventTasks {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

impl CallEvents {
    /// Starts the pump from the newest recorded log and, on PostgreSQL, the
    /// `LISTEN` task; the tasks stop when the returned handle is dropped.
    pub async fn start(db: DatabaseConnection) -> anyhow::Result<(CallEvents, EventTasks)> {
        let (sender, _) = broadcast::channel(BUFFER);
        let latest: Option<i64> = call_logs::Entity::find()
            .select_only()
            .column_as(Column::Seq.max(), "latest")
            .into_tuple()
            .one(&db)
            .await?
            .flatten();
        let events = CallEvents {
            sender,
            wake: Arc::new(Notify::new()),
            latest: Arc::new(AtomicI64::new(latest.unwrap_or(0))),
            backend: db.get_database_backend(),
        };
        let mut tasks = vec![tokio::spawn(events.clone().pump(db.clone()))];
        if events.backend == DbBackend::Postgres {
            let mut listener =
                sea_orm::sqlx::postgres::PgListener::connect_with(db.get_postgres_connection_pool()).await?;
            listener.listen(CHANNEL).await?;
            tasks.push(tokio::spawn(events.clone().listen(listener)));
        }
        Ok((events, EventTasks(tasks)))
    }

    /// Announces, inside the transaction that records it, the log numbered
    /// `seq` to every instance (PostgreSQL delivers the `NOTIFY` at commit).
    pub async fn announce(&self, transaction: &impl ConnectionTrait, seq: i64) -> Result<(), AppError> {
        if self.backend == DbBackend::Postgres {
            transaction
                .execute_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT pg_notify($1, $2)",
                    [CHANNEL.into(), seq.to_string().into()],
                ))
                .await?;
        }
        Ok(())
    }

    /// Wakes this instance's pump (after a commit), without waiting for a `NOTIFY`.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Hears every event broadcast from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }

    /// The `seq` of the last log broadcast on this instance.
    pub fn latest(&self) -> i64 {
        self.latest.load(Ordering::Acquire)
    }

    async fn pump(self, db: DatabaseConnection) {
        loop {
            let _ = tokio::time::timeout(POLL_EVERY, self.wake.notified()).await;
            if let Err(error) = self.catch_up(&db).await {
                tracing::warn!(?error, "could not read new call logs for subscribers; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }

    /// Broadcasts, in order, every log recorded since the last one broadcast.
    async fn catch_up(&self, db: &DatabaseConnection) -> Result<(), AppError> {
        loop {
            let rows = call_logs::Entity::find()
                .filter(Column::Seq.gt(self.latest()))
                .order_by_asc(Column::Seq)
                .limit(BATCH)
                .all(db)
                .await?;
            let full = rows.len() as u64 == BATCH;
            for row in rows {
                self.latest.store(row.seq, Ordering::Release);
                // No subscriber is not an error.
                let _ = self.sender.send(Arc::new(row));
            }
            if !full {
                return Ok(());
            }
        }
    }

    async fn listen(self, mut listener: sea_orm::sqlx::postgres::PgListener) {
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    // A log this instance already broadcast needs no query.
                    let seq = notification.payload().parse::<i64>().unwrap_or(i64::MAX);
                    if seq > self.latest() {
                        self.wake();
                    }
                }
                Ok(None) => {
                    // The connection was lost and has been re-established: what was
                    // announced in between is read back from the database.
                    tracing::warn!("call_logged listener reconnected; catching up from the database");
                    self.wake();
                }
                Err(error) => {
                    tracing::warn!(%error, "call_logged listener cannot reach the database; retrying");
                    self.wake();
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }
}
