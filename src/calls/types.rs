//! The shapes of call logs that services and resolvers share: direction,
//! status, a call to record, a filter, and the newest-first sort key.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{entity::call_logs, numbers::E164, paging::CursorKey};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallDirection {
    Inbound,
    Outbound,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallStatus {
    Completed,
    NoAnswer,
    Busy,
    Failed,
    Canceled,
}

impl CallDirection {
    pub fn as_str(self) -> &'static str {
        match self {
            CallDirection::Inbound => "inbound",
            CallDirection::Outbound => "outbound",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [CallDirection::Inbound, CallDirection::Outbound]
            .into_iter()
            .find(|d| d.as_str() == text)
    }
}

impl CallStatus {
    pub const ALL: [CallStatus; 5] = [
        CallStatus::Completed,
        CallStatus::NoAnswer,
        CallStatus::Busy,
        CallStatus::Failed,
        CallStatus::Canceled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CallStatus::Completed => "completed",
            CallStatus::NoAnswer => "no_answer",
            CallStatus::Busy => "busy",
            CallStatus::Failed => "failed",
            CallStatus::Canceled => "canceled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A call to log; numbers already parsed, everything else checked here.
#[derive(Debug)]
pub struct NewCall {
    pub virtual_number_id: Uuid,
    pub direction: CallDirection,
    pub status: CallStatus,
    pub caller_number: E164,
    pub called_number: E164,
    pub started_at: Option<DateTime<Utc>>,
    pub duration_seconds: i32,
    pub external_id: Option<String>,
}

/// Narrows a list of call logs (and the calls `callStats` counts).
#[derive(Debug, Default, Clone, PartialEq, Eq, Hash)]
pub struct CallFilter {
    pub virtual_number_id: Option<Uuid>,
    pub direction: Option<CallDirection>,
    pub status: Option<CallStatus>,
    /// Inclusive lower bound on `started_at`.
    pub started_after: Option<DateTime<Utc>>,
    /// Exclusive upper bound on `started_at`.
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
    use crate::entity;

    #[test]
    fn call_cursors_round_trip() {
        let key = CallKey {
            started_at: entity::now(),
            id: Uuid::now_v7(),
        };
        assert_eq!(CallKey::decode_cursor(&key.encode_cursor()), Some(key));
    }

    #[test]
    fn enums_round_trip_through_storage() {
        for status in CallStatus::ALL {
            assert_eq!(CallStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(CallDirection::parse("inbound"), Some(CallDirection::Inbound));
    }
}
