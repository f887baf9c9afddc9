//! The periods `callStats` groups by: local hours, days, weeks (from Monday)
//! and months in an IANA time zone, as UTC instants, DST changes included.

use chrono::{DateTime, Datelike, LocalResult, Months, NaiveDateTime, TimeDelta, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

use crate::error::AppError;

/// How long each bucket is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Hour,
    Day,
    Week,
    Month,
}

/// Most buckets one request may ask for (an HOUR a day for seven months, say).
pub const MAX_BUCKETS: usize = 5_000;

/// The starts of the periods that cover `[first, end)` in `zone`, and the end of
/// the last one: local midnights (hours, Mondays, firsts) as instants.
pub fn period_starts(
    period: Period,
    zone: Tz,
    first: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<DateTime<Utc>>, AppError> {
    let local = first.with_timezone(&zone).naive_local();
    let mut at = match period {
        Period::Hour => local.date().and_hms_opt(local.hour(), 0, 0),
        Period::Day => local.date().and_hms_opt(0, 0, 0),
        Period::Week => {
            (local.date() - TimeDelta::days(i64::from(local.weekday().num_days_from_monday()))).and_hms_opt(0, 0, 0)
        }
        Period::Month => local.date().with_day(1).and_then(|day| day.and_hms_opt(0, 0, 0)),
    }
    .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no period start for {local}")))?;
    let mut starts = Vec::new();
    loop {
        let instant = instant_of(zone, at);
        if let Some(&previous) = starts.last()
            && instant <= previous
        {
            // A local hour that never happens (clocks spring forward over it) names
            // the same instant as the hour after it: keep one period. (A local hour
            // that happens twice, when DST ends, is one two-hour period from its
            // first occurrence: `instant_of` picks the earliest.)
        } else {
            starts.push(instant);
        }
        if instant >= end {
            return Ok(starts);
        }
        if starts.len() > MAX_BUCKETS {
            return Err(AppError::bad_input(
                "groupBy",
                format!("that is more than {MAX_BUCKETS} periods; narrow the range or group by a longer period"),
            ));
        }
        let next = match period {
            Period::Hour => at.checked_add_signed(TimeDelta::hours(1)),
            Period::Day => at.checked_add_signed(TimeDelta::days(1)),
            Period::Week => at.checked_add_signed(TimeDelta::weeks(1)),
            Period::Month => at.checked_add_months(Months::new(1)),
        };
        // Filters are bounded to years 1970–9999 (see `filter_instant`), far from
        // chrono's limits; refuse rather than overflow should that ever change.
        at = next
            .ok_or_else(|| AppError::bad_input("groupBy", "those periods reach past the last date this API knows"))?;
    }
}

/// The instant a local wall-clock time names: the first if it happens twice, the
/// end of the gap if it never happens (clocks sprang forward over it).
fn instant_of(zone: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => at.with_timezone(&Utc),
        LocalResult::None => {
            let mut later = local;
            loop {
                // No zone skips more than a day, so this ends long before chrono's limits.
                later += TimeDelta::minutes(15);
                if let Some(at) = zone.from_local_datetime(&later).earliest() {
                    return at.with_timezone(&Utc);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_york_days_start_at_local_midnight_across_the_spring_change() {
        let zone: Tz = "America/New_York".parse().unwrap();
        let first = Utc.with_ymd_and_hms(2026, 3, 7, 12, 0, 0).unwrap();
        let end = Utc.with_ymd_and_hms(2026, 3, 9, 12, 0, 0).unwrap();

        let starts = period_starts(Period::Day, zone, first, end).unwrap();

        assert_eq!(
            starts,
            vec![
                Utc.with_ymd_and_hms(2026, 3, 7, 5, 0, 0).unwrap(),
                Utc.with_ymd_and_hms(2026, 3, 8, 5, 0, 0).unwrap(),
                Utc.with_ymd_and_hms(2026, 3, 9, 4, 0, 0).unwrap(),
                Utc.with_ymd_and_hms(2026, 3, 10, 4, 0, 0).unwrap(),
            ]
        );
    }

    #[test]
    fn too_many_periods_are_refused() {
        let first = Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap();
        let end = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        assert!(period_starts(Period::Hour, Tz::UTC, first, end).is_err());
        assert_eq!(period_starts(Period::Month, Tz::UTC, first, end).unwrap().len(), 73);
    }
}
