//! Sign-in and sign-up limits that cannot be turned against a user: attempts
//! are counted per client address, per (address, username), and per username
//! across all addresses with a ceiling high enough that one attacker cannot
//! lock its owner out. Counts live in the database (fixed windows), so every
//! instance sharing it enforces the same limits.

use std::net::IpAddr;

use rand::Rng;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, FromQueryResult,
    sea_query::{Alias, Expr, ExprTrait, OnConflict, Query},
};
use sha2::{Digest, Sha256};

use crate::{
    entity,
    error::{AppError, Context as _},
};

/// How many attempts each key may make per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptLimits {
    /// Sign-ins per minute for one username from one address.
    pub sign_ins_per_address_and_username: u32,
    /// Sign-ins per minute from one address, whatever the usernames.
    pub sign_ins_per_address: u32,
    /// Sign-ins per minute for one username from all addresses together.
    pub sign_ins_per_username: u32,
    /// Sign-ups per hour from one address.
    pub sign_ups_per_address: u32,
}

impl Default for AttemptLimits {
    fn default() -> Self {
        AttemptLimits {
            sign_ins_per_address_and_username: 10,
            sign_ins_per_address: 30,
            sign_ins_per_username: 100,
            sign_ups_per_address: 20,
        }
    }
}

const MINUTE: i64 = 60;
const HOUR: i64 = 3600;
/// One write in this many also forgets windows over a day old.
const PRUNE_ONE_IN: u32 = 200;

#[derive(Clone)]
pub struct Attempts {
    db: DatabaseConnection,
    limits: AttemptLimits,
}

#[derive(FromQueryResult)]
struct Counted {
    key: String,
    hits: i32,
}

impl Attempts {
    pub fn new(db: DatabaseConnection, limits: AttemptLimits) -> Self {
        Attempts { db, limits }
    }

    /// Counts a sign-in attempt, refused with `RATE_LIMITED` over any limit.
    pub async fn sign_in(&self, address: IpAddr, username: &str) -> Result<(), AppError> {
        let username = username.trim().to_lowercase();
        let limits = self.limits;
        self.count(
            MINUTE,
            &[
                (
                    format!("sign-in:{address}:{username}"),
                    limits.sign_ins_per_address_and_username,
                ),
                (format!("sign-in:{address}"), limits.sign_ins_per_address),
                (format!("sign-in::{username}"), limits.sign_ins_per_username),
            ],
        )
        .await
    }

    /// Counts a sign-up attempt, refused with `RATE_LIMITED` over the limit.
    pub async fn sign_up(&self, address: IpAddr) -> Result<(), AppError> {
        self.count(
            HOUR,
            &[(format!("sign-up:{address}"), self.limits.sign_ups_per_address)],
        )
        .await
    }

    /// Adds one hit to each key's current window in one statement, and refuses
    /// when any key is now over its limit.
    async fn count(&self, window: i64, keys: &[(String, u32)]) -> Result<(), AppError> {
        let now = entity::now().timestamp();
        let window_start = now - now.rem_euclid(window);
        let table = Alias::new("rate_limits");
        let (key, start, hits) = (Alias::new("key"), Alias::new("window_start"), Alias::new("hits"));
        let mut insert = Query::insert();
        insert
            .into_table(table.clone())
            .columns([key.clone(), start.clone(), hits.clone()])
            .on_conflict(
                OnConflict::columns([key.clone(), start.clone()])
                    .value(hits.clone(), Expr::col((table.clone(), hits.clone())).add(1))
                    .to_owned(),
            )
            .returning(Query::returning().columns([key.clone(), hits.clone()]));
        for (name, _) in keys {
            insert
                .values([hashed(name).into(), window_start.into(), 1.into()])
                .context("building a rate-limit statement")?;
        }
        let statement = self.db.get_database_backend().build(&insert);
        let counted = Counted::find_by_statement(statement)
            .all(&self.db)
            .await
            .context("counting an attempt")?;
        self.prune(now).await;
        let over = keys.iter().any(|(name, limit)| {
            let key = hashed(name);
            counted
                .iter()
                .any(|row| row.key == key && i64::from(row.hits) > i64::from(*limit))
        });
        if over {
            let retry_after_secs = Ord::max(u64::try_from(window_start + window - now).unwrap_or(1), 1);
            return Err(AppError::RateLimited { retry_after_secs });
        }
        Ok(())
    }

    /// Now and then, forgets windows over a day old so the table stays small.
    async fn prune(&self, now: i64) {
        if rand::rng().random_range(0..PRUNE_ONE_IN) != 0 {
            return;
        }
        let delete = Query::delete()
            .from_table(Alias::new("rate_limits"))
            .and_where(Expr::col(Alias::new("window_start")).lt(now - 24 * HOUR))
            .to_owned();
        let statement = self.db.get_database_backend().build(&delete);
        if let Err(error) = self.db.execute_raw(statement).await {
            tracing::warn!(%error, "could not prune old rate-limit windows");
        }
    }
}

/// Keys are stored hashed: no address or username sits in the table in clear.
fn hashed(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}
