//! The shapes of call logs that services and resolvers share: direction and
//! status (stored as the entity's active enums), the parsed parts of a call to
//! record, a filter, and the newest-first sort key. Each part can only hold a
//! valid value; building one from a request is where validation happens.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use uuid::Uuid;

pub use crate::entity::call_logs::{CallDirection, CallStatus};
use crate::{entity, entity::call_logs, error::AppError, numbers::E164, paging::CursorKey};

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

/// A call to log; every part already parsed.
#[derive(Debug)]
pub struct NewCall {
    pub virtual_number_id: Uuid,
    pub direction: CallDirection,
    pub status: CallStatus,
    pub caller_number: E164,
    pub called_number: E164,
    pub started_at: CallStart,
    pub duration: CallDuration,
    pub external_id: Option<ExternalId>,
}

/// Narrows a list of call logs (and the calls `callStats` counts).
#[derive(Debug, Default, Clone, PartialEq, Eq, Hash)]
pub struct CallFilter {
    pub virtual_number_id: Option<Uuid>,
    pub direction: Option<CallDirection>,
    pub status: Option<CallStatus>,
    /// Inclusive lower bound on `started_at` (within the accepted range).
    pub started_after: Option<DateTime<Utc>>,
    /// Exclusive upper bound on `started_at` (within the accepted range).
    pub started_before: Option<DateTime<Utc>>,
    /// The other party, in E.164.
    pub counterpart_number: Option<String>,
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
}
