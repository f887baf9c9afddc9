//! `createCallLogExport`: a single-use link to download call logs as CSV from
//! a browser, which cannot send an `Authorization` header with a download.

use async_graphql::{Context, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::types::CallLogFilter;
use crate::{
    calls::{CallService, stats::parse_time_zone},
    error::AppError,
    graphql::ContextExt,
};

/// Where the export is served; the link adds its token.
pub const EXPORT_PATH: &str = "/exports/call-logs.csv";

/// A link to a CSV export of call logs.
#[derive(SimpleObject)]
pub struct CallLogExport {
    /// The link, relative to this API's origin (`/exports/call-logs.csv?token=…`).
    /// It downloads once, without an `Authorization` header, before `expiresAt`;
    /// it carries a random token (none of your credentials).
    url: String,
    expires_at: DateTime<Utc>,
}

#[derive(Default)]
pub struct ExportMutation;

#[Object]
impl ExportMutation {
    /// Makes a single-use link, valid for five minutes, to download your call logs
    /// (staff: everyone's) narrowed by `filter`, with times in `timeZone` (an IANA
    /// name; default UTC), as `GET /exports/call-logs.csv` does with a header.
    async fn create_call_log_export(
        &self,
        ctx: &Context<'_>,
        filter: Option<CallLogFilter>,
        time_zone: Option<String>,
    ) -> Result<CallLogExport, AppError> {
        let viewer = ctx.viewer()?;
        let zone = parse_time_zone(time_zone.as_deref().unwrap_or("UTC"))?;
        let filter = filter.unwrap_or_default().parse(ctx)?;
        let link = ctx
            .service::<CallService>()?
            .create_export_link(viewer, &filter, zone)
            .await?;
        Ok(CallLogExport {
            url: format!("{EXPORT_PATH}?token={}", link.token),
            expires_at: link.expires_at,
        })
    }
}
