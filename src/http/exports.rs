//! `GET /exports/call-logs.csv`: call logs as CSV (RFC 4180, with cells a
//! spreadsheet would run neutralised as OWASP advises), streamed from the
//! database in keyset batches, so memory stays flat whatever the size and the
//! header leaves before the first row is read. Authorised by a bearer token or
//! API key (READ_CALLS) with filters as query parameters, or by a single-use
//! link from `createCallLogExport`; metered against the caller's cost bucket.

use std::{borrow::Cow, collections::HashMap, sync::Arc, time::Duration};

use async_graphql::{EnumType, InputType};
use axum::{
    body::{Body, Bytes},
    extract::{Query, State, rejection::QueryRejection},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use futures_util::stream;
use sea_orm::Iterable;
use uuid::Uuid;

use super::{
    HttpState,
    graphql::{bearer_viewer, refuse},
};
pub use crate::calls::graphql::exports::EXPORT_PATH;
use crate::{
    auth::{Scope, Viewer},
    calls::{
        CallFilter, CallKey, CallService,
        graphql::{CallLogFilter, types as shapes},
        stats::parse_time_zone,
        types::{CallDirection, CallStatus, CounterpartKind},
    },
    entity::call_logs,
    error::AppError,
    graphql::{
        ids::{self, NodeType},
        throttle::Throttle,
    },
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

/// The columns, in order: every field of `CallLog` (its number as its id, E.164
/// and friendly name).
const COLUMNS: [&str; 15] = [
    "id",
    "virtualNumberId",
    "virtualNumber",
    "virtualNumberFriendlyName",
    "direction",
    "status",
    "callerNumber",
    "calledNumber",
    "counterpartNumber",
    "counterpartKind",
    "counterpartExtension",
    "startedAt",
    "durationSeconds",
    "externalId",
    "createdAt",
];

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
        zone,
        after: None,
        header_sent: false,
        finished: false,
        names: HashMap::new(),
        spellings: Spellings::new(),
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

/// How the stored enums are spelled in the CSV: as the GraphQL API spells them.
struct Spellings {
    directions: HashMap<CallDirection, String>,
    statuses: HashMap<CallStatus, String>,
    kinds: HashMap<CounterpartKind, String>,
}

fn spelling<T: InputType>(value: T) -> String {
    match value.to_value() {
        async_graphql::Value::Enum(name) => name.to_string(),
        other => other.to_string(),
    }
}

impl Spellings {
    fn new() -> Self {
        Spellings {
            directions: CallDirection::iter()
                .map(|value| (value, spelling(shapes::CallDirection::from(value))))
                .collect(),
            statuses: CallStatus::iter()
                .map(|value| (value, spelling(shapes::CallStatus::from(value))))
                .collect(),
            kinds: CounterpartKind::iter()
                .map(|value| (value, spelling(shapes::CounterpartKind::from(value))))
                .collect(),
        }
    }
}

/// One export under way.
struct Export {
    calls: CallService,
    numbers: NumberService,
    throttle: Arc<Throttle>,
    caller: String,
    viewer: Viewer,
    filter: CallFilter,
    zone: Tz,
    /// The last row written: the next batch starts after it.
    after: Option<CallKey>,
    header_sent: bool,
    finished: bool,
    /// Numbers' E.164 and friendly names, by id.
    names: HashMap<Uuid, (String, Option<String>)>,
    spellings: Spellings,
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
            return Some(write_records(std::iter::once(COLUMNS.map(Cow::Borrowed).to_vec())));
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
        let records = page.items.iter().map(|log| self.record(log));
        write_records(records)
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

    fn record<'a>(&'a self, log: &'a call_logs::Model) -> Vec<Cow<'a, str>> {
        let (number, friendly_name) = match self.names.get(&log.virtual_number_id) {
            Some((number, name)) => (number.as_str(), name.as_deref().unwrap_or_default()),
            None => ("", ""),
        };
        // As `CallLog` gives them: a withheld counterpart has no number.
        let counterpart = match log.counterpart_kind {
            CounterpartKind::Withheld => "",
            _ => log.counterpart_number.as_str(),
        };
        let caller = match log.direction {
            CallDirection::Inbound => counterpart,
            CallDirection::Outbound => log.caller_number.as_str(),
        };
        let spellings = &self.spellings;
        vec![
            Cow::Owned(ids::encode(NodeType::CallLog, log.id).0),
            Cow::Owned(ids::encode(NodeType::VirtualNumber, log.virtual_number_id).0),
            Cow::Borrowed(number),
            Cow::Borrowed(friendly_name),
            Cow::Borrowed(spellings.directions.get(&log.direction).map_or("", String::as_str)),
            Cow::Borrowed(spellings.statuses.get(&log.status).map_or("", String::as_str)),
            Cow::Borrowed(caller),
            Cow::Borrowed(log.called_number.as_str()),
            Cow::Borrowed(counterpart),
            Cow::Borrowed(spellings.kinds.get(&log.counterpart_kind).map_or("", String::as_str)),
            Cow::Borrowed(log.counterpart_extension.as_deref().unwrap_or_default()),
            Cow::Owned(self.local(log.started_at)),
            Cow::Owned(log.duration_seconds.to_string()),
            Cow::Borrowed(log.external_id.as_deref().unwrap_or_default()),
            Cow::Owned(self.local(log.created_at)),
        ]
    }

    fn local(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.zone)
            .to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }
}

/// Records as RFC 4180 CSV (CRLF line ends, fields quoted where they hold a
/// comma, quote or line break), every cell neutralised first.
fn write_records<'a>(records: impl IntoIterator<Item = Vec<Cow<'a, str>>>) -> Result<Bytes, std::io::Error> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::with_capacity(256 * BATCH_ROWS as usize));
    for record in records {
        writer.write_record(record.iter().map(|cell| neutralised(cell).into_owned()))?;
    }
    writer
        .into_inner()
        .map(Bytes::from)
        .map_err(|error| std::io::Error::other(error.to_string()))
}

/// A cell a spreadsheet would take for a formula (starting with `=`, `+`, `-`,
/// `@`, a tab or a carriage return) with a `'` before it, as the OWASP guidance
/// on CSV injection says; spreadsheets then show it as the text it is. E.164
/// numbers start with `+`, so they gain the quote too (and stay text, `+` and
/// all, rather than becoming a number).
pub fn neutralised(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_a_spreadsheet_would_run_are_neutralised() {
        for formula in ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralised(formula), format!("'{formula}"));
        }
        assert_eq!(neutralised("Front desk"), "Front desk");
        assert_eq!(neutralised(""), "");
    }

    #[test]
    fn records_are_quoted_as_rfc_4180_says() {
        let bytes = write_records([vec![
            Cow::Borrowed("a,b"),
            Cow::Borrowed("say \"hi\""),
            Cow::Borrowed("two\nlines"),
            Cow::Borrowed("=1+1"),
        ]])
        .unwrap();

        assert_eq!(&bytes[..], b"\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",'=1+1\r\n");
    }
}
