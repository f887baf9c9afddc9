//! Statistics that cost what the answer costs: the rollup tables (see
//! `entity::call_rollups`) hold, per owner and per number and quarter hour
//! (UTC), the calls of every direction × status × counterpart kind and the
//! talk time of every direction × counterpart kind, added to in the
//! transaction that records each call.
//!
//! Every offset of every current IANA zone is a whole number of quarter hours
//! (India's +05:30, Nepal's +05:45 and Chatham's +12:45 included), so a local
//! hour, day, week or month is a whole run of buckets. The same figures are
//! kept per UTC hour too, and a period is read as the whole hours inside it
//! and the quarter hours at its ends: `callStats` sums 24 rows a day in a
//! whole-hour zone, and at most 23 + 4 in any other, instead of reading every
//! call. What the buckets
//! cannot answer exactly is read from the calls themselves: the part of a
//! range whose bounds fall inside a quarter hour, a filter on
//! `counterpartNumber`, and periods of a zone whose boundaries are not quarter
//! hours (local mean time before standard time, say). The answer is the same
//! either way (a test compares them on random calls and questions).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::{
    ConnectionTrait, DbBackend, FromQueryResult, Iterable, TransactionTrait,
    prelude::*,
    sea_query::{
        Alias, CommonTableExpression, Expr, ExprTrait, Func, JoinType, OnConflict, Query, SelectStatement, SimpleExpr,
        UnionType, WithClause,
    },
};

use super::{
    CallFilter, CallService,
    periods::{Period, period_starts},
    stats::{Bucket, Figures},
};
use crate::{
    auth::Viewer,
    entity::{
        call_logs::{self, CallDirection, CallStatus, CounterpartKind},
        call_rollups::{
            BUCKET_SECONDS, HOUR_SECONDS, NUMBER_HOUR_TABLE, NUMBER_TABLE, OWNER_HOUR_TABLE, OWNER_TABLE,
            TOTAL_COLUMNS, TOTALS_TABLE, count_column, duration_column,
        },
        sequences,
    },
    error::AppError,
};

/// The start of the bucket `instant` falls in, as Unix seconds.
pub fn bucket_of(instant: DateTime<Utc>) -> i64 {
    Grain::Quarter.start_of(instant.timestamp())
}

fn is_bucket_boundary(instant: DateTime<Utc>) -> bool {
    instant.timestamp_subsec_nanos() == 0 && instant.timestamp().rem_euclid(BUCKET_SECONDS) == 0
}

fn instant(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Every count column with what it counts, then every talk-time column.
fn count_columns() -> Vec<(CallDirection, CallStatus, CounterpartKind)> {
    let mut columns = Vec::new();
    for direction in CallDirection::iter() {
        for status in CallStatus::iter() {
            for kind in CounterpartKind::iter() {
                columns.push((direction, status, kind));
            }
        }
    }
    columns
}

fn duration_columns() -> Vec<(CallDirection, CounterpartKind)> {
    CallDirection::iter()
        .flat_map(|direction| CounterpartKind::iter().map(move |kind| (direction, kind)))
        .collect()
}

/// The four tables, the key each is kept by and the length of its buckets.
const TABLES: [(&str, &str, Grain); 4] = [
    (OWNER_TABLE, "owner_id", Grain::Quarter),
    (NUMBER_TABLE, "virtual_number_id", Grain::Quarter),
    (OWNER_HOUR_TABLE, "owner_id", Grain::Hour),
    (NUMBER_HOUR_TABLE, "virtual_number_id", Grain::Hour),
];

/// How long a rollup table's buckets are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Grain {
    Quarter,
    Hour,
}

impl Grain {
    fn seconds(self) -> i64 {
        match self {
            Grain::Quarter => BUCKET_SECONDS,
            Grain::Hour => HOUR_SECONDS,
        }
    }

    /// The start of the bucket Unix second `second` falls in, whatever its sign.
    fn start_of(self, second: i64) -> i64 {
        second.div_euclid(self.seconds()) * self.seconds()
    }

    /// The table a filter reads at this grain: one number's rows, or the owners'.
    fn table_for(self, filter: &CallFilter) -> Alias {
        let by_number = filter.virtual_number_id.is_some();
        Alias::new(match (self, by_number) {
            (Grain::Quarter, true) => NUMBER_TABLE,
            (Grain::Quarter, false) => OWNER_TABLE,
            (Grain::Hour, true) => NUMBER_HOUR_TABLE,
            (Grain::Hour, false) => OWNER_HOUR_TABLE,
        })
    }
}

/// A range of whole quarter hours `[from, until)` (Unix seconds, either end
/// open) as the whole UTC hours inside it, read from the hourly tables, and
/// the quarter hours at either end.
fn by_hours(from: Option<i64>, until: Option<i64>) -> Vec<(Grain, Option<i64>, Option<i64>)> {
    let first_hour = from.map(|from| Grain::Hour.start_of(from + HOUR_SECONDS - 1));
    let last_hour = until.map(|until| Grain::Hour.start_of(until));
    if let (Some(from), Some(until)) = (from, until)
        && from >= until
    {
        return Vec::new();
    }
    if let (Some(first_hour), Some(last_hour)) = (first_hour, last_hour)
        && first_hour >= last_hour
    {
        return vec![(Grain::Quarter, from, until)];
    }
    let mut parts = vec![(Grain::Hour, first_hour, last_hour)];
    if let (Some(from), Some(first_hour)) = (from, first_hour)
        && from < first_hour
    {
        parts.push((Grain::Quarter, Some(from), Some(first_hour)));
    }
    if let (Some(last_hour), Some(until)) = (last_hour, until)
        && last_hour < until
    {
        parts.push((Grain::Quarter, Some(last_hour), Some(until)));
    }
    parts
}

/// Adds a newly recorded call to its buckets, in the transaction that records it.
pub async fn add(transaction: &impl ConnectionTrait, log: &call_logs::Model) -> Result<(), AppError> {
    let count = count_column(log.direction, log.status, log.counterpart_kind);
    let duration = duration_column(log.direction, log.counterpart_kind);
    let mut statements = Vec::with_capacity(TABLES.len() + 1);
    for (table, key, grain) in TABLES {
        let table = Alias::new(table);
        let mut columns = vec![Alias::new(key), Alias::new("bucket_start")];
        let mut values: Vec<SimpleExpr> = vec![
            Expr::val(if key == "owner_id" {
                log.owner_id
            } else {
                log.virtual_number_id
            }),
            Expr::val(grain.start_of(log.started_at.timestamp())),
        ];
        if key != "owner_id" {
            columns.push(Alias::new("owner_id"));
            values.push(Expr::val(log.owner_id));
        }
        columns.push(Alias::new(&count));
        values.push(Expr::val(1i64));
        columns.push(Alias::new(&duration));
        values.push(Expr::val(i64::from(log.duration_seconds)));
        let statement = Query::insert()
            .into_table(table.clone())
            .columns(columns)
            .values_panic(values)
            .on_conflict(
                OnConflict::columns([Alias::new(key), Alias::new("bucket_start")])
                    .value(
                        Alias::new(&count),
                        Expr::col((table.clone(), Alias::new(&count))).add(Expr::cust(format!("excluded.{count}"))),
                    )
                    .value(
                        Alias::new(&duration),
                        Expr::col((table.clone(), Alias::new(&duration)))
                            .add(Expr::cust(format!("excluded.{duration}"))),
                    )
                    .to_owned(),
            )
            .to_owned();
        statements.push(statement);
    }
    let totals = Alias::new(TOTALS_TABLE);
    let last = Query::insert()
        .into_table(totals.clone())
        .columns([
            Alias::new("virtual_number_id"),
            Alias::new("owner_id"),
            Alias::new("calls"),
        ])
        .values_panic([
            Expr::val(log.virtual_number_id),
            Expr::val(log.owner_id),
            Expr::val(1i64),
        ])
        .on_conflict(
            OnConflict::column(Alias::new("virtual_number_id"))
                .value(
                    Alias::new("calls"),
                    Expr::col((totals.clone(), Alias::new("calls"))).add(Expr::cust("excluded.calls")),
                )
                .to_owned(),
        )
        .to_owned();
    if transaction.get_database_backend() == DbBackend::Postgres {
        // One statement: the recording transaction holds the call-log counter
        // every other recording waits for, so each round trip it saves is
        // saved for all of them.
        let mut with = WithClause::new();
        for (index, statement) in statements.into_iter().enumerate() {
            with.cte(
                CommonTableExpression::new()
                    .query(statement)
                    .table_name(Alias::new(format!("rollup_{index}")))
                    .to_owned(),
            );
        }
        transaction.execute(&last.with(with)).await?;
    } else {
        statements.push(last);
        for statement in statements {
            transaction.execute(&statement).await?;
        }
    }
    Ok(())
}

/// Recomputes every rollup from the calls (`switchboard rollups rebuild`, and
/// after a bulk load). Recording waits meanwhile: the rebuild holds the row
/// of the counter every recording takes first.
pub async fn rebuild(db: &DatabaseConnection) -> Result<u64, AppError> {
    let backend = db.get_database_backend();
    let transaction = db.begin().await?;
    sequences::take(&transaction, sequences::CALL_LOGS, 0).await?;
    let bucket = match backend {
        DbBackend::Postgres => "(FLOOR(EXTRACT(EPOCH FROM started_at) / 900) * 900)::BIGINT",
        _ => "(CAST(strftime('%s', started_at) AS INTEGER) / 900) * 900",
    };
    let mut names = Vec::new();
    let mut sums = Vec::new();
    for (direction, status, kind) in count_columns() {
        names.push(count_column(direction, status, kind));
        sums.push(format!(
            "SUM(CASE WHEN direction = '{}' AND status = '{}' AND counterpart_kind = '{}' THEN 1 ELSE 0 END)",
            direction.to_value(),
            status.to_value(),
            kind.to_value()
        ));
    }
    for (direction, kind) in duration_columns() {
        names.push(duration_column(direction, kind));
        sums.push(format!(
            "SUM(CASE WHEN direction = '{}' AND counterpart_kind = '{}' THEN duration_seconds ELSE 0 END)",
            direction.to_value(),
            kind.to_value()
        ));
    }
    let hour_sums = names
        .iter()
        .map(|name| format!("SUM({name})"))
        .collect::<Vec<_>>()
        .join(", ");
    let (names, sums) = (names.join(", "), sums.join(", "));
    // The start of a quarter hour's UTC hour, rounded down whatever its sign.
    let hour = format!("(bucket_start - ((bucket_start % {HOUR_SECONDS}) + {HOUR_SECONDS}) % {HOUR_SECONDS})");
    let mut rows = 0;
    for statement in [
        format!("DELETE FROM {OWNER_TABLE}"),
        format!("DELETE FROM {NUMBER_TABLE}"),
        format!("DELETE FROM {OWNER_HOUR_TABLE}"),
        format!("DELETE FROM {NUMBER_HOUR_TABLE}"),
        format!("DELETE FROM {TOTALS_TABLE}"),
        format!(
            "INSERT INTO {TOTALS_TABLE} (virtual_number_id, owner_id, calls) \
             SELECT virtual_number_id, owner_id, COUNT(*) FROM call_logs GROUP BY virtual_number_id, owner_id"
        ),
        format!(
            "INSERT INTO {OWNER_TABLE} (owner_id, bucket_start, {names}) SELECT owner_id, {bucket}, {sums} \
             FROM call_logs GROUP BY owner_id, {bucket}"
        ),
        format!(
            "INSERT INTO {NUMBER_TABLE} (virtual_number_id, bucket_start, owner_id, {names}) \
             SELECT virtual_number_id, {bucket}, owner_id, {sums} \
             FROM call_logs GROUP BY virtual_number_id, owner_id, {bucket}"
        ),
        format!(
            "INSERT INTO {OWNER_HOUR_TABLE} (owner_id, bucket_start, {names}) \
             SELECT owner_id, {hour}, {hour_sums} FROM {OWNER_TABLE} GROUP BY owner_id, {hour}"
        ),
        format!(
            "INSERT INTO {NUMBER_HOUR_TABLE} (virtual_number_id, bucket_start, owner_id, {names}) \
             SELECT virtual_number_id, {hour}, owner_id, {hour_sums} FROM {NUMBER_TABLE} \
             GROUP BY virtual_number_id, owner_id, {hour}"
        ),
    ] {
        rows += transaction.execute_unprepared(&statement).await?.rows_affected();
    }
    transaction.commit().await?;
    if backend == DbBackend::Postgres {
        db.execute_unprepared(&format!(
            "ANALYZE {OWNER_TABLE}, {NUMBER_TABLE}, {OWNER_HOUR_TABLE}, {NUMBER_HOUR_TABLE}, {TOTALS_TABLE}"
        ))
        .await?;
    }
    Ok(rows)
}

/// How a filter's time range splits into whole buckets, read from the rollups,
/// and the slivers at either end, read from the calls.
struct Split {
    /// Bucket starts (Unix seconds) the rollups are read between: `[from, until)`.
    from: Option<i64>,
    until: Option<i64>,
    /// Sub-bucket ranges at the ends, each read from the calls.
    slivers: Vec<(DateTime<Utc>, DateTime<Utc>)>,
}

impl Split {
    fn of(filter: &CallFilter) -> Split {
        let mut split = Split {
            from: None,
            until: None,
            slivers: Vec::new(),
        };
        if let Some(after) = filter.started_after {
            let from = if is_bucket_boundary(after) {
                bucket_of(after)
            } else {
                bucket_of(after) + BUCKET_SECONDS
            };
            let sliver_end = instant(from);
            let sliver_end = filter
                .started_before
                .map_or(sliver_end, |before| Ord::min(sliver_end, before));
            if after < sliver_end {
                split.slivers.push((after, sliver_end));
            }
            split.from = Some(from);
        }
        if let Some(before) = filter.started_before {
            let until = bucket_of(before);
            if split.from.is_some_and(|from| until <= from) {
                // The whole range is inside one or two buckets: the calls answer alone.
                let after = filter.started_after.unwrap_or(before);
                return Split {
                    from: Some(0),
                    until: Some(0),
                    slivers: vec![(after, before)],
                };
            }
            let sliver_start = instant(until);
            if sliver_start < before {
                split.slivers.push((sliver_start, before));
            }
            split.until = Some(until);
        }
        split
    }

    /// The whole buckets' range, `[from, until)`.
    fn range(&self) -> (Option<i64>, Option<i64>) {
        (self.from, self.until)
    }

    fn filter_for(filter: &CallFilter, (after, before): (DateTime<Utc>, DateTime<Utc>)) -> CallFilter {
        CallFilter {
            started_after: Some(after),
            started_before: Some(before),
            ..filter.clone()
        }
    }
}

/// The quarter-hour table a filter reads: one number's rows, or the owners'.
fn table_for(filter: &CallFilter) -> Alias {
    Grain::Quarter.table_for(filter)
}

/// Which rollup rows the viewer may read, in the filter's number and range.
fn scope(viewer: &Viewer, filter: &CallFilter, split: &Split) -> sea_orm::Condition {
    scope_in(table_for(filter), viewer, filter, split.range())
}

/// Which rows of `table` the viewer may read, in the filter's number and the
/// buckets `[from, until)`.
fn scope_in(
    table: Alias,
    viewer: &Viewer,
    filter: &CallFilter,
    (from, until): (Option<i64>, Option<i64>),
) -> sea_orm::Condition {
    let column = |name: &str| Expr::col((table.clone(), Alias::new(name)));
    let mut condition = sea_orm::Condition::all();
    if !viewer.is_staff {
        condition = condition.add(column("owner_id").eq(viewer.user_id));
    }
    if let Some(number_id) = filter.virtual_number_id {
        condition = condition.add(column("virtual_number_id").eq(number_id));
    }
    if let Some(from) = from {
        condition = condition.add(column("bucket_start").gte(from));
    }
    if let Some(until) = until {
        condition = condition.add(column("bucket_start").lt(until));
    }
    condition
}

/// `SUM` of the given columns added up, 0 for none, as a 64-bit integer
/// (PostgreSQL sums a BIGINT into a NUMERIC).
fn sum_of(table: &Alias, columns: Vec<String>) -> SimpleExpr {
    let mut columns = columns.into_iter();
    let Some(first) = columns.next() else {
        return Expr::val(0i64).cast_as(Alias::new("BIGINT"));
    };
    let added = columns.fold(Expr::col((table.clone(), Alias::new(first))), |sum, column| {
        sum.add(Expr::col((table.clone(), Alias::new(column))))
    });
    Expr::expr(Func::coalesce([Expr::from(Func::sum(added)), Expr::val(0)])).cast_as(Alias::new("BIGINT"))
}

/// The count columns of the calls the filter keeps.
fn kept_counts(filter: &CallFilter) -> Vec<String> {
    count_columns()
        .into_iter()
        .filter(|(direction, status, kind)| kept(filter, *direction, *status, *kind))
        .map(|(direction, status, kind)| count_column(direction, status, kind))
        .collect()
}

fn kept(filter: &CallFilter, direction: CallDirection, status: CallStatus, kind: CounterpartKind) -> bool {
    filter.direction.is_none_or(|wanted| wanted == direction)
        && filter.status.is_none_or(|wanted| wanted == status)
        && filter.counterpart_kind.is_none_or(|wanted| wanted == kind)
}

/// The figures as sums of the columns of `table` the filter keeps: the same
/// definitions as `stats::figures` (a call not completed has no talk time).
fn figures_in(table: Alias, filter: &CallFilter) -> [(&'static str, SimpleExpr); 6] {
    if filter.direction.is_none() && filter.status.is_none() && filter.counterpart_kind.is_none() {
        // Every call counts: the generated totals hold each figure in one column.
        return TOTAL_COLUMNS.map(|(figure, column)| (figure, sum_of(&table, vec![column.to_owned()])));
    }
    let counts = |also: &dyn Fn(CallDirection, CallStatus) -> bool| -> Vec<String> {
        count_columns()
            .into_iter()
            .filter(|(direction, status, kind)| kept(filter, *direction, *status, *kind) && also(*direction, *status))
            .map(|(direction, status, kind)| count_column(direction, status, kind))
            .collect()
    };
    let durations: Vec<String> = if filter.status.is_none_or(|status| status == CallStatus::Completed) {
        duration_columns()
            .into_iter()
            .filter(|(direction, kind)| kept(filter, *direction, CallStatus::Completed, *kind))
            .map(|(direction, kind)| duration_column(direction, kind))
            .collect()
    } else {
        Vec::new()
    };
    [
        ("total_calls", sum_of(&table, counts(&|_, _| true))),
        (
            "inbound_calls",
            sum_of(&table, counts(&|direction, _| direction == CallDirection::Inbound)),
        ),
        (
            "outbound_calls",
            sum_of(&table, counts(&|direction, _| direction == CallDirection::Outbound)),
        ),
        (
            "completed_calls",
            sum_of(&table, counts(&|_, status| status == CallStatus::Completed)),
        ),
        (
            "missed_calls",
            sum_of(
                &table,
                counts(&|direction, status| direction == CallDirection::Inbound && status.is_missed()),
            ),
        ),
        ("total_duration_seconds", sum_of(&table, durations)),
    ]
}

#[derive(Debug, FromQueryResult)]
struct RollupRange {
    first: Option<i64>,
    last: Option<i64>,
}

#[derive(Debug, FromQueryResult)]
struct RollupBucket {
    /// Unix seconds.
    period_start: i64,
    #[sea_orm(nested)]
    figures: Figures,
}

/// Most periods one statement sums (see `rollup_buckets`).
const PERIODS_PER_STATEMENT: usize = 1_000;

/// The figures of each `(period start, from, until)` of `ranges` in the table
/// of `grain`, one row a period: `period_start` and the figures.
fn period_sums(
    viewer: &Viewer,
    filter: &CallFilter,
    split: &Split,
    grain: Grain,
    ranges: Vec<(i64, i64, i64)>,
    lateral: bool,
) -> SelectStatement {
    let bucket = Alias::new("bucket");
    let (period, from, until) = (Alias::new("column1"), Alias::new("column2"), Alias::new("column3"));
    let table = grain.table_for(filter);
    let start = Expr::col((table.clone(), Alias::new("bucket_start")));
    // The rows of one period: its range of the primary key.
    let rows = sea_orm::Condition::all()
        .add(scope_in(table.clone(), viewer, filter, split.range()))
        .add(start.clone().gte(Expr::col((bucket.clone(), from))))
        .add(start.lt(Expr::col((bucket.clone(), until))));
    let mut query = Query::select();
    query
        .expr_as(
            Expr::col((bucket.clone(), period.clone())).cast_as(Alias::new("BIGINT")),
            Alias::new("period_start"),
        )
        .from_values(ranges, bucket.clone());
    if lateral {
        let sums = Alias::new("sums");
        let mut sum = Query::select();
        sum.from(table.clone()).cond_where(rows);
        for (alias, expression) in figures_in(table, filter) {
            sum.expr_as(expression, Alias::new(alias));
            query.expr_as(Expr::col((sums.clone(), Alias::new(alias))), Alias::new(alias));
        }
        query.join_lateral(
            JoinType::LeftJoin,
            sum,
            sums,
            sea_orm::Condition::all().add(Expr::cust("TRUE")),
        );
    } else {
        // SQLite reads the left side of a LEFT JOIN first: each period, then
        // its index range.
        query.left_join(table.clone(), rows).group_by_col((bucket, period));
        for (alias, expression) in figures_in(table, filter) {
            query.expr_as(expression, Alias::new(alias));
        }
    }
    query
}

/// The rows of every query, one after the other, in one statement; `None` for none.
fn union_all(queries: impl IntoIterator<Item = SelectStatement>) -> Option<SelectStatement> {
    queries.into_iter().reduce(|mut all, next| {
        all.union(UnionType::All, next);
        all
    })
}

fn overflow() -> AppError {
    AppError::Internal(anyhow::anyhow!("statistics past 2^63"))
}

impl CallService {
    /// Whether the rollups can answer for `filter`.
    fn rollups_serve(&self, filter: &CallFilter) -> bool {
        self.rollups && filter.counterpart_number.is_none()
    }

    /// Totals from the rollups and the slivers; `None` when the rollups cannot answer.
    pub(super) async fn rollup_totals(
        &self,
        viewer: &Viewer,
        filter: &CallFilter,
    ) -> Result<Option<Figures>, AppError> {
        if !self.rollups_serve(filter) {
            return Ok(None);
        }
        let split = Split::of(filter);
        // One row for the whole hours and one for each end's quarter hours.
        let parts = by_hours(split.from, split.until)
            .into_iter()
            .map(|(grain, from, until)| {
                let table = grain.table_for(filter);
                let mut query = Query::select();
                query
                    .from(table.clone())
                    .cond_where(scope_in(table.clone(), viewer, filter, (from, until)));
                for (alias, expression) in figures_in(table, filter) {
                    query.expr_as(expression, Alias::new(alias));
                }
                query
            });
        let mut figures = Figures::default();
        if let Some(query) = union_all(parts) {
            let statement = self.db.get_database_backend().build(&query);
            for part in Figures::find_by_statement(statement).all(&self.analytics).await? {
                figures = figures.plus(&part).ok_or_else(overflow)?;
            }
        }
        for sliver in &split.slivers {
            let part = self.raw_totals(viewer, &Split::filter_for(filter, *sliver)).await?;
            figures = figures.plus(&part).ok_or_else(overflow)?;
        }
        Ok(Some(figures))
    }

    /// Buckets from the rollups and the slivers; `None` when the rollups cannot
    /// answer (then the calls are read).
    pub(super) async fn rollup_buckets(
        &self,
        viewer: &Viewer,
        filter: &CallFilter,
        period: Period,
        zone: Tz,
    ) -> Result<Option<Vec<Bucket>>, AppError> {
        if !self.rollups_serve(filter) {
            return Ok(None);
        }
        let split = Split::of(filter);
        let (first, end) = match (filter.started_after, filter.started_before) {
            (Some(first), Some(end)) => (first, end),
            (after, before) => match self.rollup_range(viewer, filter, &split).await? {
                Some((first, last)) => (
                    after.unwrap_or(instant(first)),
                    before.unwrap_or(instant(last + BUCKET_SECONDS)),
                ),
                None => return Ok(Some(Vec::new())),
            },
        };
        let starts = period_starts(period, zone, first, end)?;
        if starts.len() < 2 {
            return Ok(Some(Vec::new()));
        }
        if !starts.iter().all(|start| is_bucket_boundary(*start)) {
            return Ok(None);
        }
        let periods: Vec<(i64, i64)> = starts
            .windows(2)
            .map(|pair| (pair[0].timestamp(), pair[1].timestamp()))
            .collect();
        let mut buckets: BTreeMap<DateTime<Utc>, Figures> = starts[..starts.len() - 1]
            .iter()
            .map(|start| (*start, Figures::default()))
            .collect();
        let backend = self.db.get_database_backend();
        // Each period sums its own index range on PostgreSQL. Joined on the
        // ranges instead, PostgreSQL may read the owner's rows once and test
        // each against every period (90 × 2,160 for 90 days by hours: 19 ms
        // where this takes 2.3 ms). Not for staff reading every owner: without
        // an owner no index range exists, and each period would scan the table.
        let lateral = backend == DbBackend::Postgres && (!viewer.is_staff || filter.virtual_number_id.is_some());
        // A period is at most three ranges of three values: 1,000 periods a
        // statement stay far below SQLite's 32,766 values.
        for chunk in periods.chunks(PERIODS_PER_STATEMENT) {
            // Each period, inside the whole buckets of the range, as whole hours
            // and quarter hours: `(period start, from, until)` for each grain.
            let mut parts: BTreeMap<Grain, Vec<(i64, i64, i64)>> = BTreeMap::new();
            for &(start, end) in chunk {
                let from = split.from.map_or(start, |from| Ord::max(from, start));
                let until = split.until.map_or(end, |until| Ord::min(until, end));
                for (grain, from, until) in by_hours(Some(from), Some(until)) {
                    if let (Some(from), Some(until)) = (from, until) {
                        parts.entry(grain).or_default().push((start, from, until));
                    }
                }
            }
            let queries = parts
                .into_iter()
                .map(|(grain, ranges)| period_sums(viewer, filter, &split, grain, ranges, lateral));
            // A period may have rows of both grains: they add up.
            if let Some(query) = union_all(queries) {
                let statement = backend.build(&query);
                for row in RollupBucket::find_by_statement(statement).all(&self.analytics).await? {
                    if let Some(figures) = buckets.get_mut(&instant(row.period_start)) {
                        *figures = figures.plus(&row.figures).ok_or_else(overflow)?;
                    }
                }
            }
        }
        for sliver in &split.slivers {
            for part in self
                .raw_buckets(viewer, &Split::filter_for(filter, *sliver), period, zone)
                .await?
            {
                if let Some(figures) = buckets.get_mut(&part.period_start) {
                    *figures = figures.plus(&part.figures).ok_or_else(overflow)?;
                }
            }
        }
        Ok(Some(
            buckets
                .into_iter()
                .map(|(period_start, figures)| Bucket { period_start, figures })
                .collect(),
        ))
    }

    /// The first and last buckets holding filtered calls.
    async fn rollup_range(
        &self,
        viewer: &Viewer,
        filter: &CallFilter,
        split: &Split,
    ) -> Result<Option<(i64, i64)>, AppError> {
        // The buckets holding a call the filter keeps.
        let table = table_for(filter);
        let start = Expr::col((table.clone(), Alias::new("bucket_start")));
        let kept = kept_counts(filter)
            .into_iter()
            .map(|column| Expr::col((table.clone(), Alias::new(column))))
            .reduce(|sum, column| sum.add(column));
        let Some(kept) = kept else {
            return Ok(None);
        };
        let mut query = Query::select();
        query
            .expr_as(start.clone().min(), Alias::new("first"))
            .expr_as(start.max(), Alias::new("last"))
            .from(table.clone())
            .cond_where(scope(viewer, filter, split).add(kept.gt(0)));
        let statement = self.db.get_database_backend().build(&query);
        let row = RollupRange::find_by_statement(statement).one(&self.analytics).await?;
        let mut range = match row {
            Some(RollupRange {
                first: Some(first),
                last: Some(last),
            }) => Some((first, last)),
            _ => None,
        };
        // Calls in a sliver count too, though their buckets are outside the scope.
        for sliver in &split.slivers {
            if let Some((first_call, last_call)) = self.range(viewer, &Split::filter_for(filter, *sliver)).await? {
                let (low, high) = (bucket_of(first_call), bucket_of(last_call));
                range = Some(match range {
                    Some((first, last)) => (Ord::min(first, low), Ord::max(last, high)),
                    None => (low, high),
                });
            }
        }
        Ok(range)
    }
}

impl CallService {
    /// How many calls of each of `number_ids` the filter keeps, from the
    /// number rollups; `None` when they cannot answer exactly.
    pub(super) async fn rollup_count_per_number(
        &self,
        viewer: &Viewer,
        number_ids: &[Uuid],
        filter: &CallFilter,
    ) -> Result<Option<std::collections::HashMap<Uuid, u64>>, AppError> {
        let split = Split::of(filter);
        if !self.rollups_serve(filter) || !split.slivers.is_empty() {
            return Ok(None);
        }
        if every_call(filter) {
            return self.lifetime_counts(viewer, number_ids).await.map(Some);
        }
        let table = Alias::new(NUMBER_TABLE);
        let column = |name: &str| Expr::col((table.clone(), Alias::new(name)));
        let mut query = Query::select();
        query
            .from(table.clone())
            .expr_as(column("virtual_number_id"), Alias::new("number_id"))
            .cond_where(
                scope_in(table.clone(), viewer, filter, split.range())
                    .add(column("virtual_number_id").is_in(number_ids.iter().copied())),
            )
            .group_by_col(Alias::new("number_id"));
        let [(name, total), ..] = figures_in(table, filter);
        query.expr_as(total, Alias::new(name));
        let statement = self.db.get_database_backend().build(&query);
        let rows = NumberCount::find_by_statement(statement).all(&self.analytics).await?;
        Ok(Some(
            rows.into_iter()
                .map(|row| (row.number_id, u64::try_from(row.total_calls).unwrap_or(0)))
                .collect(),
        ))
    }
}

/// Whether a filter keeps every call (no range, no other condition but the number).
fn every_call(filter: &CallFilter) -> bool {
    let CallFilter {
        virtual_number_id: _,
        direction,
        status,
        started_after,
        started_before,
        counterpart_number,
        counterpart_kind,
    } = filter;
    direction.is_none()
        && status.is_none()
        && started_after.is_none()
        && started_before.is_none()
        && counterpart_number.is_none()
        && counterpart_kind.is_none()
}

impl CallService {
    /// Every call of each of `number_ids` the viewer may read, one row a number.
    async fn lifetime_counts(
        &self,
        viewer: &Viewer,
        number_ids: &[Uuid],
    ) -> Result<std::collections::HashMap<Uuid, u64>, AppError> {
        let table = Alias::new(TOTALS_TABLE);
        let column = |name: &str| Expr::col((table.clone(), Alias::new(name)));
        let every = CallFilter::default();
        let condition = scope_in(table.clone(), viewer, &every, (None, None))
            .add(column("virtual_number_id").is_in(number_ids.iter().copied()));
        let mut query = Query::select();
        query
            .from(table.clone())
            .expr_as(column("virtual_number_id"), Alias::new("number_id"))
            .expr_as(column("calls"), Alias::new("total_calls"))
            .cond_where(condition);
        let statement = self.db.get_database_backend().build(&query);
        let rows = NumberCount::find_by_statement(statement).all(&self.db).await?;
        Ok(rows
            .into_iter()
            .map(|row| (row.number_id, u64::try_from(row.total_calls).unwrap_or(0)))
            .collect())
    }

    /// How many calls a list holds when its filter keeps every call (of one
    /// number, or of all the viewer's); `None` for any other filter.
    pub(super) async fn lifetime_count(&self, viewer: &Viewer, filter: &CallFilter) -> Result<Option<u64>, AppError> {
        if !self.rollups || !every_call(filter) {
            return Ok(None);
        }
        let table = Alias::new(TOTALS_TABLE);
        let mut query = Query::select();
        query
            .from(table.clone())
            .expr_as(sum_of(&table, vec!["calls".to_owned()]), Alias::new("calls"))
            .cond_where(scope_in(table.clone(), viewer, filter, Split::of(filter).range()));
        let statement = self.db.get_database_backend().build(&query);
        let calls = Lifetime::find_by_statement(statement).one(&self.db).await?;
        Ok(Some(calls.map_or(0, |row| u64::try_from(row.calls).unwrap_or(0))))
    }
}

#[derive(Debug, FromQueryResult)]
struct Lifetime {
    calls: i64,
}

#[derive(Debug, FromQueryResult)]
struct NumberCount {
    number_id: Uuid,
    total_calls: i64,
}

/// What a report groups rollup rows by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollupKey {
    Number,
    HourOfDay,
    DayOfWeek,
}

impl CallService {
    /// A report's rows grouped by `keys` (each with its output name), summed
    /// from the rollups; `None` when they cannot answer exactly (a
    /// `counterpartNumber` filter, range bounds inside a quarter hour, or a
    /// zone whose offsets are not whole quarter hours), and the caller reads
    /// the calls.
    pub(super) async fn rollup_grouped(
        &self,
        viewer: &Viewer,
        filter: &CallFilter,
        keys: &[(&'static str, RollupKey)],
        zone: Tz,
    ) -> Result<Option<sea_orm::sea_query::SelectStatement>, AppError> {
        let split = Split::of(filter);
        if !self.rollups_serve(filter) || !split.slivers.is_empty() {
            return Ok(None);
        }
        let table = if keys.iter().any(|(_, key)| *key == RollupKey::Number) {
            Alias::new(NUMBER_TABLE)
        } else {
            table_for(filter)
        };
        let column = |name: &str| Expr::col((table.clone(), Alias::new(name)));
        let mut local = None;
        if keys.iter().any(|(_, key)| *key != RollupKey::Number) {
            let Some((first, last)) = self.rollup_range(viewer, filter, &split).await? else {
                return Ok(Some(empty_grouped(keys)));
            };
            let offsets = super::local_time::ZoneOffsets::between(
                zone,
                instant(first),
                Ord::max(instant(last + BUCKET_SECONDS), Utc::now()),
            );
            if !offsets.whole_quarter_hours() {
                return Ok(None);
            }
            local = Some(super::local_time::local_seconds_of_epoch(
                column("bucket_start"),
                &offsets,
            ));
        }
        let Some(kept) = kept_counts(filter)
            .into_iter()
            .map(|name| column(&name))
            .reduce(|sum, column| sum.add(column))
        else {
            return Ok(Some(empty_grouped(keys)));
        };
        let mut query = Query::select();
        query
            .from(table.clone())
            .cond_where(scope_in(table.clone(), viewer, filter, split.range()).add(kept.gt(0)));
        for (name, key) in keys {
            let expression = match (key, &local) {
                (RollupKey::Number, _) => column("virtual_number_id"),
                (RollupKey::HourOfDay, Some(local)) => super::local_time::hour_of_day(local.clone()),
                (RollupKey::DayOfWeek, Some(local)) => super::local_time::day_of_week(local.clone()),
                _ => return Ok(None),
            };
            query.expr_as(expression, Alias::new(*name));
        }
        for (name, expression) in figures_in(table, filter) {
            query.expr_as(expression, Alias::new(name));
        }
        for (name, _) in keys {
            query.group_by_col(Alias::new(*name));
        }
        Ok(Some(query))
    }
}

/// A grouped statement with no rows, of the same shape.
fn empty_grouped(keys: &[(&'static str, RollupKey)]) -> sea_orm::sea_query::SelectStatement {
    let mut query = Query::select();
    for (name, _) in keys {
        query.expr_as(Expr::val(0i64), Alias::new(*name));
    }
    for name in [
        "total_calls",
        "inbound_calls",
        "outbound_calls",
        "completed_calls",
        "missed_calls",
        "total_duration_seconds",
    ] {
        query.expr_as(Expr::val(0i64), Alias::new(name));
    }
    query.and_where(Expr::val(1).eq(0));
    query
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_is_its_whole_hours_and_the_quarter_hours_at_its_ends() {
        use Grain::{Hour, Quarter};
        const H: i64 = HOUR_SECONDS;
        const Q: i64 = BUCKET_SECONDS;
        // A UTC day: hours only.
        assert_eq!(by_hours(Some(0), Some(24 * H)), [(Hour, Some(0), Some(24 * H))]);
        // A day in Kolkata (+05:30): 23 hours and two half hours.
        let midnight = 18 * H + 2 * Q;
        assert_eq!(
            by_hours(Some(midnight), Some(midnight + 24 * H)),
            [
                (Hour, Some(19 * H), Some(42 * H)),
                (Quarter, Some(midnight), Some(19 * H)),
                (Quarter, Some(42 * H), Some(midnight + 24 * H)),
            ]
        );
        // A local hour in Kathmandu (+05:45) holds no whole UTC hour.
        assert_eq!(
            by_hours(Some(H - Q), Some(2 * H - Q)),
            [(Quarter, Some(H - Q), Some(2 * H - Q))]
        );
        // Open ends, before 1970 too.
        assert_eq!(
            by_hours(None, Some(-Q)),
            [(Hour, None, Some(-H)), (Quarter, Some(-H), Some(-Q))]
        );
        assert_eq!(
            by_hours(Some(-3 * Q), None),
            [(Hour, Some(0), None), (Quarter, Some(-3 * Q), Some(0))]
        );
        assert_eq!(by_hours(None, None), [(Hour, None, None)]);
        // Nothing to read.
        assert_eq!(by_hours(Some(H), Some(H)), []);
        assert_eq!(by_hours(Some(2 * H), Some(H)), []);
    }

    #[test]
    fn sums_are_read_as_64_bit_integers() {
        let mut query = Query::select();
        let filter = CallFilter {
            status: Some(CallStatus::Busy),
            ..CallFilter::default()
        };
        for (alias, expression) in figures_in(table_for(&filter), &filter) {
            query.expr_as(expression, Alias::new(alias));
        }
        query.from(Alias::new(OWNER_TABLE));
        let sql = DbBackend::Postgres.build(&query).to_string();
        assert_eq!(sql.matches("AS BIGINT").count(), 6, "{sql}");
        // A busy call has no talk time, and is never completed.
        assert!(sql.contains("CAST(0 AS BIGINT) AS \"completed_calls\""), "{sql}");
        assert!(sql.contains("CAST(0 AS BIGINT) AS \"total_duration_seconds\""), "{sql}");
    }
}
