//! `callStats` in GraphQL: totals and, with `groupBy`, buckets in a time zone.

use async_graphql::{Context, Enum, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::types::CallLogFilter;
use crate::{
    calls::{
        CallService,
        periods::Period,
        stats::{Bucket, Figures, parse_time_zone},
    },
    error::AppError,
    graphql::{ContextExt, Long},
};

/// The length of a `callStats` bucket.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "Period")]
pub enum StatsPeriod {
    Hour,
    Day,
    /// Weeks start on Monday.
    Week,
    Month,
}

/// The figures of a set of calls.
#[derive(SimpleObject, Clone)]
pub struct CallFigures {
    total_calls: Long,
    inbound_calls: Long,
    outbound_calls: Long,
    /// Calls with status COMPLETED.
    completed_calls: Long,
    /// Inbound calls nobody answered: NO_ANSWER, BUSY or CANCELED.
    missed_calls: Long,
    total_duration_seconds: Long,
    /// Mean talk time of completed calls; 0 when there are none.
    average_duration_seconds: f64,
}

impl From<Figures> for CallFigures {
    fn from(figures: Figures) -> Self {
        CallFigures {
            average_duration_seconds: figures.average_duration_seconds(),
            total_calls: figures.total_calls.into(),
            inbound_calls: figures.inbound_calls.into(),
            outbound_calls: figures.outbound_calls.into(),
            completed_calls: figures.completed_calls.into(),
            missed_calls: figures.missed_calls.into(),
            total_duration_seconds: figures.total_duration_seconds.into(),
        }
    }
}

/// One period's figures.
#[derive(SimpleObject)]
pub struct CallStatsBucket {
    /// Where the period starts: local midnight (or the hour, Monday, 1st) in the requested zone.
    period_start: DateTime<Utc>,
    #[graphql(flatten)]
    figures: CallFigures,
}

impl From<Bucket> for CallStatsBucket {
    fn from(bucket: Bucket) -> Self {
        CallStatsBucket {
            period_start: bucket.period_start,
            figures: bucket.figures.into(),
        }
    }
}

/// Totals over the filtered calls and, with `groupBy`, the same per period.
#[derive(SimpleObject)]
pub struct CallStats {
    #[graphql(flatten)]
    figures: CallFigures,
    /// One per period from the first call (or `startedAfter`) to the last (or
    /// `startedBefore`), oldest first, quiet periods included with zeros. Empty without `groupBy`.
    buckets: Vec<CallStatsBucket>,
    /// The zone the buckets follow.
    time_zone: String,
}

#[derive(Default)]
pub struct StatsQuery;

#[Object]
impl StatsQuery {
    /// Figures over your calls (staff: everyone's) narrowed by `filter`, and per
    /// `groupBy` period in `timeZone` (an IANA name such as `America/New_York`; default UTC).
    async fn call_stats(
        &self,
        ctx: &Context<'_>,
        filter: Option<CallLogFilter>,
        group_by: Option<StatsPeriod>,
        time_zone: Option<String>,
    ) -> Result<CallStats, AppError> {
        let viewer = ctx.viewer()?;
        let zone = parse_time_zone(time_zone.as_deref().unwrap_or("UTC"))?;
        let filter = filter.unwrap_or_default().parse(ctx)?;
        let calls = ctx.service::<CallService>()?;
        // The buckets cover exactly the filtered calls, so their sum is the totals.
        let (figures, buckets) = match group_by {
            Some(period) => {
                let buckets = calls.buckets(viewer, &filter, period.into(), zone).await?;
                let figures = buckets
                    .iter()
                    .try_fold(Figures::default(), |sum, bucket| sum.plus(&bucket.figures))
                    .ok_or_else(|| AppError::Internal(anyhow::anyhow!("call figures past 2^63")))?;
                (figures, buckets)
            }
            None => (calls.totals(viewer, &filter).await?, Vec::new()),
        };
        Ok(CallStats {
            figures: figures.into(),
            buckets: buckets.into_iter().map(Into::into).collect(),
            time_zone: zone.name().to_owned(),
        })
    }
}
