//! `callBreakdown` (a connection of rows, largest first) and `callHeatmap`
//! (the weekday × hour grid) in GraphQL.

use async_graphql::{ComplexObject, Context, Enum, Object, SimpleObject};
use uuid::Uuid;

use super::{
    stats::CallFigures,
    types::{CallDirection, CallLogFilter, CallStatus, CounterpartKind},
};
use crate::{
    calls::{
        CallService,
        reports::{BreakdownBy, BreakdownCursor, BreakdownRow, HeatmapCell, RowKey},
        stats::parse_time_zone,
        types::CounterpartKind as StoredKind,
    },
    error::AppError,
    graphql::{Connection, ConnectionNode, ContextExt, RelayArgs, loaders::unshare},
    numbers::{graphql::VirtualNumber, loaders::HistoryNumberLoader},
};

/// What `callBreakdown` groups calls by.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "BreakdownBy")]
pub enum BreakdownKey {
    /// The virtual number (released ones included: their calls stay in your reports).
    Number,
    Direction,
    Status,
    /// The other party: one row per number, short code or unverifiable digits,
    /// and one for every withheld caller together.
    Counterpart,
    /// The local hour the call started, 0 to 23, in `timeZone`.
    HourOfDay,
    /// The local day the call started, in `timeZone`.
    DayOfWeek,
}

/// A day of the week.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum DayOfWeek {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl From<chrono::Weekday> for DayOfWeek {
    fn from(day: chrono::Weekday) -> Self {
        use chrono::Weekday::*;
        match day {
            Mon => DayOfWeek::Monday,
            Tue => DayOfWeek::Tuesday,
            Wed => DayOfWeek::Wednesday,
            Thu => DayOfWeek::Thursday,
            Fri => DayOfWeek::Friday,
            Sat => DayOfWeek::Saturday,
            Sun => DayOfWeek::Sunday,
        }
    }
}

/// One row of a breakdown: its key (the one field of `virtualNumber`,
/// `direction`, `status`, `counterpartKind` with `counterpartNumber`,
/// `hourOfDay` or `dayOfWeek` that the breakdown is by; the others are null)
/// and the figures of its calls.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct CallBreakdownRow {
    direction: Option<CallDirection>,
    status: Option<CallStatus>,
    /// COUNTERPART: E.164 for a NUMBER, the digits for a SHORT_CODE or
    /// UNVERIFIABLE counterpart, null for the WITHHELD row.
    counterpart_number: Option<String>,
    counterpart_kind: Option<CounterpartKind>,
    /// HOUR_OF_DAY: 0 to 23, local.
    hour_of_day: Option<i32>,
    /// DAY_OF_WEEK: the local day.
    day_of_week: Option<DayOfWeek>,
    #[graphql(flatten)]
    figures: CallFigures,
    #[graphql(skip)]
    number_id: Option<Uuid>,
}

#[ComplexObject]
impl CallBreakdownRow {
    /// NUMBER: the number (even if since released).
    async fn virtual_number(&self, ctx: &Context<'_>) -> Result<Option<VirtualNumber>, AppError> {
        let Some(id) = self.number_id else {
            return Ok(None);
        };
        let number = ctx
            .loader::<HistoryNumberLoader>()?
            .load_one(id)
            .await
            .map_err(unshare)?;
        Ok(number.map(VirtualNumber::from))
    }
}

impl ConnectionNode for CallBreakdownRow {
    const NAME: &'static str = "CallBreakdownRow";
}

impl From<BreakdownRow> for CallBreakdownRow {
    fn from(row: BreakdownRow) -> Self {
        let mut shaped = CallBreakdownRow {
            direction: None,
            status: None,
            counterpart_number: None,
            counterpart_kind: None,
            hour_of_day: None,
            day_of_week: None,
            figures: row.figures.into(),
            number_id: None,
        };
        match row.key {
            RowKey::Number(id) => shaped.number_id = Some(id),
            RowKey::Direction(direction) => shaped.direction = Some(direction.into()),
            RowKey::Status(status) => shaped.status = Some(status.into()),
            RowKey::Counterpart { kind, number } => {
                shaped.counterpart_kind = Some(kind.into());
                shaped.counterpart_number = (kind != StoredKind::Withheld).then_some(number);
            }
            RowKey::HourOfDay(hour) => shaped.hour_of_day = i32::try_from(hour).ok(),
            RowKey::DayOfWeek(day) => shaped.day_of_week = Some(day.into()),
        }
        shaped
    }
}

/// One cell of the heatmap: the calls that started in this local hour of this weekday.
#[derive(SimpleObject)]
pub struct CallHeatmapCell {
    day_of_week: DayOfWeek,
    /// 0 to 23.
    hour_of_day: i32,
    #[graphql(flatten)]
    figures: CallFigures,
}

impl From<HeatmapCell> for CallHeatmapCell {
    fn from(cell: HeatmapCell) -> Self {
        CallHeatmapCell {
            day_of_week: cell.day.into(),
            hour_of_day: i32::try_from(cell.hour).unwrap_or_default(),
            figures: cell.figures.into(),
        }
    }
}

/// When calls happen: every hour of every weekday in one zone.
#[derive(SimpleObject)]
pub struct CallHeatmap {
    /// 168 cells, Monday 00:00 to Sunday 23:00 in order, quiet ones with zeros.
    cells: Vec<CallHeatmapCell>,
    /// The zone the hours and days follow.
    time_zone: String,
}

#[derive(Default)]
pub struct ReportQuery;

#[Object]
impl ReportQuery {
    /// Your calls (staff: everyone's) narrowed by `filter` and summed per `by`:
    /// one row per key that has calls, largest `totalCalls` first, equal totals in
    /// a fixed order of their keys. Hours and days are local to `timeZone` (an IANA
    /// name; default UTC). Pages forward with `first` (at most 100) and `after`.
    async fn call_breakdown(
        &self,
        ctx: &Context<'_>,
        filter: Option<CallLogFilter>,
        by: BreakdownKey,
        time_zone: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<CallBreakdownRow>, AppError> {
        let viewer = *ctx.viewer()?;
        let zone = parse_time_zone(time_zone.as_deref().unwrap_or("UTC"))?;
        let filter = filter.unwrap_or_default().parse(ctx)?;
        let request = RelayArgs {
            first,
            after,
            ..RelayArgs::default()
        }
        .page_request::<BreakdownCursor>()?;
        let by = BreakdownBy::from(by);
        let calls = ctx.service::<CallService>()?.clone();
        let rows = calls.breakdown(&viewer, &filter, by, zone, &request).await?;
        let count = async move { calls.breakdown_count(&viewer, &filter, by, zone).await };
        Ok(Connection::new(
            rows,
            move |row| BreakdownCursor::of(by, row),
            CallBreakdownRow::from,
            count,
        ))
    }

    /// Your calls (staff: everyone's) narrowed by `filter`, per weekday and hour
    /// in `timeZone` (an IANA name; default UTC): the chart of when you are busiest.
    async fn call_heatmap(
        &self,
        ctx: &Context<'_>,
        filter: Option<CallLogFilter>,
        time_zone: Option<String>,
    ) -> Result<CallHeatmap, AppError> {
        let viewer = ctx.viewer()?;
        let zone = parse_time_zone(time_zone.as_deref().unwrap_or("UTC"))?;
        let filter = filter.unwrap_or_default().parse(ctx)?;
        let cells = ctx.service::<CallService>()?.heatmap(viewer, &filter, zone).await?;
        Ok(CallHeatmap {
            cells: cells.into_iter().map(Into::into).collect(),
            time_zone: zone.name().to_owned(),
        })
    }
}
