//! Call statistics, aggregated in the database: totals over the filtered logs
//! and, optionally, buckets by hour, day, week (from Monday) or month in an
//! IANA time zone, DST changes included.

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use sea_orm::{
    Condition, FromQueryResult, Iterable, Order, QueryFilter, QuerySelect,
    prelude::*,
    sea_query::{Alias, Expr, ExprTrait, Func, Query, SimpleExpr},
};

use super::{
    CallDirection, CallFilter, CallService, CallStatus,
    periods::{Period, period_starts},
    service::scope,
};
use crate::{
    auth::Viewer,
    entity::call_logs::{self, Column},
    error::AppError,
};

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
    /// The figures of two sets of calls together; `None` rather than a wrapped sum.
    pub fn plus(&self, other: &Figures) -> Option<Figures> {
        Some(Figures {
            total_calls: self.total_calls.checked_add(other.total_calls)?,
            inbound_calls: self.inbound_calls.checked_add(other.inbound_calls)?,
            outbound_calls: self.outbound_calls.checked_add(other.outbound_calls)?,
            completed_calls: self.completed_calls.checked_add(other.completed_calls)?,
            missed_calls: self.missed_calls.checked_add(other.missed_calls)?,
            total_duration_seconds: self.total_duration_seconds.checked_add(other.total_duration_seconds)?,
        })
    }

    /// Mean talk time of completed calls (the others last 0 s); 0 when there are none.
    pub fn average_duration_seconds(&self) -> f64 {
        if self.completed_calls == 0 {
            0.0
        } else {
            self.total_duration_seconds as f64 / self.completed_calls as f64
        }
    }
}

/// One period's figures (a row of the bucket queries: `period_start` and the figures' columns).
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct Bucket {
    pub period_start: DateTime<Utc>,
    #[sea_orm(nested)]
    pub figures: Figures,
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

/// How many filtered calls meet `condition`.
fn count_where(condition: SimpleExpr) -> SimpleExpr {
    let ones = Expr::case(condition, Expr::val(1)).finally(Expr::val(0));
    Func::coalesce([Expr::from(Func::sum(ones)), Expr::val(0)]).into()
}

fn column(column: Column) -> Expr {
    Expr::col((call_logs::Entity, column))
}

/// The figures as SQL, built from the typed values (never from spelled-out
/// strings), so the statistics cannot disagree with what `record` stores.
pub(super) fn figures() -> [(&'static str, SimpleExpr); 6] {
    let missed = CallStatus::iter().filter(|status| status.is_missed());
    [
        // Counting a column of the covering index keeps the scan index-only.
        ("total_calls", column(Column::StartedAt).count()),
        (
            "inbound_calls",
            count_where(column(Column::Direction).eq(CallDirection::Inbound)),
        ),
        (
            "outbound_calls",
            count_where(column(Column::Direction).eq(CallDirection::Outbound)),
        ),
        (
            "completed_calls",
            count_where(column(Column::Status).eq(CallStatus::Completed)),
        ),
        (
            "missed_calls",
            count_where(
                column(Column::Direction)
                    .eq(CallDirection::Inbound)
                    .and(column(Column::Status).is_in(missed)),
            ),
        ),
        (
            "total_duration_seconds",
            Func::coalesce([Expr::from(Func::sum(column(Column::DurationSeconds))), Expr::val(0)]).into(),
        ),
    ]
}

impl CallService {
    /// Totals over the logs the viewer may read, narrowed by `filter`: from the
    /// rollups where they can answer, otherwise from the calls.
    pub async fn totals(&self, viewer: &Viewer, filter: &CallFilter) -> Result<Figures, AppError> {
        match self.rollup_totals(viewer, filter).await? {
            Some(figures) => Ok(figures),
            None => self.raw_totals(viewer, filter).await,
        }
    }

    /// Figures per period in `zone`, oldest first, empty periods included: from
    /// the rollups where they can answer, otherwise from the calls.
    pub async fn buckets(
        &self,
        viewer: &Viewer,
        filter: &CallFilter,
        period: Period,
        zone: Tz,
    ) -> Result<Vec<Bucket>, AppError> {
        match self.rollup_buckets(viewer, filter, period, zone).await? {
            Some(buckets) => Ok(buckets),
            None => self.raw_buckets(viewer, filter, period, zone).await,
        }
    }

    /// Totals read from every filtered call.
    pub(super) async fn raw_totals(&self, viewer: &Viewer, filter: &CallFilter) -> Result<Figures, AppError> {
        let mut query = call_logs::Entity::find().filter(scope(viewer, filter)).select_only();
        for (alias, expression) in figures() {
            query = query.column_as(expression, alias);
        }
        Ok(query
            .into_model::<Figures>()
            .one(&self.analytics)
            .await?
            .unwrap_or_default())
    }

    /// Figures per period in `zone`, read from every filtered call. The
    /// periods are worked out here (chrono-tz knows every DST rule) and sent as a
    /// VALUES list; the database joins each to its index range of calls and sums
    /// them, so one code path serves both databases and nothing is sorted.
    pub(super) async fn raw_buckets(
        &self,
        viewer: &Viewer,
        filter: &CallFilter,
        period: Period,
        zone: Tz,
    ) -> Result<Vec<Bucket>, AppError> {
        let (first, end) = match (filter.started_after, filter.started_before) {
            (Some(first), Some(end)) => (first, end),
            (after, before) => match self.range(viewer, filter).await? {
                Some((first, last)) => (
                    after.unwrap_or(first),
                    before.unwrap_or(last + TimeDelta::microseconds(1)),
                ),
                None => return Ok(Vec::new()),
            },
        };
        let starts = period_starts(period, zone, first, end)?;
        if starts.len() < 2 {
            return Ok(Vec::new());
        }
        let periods = starts.windows(2).map(|pair| (pair[0], pair[1]));
        let bucket = Alias::new("bucket");
        let (from, until) = (Alias::new("column1"), Alias::new("column2"));
        let mut query = Query::select();
        query
            .expr_as(Expr::col((bucket.clone(), from.clone())), Alias::new("period_start"))
            .from_values(periods, bucket.clone())
            .left_join(
                call_logs::Entity,
                Condition::all()
                    .add(
                        Expr::col((call_logs::Entity, call_logs::Column::StartedAt))
                            .gte(Expr::col((bucket.clone(), from.clone()))),
                    )
                    .add(
                        Expr::col((call_logs::Entity, call_logs::Column::StartedAt))
                            .lt(Expr::col((bucket.clone(), until))),
                    )
                    .add(scope(viewer, filter)),
            )
            .group_by_col((bucket.clone(), from.clone()))
            .order_by((bucket, from), Order::Asc);
        for (alias, expression) in figures() {
            query.expr_as(expression, Alias::new(alias));
        }
        let statement = self.db.get_database_backend().build(&query);
        Ok(Bucket::find_by_statement(statement).all(&self.analytics).await?)
    }

    /// The first and last start times among the filtered logs.
    pub(super) async fn range(
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
            .one(&self.analytics)
            .await?;
        Ok(match row {
            Some((Some(first), Some(last))) => Some((first, last)),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_zones_are_bad_input() {
        assert!(parse_time_zone("Mars/Olympus_Mons").is_err());
        assert!(parse_time_zone("Asia/Kolkata").is_ok());
    }
}
