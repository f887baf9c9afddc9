//! `callLogged`: new call logs as they are recorded, on this instance or any other.

use async_graphql::{Context, ID, Subscription};
use futures_util::{Stream, StreamExt};

use super::types::CallLog;
use crate::{
    calls::CallService,
    error::AppError,
    graphql::{
        ContextExt,
        ids::{self, NodeType},
    },
    numbers::{NUMBER_NOT_FOUND, NumberService},
};

#[derive(Default)]
pub struct CallSubscription;

#[Subscription]
impl CallSubscription {
    /// Each new call log on your numbers (staff: everyone's), or on one number, as it is recorded.
    async fn call_logged(
        &self,
        ctx: &Context<'_>,
        virtual_number_id: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = CallLog> + use<>> {
        Ok(subscribe(ctx, virtual_number_id).await?)
    }
}

async fn subscribe(ctx: &Context<'_>, number: Option<ID>) -> Result<impl Stream<Item = CallLog> + use<>, AppError> {
    let viewer = *ctx.viewer()?;
    let number_id = match number {
        Some(id) => {
            let key = ids::decode_existing(&id, NodeType::VirtualNumber, "virtualNumberId", NUMBER_NOT_FOUND)?;
            let number = ctx.service::<NumberService>()?.find_visible(&viewer, key).await?;
            Some(number.ok_or(AppError::NotFound(NUMBER_NOT_FOUND))?.id)
        }
        None => None,
    };
    Ok(ctx.service::<CallService>()?.feed(viewer, number_id).map(CallLog::from))
}
