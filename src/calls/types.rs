//! The shapes of call logs that services and resolvers share: direction and
//! status (stored as the entity's active enums), the parsed parts of a call to
//! record, a filter, and the newest-first sort key. Each part can only hold a
//! valid value; building one from a request is where validation happens.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use uuid::Uuid;

pub use crate::entity::call_logs::{CallDirection, CallStatus, CounterpartKind};
use crate::{
    entity,
    entity::call_logs,
    error::AppError,
    numbers::{Counterpart, E164, Region, parse_counterpart},
    paging::CursorKey,
};

impl CallStatus {
    /// Whether an inbound call that ended this way was missed (nobody answered it).
    /// The statistics count `missedCalls` from this, and only this.
    pub fn is_missed(self) -> bool {
        matches!(self, CallStatus::NoAnswer | CallStatus::Busy | CallStatus::Canceled)
    }
}

/// Longest a call may last: one day.
pub const MAX_DURATION_SECONDS: i32 = 86_400;
/// How far in the future a start time may be (clock skew between carriers and us).
pub const MAX_FUTURE_SKEW: TimeDelta = TimeDelta::minutes(5);

/// Talk time in seconds: 0 to a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallDuration(i32);

impl TryFrom<i32> for CallDuration {
    type Error = AppError;

    fn try_from(seconds: i32) -> Result<Self, AppError> {
        if (0..=MAX_DURATION_SECONDS).contains(&seconds) {
            Ok(CallDuration(seconds))
        } else {
            Err(AppError::bad_input(
                "durationSeconds",
                format!("durationSeconds is 0 to {MAX_DURATION_SECONDS}"),
            ))
        }
    }
}

impl CallDuration {
    pub fn seconds(self) -> i32 {
        self.0
    }
}

/// The carrier's id for a call: 1 to 128 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalId(String);

impl TryFrom<&str> for ExternalId {
    type Error = AppError;

    fn try_from(text: &str) -> Result<Self, AppError> {
        let id = text.trim();
        if id.is_empty() || id.chars().count() > 128 || id.chars().any(char::is_control) {
            return Err(AppError::bad_input(
                "externalId",
                "externalId is 1 to 128 characters, without control characters",
            ));
        }
        Ok(ExternalId(id.to_owned()))
    }
}

impl ExternalId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The earliest instant the API accepts anywhere (a call's start, a filter's bound).
pub fn earliest_instant() -> DateTime<Utc> {
    DateTime::UNIX_EPOCH
}

/// The latest instant a filter may name: the end of year 9999, so every period
/// a report can cover stays far inside what both databases and chrono can hold.
pub fn latest_instant() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59)
        .single()
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// An instant a filter may use: from 1970 to the end of year 9999.
pub fn filter_instant(at: DateTime<Utc>, field: &'static str) -> Result<DateTime<Utc>, AppError> {
    if at < earliest_instant() || at > latest_instant() {
        return Err(AppError::bad_input(
            field,
            format!("{field} must fall between 1970-01-01 and 9999-12-31"),
        ));
    }
    Ok(entity::stored_precision(at))
}

/// When a call started: not before 1970, at most five minutes from now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallStart(DateTime<Utc>);

impl TryFrom<DateTime<Utc>> for CallStart {
    type Error = AppError;

    fn try_from(at: DateTime<Utc>) -> Result<Self, AppError> {
        if at > entity::now() + MAX_FUTURE_SKEW {
            return Err(AppError::bad_input(
                "startedAt",
                "startedAt may be at most 5 minutes in the future",
            ));
        }
        if at < earliest_instant() {
            return Err(AppError::bad_input("startedAt", "startedAt may not be before 1970"));
        }
        Ok(CallStart(entity::stored_precision(at)))
    }
}

impl CallStart {
    pub fn now() -> Self {
        CallStart(entity::now())
    }

    pub fn instant(self) -> DateTime<Utc> {
        self.0
    }
}

/// The longest counterpart the number columns hold: E.164's `+` and 15 digits.
pub const MAX_COUNTERPART_LENGTH: usize = 16;
/// The longest extension kept (libphonenumber reads at most 20 digits after `ext`).
pub const MAX_EXTENSION_LENGTH: usize = 20;

/// The other party of a call as it is stored: its kind, the number columns'
/// text (E.164, `''` when withheld, or the digits), and a number's extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallCounterpart {
    kind: CounterpartKind,
    number: String,
    extension: Option<String>,
}

impl CallCounterpart {
    /// Reads the other party as a carrier sent it, in `region` (the virtual
    /// number's country). Withheld caller ids, short codes and numbers that are
    /// not valid are kept with their kind; text that is no number at all, or
    /// digits longer than any number, is `BAD_USER_INPUT` on `field`.
    pub fn read(input: &str, region: Option<Region>, field: &'static str) -> Result<Self, AppError> {
        let counterpart = parse_counterpart(input, region).map_err(|error| AppError::bad_input(field, error.0))?;
        let (kind, number, extension) = match counterpart {
            Counterpart::Valid { number, extension } => {
                (CounterpartKind::Number, number.as_str().to_owned(), extension)
            }
            Counterpart::Withheld => (CounterpartKind::Withheld, String::new(), None),
            Counterpart::ShortCode { digits } => (CounterpartKind::ShortCode, digits, None),
            Counterpart::Unverifiable { digits } => (CounterpartKind::Unverifiable, digits, None),
        };
        if number.chars().count() > MAX_COUNTERPART_LENGTH {
            return Err(AppError::bad_input(
                field,
                format!(
                    "`{}` has more digits than any phone number ({number} is over {MAX_COUNTERPART_LENGTH} characters)",
                    input.trim()
                ),
            ));
        }
        if extension
            .as_ref()
            .is_some_and(|extension| extension.chars().count() > MAX_EXTENSION_LENGTH)
        {
            return Err(AppError::bad_input(
                field,
                format!("an extension is at most {MAX_EXTENSION_LENGTH} characters"),
            ));
        }
        Ok(CallCounterpart {
            kind,
            number,
            extension,
        })
    }

    pub fn kind(&self) -> CounterpartKind {
        self.kind
    }

    /// As the number columns hold it: E.164, `''` when withheld, or the digits.
    pub fn stored_number(&self) -> &str {
        &self.number
    }

    pub fn extension(&self) -> Option<&str> {
        self.extension.as_deref()
    }
}

/// What `CallLogFilter.counterpartNumber` matches, as the number columns hold it:
/// a valid number in any spelling (E.164), or else a short code's digits or an
/// unverifiable number written with its `+` country code. A national spelling
/// with no region to read it in stays refused, as do withheld markers (filter
/// on the kind instead). Each kind's stored text looks unlike the others'
/// (`+` and a valid number; up to six digits; other digits), so the text alone
/// tells them apart.
pub fn counterpart_search(input: &str, region: Option<Region>) -> Result<String, AppError> {
    let not_a_number = match E164::parse(input, region) {
        Ok(number) => return Ok(number.as_str().to_owned()),
        Err(error) => error,
    };
    match parse_counterpart(input, region) {
        Ok(Counterpart::ShortCode { digits }) => Ok(digits),
        Ok(Counterpart::Unverifiable { digits }) if digits.starts_with('+') => Ok(digits),
        Ok(Counterpart::Withheld) => Err(AppError::bad_input(
            "counterpartNumber",
            "a withheld caller has no number: filter on counterpartKind: WITHHELD",
        )),
        _ => Err(AppError::bad_input("counterpartNumber", not_a_number.0)),
    }
}

/// A call to log; every part already parsed.
#[derive(Debug)]
pub struct NewCall {
    pub virtual_number_id: Uuid,
    pub direction: CallDirection,
    pub status: CallStatus,
    /// The virtual number's own side (the caller of an outbound call, the called
    /// number of an inbound one) as given: it must be the virtual number itself.
    pub own_number: E164,
    /// The other side.
    pub counterpart: CallCounterpart,
    pub started_at: CallStart,
    pub duration: CallDuration,
    pub external_id: Option<ExternalId>,
}

/// Narrows a list of call logs (and the calls `callStats` counts).
#[derive(Debug, Default, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct CallFilter {
    pub virtual_number_id: Option<Uuid>,
    pub direction: Option<CallDirection>,
    pub status: Option<CallStatus>,
    /// Inclusive lower bound on `started_at` (within the accepted range).
    pub started_after: Option<DateTime<Utc>>,
    /// Exclusive upper bound on `started_at` (within the accepted range).
    pub started_before: Option<DateTime<Utc>>,
    /// The other party as stored (see `counterpart_search`).
    pub counterpart_number: Option<String>,
    pub counterpart_kind: Option<CounterpartKind>,
}

/// The sort key of call logs: newest first by start time, ties broken by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallKey {
    pub started_at: DateTime<Utc>,
    pub id: Uuid,
}

impl CursorKey for CallKey {
    fn to_cursor_text(&self) -> String {
        format!("call:{}:{}", self.started_at.timestamp_micros(), self.id)
    }

    fn from_cursor_text(text: &str) -> Option<Self> {
        let (micros, id) = text.strip_prefix("call:")?.split_once(':')?;
        Some(CallKey {
            started_at: DateTime::from_timestamp_micros(micros.parse().ok()?)?,
            id: id.parse().ok()?,
        })
    }
}

impl CallKey {
    pub fn of(log: &call_logs::Model) -> Self {
        CallKey {
            started_at: log.started_at,
            id: log.id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_cursors_round_trip() {
        let key = CallKey {
            started_at: entity::now(),
            id: Uuid::now_v7(),
        };
        assert_eq!(CallKey::decode_cursor(&key.encode_cursor()), Some(key));
    }

    #[test]
    fn parts_of_a_call_hold_only_valid_values() {
        assert!(CallDuration::try_from(0).is_ok());
        assert!(CallDuration::try_from(MAX_DURATION_SECONDS).is_ok());
        assert!(CallDuration::try_from(-1).is_err());
        assert!(CallDuration::try_from(MAX_DURATION_SECONDS + 1).is_err());
        assert!(ExternalId::try_from("  carrier-42 ").is_ok_and(|id| id.as_str() == "carrier-42"));
        assert!(ExternalId::try_from("  ").is_err());
        assert!(ExternalId::try_from("a\0b").is_err());
        assert!(ExternalId::try_from("x".repeat(129).as_str()).is_err());
        assert!(CallStart::try_from(DateTime::<Utc>::MIN_UTC).is_err());
        assert!(CallStart::try_from(entity::now() + TimeDelta::hours(1)).is_err());
        assert!(filter_instant(DateTime::<Utc>::MAX_UTC, "startedBefore").is_err());
    }

    fn us() -> Option<Region> {
        Some("US".parse().unwrap())
    }

    fn stored(input: &str, region: Option<Region>) -> (CounterpartKind, String, Option<String>) {
        let counterpart = CallCounterpart::read(input, region, "callerNumber").unwrap();
        (
            counterpart.kind(),
            counterpart.stored_number().to_owned(),
            counterpart.extension().map(str::to_owned),
        )
    }

    #[test]
    fn counterparts_are_stored_with_their_kind_and_digits() {
        use CounterpartKind::*;
        assert_eq!(stored("(415) 555-0100", us()), (Number, "+14155550100".into(), None));
        assert_eq!(
            stored("+1 415 555 0100 ext. 7", us()),
            (Number, "+14155550100".into(), Some("7".into()))
        );
        assert_eq!(stored("anonymous", us()), (Withheld, String::new(), None));
        assert_eq!(stored("", us()), (Withheld, String::new(), None));
        assert_eq!(stored("911", us()), (ShortCode, "911".into(), None));
        assert_eq!(stored("+1 555 0100", us()), (Unverifiable, "+15550100".into(), None));
    }

    #[test]
    fn counterparts_no_number_column_can_hold_are_refused_on_their_field() {
        for input in [
            "ACME Corp",
            "+999 1234 5678 9012 3456",
            "12345678901234567890",
            "+1 415 555 0100 ext. 123456789012345678901",
        ] {
            let refused = CallCounterpart::read(input, us(), "calledNumber");
            assert!(
                matches!(&refused, Err(AppError::BadInput { field, .. }) if field == "calledNumber"),
                "{input:?}: {refused:?}"
            );
        }
    }

    #[test]
    fn counterpart_searches_match_numbers_in_any_spelling_and_short_codes() {
        assert_eq!(counterpart_search("+1 (415) 555-0100", None).unwrap(), "+14155550100");
        assert_eq!(counterpart_search("(415) 555-0100", us()).unwrap(), "+14155550100");
        assert_eq!(counterpart_search("911", None).unwrap(), "911");
        assert_eq!(counterpart_search("+1 555 0100", None).unwrap(), "+15550100");
        assert!(counterpart_search("(415) 555-0100", None).is_err());
        assert!(counterpart_search("anonymous", us()).is_err());
        assert!(counterpart_search("ACME", us()).is_err());
    }
}
