//! Call logs as CSV: the columns (every field of `CallLog`, with its number's
//! E.164 and friendly name), RFC 4180 writing, and cells a spreadsheet would
//! run neutralised as the OWASP guidance on CSV injection says.

use std::{borrow::Cow, collections::HashMap, io};

use async_graphql::InputType;
use axum::body::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use sea_orm::Iterable;
use uuid::Uuid;

use crate::{
    calls::{
        graphql::types as shapes,
        types::{CallDirection, CallStatus, CounterpartKind},
    },
    entity::call_logs,
    graphql::ids::{self, NodeType},
};

/// The columns, in order: every field of `CallLog` (its number as its id, E.164
/// and friendly name).
pub const COLUMNS: [&str; 15] = [
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

/// Numbers' E.164 and friendly names, by id.
pub type NumberNames = HashMap<Uuid, (String, Option<String>)>;

/// Writes call logs as CSV rows, times in one zone and enums spelled as the
/// GraphQL API spells them.
pub struct CallLogCsv {
    zone: Tz,
    directions: HashMap<CallDirection, String>,
    statuses: HashMap<CallStatus, String>,
    kinds: HashMap<CounterpartKind, String>,
}

/// A stored enum's GraphQL name (`NO_ANSWER`).
fn spelling<T: InputType>(value: T) -> String {
    match value.to_value() {
        async_graphql::Value::Enum(name) => name.to_string(),
        other => other.to_string(),
    }
}

impl CallLogCsv {
    pub fn new(zone: Tz) -> Self {
        CallLogCsv {
            zone,
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

    /// The header line.
    pub fn header(&self) -> io::Result<Bytes> {
        write_records(std::iter::once(COLUMNS.map(Cow::Borrowed).to_vec()))
    }

    /// One line per log; a number not in `names` leaves its two cells empty.
    pub fn rows(&self, logs: &[call_logs::Model], names: &NumberNames) -> io::Result<Bytes> {
        write_records(logs.iter().map(|log| self.record(log, names)))
    }

    fn record<'a>(&'a self, log: &'a call_logs::Model, names: &'a NumberNames) -> Vec<Cow<'a, str>> {
        let (number, friendly_name) = match names.get(&log.virtual_number_id) {
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
        let spelled = |spelling: Option<&'a String>| Cow::Borrowed(spelling.map_or("", String::as_str));
        vec![
            Cow::Owned(ids::encode(NodeType::CallLog, log.id).0),
            Cow::Owned(ids::encode(NodeType::VirtualNumber, log.virtual_number_id).0),
            Cow::Borrowed(number),
            Cow::Borrowed(friendly_name),
            spelled(self.directions.get(&log.direction)),
            spelled(self.statuses.get(&log.status)),
            Cow::Borrowed(caller),
            Cow::Borrowed(log.called_number.as_str()),
            Cow::Borrowed(counterpart),
            spelled(self.kinds.get(&log.counterpart_kind)),
            Cow::Borrowed(log.counterpart_extension.as_deref().unwrap_or_default()),
            Cow::Owned(self.local(log.started_at)),
            Cow::Owned(log.duration_seconds.to_string()),
            Cow::Borrowed(log.external_id.as_deref().unwrap_or_default()),
            Cow::Owned(self.local(log.created_at)),
        ]
    }

    /// RFC 3339 in the zone: `2026-03-07T00:01:00+05:30`, `…Z` in UTC.
    fn local(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.zone)
            .to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }
}

/// Records as RFC 4180 CSV (CRLF line ends, fields quoted where they hold a
/// comma, quote or line break), every cell neutralised first.
fn write_records<'a>(records: impl IntoIterator<Item = Vec<Cow<'a, str>>>) -> io::Result<Bytes> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::with_capacity(64 * 1024));
    for record in records {
        for cell in &record {
            writer.write_field(neutralised(cell).as_bytes())?;
        }
        writer.write_record(None::<&[u8]>)?;
    }
    writer
        .into_inner()
        .map(Bytes::from)
        .map_err(|error| io::Error::other(error.to_string()))
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
        let bytes = write_records([
            vec![
                Cow::Borrowed("a,b"),
                Cow::Borrowed("say \"hi\""),
                Cow::Borrowed("two\nlines"),
                Cow::Borrowed("=1+1"),
            ],
            vec![
                Cow::Borrowed(""),
                Cow::Borrowed("plain"),
                Cow::Borrowed("@x"),
                Cow::Borrowed("-"),
            ],
        ])
        .unwrap();

        assert_eq!(
            &bytes[..],
            b"\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",'=1+1\r\n,plain,'@x,'-\r\n"
        );
    }
}
