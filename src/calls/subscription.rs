//! `callLogged`: new call logs as they are recorded, on this instance or any other.

use crate::numbers::NUMBER_NOT_FOUND;
use async_graphql::{Context, ID, Subscription};
use futures_util::{Stream, StreamExt, stream};
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use super::graphql::CallLog;
use crate::{
    error::AppError,
    graphql::{
        ContextExt,
        ids::{self, NodeType},
    },
};

#[derive(Default)]
pub struct CallSubscription;

#[Subscription(name = "Subscription")]
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
    let services = ctx.services()?;
    let number: Option<Uuid> = match number {
        Some(id) => {
            let key = ids::decode_as(&id, NodeType::VirtualNumber, "virtualNumberId")?;
            let visible = match key {
                Some(key) => services.numbers.find_visible(&viewer, key).await?,
                None => None,
            };
            Some(visible.ok_or(AppError::NotFound(NUMBER_NOT_FOUND))?.id)
        }
        None => None,
    };
    let receiver = services.calls.events().subscribe();
    let events = stream::unfold(receiver, |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(log) => return Some((log, receiver)),
                // A subscriber that fell too far behind skips what it missed.
                Err(RecvError::Lagged(missed)) => tracing::warn!(missed, "a callLogged subscriber fell behind"),
                Err(RecvError::Closed) => return None,
            }
        }
    });
    Ok(events.filter_map(move |log| async move {
        let wanted = viewer.may_act_for(log.owner_id) && number.is_none_or(|id| id == log.virtual_number_id);
        wanted.then(|| CallLog::from(log))
    }))
}
