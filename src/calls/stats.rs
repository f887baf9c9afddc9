//! Call statistics, aggregated in the database: totals over the filtered logs
//! and, optionally, buckets by hour, day, week (from Monday) or month in an
//! IANA time zone. PostgreSQL buckets with `AT TIME ZONE`; SQLite, which has no
//! time zones, with the zone's UTC offsets over the range, DST changes included.

use chrono::{DateTime, LocalResult, NaiveDateTime, Offset, SecondsFormat, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use sea_orm::{DbBackend, FromQueryResult, QueryFilter, QueryOrder, QuerySelect, prelude::*, sea_query::Expr};

use super::{CallFilter, CallService, service::scope};
use crate::{auth::Viewer, entity::call_logs, error::AppError};

/// How long each bucket is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Hour,
    Day,
    Week,
    Month,
}

/// The figures of a set of calls.
#[derive(Debug, Clone, Default, PartialEq, Eq, FromQueryResult)]
pub struct Figures {
    pub total_calls: i64,
    pub inbound_calls: i64,
    pub outbound_calls: i64,
    pub completed_calls: i64,
    /// Inbound calls nobody answered: NO_ANSWER, BUSY or CANCELED.
    pub missed_calls: i64,
    pub total_duration_seconds: i64,
}

impl Figures {
    /// Mean talk time of completed calls (the others last 0 s); 0 when there are none.
    pub fn average_duration_seconds(&self) -> f64 {
        if self.completed_calls == 0 {
            0.0
        } else {
            self.total_duration_seconds as f64 / self.completed_calls as f64
        }
    }
}

/// One period's figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    pub period_start: DateTime<Utc>,
    pub figures: Figures,
}

#[derive(Debug, FromQueryResult)]
struct BucketRow {
    period: String,
    total_calls: i64,
    inbound_calls: i64,
    outbound_calls: i64,
    completed_calls: i64,
    missed_calls: i64,
    total_duration_seconds: i64,
}

/// Reads an IANA zone name (`America/New_York`); unknown names are `BAD_USER_INPUT`.
pub fn parse_time_zone(name: &str) -> Result<Tz, AppError> {
    name.trim().parse::<Tz>().map_err(|_| {
        AppError::bad_input(
            "timeZone",
            format!("`{name}` is not an IANA time zone such as Europe/Paris"),
        )
    })
}

const FIGURES: [(&str, &str); 6] = [
    ("total_calls", "COUNT(*)"),
    (
        "inbound_calls",
        "COALESCE(SUM(CASE WHEN direction = 'inbound' THEN 1 ELSE 0 END), 0)",
    ),
    (
        "outbound_calls",
        "COALESCE(SUM(CASE WHEN direction = 'outbound' THEN 1 ELSE 0 END), 0)",
    ),
    (
        "completed_calls",
        "COALESCE(SUM(CASE WHEN status = 'completed' THEN 1 ELSE 0 END), 0)",
    ),
    (
        "missed_calls",
        "COALESCE(SUM(CASE WHEN direction = 'inbound' AND status IN ('no_answer', 'busy', 'canceled') THEN 1 ELSE 0 END), 0)",
    ),
    ("total_duration_seconds", "COALESCE(SUM(duration_seconds), 0)"),
];

impl CallService {
    /// Totals over the logs the viewer may read, narrowed by `filter`.
    pub async fn totals(&self, viewer: &Viewer, filter: &CallFilter) -> Result<Figures, AppError> {
        let mut query = call_logs::Entity::find().filter(scope(viewer, filter)).select_only();
        for (alias, sql) in FIGURES {
            query = query.column_as(Expr::cust(sql), alias);
        }
        Ok(query.into_model::<Figures>().one(&self.db).await?.unwrap_or_default())
    }

    /// Figures per period in `zone`, oldest first; periods without calls are left out.
    pub async fn buckets(
        &self,
        viewer: &Viewer,
        filter: &CallFilter,
        period: Period,
        zone: Tz,
    ) -> Result<Vec<Bucket>, AppError> {
        let backend = &self.db.get_database_backend();
        let bucket = match backend {
            DbBackend::Postgres => postgres_bucket(period, zone),
            _ => match self.range(viewer, filter).await? {
                Some((first, last)) => sqlite_bucket(period, zone, first, last),
                None => return Ok(Vec::new()),
            },
        };
        let mut query = call_logs::Entity::find()
            .filter(scope(viewer, filter))
            .select_only()
            .column_as(Expr::cust(bucket), "period");
        for (alias, sql) in FIGURES {
            query = query.column_as(Expr::cust(sql), alias);
        }
        let rows = query
            .group_by(Expr::cust("1"))
            .order_by_asc(Expr::cust("1"))
            .into_model::<BucketRow>()
            .all(&self.db)
            .await?;
        rows.into_iter().map(|row| bucket_of(row, zone)).collect()
    }

    /// The first and last start times among the filtered logs.
    async fn range(
        &self,
        viewer: &Viewer,
        filter: &CallFilter,
    ) -> Result<Option<(DateTime<Utc>, DateTime<Utc>)>, AppError> {
        type FirstAndLast = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);
        let row: Option<FirstAndLast> = call_logs::Entity::find()
            .filter(scope(viewer, filter))
            .select_only()
            .column_as(call_logs::Column::StartedAt.min(), "first")
            .column_as(call_logs::Column::StartedAt.max(), "last")
            .into_tuple()
            .one(&self.db)
            .await?;
        Ok(match row {
            Some((Some(first), Some(last))) => Some((first, last)),
            _ => None,
        })
    }
}

/// PostgreSQL: truncate the local wall-clock time (`date_trunc('week')` starts on Monday).
fn postgres_bucket(period: Period, zone: Tz) -> String {
    let unit = match period {
        Period::Hour => "hour",
        Period::Day => "day",
        Period::Week => "week",
        Period::Month => "month",
    };
    // `zone` is a name chrono-tz knows (letters, digits, `/_+-`), so it is safe inline.
    format!(
        "to_char(date_trunc('{unit}', started_at AT TIME ZONE '{}'), 'YYYY-MM-DD HH24:MI:SS')",
        zone.name()
    )
}

/// SQLite: shift each start time by the zone's offset in force at that instant
/// (a CASE over the offset changes between `first` and `last`), then truncate.
fn sqlite_bucket(period: Period, zone: Tz, first: DateTime<Utc>, last: DateTime<Utc>) -> String {
    let segments = offset_segments(zone, first, last);
    // `offset_segments` always ends with the offset in force at `last`.
    let utc = (last, 0);
    let ((_, final_minutes), changes) = segments.split_last().unwrap_or((&utc, &[]));
    // Start times are stored as RFC 3339 text (AutoSi), so text comparison is time order.
    let mut shift = format!("'{final_minutes:+} minutes'");
    if !changes.is_empty() {
        let whens: String = changes
            .iter()
            .map(|(until, minutes)| {
                let until = until.to_rfc3339_opts(SecondsFormat::AutoSi, false);
                format!(" WHEN started_at < '{until}' THEN '{minutes:+} minutes'")
            })
            .collect();
        shift = format!("CASE{whens} ELSE {shift} END");
    }
    match period {
        Period::Hour => format!("strftime('%Y-%m-%d %H:00:00', started_at, {shift})"),
        Period::Day => format!("strftime('%Y-%m-%d 00:00:00', started_at, {shift})"),
        // Back six days, then forward to the next Monday: the Monday on or before.
        Period::Week => format!("strftime('%Y-%m-%d 00:00:00', started_at, {shift}, '-6 days', 'weekday 1')"),
        Period::Month => format!("strftime('%Y-%m-01 00:00:00', started_at, {shift})"),
    }
}

/// The zone's UTC offsets (in minutes) from `first` to `last`: each entry holds
/// until the instant given (the last one holds on).
fn offset_segments(zone: Tz, first: DateTime<Utc>, last: DateTime<Utc>) -> Vec<(DateTime<Utc>, i32)> {
    let offset_at = |at: DateTime<Utc>| zone.offset_from_utc_datetime(&at.naive_utc()).fix().local_minus_utc() / 60;
    let mut segments = Vec::new();
    let mut at = first;
    let mut current = offset_at(at);
    // Offsets change at most a few times a year; stepping by hours finds each change,
    // and a binary search pins it to the second.
    while at < last {
        let next = (at + TimeDelta::hours(1)).min(last);
        if offset_at(next) != current {
            let (mut before, mut after) = (at, next);
            while after - before > TimeDelta::seconds(1) {
                let middle = before + (after - before) / 2;
                if offset_at(middle) == current {
                    before = middle
                } else {
                    after = middle
                }
            }
            segments.push((after, current));
            current = offset_at(after);
        }
        at = next;
    }
    segments.push((last, current));
    segments
}

fn bucket_of(row: BucketRow, zone: Tz) -> Result<Bucket, AppError> {
    let local = NaiveDateTime::parse_from_str(&row.period, "%Y-%m-%d %H:%M:%S")
        .map_err(|error| AppError::Internal(anyhow::anyhow!("reading the stats bucket `{}`: {error}", row.period)))?;
    // A local midnight may fall twice (take the first) or not at all (take the hour after).
    let period_start = match zone.from_local_datetime(&local) {
        LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => at,
        LocalResult::None => zone
            .from_local_datetime(&(local + TimeDelta::hours(1)))
            .earliest()
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no instant for local time {local} in {zone}")))?,
    };
    Ok(Bucket {
        period_start: period_start.with_timezone(&Utc),
        figures: Figures {
            total_calls: row.total_calls,
            inbound_calls: row.inbound_calls,
            outbound_calls: row.outbound_calls,
            completed_calls: row.completed_calls,
            missed_calls: row.missed_calls,
            total_duration_seconds: row.total_duration_seconds,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_segments_find_each_dst_change_to_the_second() {
        let zone: Tz = "America/New_York".parse().unwrap();
        let first = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        let last = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();

        let segments = offset_segments(zone, first, last);

        assert_eq!(
            segments,
            vec![
                (Utc.with_ymd_and_hms(2026, 3, 8, 7, 0, 0).unwrap(), -300),
                (Utc.with_ymd_and_hms(2026, 11, 1, 6, 0, 0).unwrap(), -240),
                (last, -300),
            ]
        );
    }

    #[test]
    fn unknown_zones_are_bad_input() {
        assert!(parse_time_zone("Mars/Olympus_Mons").is_err());
        assert!(parse_time_zone("Asia/Kolkata").is_ok());
    }
}
