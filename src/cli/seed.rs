//! `seed-demo`: realistic demo data (users, valid numbers from several countries,
//! 90 days of calls with a plausible mix, a few from withheld numbers or to short
//! codes) written in bulk. Users and numbers go through the real services; calls
//! are inserted many rows per statement. The first few users are heavy (most of
//! the calls are theirs), the way a few big customers dominate real traffic.
//! On PostgreSQL the load ends with `VACUUM (ANALYZE)`, so the planner has
//! statistics and index-only scans a visibility map from the first query on.

use std::time::Duration;

use chrono::{TimeDelta, Timelike};
use futures_util::{StreamExt, stream};
use rand::{Rng, SeedableRng, distr::weighted::WeightedIndex, prelude::Distribution, rngs::StdRng};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, Statement, TransactionTrait,
};
use uuid::Uuid;

use crate::{
    accounts::{
        AccountService, NewAccount,
        credentials::{Password, Username},
    },
    auth::Viewer,
    entity::{
        self,
        call_logs::{self, CallDirection, CallStatus, CounterpartKind},
        sequences, virtual_numbers,
    },
    error::{AppError, describe},
    numbers::{E164, FriendlyName, NewNumber, NumberService},
};

/// How much to make.
#[derive(Debug, Clone, Copy)]
pub struct SeedOptions {
    pub users: usize,
    /// Numbers per user.
    pub numbers: usize,
    /// Calls in all, spread over every number.
    pub calls: usize,
}

/// A demo account to sign in with.
pub struct DemoUser {
    pub username: String,
    pub password: String,
    pub numbers: Vec<String>,
}

/// Number shapes from several countries; `#` is a random digit. Every number
/// is checked with libphonenumber before use.
const TEMPLATES: [&str; 8] = [
    "+1 201 555 01##",
    "+1 415 555 01##",
    "+44 20 7946 0###",
    "+33 1 42 68 ## ##",
    "+49 30 901820##",
    "+61 2 9374 4###",
    "+81 3 3224 ####",
    "+34 91 123 ## ##",
];

/// Shares of all calls, in percent, of the first users: the first is a big
/// customer whose history reaches past row 900,000 of a million calls (the
/// bench pages there), the next two are large. Everyone else shares the rest.
const HEAVY_SHARES: [f64; 3] = [91.0, 3.0, 3.0];

const ROWS_PER_INSERT: usize = 2_000;
const CONCURRENT_INSERTS: usize = 4;
/// On SQLite: the seeding connection's page cache, which also sorts the rebuilt indexes.
const SQLITE_SEED_CACHE_KIB: usize = 64 * 1024;

fn random_number(rng: &mut StdRng) -> Option<E164> {
    let template = TEMPLATES[rng.random_range(0..TEMPLATES.len())];
    let spelled: String = template
        .chars()
        .map(|c| {
            if c == '#' {
                char::from(b'0' + rng.random_range(0..10u8))
            } else {
                c
            }
        })
        .collect();
    E164::parse(&spelled, None).ok()
}

fn as_anyhow(error: AppError) -> anyhow::Error {
    anyhow::anyhow!(describe(&error))
}

/// Writes the demo data and returns the accounts to sign in with.
pub async fn seed_demo(db: &DatabaseConnection, options: SeedOptions) -> anyhow::Result<Vec<DemoUser>> {
    let mut rng = StdRng::seed_from_u64(entity::now().timestamp_micros() as u64);
    let accounts = AccountService::new(db.clone());
    let numbers = NumberService::new(db.clone());
    let run = Uuid::now_v7().simple().to_string();
    let mut demo_users = Vec::new();
    let mut lines: Vec<virtual_numbers::Model> = Vec::new();
    // Each user's lines, as a range of `lines`.
    let mut lines_of: Vec<std::ops::Range<usize>> = Vec::new();
    for index in 1..=options.users {
        let name = format!("demo{index}_{}", &run[run.len() - 6..]);
        let password = format!("demo-password-{index}");
        let username = Username::parse(&name).map_err(as_anyhow)?;
        let account = NewAccount {
            password: Password::parse(&password, &username).map_err(as_anyhow)?,
            username,
            email: Some(format!("{name}@example.com"))
                .and_then(|e| crate::accounts::credentials::Email::parse(&e).ok()),
            contact_number: None,
            is_staff: false,
        };
        let user = accounts.create(account).await.map_err(as_anyhow)?;
        let viewer = Viewer {
            user_id: user.id,
            is_staff: false,
            session: None,
            api_key: None,
        };
        let mut taken = Vec::new();
        let first_line = lines.len();
        let mut attempts = 0;
        while taken.len() < options.numbers && attempts < options.numbers * 50 {
            attempts += 1;
            let Some(phone_number) = random_number(&mut rng) else {
                continue;
            };
            let friendly_name =
                FriendlyName::optional(Some(&format!("Line {}", taken.len() + 1))).map_err(as_anyhow)?;
            match numbers
                .create(
                    &viewer,
                    NewNumber {
                        phone_number,
                        friendly_name,
                        owner_id: None,
                    },
                )
                .await
            {
                Ok(number) => {
                    taken.push(number.phone_number.clone());
                    lines.push(number);
                }
                Err(AppError::Conflict { .. }) => continue,
                Err(error) => return Err(as_anyhow(error)),
            }
        }
        lines_of.push(first_line..lines.len());
        demo_users.push(DemoUser {
            username: name,
            password,
            numbers: taken,
        });
    }
    if lines.is_empty() || options.calls == 0 {
        return Ok(demo_users);
    }
    let counterparts: Vec<E164> = (0..500).filter_map(|_| random_number(&mut rng)).collect();
    let caller_of = WeightedIndex::new(call_shares(&lines_of))?;
    let progress = indicatif::ProgressBar::new(options.calls as u64).with_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} calls ({per_sec}, {eta} left)")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    progress.enable_steady_tick(Duration::from_millis(250));
    let now = entity::now();
    // Every call's number in commit order, taken at once. Batches commit in any
    // order, so a `callLogged` subscriber watching a seed may get them late (its
    // instance's next poll), not in `seq` order: only recordCall promises that.
    let mut next_seq =
        sequences::take(db, sequences::CALL_LOGS, options.calls as i64).await? - options.calls as i64 + 1;
    let batches = (0..options.calls.div_ceil(ROWS_PER_INSERT)).map(|index| {
        let size = ROWS_PER_INSERT.min(options.calls - index * ROWS_PER_INSERT);
        (0..size)
            .map(|_| {
                let own = lines_of[caller_of.sample(&mut rng)].clone();
                let line = &lines[rng.random_range(own)];
                let counterpart = counterparts[rng.random_range(0..counterparts.len())]
                    .as_str()
                    .to_owned();
                let call = demo_call(&mut rng, line, counterpart, now);
                let mut call = with_demo_counterpart(&mut rng, line, call);
                call.seq = Set(next_seq);
                next_seq += 1;
                call
            })
            .collect::<Vec<_>>()
    });
    if db.get_database_backend() == DbBackend::Sqlite {
        // One writer at a time, so one transaction. On a fresh call table the
        // secondary indexes are dropped in it and built again at its end, one
        // sorted pass each instead of a B-tree insert per row and index at a
        // random place (a million calls: 115 s before, see BENCHMARKS.md). A
        // seed that fails or is interrupted rolls back, indexes included.
        let transaction = db.begin().await?;
        transaction
            .execute_unprepared(&format!("PRAGMA cache_size = -{SQLITE_SEED_CACHE_KIB}"))
            .await?;
        let rebuild = unindex_empty_call_logs(&transaction).await?;
        for rows in batches {
            let size = rows.len();
            call_logs::Entity::insert_many(rows).exec(&transaction).await?;
            progress.inc(size as u64);
        }
        for index in rebuild {
            transaction.execute_unprepared(&index).await?;
        }
        transaction.commit().await?;
    } else {
        // A few statements at a time, so the database's cores (and index
        // maintenance) run in parallel.
        let mut writes = stream::iter(batches.map(|rows| async move {
            let size = rows.len();
            call_logs::Entity::insert_many(rows).exec(db).await.map(|_| size)
        }))
        .buffer_unordered(CONCURRENT_INSERTS);
        while let Some(written) = writes.next().await {
            progress.inc(written? as u64);
        }
    }
    progress.finish();
    // The calls went in in bulk, past the rollups `callStats` reads: sum them once.
    crate::calls::rollups::rebuild(db).await.map_err(as_anyhow)?;
    if db.get_database_backend() == DbBackend::Postgres {
        // Statistics for the planner and the visibility map for index-only
        // scans, so the first query after seeding is as fast as the hundredth
        // (callStats over the calls went from 11.9 s to 0.68 s). VACUUM cannot
        // run in a transaction: this is a plain statement on a pooled connection.
        db.execute_unprepared(
            "VACUUM (ANALYZE) users, virtual_numbers, call_logs, sequences, call_rollups, call_number_rollups, \
             call_hour_rollups, call_number_hour_rollups, call_number_totals",
        )
        .await?;
    }
    Ok(demo_users)
}

/// On SQLite, when `call_logs` is empty: drops its secondary indexes and
/// returns the statements that create them again (as SQLite keeps them, so
/// they are exactly what the migrations made).
async fn unindex_empty_call_logs(db: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
    if call_logs::Entity::find().one(db).await?.is_some() {
        return Ok(Vec::new());
    }
    let indexes = db
        .query_all_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'call_logs' AND sql IS NOT NULL",
        ))
        .await?;
    let mut rebuild = Vec::with_capacity(indexes.len());
    for index in indexes {
        let name: String = index.try_get("", "name")?;
        db.execute_unprepared(&format!("DROP INDEX \"{name}\"")).await?;
        rebuild.push(index.try_get("", "sql")?);
    }
    Ok(rebuild)
}

/// How likely each user is to own a call: the heavy users' shares first, the
/// rest split evenly among the others, nothing for users without lines.
fn call_shares(lines_of: &[std::ops::Range<usize>]) -> Vec<f64> {
    let light = lines_of.len().saturating_sub(HEAVY_SHARES.len()).max(1) as f64;
    let light_share = (100.0 - HEAVY_SHARES.iter().sum::<f64>()) / light;
    lines_of
        .iter()
        .enumerate()
        .map(|(index, lines)| match lines.is_empty() {
            true => 0.0,
            false => HEAVY_SHARES.get(index).copied().unwrap_or(light_share),
        })
        .collect()
}

/// One plausible call: busier in working hours, mostly completed, a few minutes long.
fn demo_call(
    rng: &mut StdRng,
    line: &virtual_numbers::Model,
    counterpart: String,
    now: chrono::DateTime<chrono::Utc>,
) -> call_logs::ActiveModel {
    let mut started_at = now - TimeDelta::seconds(rng.random_range(0..90 * 24 * 3600));
    if rng.random_bool(0.6) {
        // Pull most calls into 08:00–18:59 UTC.
        let hour = rng.random_range(8..19);
        started_at = started_at.with_hour(hour).unwrap_or(started_at);
        if started_at > now {
            started_at -= TimeDelta::days(1);
        }
    }
    let inbound = rng.random_bool(0.55);
    let status = match rng.random_range(0..100) {
        0..70 => CallStatus::Completed,
        70..82 => CallStatus::NoAnswer,
        82..88 => CallStatus::Busy,
        88..92 => CallStatus::Failed,
        _ => CallStatus::Canceled,
    };
    let duration = if status == CallStatus::Completed {
        // Mostly short calls with a long tail.
        let minutes = -rng.random::<f64>().max(1e-9).ln() * 3.0;
        ((minutes * 60.0) as i32).clamp(3, 86_400)
    } else {
        0
    };
    let own = line.phone_number.clone();
    let (caller, called) = if inbound {
        (counterpart.clone(), own)
    } else {
        (own, counterpart.clone())
    };
    call_logs::ActiveModel {
        id: Set(Uuid::now_v7()),
        virtual_number_id: Set(line.id),
        owner_id: Set(line.owner_id),
        direction: Set(if inbound {
            CallDirection::Inbound
        } else {
            CallDirection::Outbound
        }),
        status: Set(status),
        caller_number: Set(caller),
        called_number: Set(called),
        counterpart_number: Set(counterpart),
        counterpart_kind: Set(CounterpartKind::Number),
        counterpart_extension: Set(None),
        started_at: Set(entity::stored_precision(started_at)),
        duration_seconds: Set(duration),
        external_id: Set(None),
        created_at: Set(now),
        seq: NotSet,
    }
}

/// A few calls whose other party has no number: 4% of inbound calls come from
/// withheld caller ids, 1% of outbound calls go to a short code (the line's
/// emergency number or an SMS short code).
fn with_demo_counterpart(
    rng: &mut StdRng,
    line: &virtual_numbers::Model,
    mut call: call_logs::ActiveModel,
) -> call_logs::ActiveModel {
    let inbound = matches!(call.direction, Set(CallDirection::Inbound));
    let (kind, digits) = match rng.random_range(0..100) {
        0..4 if inbound => (CounterpartKind::Withheld, String::new()),
        0..1 if !inbound => {
            let emergency = match &line.phone_number {
                number if number.starts_with("+1") => "911",
                number if number.starts_with("+44") => "999",
                _ => "112",
            };
            let code = if rng.random_bool(0.5) { emergency } else { "40404" };
            (CounterpartKind::ShortCode, code.to_owned())
        }
        _ => return call,
    };
    if inbound {
        call.caller_number = Set(digits.clone());
    } else {
        call.called_number = Set(digits.clone());
    }
    call.counterpart_number = Set(digits);
    call.counterpart_kind = Set(kind);
    call
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_first_users_are_heavy_and_users_without_lines_get_no_calls() {
        let shares = super::call_shares(&[0..10, 10..20, 20..30, 30..40, 40..50, 50..50]);
        assert_eq!(shares, [91.0, 3.0, 3.0, 1.0, 1.0, 0.0]);
        let lone: Vec<_> = std::iter::once(0..10).collect();
        assert_eq!(super::call_shares(&lone), [91.0], "a lone user gets every call");
    }
}
