//! Live feeds of rows numbered in commit order (`entity::sequences`), on every
//! instance, resumable from any row with nothing lost and nothing repeated.
//! `callLogged` and `portingOrderUpdated` are both one of these.
//!
//! Each instance runs one *pump* per feed that reads the rows past the last
//! `seq` it announced and broadcasts them, in order, to its subscribers. The
//! pump is woken by the instance's own writes, on PostgreSQL by a `NOTIFY` from
//! any instance (whose payload is only the new `seq`: the row is read once per
//! instance, not once per subscriber), after the `LISTEN` connection is
//! re-established, and every few seconds in any case. A notification lost with
//! its connection only delays an event; it never loses one.
//!
//! A subscriber ([`follow`]) first replays from the database what was written
//! after its cursor, then takes the broadcast, skipping what the replay already
//! gave; one that falls more than the buffer behind re-reads from the database.

use std::{
    collections::VecDeque,
    future::Future,
    marker::PhantomData,
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use futures_util::{Stream, stream};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Statement,
};
use tokio::{
    sync::{
        Notify,
        broadcast::{self, error::RecvError},
    },
    task::JoinHandle,
};

use crate::error::AppError;

/// Events a subscriber may fall behind by before it re-reads from the database.
const BUFFER: usize = 1024;
/// How many rows the pump reads per query.
const BATCH: u64 = 500;
/// How many rows a replaying subscriber reads per query.
const REPLAY_BATCH: u64 = 200;
/// How often the pump looks for new rows even when nothing woke it.
const POLL_EVERY: Duration = Duration::from_secs(5);

/// A table whose rows carry a `seq` from a counter taken in their transaction.
pub trait Journal: Send + Sync + 'static {
    type Row: Send + Sync + 'static;
    /// The PostgreSQL channel new rows are announced on.
    const CHANNEL: &'static str;
    /// What the rows are, for log lines.
    const NAME: &'static str;

    fn seq(row: &Self::Row) -> i64;

    /// The highest `seq` written so far (0 for none).
    fn latest(db: &DatabaseConnection) -> impl Future<Output = Result<i64, AppError>> + Send;

    /// Up to `limit` rows past `seq`, in `seq` order, whoever they belong to.
    fn after(
        db: &DatabaseConnection,
        seq: i64,
        limit: u64,
    ) -> impl Future<Output = Result<Vec<Self::Row>, AppError>> + Send;
}

/// The highest `seq` in `column` of `E`'s table (0 for an empty table): a
/// `Journal::latest` for a table numbered by `entity::sequences`.
pub async fn latest_seq<E: EntityTrait>(db: &DatabaseConnection, column: E::Column) -> Result<i64, AppError> {
    let latest: Option<Option<i64>> = E::find()
        .select_only()
        .column_as(column.max(), "latest")
        .into_tuple()
        .one(db)
        .await?;
    Ok(latest.flatten().unwrap_or(0))
}

/// Up to `limit` rows of `E` past `seq` in `column`, in order: a `Journal::after`.
pub async fn rows_after<E: EntityTrait>(
    db: &DatabaseConnection,
    column: E::Column,
    seq: i64,
    limit: u64,
) -> Result<Vec<E::Model>, AppError> {
    Ok(E::find()
        .filter(column.gt(seq))
        .order_by_asc(column)
        .limit(limit)
        .all(db)
        .await?)
}

/// One subscriber's view of a journal: which rows it may see, and how to read
/// them back from the database.
pub trait Reader: Send + 'static {
    type Row: Send + Sync + 'static;

    fn seq(row: &Self::Row) -> i64;

    /// Whether a broadcast row is for this subscriber.
    fn wants(&self, row: &Self::Row) -> bool;

    /// Up to `limit` rows this subscriber may see past `seq`, in `seq` order.
    fn replay(&self, seq: i64, limit: u64) -> impl Future<Output = Result<Vec<Self::Row>, AppError>> + Send;
}

/// Announces new rows of one journal and lets subscribers hear them.
pub struct Feed<J: Journal> {
    sender: broadcast::Sender<Arc<J::Row>>,
    wake: Arc<Notify>,
    /// The `seq` of the last row broadcast on this instance.
    latest: Arc<AtomicI64>,
    backend: DbBackend,
    db: DatabaseConnection,
    journal: PhantomData<fn() -> J>,
}

impl<J: Journal> Clone for Feed<J> {
    fn clone(&self) -> Self {
        Feed {
            sender: self.sender.clone(),
            wake: self.wake.clone(),
            latest: self.latest.clone(),
            backend: self.backend,
            db: self.db.clone(),
            journal: PhantomData,
        }
    }
}

/// The pumps and (on PostgreSQL) the `LISTEN` tasks; aborted on drop.
#[derive(Default)]
pub struct FeedTasks(Vec<JoinHandle<()>>);

impl FeedTasks {
    /// Keeps `other`'s tasks too.
    pub fn join(mut self, mut other: FeedTasks) -> FeedTasks {
        self.0.append(&mut other.0);
        self
    }
}

impl Drop for FeedTasks {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

impl<J: Journal> Feed<J> {
    /// Starts the pump from the newest row (see [`listen`] for what wakes it
    /// from other instances); the task stops when the returned handle is dropped.
    pub async fn start(db: DatabaseConnection) -> anyhow::Result<(Feed<J>, FeedTasks)> {
        let (sender, _) = broadcast::channel(BUFFER);
        let latest = J::latest(&db)
            .await
            .map_err(|_| anyhow::anyhow!("could not read the newest {}", J::NAME))?;
        let feed = Feed {
            sender,
            wake: Arc::new(Notify::new()),
            latest: Arc::new(AtomicI64::new(latest)),
            backend: db.get_database_backend(),
            db: db.clone(),
            journal: PhantomData,
        };
        let tasks = vec![tokio::spawn(feed.clone().pump(db.clone()))];
        Ok((feed, FeedTasks(tasks)))
    }

    /// Announces, inside the transaction that writes it, the row numbered
    /// `seq` to every instance (PostgreSQL delivers the `NOTIFY` at commit).
    pub async fn announce(&self, transaction: &impl ConnectionTrait, seq: i64) -> Result<(), AppError> {
        if self.backend == DbBackend::Postgres {
            transaction
                .execute_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT pg_notify($1, $2)",
                    [J::CHANNEL.into(), seq.to_string().into()],
                ))
                .await?;
        }
        Ok(())
    }

    /// Wakes this instance's pump (after a commit), without waiting for a `NOTIFY`.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// The `seq` of the last row broadcast on this instance.
    pub fn latest(&self) -> i64 {
        self.latest.load(Ordering::Acquire)
    }

    /// What `reader` may see, in `seq` order: with `after` (a `seq`), first every
    /// row past it from the database, then each new one as it is written on any
    /// instance, with no gap and no duplicate across the hand-over. Without
    /// `after`, only what is written from now on.
    pub fn follow<R>(
        &self,
        reader: R,
        after: Option<i64>,
    ) -> impl Stream<Item = Result<Arc<J::Row>, AppError>> + use<J, R>
    where
        R: Reader<Row = J::Row>,
    {
        // Listen first, then decide where to start: nothing written in between is lost.
        let receiver = self.sender.subscribe();
        let follow = Follow::<J, R> {
            reader,
            db: self.db.clone(),
            last: after,
            replaying: after.is_some(),
            pending: VecDeque::new(),
            receiver,
            failed: false,
            journal: PhantomData,
        };
        stream::unfold(follow, |mut follow| async move {
            let next = follow.next().await?;
            Some((next, follow))
        })
    }

    async fn pump(self, db: DatabaseConnection) {
        loop {
            let _ = tokio::time::timeout(POLL_EVERY, self.wake.notified()).await;
            if let Err(error) = self.catch_up(&db).await {
                tracing::warn!(
                    ?error,
                    feed = J::NAME,
                    "could not read new rows for subscribers; retrying"
                );
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }

    /// Broadcasts, in order, every row written since the last one broadcast.
    async fn catch_up(&self, db: &DatabaseConnection) -> Result<(), AppError> {
        loop {
            let rows = J::after(db, self.latest(), BATCH).await?;
            let full = rows.len() as u64 == BATCH;
            for row in rows {
                self.latest.store(J::seq(&row), Ordering::Release);
                // No subscriber is not an error.
                let _ = self.sender.send(Arc::new(row));
            }
            if !full {
                return Ok(());
            }
        }
    }
}

/// A feed as the shared `LISTEN` task sees it.
pub trait Listened: Send + Sync + 'static {
    fn channel(&self) -> &'static str;
    fn latest(&self) -> i64;
    fn wake(&self);
}

impl<J: Journal> Listened for Feed<J> {
    fn channel(&self) -> &'static str {
        J::CHANNEL
    }

    fn latest(&self) -> i64 {
        Feed::latest(self)
    }

    fn wake(&self) {
        Feed::wake(self)
    }
}

/// On PostgreSQL, one `LISTEN` connection for every feed (it holds one pooled
/// connection for as long as the server runs), waking each feed's pump when
/// its channel announces a row it has not broadcast, and every pump when the
/// connection comes back after a loss. Nothing on SQLite (the pumps poll).
pub async fn listen(db: &DatabaseConnection, feeds: Vec<Box<dyn Listened>>) -> anyhow::Result<FeedTasks> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(FeedTasks::default());
    }
    let mut listener = sea_orm::sqlx::postgres::PgListener::connect_with(db.get_postgres_connection_pool()).await?;
    listener.listen_all(feeds.iter().map(|feed| feed.channel())).await?;
    Ok(FeedTasks(vec![tokio::spawn(async move {
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    // A row this instance already broadcast needs no query.
                    let seq = notification.payload().parse::<i64>().unwrap_or(i64::MAX);
                    for feed in feeds.iter().filter(|feed| feed.channel() == notification.channel()) {
                        if seq > feed.latest() {
                            feed.wake();
                        }
                    }
                }
                Ok(None) => {
                    // The connection was lost and has been re-established: what was
                    // announced in between is read back from the database.
                    tracing::warn!("the feeds' listener reconnected; catching up from the database");
                    feeds.iter().for_each(|feed| feed.wake());
                }
                Err(error) => {
                    tracing::warn!(%error, "the feeds' listener cannot reach the database; retrying");
                    feeds.iter().for_each(|feed| feed.wake());
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    })]))
}

/// One subscriber's place in a feed: the last `seq` it has been given (or
/// passed over; `None` until it has read where "now" is), and whether it is
/// still reading from the database.
struct Follow<J: Journal, R: Reader<Row = J::Row>> {
    reader: R,
    db: DatabaseConnection,
    last: Option<i64>,
    replaying: bool,
    pending: VecDeque<R::Row>,
    receiver: broadcast::Receiver<Arc<R::Row>>,
    failed: bool,
    journal: PhantomData<fn() -> J>,
}

impl<J: Journal, R: Reader<Row = J::Row>> Follow<J, R> {
    async fn next(&mut self) -> Option<Result<Arc<R::Row>, AppError>> {
        if self.failed {
            return None;
        }
        // "From now on" is the newest row committed when the subscriber started
        // listening, not the newest this instance has broadcast yet: a row
        // written just before is not news.
        let mut last = match self.last {
            Some(last) => last,
            None => match J::latest(&self.db).await {
                Ok(latest) => latest,
                Err(error) => {
                    self.failed = true;
                    return Some(Err(error));
                }
            },
        };
        let next = self.step(&mut last).await;
        self.last = Some(last);
        next
    }

    async fn step(&mut self, last: &mut i64) -> Option<Result<Arc<R::Row>, AppError>> {
        loop {
            if let Some(row) = self.pending.pop_front() {
                *last = R::seq(&row);
                return Some(Ok(Arc::new(row)));
            }
            if self.replaying {
                match self.reader.replay(*last, REPLAY_BATCH).await {
                    Ok(rows) => {
                        self.replaying = rows.len() as u64 == REPLAY_BATCH;
                        self.pending.extend(rows);
                        continue;
                    }
                    Err(error) => {
                        self.failed = true;
                        return Some(Err(error));
                    }
                }
            }
            match self.receiver.recv().await {
                // Rows arrive in `seq` order; what the replay already gave is skipped.
                Ok(row) if R::seq(&row) > *last => {
                    *last = R::seq(&row);
                    if self.reader.wants(&row) {
                        return Some(Ok(row));
                    }
                }
                Ok(_) => {}
                Err(RecvError::Lagged(missed)) => {
                    tracing::info!(missed, "a subscriber fell behind; reading the rest from the database");
                    self.replaying = true;
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }
}
