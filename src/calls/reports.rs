//! Reports over call logs, summed by the database: breakdowns by number,
//! direction, status, counterpart, local hour or local weekday (largest first,
//! keyset-paged), and the weekday × hour heatmap. Local times follow an IANA
//! zone's offsets (worked out here, DST changes included), so both databases
//! run the same SQL. Breakdowns by number, hour and weekday and the heatmap
//! sum the quarter-hour rollups where they can answer exactly (see
//! `rollups::rollup_grouped`); the rest read the calls.

use chrono::{Utc, Weekday};
use chrono_tz::Tz;
use sea_orm::{
    ActiveEnum, ConnectionTrait, FromQueryResult, Order, QueryFilter, QueryResult, QuerySelect, QueryTrait,
    prelude::*,
    sea_query::{Alias, Asterisk, Expr, ExprTrait, Query, SelectStatement},
};

use super::{
    CallDirection, CallFilter, CallService, CallStatus,
    local_time::{ZoneOffsets, day_of_week, hour_of_day, local_seconds},
    rollups::RollupKey,
    service::scope,
    stats::{Figures, figures},
    types::CounterpartKind,
};
use crate::{
    auth::Viewer,
    entity::call_logs::{self, Column},
    error::AppError,
    paging::{CursorKey, Page, PageRequest},
};

/// What a breakdown groups calls by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BreakdownBy {
    Number,
    Direction,
    Status,
    Counterpart,
    HourOfDay,
    DayOfWeek,
}

impl BreakdownBy {
    fn label(self) -> &'static str {
        match self {
            BreakdownBy::Number => "number",
            BreakdownBy::Direction => "direction",
            BreakdownBy::Status => "status",
            BreakdownBy::Counterpart => "counterpart",
            BreakdownBy::HourOfDay => "hour",
            BreakdownBy::DayOfWeek => "day",
        }
    }

    fn from_label(label: &str) -> Option<Self> {
        [
            BreakdownBy::Number,
            BreakdownBy::Direction,
            BreakdownBy::Status,
            BreakdownBy::Counterpart,
            BreakdownBy::HourOfDay,
            BreakdownBy::DayOfWeek,
        ]
        .into_iter()
        .find(|by| by.label() == label)
    }
}

/// The key of one breakdown row.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RowKey {
    Number(Uuid),
    Direction(CallDirection),
    Status(CallStatus),
    /// The counterpart as stored: its kind and number (`''` when withheld, so
    /// every withheld caller is one row).
    Counterpart {
        kind: CounterpartKind,
        number: String,
    },
    /// 0 to 23, local.
    HourOfDay(u32),
    /// The local day.
    DayOfWeek(Weekday),
}

/// One row of a breakdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakdownRow {
    pub key: RowKey,
    pub figures: Figures,
}

/// Where a breakdown page starts: rows sort by total calls (largest first), then
/// by key (smallest first), so equal totals keep one order from page to page.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BreakdownCursor {
    pub by: BreakdownBy,
    pub total_calls: i64,
    pub key: RowKey,
}

impl BreakdownCursor {
    pub fn of(by: BreakdownBy, row: &BreakdownRow) -> Self {
        BreakdownCursor {
            by,
            total_calls: row.figures.total_calls,
            key: row.key.clone(),
        }
    }
}

impl CursorKey for BreakdownCursor {
    fn to_cursor_text(&self) -> String {
        let key = match &self.key {
            RowKey::Number(id) => id.to_string(),
            RowKey::Direction(direction) => direction.to_value(),
            RowKey::Status(status) => status.to_value(),
            RowKey::Counterpart { kind, number } => format!("{}:{number}", kind.to_value()),
            RowKey::HourOfDay(hour) => hour.to_string(),
            RowKey::DayOfWeek(day) => day.num_days_from_monday().to_string(),
        };
        format!("breakdown:{}:{}:{key}", self.by.label(), self.total_calls)
    }

    fn from_cursor_text(text: &str) -> Option<Self> {
        let mut parts = text.strip_prefix("breakdown:")?.splitn(3, ':');
        let by = BreakdownBy::from_label(parts.next()?)?;
        let total_calls = parts.next()?.parse().ok()?;
        let key = parts.next()?;
        let key = match by {
            BreakdownBy::Number => RowKey::Number(key.parse().ok()?),
            BreakdownBy::Direction => RowKey::Direction(CallDirection::try_from_value(&key.to_owned()).ok()?),
            BreakdownBy::Status => RowKey::Status(CallStatus::try_from_value(&key.to_owned()).ok()?),
            BreakdownBy::Counterpart => {
                let (kind, number) = key.split_once(':')?;
                RowKey::Counterpart {
                    kind: CounterpartKind::try_from_value(&kind.to_owned()).ok()?,
                    number: number.to_owned(),
                }
            }
            BreakdownBy::HourOfDay => RowKey::HourOfDay(key.parse().ok().filter(|hour| *hour < 24)?),
            BreakdownBy::DayOfWeek => RowKey::DayOfWeek(Weekday::try_from(key.parse::<u8>().ok()?).ok()?),
        };
        Some(BreakdownCursor { by, total_calls, key })
    }
}

/// One cell of the heatmap: a local weekday and hour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeatmapCell {
    pub day: Weekday,
    pub hour: u32,
    pub figures: Figures,
}

const KEY_NUMBER: &str = "key_number";
const KEY_TEXT: &str = "key_text";
const KEY_KIND: &str = "key_kind";
const KEY_HOUR: &str = "key_hour";
const KEY_DAY: &str = "key_day";

fn alias(name: &str) -> Alias {
    Alias::new(name)
}

impl CallService {
    /// The local-time offsets a report over these calls needs: over the span
    /// of the calls (and on to now, for calls recorded meanwhile).
    async fn offsets_for(
        &self,
        viewer: &Viewer,
        filter: &CallFilter,
        zone: Tz,
    ) -> Result<Option<ZoneOffsets>, AppError> {
        Ok(self
            .range(viewer, filter)
            .await?
            .map(|(first, last)| ZoneOffsets::between(zone, first, Ord::max(last, Utc::now()))))
    }

    /// The grouped figures, one row per key, as a statement to page over or count.
    async fn grouped(
        &self,
        viewer: &Viewer,
        filter: &CallFilter,
        by: BreakdownBy,
        zone: Tz,
    ) -> Result<Option<(SelectStatement, Vec<&'static str>)>, AppError> {
        let rollup_key = match by {
            BreakdownBy::Number => Some((KEY_NUMBER, RollupKey::Number)),
            BreakdownBy::HourOfDay => Some((KEY_HOUR, RollupKey::HourOfDay)),
            BreakdownBy::DayOfWeek => Some((KEY_DAY, RollupKey::DayOfWeek)),
            BreakdownBy::Direction | BreakdownBy::Status | BreakdownBy::Counterpart => None,
        };
        if let Some(key) = rollup_key
            && let Some(grouped) = self.rollup_grouped(viewer, filter, &[key], zone).await?
        {
            return Ok(Some((grouped, vec![key.0])));
        }
        let backend = self.db.get_database_backend();
        let column = |column: Column| Expr::col((call_logs::Entity, column));
        let keys: Vec<(&'static str, Expr)> = match by {
            BreakdownBy::Number => vec![(KEY_NUMBER, column(Column::VirtualNumberId))],
            BreakdownBy::Direction => vec![(KEY_TEXT, column(Column::Direction))],
            BreakdownBy::Status => vec![(KEY_TEXT, column(Column::Status))],
            BreakdownBy::Counterpart => vec![
                (KEY_KIND, column(Column::CounterpartKind)),
                (KEY_TEXT, column(Column::CounterpartNumber)),
            ],
            BreakdownBy::HourOfDay | BreakdownBy::DayOfWeek => {
                let Some(offsets) = self.offsets_for(viewer, filter, zone).await? else {
                    return Ok(None);
                };
                let local = local_seconds(backend, &offsets);
                if by == BreakdownBy::HourOfDay {
                    vec![(KEY_HOUR, hour_of_day(local))]
                } else {
                    vec![(KEY_DAY, day_of_week(local))]
                }
            }
        };
        Ok(Some(self.grouped_by(viewer, filter, keys)))
    }

    fn grouped_by(
        &self,
        viewer: &Viewer,
        filter: &CallFilter,
        keys: Vec<(&'static str, Expr)>,
    ) -> (SelectStatement, Vec<&'static str>) {
        let mut query = call_logs::Entity::find().filter(scope(viewer, filter)).select_only();
        for (name, expression) in &keys {
            query = query.column_as(expression.clone(), *name);
        }
        for (name, expression) in figures() {
            query = query.column_as(expression, name);
        }
        // Grouped by the output names: an expression with bound values, repeated,
        // would not be the same expression to PostgreSQL.
        for (name, _) in &keys {
            query = query.group_by(Expr::col(alias(name)));
        }
        (query.into_query(), keys.into_iter().map(|(name, _)| name).collect())
    }

    /// One page of the viewer's calls (narrowed by `filter`) summed per `by`,
    /// largest total first.
    pub async fn breakdown(
        &self,
        viewer: &Viewer,
        filter: &CallFilter,
        by: BreakdownBy,
        zone: Tz,
        request: &PageRequest<BreakdownCursor>,
    ) -> Result<Page<BreakdownRow>, AppError> {
        if request.after.as_ref().is_some_and(|after| after.by != by) {
            return Err(AppError::bad_input("after", "`after` is a cursor of another breakdown"));
        }
        let Some((grouped, keys)) = self.grouped(viewer, filter, by, zone).await? else {
            return Ok(Page::empty());
        };
        let rows_alias = alias("breakdown");
        let total = || Expr::col(alias("total_calls"));
        let mut query = Query::select();
        query.column(Asterisk).from_subquery(grouped, rows_alias);
        if let Some(after) = &request.after {
            let values = key_values(&after.key);
            let key_columns = Expr::tuple(keys.iter().map(|name| Expr::col(alias(name))));
            let later_key = key_columns.gt(Expr::tuple(values));
            query.and_where(
                total()
                    .lt(after.total_calls)
                    .or(total().eq(after.total_calls).and(later_key)),
            );
        }
        query.order_by(alias("total_calls"), Order::Desc);
        for name in &keys {
            query.order_by(alias(name), Order::Asc);
        }
        query.limit(request.fetch_limit());
        let rows = self.analytics.query_all(&query).await?;
        let rows = rows
            .iter()
            .map(|row| read_row(by, row))
            .collect::<Result<Vec<_>, AppError>>()?;
        Ok(Page::from_rows(rows, request))
    }

    /// How many rows the whole breakdown has.
    pub async fn breakdown_count(
        &self,
        viewer: &Viewer,
        filter: &CallFilter,
        by: BreakdownBy,
        zone: Tz,
    ) -> Result<u64, AppError> {
        let Some((grouped, _)) = self.grouped(viewer, filter, by, zone).await? else {
            return Ok(0);
        };
        let query = Query::select()
            .expr_as(Expr::cust("COUNT(*)"), alias("rows"))
            .from_subquery(grouped, alias("breakdown"))
            .to_owned();
        let row = self.analytics.query_one(&query).await?;
        let rows: i64 = match row {
            Some(row) => row.try_get("", "rows")?,
            None => 0,
        };
        Ok(u64::try_from(rows).unwrap_or(0))
    }

    /// The viewer's calls (narrowed by `filter`) summed per local weekday and
    /// hour in `zone`: all 168 cells, Monday 00:00 first, quiet ones as zeros.
    pub async fn heatmap(&self, viewer: &Viewer, filter: &CallFilter, zone: Tz) -> Result<Vec<HeatmapCell>, AppError> {
        let mut cells: Vec<HeatmapCell> = (0..7u8)
            .flat_map(|day| {
                (0..24).map(move |hour| HeatmapCell {
                    day: Weekday::try_from(day).unwrap_or(Weekday::Mon),
                    hour,
                    figures: Figures::default(),
                })
            })
            .collect();
        let from_rollups = self
            .rollup_grouped(
                viewer,
                filter,
                &[(KEY_DAY, RollupKey::DayOfWeek), (KEY_HOUR, RollupKey::HourOfDay)],
                zone,
            )
            .await?;
        let query = match from_rollups {
            Some(query) => query,
            None => {
                let Some(offsets) = self.offsets_for(viewer, filter, zone).await? else {
                    return Ok(cells);
                };
                let local = local_seconds(self.db.get_database_backend(), &offsets);
                let keys = vec![(KEY_DAY, day_of_week(local.clone())), (KEY_HOUR, hour_of_day(local))];
                self.grouped_by(viewer, filter, keys).0
            }
        };
        for row in self.analytics.query_all(&query).await? {
            let day: i64 = row.try_get("", KEY_DAY)?;
            let hour: i64 = row.try_get("", KEY_HOUR)?;
            let cell = usize::try_from(day * 24 + hour)
                .ok()
                .and_then(|index| cells.get_mut(index))
                .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no heatmap cell for day {day} hour {hour}")))?;
            cell.figures = Figures::from_query_result(&row, "")?;
        }
        Ok(cells)
    }
}

/// A row key as the values its columns compare with.
fn key_values(key: &RowKey) -> Vec<Expr> {
    match key {
        RowKey::Number(id) => vec![Expr::val(*id)],
        RowKey::Direction(direction) => vec![Expr::val(direction.to_value())],
        RowKey::Status(status) => vec![Expr::val(status.to_value())],
        RowKey::Counterpart { kind, number } => vec![Expr::val(kind.to_value()), Expr::val(number.clone())],
        RowKey::HourOfDay(hour) => vec![Expr::val(i64::from(*hour))],
        RowKey::DayOfWeek(day) => vec![Expr::val(i64::from(day.num_days_from_monday()))],
    }
}

fn read_row(by: BreakdownBy, row: &QueryResult) -> Result<BreakdownRow, AppError> {
    let text = |name: &str| -> Result<String, AppError> { Ok(row.try_get::<String>("", name)?) };
    let stored = |error: DbErr| AppError::Internal(anyhow::anyhow!("a stored value this build does not know: {error}"));
    let key = match by {
        BreakdownBy::Number => RowKey::Number(row.try_get("", KEY_NUMBER)?),
        BreakdownBy::Direction => RowKey::Direction(CallDirection::try_from_value(&text(KEY_TEXT)?).map_err(stored)?),
        BreakdownBy::Status => RowKey::Status(CallStatus::try_from_value(&text(KEY_TEXT)?).map_err(stored)?),
        BreakdownBy::Counterpart => RowKey::Counterpart {
            kind: CounterpartKind::try_from_value(&text(KEY_KIND)?).map_err(stored)?,
            number: text(KEY_TEXT)?,
        },
        BreakdownBy::HourOfDay => {
            let hour: i64 = row.try_get("", KEY_HOUR)?;
            RowKey::HourOfDay(u32::try_from(hour).map_err(|_| AppError::Internal(anyhow::anyhow!("hour {hour}")))?)
        }
        BreakdownBy::DayOfWeek => {
            let day: i64 = row.try_get("", KEY_DAY)?;
            let day = u8::try_from(day)
                .ok()
                .and_then(|day| Weekday::try_from(day).ok())
                .ok_or_else(|| AppError::Internal(anyhow::anyhow!("weekday {day}")))?;
            RowKey::DayOfWeek(day)
        }
    };
    Ok(BreakdownRow {
        key,
        figures: Figures::from_query_result(row, "")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breakdown_cursors_round_trip_for_every_key() {
        let keys = [
            (BreakdownBy::Number, RowKey::Number(Uuid::now_v7())),
            (BreakdownBy::Direction, RowKey::Direction(CallDirection::Outbound)),
            (BreakdownBy::Status, RowKey::Status(CallStatus::NoAnswer)),
            (
                BreakdownBy::Counterpart,
                RowKey::Counterpart {
                    kind: CounterpartKind::Withheld,
                    number: String::new(),
                },
            ),
            (BreakdownBy::HourOfDay, RowKey::HourOfDay(23)),
            (BreakdownBy::DayOfWeek, RowKey::DayOfWeek(Weekday::Sun)),
        ];
        for (by, key) in keys {
            let cursor = BreakdownCursor {
                by,
                total_calls: 42,
                key,
            };
            assert_eq!(BreakdownCursor::decode_cursor(&cursor.encode_cursor()), Some(cursor));
        }
        assert_eq!(BreakdownCursor::from_cursor_text("breakdown:hour:1:24"), None);
    }
}
