//! Call logs in GraphQL: `CallLog`, `recordCall`, `callLogs`, `callStats`, and
//! the nested `VirtualNumber.callLogs` connection (batched through the loaders).

use crate::numbers::NUMBER_NOT_FOUND;
use std::sync::Arc;

use async_graphql::{Context, Enum, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{CallFilter, CallKey, CallService, NewCall, loaders::CallPageArgs, types};
use crate::{
    auth::Viewer,
    entity::call_logs,
    error::AppError,
    graphql::{
        ContextExt, RelayArgs,
        connection::{Connection, ConnectionNode, Counter},
        ids::{self, NodeType},
    },
    numbers::{E164, graphql::VirtualNumber},
    paging::{Page, PageRequest},
};

/// Which way a call went, seen from the virtual number.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum CallDirection {
    /// Someone called the virtual number.
    Inbound,
    /// The virtual number called someone.
    Outbound,
}

/// How a call ended.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum CallStatus {
    Completed,
    NoAnswer,
    Busy,
    Failed,
    Canceled,
}

impl From<CallDirection> for types::CallDirection {
    fn from(direction: CallDirection) -> Self {
        match direction {
            CallDirection::Inbound => types::CallDirection::Inbound,
            CallDirection::Outbound => types::CallDirection::Outbound,
        }
    }
}

impl From<types::CallDirection> for CallDirection {
    fn from(direction: types::CallDirection) -> Self {
        match direction {
            types::CallDirection::Inbound => CallDirection::Inbound,
            types::CallDirection::Outbound => CallDirection::Outbound,
        }
    }
}

impl From<CallStatus> for types::CallStatus {
    fn from(status: CallStatus) -> Self {
        match status {
            CallStatus::Completed => types::CallStatus::Completed,
            CallStatus::NoAnswer => types::CallStatus::NoAnswer,
            CallStatus::Busy => types::CallStatus::Busy,
            CallStatus::Failed => types::CallStatus::Failed,
            CallStatus::Canceled => types::CallStatus::Canceled,
        }
    }
}

impl From<types::CallStatus> for CallStatus {
    fn from(status: types::CallStatus) -> Self {
        match status {
            types::CallStatus::Completed => CallStatus::Completed,
            types::CallStatus::NoAnswer => CallStatus::NoAnswer,
            types::CallStatus::Busy => CallStatus::Busy,
            types::CallStatus::Failed => CallStatus::Failed,
            types::CallStatus::Canceled => CallStatus::Canceled,
        }
    }
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

fn stored<T>(text: &str, parse: impl Fn(&str) -> Option<T>) -> Result<T, AppError> {
    parse(text).ok_or_else(|| AppError::Internal(anyhow::anyhow!("unknown stored call value `{text}`")))
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
            .loaders()?
            .numbers
            .load_one(self.0.virtual_number_id)
            .await
            .map_err(unshare)?;
        number
            .map(VirtualNumber::from)
            .ok_or(AppError::NotFound(NUMBER_NOT_FOUND))
    }

    async fn direction(&self) -> Result<CallDirection, AppError> {
        stored(&self.0.direction, types::CallDirection::parse).map(Into::into)
    }

    async fn status(&self) -> Result<CallStatus, AppError> {
        stored(&self.0.status, types::CallStatus::parse).map(Into::into)
    }

    /// Who called, in E.164.
    async fn caller_number(&self) -> &str {
        &self.0.caller_number
    }

    /// Who was called, in E.164.
    async fn called_number(&self) -> &str {
        &self.0.called_number
    }

    /// The other party: the caller of an inbound call, the called number of an outbound one.
    async fn counterpart_number(&self) -> &str {
        &self.0.counterpart_number
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
}

/// Narrows a list of call logs (and what `callStats` counts).
#[derive(InputObject, Default, Clone)]
pub struct CallLogFilter {
    /// Only this number's calls.
    pub virtual_number_id: Option<ID>,
    pub direction: Option<CallDirection>,
    pub status: Option<CallStatus>,
    /// Calls that started at or after this instant.
    pub started_after: Option<DateTime<Utc>>,
    /// Calls that started before this instant (half-open range).
    pub started_before: Option<DateTime<Utc>>,
    /// The other party, in any spelling.
    pub counterpart_number: Option<String>,
}

impl CallLogFilter {
    /// The service's filter; the ids and numbers in it parsed.
    pub fn parse(self, ctx: &Context<'_>) -> Result<CallFilter, AppError> {
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
            Some(number) => Some(
                E164::parse(number, ctx.services()?.default_region)
                    .map_err(|e| AppError::bad_input("counterpartNumber", e.0))?
                    .as_str()
                    .to_owned(),
            ),
            None => None,
        };
        Ok(CallFilter {
            virtual_number_id,
            direction: self.direction.map(Into::into),
            status: self.status.map(Into::into),
            started_after: self.started_after,
            started_before: self.started_before,
            counterpart_number,
        })
    }
}

/// A call to log.
#[derive(InputObject)]
pub struct RecordCallInput {
    /// One of your numbers (staff: anyone's); it must be active.
    virtual_number_id: ID,
    direction: CallDirection,
    /// Defaults to COMPLETED.
    status: Option<CallStatus>,
    /// Who called, in any spelling; for OUTBOUND calls, the virtual number itself.
    caller_number: String,
    /// Who was called, in any spelling; for INBOUND calls, the virtual number itself.
    called_number: String,
    /// Defaults to now; at most 5 minutes in the future.
    started_at: Option<DateTime<Utc>>,
    /// 0 to 86400; 0 when the call was not completed.
    duration_seconds: i32,
    /// The carrier's id for the call: recording the same id again returns the first log.
    external_id: Option<String>,
}

/// A loader error shared by many fields, as this field's own error.
pub fn unshare(error: Arc<AppError>) -> AppError {
    match Arc::try_unwrap(error) {
        Ok(error) => error,
        Err(shared) => match &*shared {
            AppError::Unauthenticated(message) => AppError::Unauthenticated(message),
            _ => AppError::Internal(anyhow::anyhow!("a batched query failed: {shared:?}")),
        },
    }
}

fn phone(text: &str, field: &'static str, ctx: &Context<'_>) -> Result<E164, AppError> {
    E164::parse(text, ctx.services()?.default_region).map_err(|e| AppError::bad_input(field, e.0))
}

/// The `VirtualNumber.callLogs` connection: batched across numbers in one query.
pub async fn number_call_logs(
    ctx: &Context<'_>,
    number_id: Uuid,
    (first, after, last, before): RelayArgs,
    filter: Option<CallLogFilter>,
) -> Result<Connection<CallLog>, AppError> {
    ctx.viewer()?;
    let mut filter = filter.unwrap_or_default().parse(ctx)?;
    let request = PageRequest::from_relay(first, after.as_deref(), last, before.as_deref())?;
    // Filtering one number's calls by another number leaves nothing.
    let mismatched = filter.virtual_number_id.is_some_and(|id| id != number_id);
    let page = if mismatched {
        Page::empty()
    } else {
        // The batch key leaves the number out of the filter, so that every number
        // on the page shares one key and one windowed query.
        filter.virtual_number_id = None;
        let args = Arc::new(CallPageArgs {
            request,
            filter: filter.clone(),
        });
        let page = ctx
            .loaders()?
            .call_pages
            .load_one((number_id, args))
            .await
            .map_err(unshare)?;
        // The loader answers every key it is given; an absent page is an empty one.
        page.map(|page| (*page).clone()).unwrap_or_else(Page::empty)
    };
    // totalCount, if asked for, is batched across the page's numbers like the pages are.
    let loaders = ctx.loaders()?.clone();
    let filter = Arc::new(filter);
    let counter: Counter = Box::new(move || {
        let (loaders, filter) = (loaders.clone(), filter.clone());
        Box::pin(async move {
            if mismatched {
                return Ok(0);
            }
            let count = loaders
                .call_counts
                .load_one((number_id, filter))
                .await
                .map_err(unshare)?;
            Ok(count.unwrap_or(0))
        })
    });
    Ok(Connection::new(page, CallKey::of, CallLog::from, counter))
}

/// `totalCount` of a call-log list, run only if a client asks for it.
fn call_counter(calls: CallService, viewer: Viewer, filter: CallFilter) -> Counter {
    Box::new(move || {
        let (calls, filter) = (calls.clone(), filter.clone());
        Box::pin(async move { calls.count(&viewer, &filter).await })
    })
}

/// One page of the viewer's call logs as a connection.
async fn list_calls(
    ctx: &Context<'_>,
    (first, after, last, before): RelayArgs,
    filter: CallFilter,
) -> Result<Connection<CallLog>, AppError> {
    let viewer = *ctx.viewer()?;
    let calls = ctx.services()?.calls.clone();
    let request = PageRequest::from_relay(first, after.as_deref(), last, before.as_deref())?;
    let page = calls.list(&viewer, &filter, &request).await?;
    Ok(Connection::new(
        page,
        CallKey::of,
        CallLog::from,
        call_counter(calls, viewer, filter),
    ))
}

#[derive(Default)]
pub struct CallQuery;

#[Object]
impl CallQuery {
    /// Your call logs across all your numbers (released ones too), newest first.
    /// Staff see every user's.
    #[graphql(complexity = "crate::graphql::connection::page_complexity(first, last, child_complexity)")]
    async fn call_logs(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<CallLogFilter>,
    ) -> Result<Connection<CallLog>, AppError> {
        ctx.viewer()?;
        let filter = filter.unwrap_or_default().parse(ctx)?;
        list_calls(ctx, (first, after, last, before), filter).await
    }
}

#[derive(Default)]
pub struct CallMutation;

#[Object]
impl CallMutation {
    /// Logs a call on one of your numbers. Recording the same `externalId` again
    /// returns the first log unchanged (safe for webhook retries).
    async fn record_call(&self, ctx: &Context<'_>, input: RecordCallInput) -> Result<CallLog, AppError> {
        let viewer = ctx.viewer()?;
        let virtual_number_id = ids::decode_as(&input.virtual_number_id, NodeType::VirtualNumber, "virtualNumberId")?
            .ok_or(AppError::NotFound(NUMBER_NOT_FOUND))?;
        let external_id = match input.external_id.as_deref().map(str::trim) {
            Some(id) if id.is_empty() || id.chars().count() > 128 => {
                return Err(AppError::bad_input("externalId", "externalId is 1 to 128 characters"));
            }
            Some(id) => Some(id.to_owned()),
            None => None,
        };
        let call = NewCall {
            virtual_number_id,
            direction: input.direction.into(),
            status: input.status.unwrap_or(CallStatus::Completed).into(),
            caller_number: phone(&input.caller_number, "callerNumber", ctx)?,
            called_number: phone(&input.called_number, "calledNumber", ctx)?,
            started_at: input.started_at,
            duration_seconds: input.duration_seconds,
            external_id,
        };
        Ok(ctx.services()?.calls.record(viewer, call).await?.into())
    }
}
