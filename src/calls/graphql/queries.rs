//! `callLogs` and the nested `VirtualNumber.callLogs` connection (batched
//! across the numbers of a page through this request's loaders).

use std::sync::Arc;

use async_graphql::{Context, Object};
use uuid::Uuid;

use super::types::{CallLog, CallLogFilter};
use crate::{
    calls::{
        CallKey, CallService,
        loaders::{CallCountLoader, CallPageArgs, CallPageLoader},
    },
    error::AppError,
    graphql::{Connection, ContextExt, RelayArgs, loaders::unshare},
    paging::Page,
};

/// The `VirtualNumber.callLogs` connection: batched across numbers in one query.
pub async fn number_call_logs(
    ctx: &Context<'_>,
    number_id: Uuid,
    page: RelayArgs,
    filter: Option<CallLogFilter>,
) -> Result<Connection<CallLog>, AppError> {
    ctx.viewer()?;
    let mut filter = filter.unwrap_or_default().parse(ctx)?;
    let request = page.page_request()?;
    // Filtering one number's calls by another number leaves nothing.
    let mismatched = filter.virtual_number_id.is_some_and(|id| id != number_id);
    // The batch key leaves the number out of the filter, so that every number
    // on the page shares one key and one windowed query.
    filter.virtual_number_id = None;
    let rows = if mismatched {
        Page::empty()
    } else {
        let args = Arc::new(CallPageArgs {
            request,
            filter: filter.clone(),
        });
        let page = ctx
            .loader::<CallPageLoader>()?
            .load_one((number_id, args))
            .await
            .map_err(unshare)?;
        // The loader answers every key it is given; an absent page is an empty one.
        page.map(|page| (*page).clone()).unwrap_or_else(Page::empty)
    };
    // totalCount, if asked for, is batched across the page's numbers like the pages are.
    let counts = ctx.loader::<CallCountLoader>()?.clone();
    let count = async move {
        if mismatched {
            return Ok(0);
        }
        let count = counts.load_one((number_id, Arc::new(filter))).await.map_err(unshare)?;
        Ok(count.unwrap_or(0))
    };
    Ok(Connection::new(rows, CallKey::of, CallLog::from, count))
}

#[derive(Default)]
pub struct CallQuery;

#[Object]
impl CallQuery {
    /// Your call logs across all your numbers (released ones too), newest first.
    /// Staff see every user's.
    async fn call_logs(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<CallLogFilter>,
    ) -> Result<Connection<CallLog>, AppError> {
        let viewer = *ctx.viewer()?;
        let filter = filter.unwrap_or_default().parse(ctx)?;
        let request = RelayArgs {
            first,
            after,
            last,
            before,
        }
        .page_request()?;
        let calls = ctx.service::<CallService>()?.clone();
        let rows = calls.list(&viewer, &filter, &request).await?;
        let count = async move { calls.count(&viewer, &filter).await };
        Ok(Connection::new(rows, CallKey::of, CallLog::from, count))
    }
}
