//! Local time in SQL: a zone's offsets from UTC over a span (found here with
//! chrono-tz, DST changes included) applied to each call's start, giving its
//! local hour and weekday with the same SQL on SQLite and PostgreSQL.

use chrono::{DateTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use sea_orm::{
    DbBackend,
    sea_query::{CaseStatement, Expr, ExprTrait},
};

use crate::entity::call_logs::{self, Column};

/// The zone's offsets from UTC over a span of time: from each instant on (the
/// first from the start of time), this many seconds east of UTC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneOffsets(Vec<(DateTime<Utc>, i64)>);

/// Checked for an offset change this often; no zone changes twice in six hours.
const OFFSET_STEP: TimeDelta = TimeDelta::hours(6);

impl ZoneOffsets {
    /// The offsets `zone` has between `first` and `last` (found by stepping and
    /// then bisecting to the second: chrono-tz knows every rule, but lists none).
    pub fn between(zone: Tz, first: DateTime<Utc>, last: DateTime<Utc>) -> Self {
        let offset =
            |at: DateTime<Utc>| i64::from(zone.offset_from_utc_datetime(&at.naive_utc()).fix().local_minus_utc());
        // Whole seconds, so bisection lands exactly on a change (they fall on whole seconds).
        let mut at = DateTime::from_timestamp(first.timestamp(), 0).unwrap_or(first);
        let mut current = offset(at);
        let mut offsets = vec![(at, current)];
        while at < last {
            let next = Ord::min(at + OFFSET_STEP, last);
            if offset(next) == current {
                at = next;
                continue;
            }
            let (mut before, mut after) = (at, next);
            while (after - before) > TimeDelta::seconds(1) {
                let middle = before + TimeDelta::seconds((after - before).num_seconds() / 2);
                if offset(middle) == current {
                    before = middle;
                } else {
                    after = middle;
                }
            }
            current = offset(after);
            offsets.push((after, current));
            at = after;
        }
        ZoneOffsets(offsets)
    }

    /// A call's offset as SQL: the newest span first, where most calls are.
    fn offset_of(&self, started_at: Expr) -> Expr {
        let Some((&(_, oldest), later)) = self.0.split_first() else {
            return Expr::val(0i64);
        };
        if later.is_empty() {
            return Expr::val(oldest);
        }
        let mut case = CaseStatement::new();
        for &(from, offset) in later.iter().rev() {
            case = case.case(started_at.clone().gte(from), Expr::val(offset));
        }
        case.finally(Expr::val(oldest)).into()
    }
}

impl ZoneOffsets {
    /// Whether every offset, and every instant one starts, is a whole number of
    /// quarter hours (so rollup buckets never straddle a local hour).
    pub fn whole_quarter_hours(&self) -> bool {
        self.0
            .iter()
            .all(|(from, offset)| offset % 900 == 0 && (from.timestamp() % 900 == 0 || from == &self.0[0].0))
    }

    /// The offset in force at `seconds` (Unix seconds, as SQL).
    pub fn offset_of_epoch(&self, seconds: Expr) -> Expr {
        let Some(((_, oldest), later)) = self.0.split_first() else {
            return Expr::val(0i64);
        };
        if later.is_empty() {
            return Expr::val(*oldest);
        }
        let mut case = CaseStatement::new();
        for &(from, offset) in later.iter().rev() {
            case = case.case(seconds.clone().gte(from.timestamp()), Expr::val(offset));
        }
        case.finally(Expr::val(*oldest)).into()
    }
}

/// A rollup bucket's local time in seconds since the epoch (plus a week), in SQL.
pub fn local_seconds_of_epoch(seconds: Expr, offsets: &ZoneOffsets) -> Expr {
    seconds
        .clone()
        .add(offsets.offset_of_epoch(seconds).add(Expr::val(WEEK_SECONDS)))
}

/// Added to local seconds so they stay positive before 1970-01-01 local time
/// (a call at 00:00 UTC that day is 1969 in New York); a whole week, so
/// neither the hour nor the weekday moves.
const WEEK_SECONDS: i64 = 7 * 86_400;
/// 1970-01-01 was a Thursday: three days after a Monday.
const EPOCH_DAYS_FROM_MONDAY: i64 = 3;

/// A call's local time in seconds since the epoch (plus a week), in SQL.
pub fn local_seconds(backend: DbBackend, offsets: &ZoneOffsets) -> Expr {
    let started_at = Expr::col((call_logs::Entity, Column::StartedAt));
    let epoch = match backend {
        DbBackend::Postgres => {
            Expr::cust_with_expr("CAST(FLOOR(EXTRACT(EPOCH FROM $1)) AS BIGINT)", started_at.clone())
        }
        // SQLite keeps RFC 3339 text, which its date functions read (`?` is its placeholder).
        _ => Expr::cust_with_expr("CAST(strftime('%s', ?) AS INTEGER)", started_at.clone()),
    };
    epoch.add(offsets.offset_of(started_at).add(Expr::val(WEEK_SECONDS)))
}

pub fn hour_of_day(local: Expr) -> Expr {
    local.div(Expr::val(3_600i64)).modulo(Expr::val(24i64))
}

pub fn day_of_week(local: Expr) -> Expr {
    local
        .div(Expr::val(86_400i64))
        .add(Expr::val(EPOCH_DAYS_FROM_MONDAY))
        .modulo(Expr::val(7i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_york_changes_offset_at_the_law_s_instants() {
        let zone: Tz = "America/New_York".parse().unwrap();
        let first = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let last = Utc.with_ymd_and_hms(2026, 12, 31, 0, 0, 0).unwrap();

        let offsets = ZoneOffsets::between(zone, first, last);

        assert_eq!(
            offsets.0,
            vec![
                (first, -5 * 3600),
                (Utc.with_ymd_and_hms(2026, 3, 8, 7, 0, 0).unwrap(), -4 * 3600),
                (Utc.with_ymd_and_hms(2026, 11, 1, 6, 0, 0).unwrap(), -5 * 3600),
            ]
        );
        let kolkata = ZoneOffsets::between("Asia/Kolkata".parse().unwrap(), first, last);
        assert_eq!(kolkata.0, vec![(first, 5 * 3600 + 1800)]);
    }
}
