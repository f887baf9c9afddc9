//! `GET /exports/call-logs.csv`: call logs as CSV (rows written by
//! `call_log_csv`), streamed from the database in keyset batches, so memory
//! stays flat whatever the size and the header leaves before the first row is
//! read. Authorised by a bearer token or API key (READ_CALLS) with filters as
//! query parameters, or by a single-use link from `createCallLogExport`;
//! metered against the caller's cost bucket.

use std::{collections::HashMap, sync::Arc, time::Duration};

use async_graphql::{EnumType, InputType};
use axum::{
    body::{Body, Bytes},
    extract::{Query, State, rejection::QueryRejection},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use futures_util::stream;
use uuid::Uuid;

use super::{
    HttpState,
    call_log_csv::{CallLogCsv, NumberNames},
    graphql::{bearer_viewer, refuse},
};
pub use crate::calls::graphql::exports::EXPORT_PATH;
use crate::{
    auth::{Scope, Viewer},
    calls::{CallFilter, CallKey, CallService, graphql::CallLogFilter, stats::parse_time_zone},
    entity::call_logs,
    error::AppError,
    graphql::throttle::Throttle,
    numbers::NumberService,
    paging::{Direction, PageRequest},
};

/// What starting an export costs, like an aggregate query (`callStats`).
pub const EXPORT_COST: u64 = 50;
/// Rows one point of the caller's bucket pays for. A million rows cost 10,000
/// points: half a full bucket, restored in ten seconds.
pub const ROWS_PER_POINT: u64 = 100;
/// Rows read per query: big enough that a query's overhead vanishes, small
/// enough that a batch (and its CSV) is a few hundred kilobytes.
const BATCH_ROWS: u64 = 1_000;
/// Numbers' names remembered while exporting (a staff export may span many).
const NAMES_KEPT: usize = 10_000;

const FILTER_PARAMETERS: [&str; 7] = [
    "virtualNumberId",
    "direction",
    "status",
    "startedAfter",
    "startedBefore",
    "counterpartNumber",
    "counterpartKind",
];
const TIME_ZONE: &str = "timeZone";
const TOKEN: &str = "token";

/// `GET /exports/call-logs.csv`.
pub async fn call_logs_csv(
    State(state): State<HttpState>,
    method: Method,
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    // axum answers HEAD with this handler too; a link preview or prefetch must
    // neither spend a single-use link nor run an export to throw it away.
    if method == Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, HeaderValue::from_static("GET"))],
        )
            .into_response();
    }
    match start(&state, &headers, query).await {
        Ok(export) => {
            let body = Body::from_stream(stream::unfold(export, |mut export| async move {
                let chunk = export.next_chunk().await?;
                Some((chunk, export))
            }));
            (
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("text/csv; charset=utf-8"),
                    ),
                    (
                        header::CONTENT_DISPOSITION,
                        HeaderValue::from_static("attachment; filename=\"call-logs.csv\""),
                    ),
                    (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                ],
                body,
            )
                .into_response()
        }
        Err(error) => {
            let status = match &error {
                AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
                AppError::Forbidden(_) => StatusCode::FORBIDDEN,
                AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
                AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
                _ => StatusCode::BAD_REQUEST,
            };
            let retry_after = match &error {
                AppError::RateLimited { retry_after_secs } => Some(*retry_after_secs),
                _ => None,
            };
            let mut response = refuse(&headers, status, error);
            if let Some(seconds) = retry_after {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            response
        }
    }
}

/// Everything checked before the first byte: who asks, what for, and whether
/// their bucket can pay to start.
async fn start(
    state: &HttpState,
    headers: &HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Export, AppError> {
    let Query(pairs) = query.map_err(|_| {
        AppError::bad_input(
            "query",
            "the query string could not be read: send parameters such as ?direction=INBOUND&timeZone=Europe/Paris",
        )
    })?;
    let mut parameters: HashMap<&str, &str> = HashMap::new();
    for (name, value) in &pairs {
        let known = FILTER_PARAMETERS.contains(&name.as_str()) || name == TIME_ZONE || name == TOKEN;
        if !known {
            return Err(AppError::bad_input(
                name.clone(),
                format!(
                    "`{name}` is not a parameter of this export; use {}, {TIME_ZONE} or {TOKEN}",
                    FILTER_PARAMETERS.join(", ")
                ),
            ));
        }
        if parameters.insert(name, value).is_some() {
            return Err(AppError::bad_input(name.clone(), format!("`{name}` is given twice")));
        }
    }
    let signed_in = match headers.get(header::AUTHORIZATION) {
        Some(value) => Some(bearer_viewer(value.to_str().ok(), state).await?.0),
        None => None,
    };
    let (viewer, filter, zone) = match parameters.remove(TOKEN) {
        Some(token) => {
            if let Some(name) = parameters.keys().next() {
                return Err(AppError::bad_input(
                    name.to_string(),
                    "an export link's filter and zone were fixed when it was made; send the link as it is",
                ));
            }
            let grant = state
                .services
                .calls
                .redeem_export_link(token, signed_in.as_ref())
                .await?;
            let zone = parse_time_zone(&grant.time_zone)?;
            (grant.viewer, grant.filter, zone)
        }
        None => {
            let viewer = signed_in.ok_or(AppError::Unauthenticated(
                "send `Authorization: Bearer <accessToken or API key>`, or use a link from createCallLogExport",
            ))?;
            if let Some(grant) = viewer.api_key
                && !grant.scopes.contains(Scope::ReadCalls)
            {
                return Err(AppError::Forbidden(Scope::ReadCalls.missing()));
            }
            let zone = parse_time_zone(parameters.get(TIME_ZONE).copied().unwrap_or("UTC"))?;
            let filter = filter_of(&parameters)?.parse_in(state.services.default_region.0)?;
            (viewer, filter, zone)
        }
    };
    // The same bucket, and the same name for it, as the caller's GraphQL requests.
    let caller = format!("user:{}", viewer.user_id);
    if let Err((wait, _)) = state.throttle.take(&caller, EXPORT_COST) {
        return Err(AppError::RateLimited {
            retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
        });
    }
    Ok(Export {
        calls: state.services.calls.clone(),
        numbers: state.services.numbers.clone(),
        throttle: state.throttle.clone(),
        caller,
        viewer,
        filter,
        after: None,
        header_sent: false,
        finished: false,
        names: HashMap::new(),
        csv: CallLogCsv::new(zone),
    })
}

/// The filter the query parameters spell, as `CallLogFilter` spells it in GraphQL.
fn filter_of(parameters: &HashMap<&str, &str>) -> Result<CallLogFilter, AppError> {
    let text = |name: &str| {
        parameters
            .get(name)
            .map(|value| value.trim())
            .filter(|value| !value.is_empty())
    };
    let instant = |name: &'static str| -> Result<Option<DateTime<Utc>>, AppError> {
        text(name)
            .map(|value| {
                DateTime::parse_from_rfc3339(value)
                    .map(|at| at.with_timezone(&Utc))
                    .map_err(|_| {
                        AppError::bad_input(
                            name,
                            format!(
                                "`{value}` is not an RFC 3339 instant such as 2026-03-01T00:00:00Z (write + as %2B)"
                            ),
                        )
                    })
            })
            .transpose()
    };
    Ok(CallLogFilter {
        virtual_number_id: text("virtualNumberId").map(|id| async_graphql::ID(id.to_owned())),
        direction: enum_of("direction", text("direction"))?,
        status: enum_of("status", text("status"))?,
        started_after: instant("startedAfter")?,
        started_before: instant("startedBefore")?,
        counterpart_number: text("counterpartNumber").map(str::to_owned),
        counterpart_kind: enum_of("counterpartKind", text("counterpartKind"))?,
    })
}

/// A GraphQL enum value from its name (`INBOUND`), or `BAD_USER_INPUT` naming them all.
fn enum_of<T: InputType + EnumType>(name: &'static str, value: Option<&str>) -> Result<Option<T>, AppError> {
    let Some(value) = value else {
        return Ok(None);
    };
    T::parse(Some(async_graphql::Value::Enum(async_graphql::Name::new(value))))
        .map(Some)
        .map_err(|_| {
            let names: Vec<&str> = T::items().iter().map(|item| item.name).collect();
            AppError::bad_input(name, format!("`{value}` is not one of {}", names.join(", ")))
        })
}

/// One export under way.
struct Export {
    calls: CallService,
    numbers: NumberService,
    throttle: Arc<Throttle>,
    caller: String,
    viewer: Viewer,
    filter: CallFilter,
    /// The last row written: the next batch starts after it.
    after: Option<CallKey>,
    header_sent: bool,
    finished: bool,
    /// The numbers met so far.
    names: NumberNames,
    csv: CallLogCsv,
}

impl Export {
    /// The next piece of the file: the header first (before any query runs), then
    /// one batch of rows at a time; `None` at the end. A failure ends the stream
    /// with an error, so the client sees a broken download, never a short file.
    async fn next_chunk(&mut self) -> Option<Result<Bytes, std::io::Error>> {
        if self.finished {
            return None;
        }
        if !self.header_sent {
            self.header_sent = true;
            return Some(self.csv.header());
        }
        match self.next_batch().await {
            Ok(Some(chunk)) => Some(Ok(chunk)),
            Ok(None) => {
                self.finished = true;
                None
            }
            Err(error) => {
                self.finished = true;
                tracing::error!(?error, "an export failed part-way");
                Some(Err(std::io::Error::other(
                    "the export failed part-way; see the server log",
                )))
            }
        }
    }

    async fn next_batch(&mut self) -> Result<Option<Bytes>, AppError> {
        // Each batch pays its way; a caller out of points waits for the refill
        // (the download slows down) rather than getting a cut-off file.
        let points = BATCH_ROWS.div_ceil(ROWS_PER_POINT);
        while let Err((wait, _)) = self.throttle.take(&self.caller, points) {
            tokio::time::sleep(wait.max(Duration::from_millis(10))).await;
        }
        let request = PageRequest {
            direction: Direction::Forward,
            size: BATCH_ROWS,
            after: self.after,
            before: None,
        };
        let page = self.calls.list(&self.viewer, &self.filter, &request).await?;
        let Some(last) = page.items.last() else {
            return Ok(None);
        };
        self.after = Some(CallKey::of(last));
        if !page.has_next_page {
            // Nothing after this batch: no query for an empty one.
            self.finished = true;
        }
        self.learn_names(&page.items).await?;
        self.csv
            .rows(&page.items, &self.names)
            .map(Some)
            .map_err(|error| AppError::Internal(anyhow::Error::new(error).context("writing CSV")))
    }

    /// Looks up the numbers of this batch not met before (released ones too).
    async fn learn_names(&mut self, logs: &[call_logs::Model]) -> Result<(), AppError> {
        let mut missing: Vec<Uuid> = logs
            .iter()
            .map(|log| log.virtual_number_id)
            .filter(|id| !self.names.contains_key(id))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        missing.sort_unstable();
        missing.dedup();
        if self.names.len() + missing.len() > NAMES_KEPT {
            self.names.clear();
        }
        for number in self.numbers.in_history_many(&self.viewer, &missing).await? {
            self.names
                .insert(number.id, (number.phone_number, number.friendly_name));
        }
        Ok(())
    }
}
