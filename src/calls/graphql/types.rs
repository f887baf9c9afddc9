//! The GraphQL shapes of call logs: `CallLog`, the direction, status and
//! counterpart-kind enums (derived from the stored ones, so a variant exists
//! once), and `CallLogFilter`.

use async_graphql::{Context, Enum, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    calls::types::{self, CallFilter, CallKey, counterpart_search, filter_instant},
    entity::call_logs,
    error::AppError,
    graphql::{
        ConnectionNode, ContextExt,
        ids::{self, NodeType},
        loaders::unshare,
    },
    numbers::{DefaultRegion, NUMBER_NOT_FOUND, Region, graphql::VirtualNumber, loaders::HistoryNumberLoader},
    paging::CursorKey,
};

/// Which way a call went, seen from the virtual number.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "types::CallDirection")]
pub enum CallDirection {
    /// Someone called the virtual number.
    Inbound,
    /// The virtual number called someone.
    Outbound,
}

/// How a call ended.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "types::CallStatus")]
pub enum CallStatus {
    Completed,
    NoAnswer,
    Busy,
    Failed,
    Canceled,
}

/// What the other party of a call was.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "types::CounterpartKind")]
pub enum CounterpartKind {
    /// A valid phone number: `counterpartNumber` is its E.164 form.
    Number,
    /// The caller withheld their number (anonymous, restricted, unavailable, or
    /// no caller id at all): `counterpartNumber` is null.
    Withheld,
    /// A short code or service number of the virtual number's country: emergency
    /// (`911`, `112`, `999`), directory and other service numbers, and SMS short
    /// codes. `counterpartNumber` is its digits. Only meaningful in that country.
    ShortCode,
    /// Digits that are no valid phone number (an unknown country code, a wrong
    /// length, a range not in use): `counterpartNumber` is the digits as sent,
    /// with `+` and the country code when they had one.
    Unverifiable,
}

/// One call a virtual number made or received.
#[derive(Clone)]
pub struct CallLog(call_logs::Model);

impl From<call_logs::Model> for CallLog {
    fn from(model: call_logs::Model) -> Self {
        CallLog(model)
    }
}

impl ConnectionNode for CallLog {
    const NAME: &'static str = "CallLog";
}

#[Object]
impl CallLog {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::CallLog, self.0.id)
    }

    /// The number that made or received the call (even if since released).
    async fn virtual_number(&self, ctx: &Context<'_>) -> Result<VirtualNumber, AppError> {
        let number = ctx
            .loader::<HistoryNumberLoader>()?
            .load_one(self.0.virtual_number_id)
            .await
            .map_err(unshare)?;
        number
            .map(VirtualNumber::from)
            .ok_or(AppError::NotFound(NUMBER_NOT_FOUND))
    }

    async fn direction(&self) -> CallDirection {
        self.0.direction.into()
    }

    async fn status(&self) -> CallStatus {
        self.0.status.into()
    }

    /// Who called: the virtual number for an OUTBOUND call; for an INBOUND one,
    /// the counterpart as `counterpartNumber` gives it (null when withheld).
    async fn caller_number(&self) -> Option<&str> {
        match self.0.direction {
            call_logs::CallDirection::Inbound => self.counterpart(),
            call_logs::CallDirection::Outbound => Some(&self.0.caller_number),
        }
    }

    /// Who was called: the virtual number for an INBOUND call; for an OUTBOUND one,
    /// the counterpart as `counterpartNumber` gives it (never withheld: a call
    /// made always dials something).
    async fn called_number(&self) -> &str {
        &self.0.called_number
    }

    /// The other party: the caller of an inbound call, the called number of an
    /// outbound one. E.164 when `counterpartKind` is NUMBER, the digits for a
    /// SHORT_CODE or UNVERIFIABLE counterpart, null when WITHHELD.
    async fn counterpart_number(&self) -> Option<&str> {
        self.counterpart()
    }

    /// What the other party was: a valid number, a withheld caller id, a short
    /// code or service number, or digits that are no valid number.
    async fn counterpart_kind(&self) -> CounterpartKind {
        self.0.counterpart_kind.into()
    }

    /// The extension (or ISDN subaddress) the carrier sent after a NUMBER
    /// counterpart (`45` of `+1 201 555 0123 x45`); null when there was none.
    async fn counterpart_extension(&self) -> Option<&str> {
        self.0.counterpart_extension.as_deref()
    }

    async fn started_at(&self) -> DateTime<Utc> {
        self.0.started_at
    }

    /// Talk time in seconds; 0 for calls that were not completed.
    async fn duration_seconds(&self) -> i32 {
        self.0.duration_seconds
    }

    /// The carrier's id for the call, unique per number; recording it again returns this log.
    async fn external_id(&self) -> Option<&str> {
        self.0.external_id.as_deref()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// This log's cursor: the same as its edge's in `callLogs`, and what
    /// `callLogged(after:)` resumes from.
    async fn cursor(&self) -> String {
        CallKey::of(&self.0).encode_cursor()
    }
}

impl CallLog {
    /// The counterpart as stored, unless it was withheld (stored as `''`).
    fn counterpart(&self) -> Option<&str> {
        match self.0.counterpart_kind {
            call_logs::CounterpartKind::Withheld => None,
            _ => Some(&self.0.counterpart_number),
        }
    }
}

/// Narrows a list of call logs (and what `callStats` counts).
#[derive(InputObject, Default, Clone)]
pub struct CallLogFilter {
    /// Only this number's calls.
    pub virtual_number_id: Option<ID>,
    pub direction: Option<CallDirection>,
    pub status: Option<CallStatus>,
    /// Calls that started at or after this instant (1970 to 9999).
    pub started_after: Option<DateTime<Utc>>,
    /// Calls that started before this instant (half-open range; 1970 to 9999).
    pub started_before: Option<DateTime<Utc>>,
    /// The other party: a phone number in any spelling (every spelling of it
    /// matches), a short code's digits (`911`), or an unverifiable number with
    /// its `+` country code. National spellings need DEFAULT_REGION.
    pub counterpart_number: Option<String>,
    /// Only calls whose other party was of this kind (WITHHELD: callers who hid their number).
    pub counterpart_kind: Option<CounterpartKind>,
}

impl CallLogFilter {
    /// The service's filter; the ids, instants and numbers in it parsed.
    pub fn parse(self, ctx: &Context<'_>) -> Result<CallFilter, AppError> {
        self.parse_in(ctx.service::<DefaultRegion>()?.0)
    }

    /// The same, reading national counterpart spellings in `region`.
    pub fn parse_in(self, region: Option<Region>) -> Result<CallFilter, AppError> {
        let virtual_number_id = match &self.virtual_number_id {
            // An id of another type names no number, so it matches no calls.
            Some(id) => Some(ids::decode_as(id, NodeType::VirtualNumber, "virtualNumberId")?.unwrap_or(Uuid::nil())),
            None => None,
        };
        let counterpart_number = match self
            .counterpart_number
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            Some(number) => Some(counterpart_search(number, region)?),
            None => None,
        };
        Ok(CallFilter {
            virtual_number_id,
            direction: self.direction.map(Into::into),
            status: self.status.map(Into::into),
            started_after: self
                .started_after
                .map(|at| filter_instant(at, "startedAfter"))
                .transpose()?,
            started_before: self
                .started_before
                .map(|at| filter_instant(at, "startedBefore"))
                .transpose()?,
            counterpart_number,
            counterpart_kind: self.counterpart_kind.map(Into::into),
        })
    }
}
