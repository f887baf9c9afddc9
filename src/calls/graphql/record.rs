//! `recordCall`: a call to log, parsed at the edge into the service's types.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};

use super::types::{CallLog, CallStatus};
use crate::{
    calls::{
        CallService,
        types::{self, CallCounterpart, CallDuration, CallStart, ExternalId, NewCall},
    },
    error::AppError,
    graphql::{
        ContextExt,
        ids::{self, NodeType},
    },
    numbers::{DefaultRegion, NUMBER_NOT_FOUND},
};

use super::types::CallDirection;

/// A call to log.
#[derive(InputObject)]
pub struct RecordCallInput {
    /// One of your numbers (staff: anyone's); it must be active.
    virtual_number_id: ID,
    direction: CallDirection,
    /// Defaults to COMPLETED.
    status: Option<CallStatus>,
    /// Who called, in any spelling; for OUTBOUND calls, the virtual number itself.
    /// For INBOUND calls, also a withheld caller id (`anonymous`, `restricted`,
    /// `unavailable`, empty), a short code or digits that are no valid number:
    /// the call is kept with its `counterpartKind`.
    caller_number: String,
    /// Who was called, in any spelling; for INBOUND calls, the virtual number itself.
    /// For OUTBOUND calls, also a short code or service number (`911`, `12345`) or
    /// digits that are no valid number, kept with their `counterpartKind`.
    called_number: String,
    /// Defaults to now; from 1970 to at most 5 minutes in the future.
    started_at: Option<DateTime<Utc>>,
    /// 0 to 86400; 0 when the call was not completed.
    duration_seconds: i32,
    /// The carrier's id for the call (1 to 128 characters): recording the same id
    /// again returns the first log.
    external_id: Option<String>,
}

#[derive(Default)]
pub struct CallMutation;

#[Object]
impl CallMutation {
    /// Logs a call on one of your numbers. Recording the same `externalId` again
    /// returns the first log unchanged (safe for webhook retries).
    async fn record_call(&self, ctx: &Context<'_>, input: RecordCallInput) -> Result<CallLog, AppError> {
        let viewer = ctx.viewer()?;
        let region = ctx.service::<DefaultRegion>()?;
        let virtual_number_id = ids::decode_existing(
            &input.virtual_number_id,
            NodeType::VirtualNumber,
            "virtualNumberId",
            NUMBER_NOT_FOUND,
        )?;
        let direction = input.direction.into();
        let ((own, own_field), (other, other_field)) = match direction {
            types::CallDirection::Inbound => (
                (&input.called_number, "calledNumber"),
                (&input.caller_number, "callerNumber"),
            ),
            types::CallDirection::Outbound => (
                (&input.caller_number, "callerNumber"),
                (&input.called_number, "calledNumber"),
            ),
        };
        let own_number = region.phone(own, own_field)?;
        // The counterpart is read as the virtual number's country dials: `911`
        // and national spellings there (the default region when it has none).
        let counterpart = CallCounterpart::read(other, own_number.region().or(region.0), other_field)?;
        let call = NewCall {
            virtual_number_id,
            direction,
            status: input.status.unwrap_or(CallStatus::Completed).into(),
            own_number,
            counterpart,
            started_at: match input.started_at {
                Some(at) => CallStart::try_from(at)?,
                None => CallStart::now(),
            },
            duration: CallDuration::try_from(input.duration_seconds)?,
            external_id: input.external_id.as_deref().map(ExternalId::try_from).transpose()?,
        };
        Ok(ctx.service::<CallService>()?.record(viewer, call).await?.into())
    }
}
