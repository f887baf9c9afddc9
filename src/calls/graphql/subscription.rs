//! `callLogged`: call logs in the order they were recorded, on this instance or
//! any other, resuming from a cursor with nothing lost and nothing repeated.

use async_graphql::{Context, ID, Subscription};
use futures_util::{Stream, StreamExt};

use super::types::CallLog;
use crate::{
    calls::{CallKey, CallService},
    error::AppError,
    graphql::{
        ContextExt,
        ids::{self, NodeType},
    },
    numbers::{NUMBER_NOT_FOUND, NumberService},
    paging::CursorKey,
};

#[derive(Default)]
pub struct CallSubscription;

#[Subscription]
impl CallSubscription {
    /// Each call log on your numbers (staff: everyone's), or on one number, in the
    /// order the calls were recorded (not their `startedAt`: a call recorded late
    /// with an old `startedAt` still arrives, after those recorded before it).
    ///
    /// With `after` (the `cursor` of a call log, from this feed or from
    /// `callLogs`), every call recorded after that one is replayed first, then new
    /// ones follow live, with no gap and no duplicate: reconnect with the cursor of
    /// the last event you received and you miss nothing.
    async fn call_logged(
        &self,
        ctx: &Context<'_>,
        virtual_number_id: Option<ID>,
        after: Option<String>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<CallLog>> + use<>> {
        Ok(subscribe(ctx, virtual_number_id, after).await?)
    }
}

async fn subscribe(
    ctx: &Context<'_>,
    number: Option<ID>,
    after: Option<String>,
) -> Result<impl Stream<Item = async_graphql::Result<CallLog>> + use<>, AppError> {
    let viewer = *ctx.viewer()?;
    let calls = ctx.service::<CallService>()?;
    let number_id = match number {
        Some(id) => {
            let key = ids::decode_existing(&id, NodeType::VirtualNumber, "virtualNumberId", NUMBER_NOT_FOUND)?;
            let number = ctx.service::<NumberService>()?.find_visible(&viewer, key).await?;
            Some(number.ok_or(AppError::NotFound(NUMBER_NOT_FOUND))?.id)
        }
        None => None,
    };
    let after = match after {
        Some(cursor) => {
            // Another user's call reads as a cursor that is not from this feed.
            let not_ours = || AppError::bad_input("after", "`after` is not the cursor of a call log you can see");
            let key = CallKey::decode_cursor(&cursor).ok_or_else(not_ours)?;
            Some(calls.seq_of(&viewer, key.id).await?.ok_or_else(not_ours)?)
        }
        None => None,
    };
    Ok(calls.feed(viewer, number_id, after).map(|event| {
        event
            .map(|log| CallLog::from(log.as_ref().clone()))
            .map_err(async_graphql::Error::from)
    }))
}
