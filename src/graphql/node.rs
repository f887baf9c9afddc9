//! The Relay `Node` interface and `node(id)`: any object by global id, answered
//! as missing when the viewer may not see it. Lookups go through the request's
//! loaders, so many `node` fields in one query cost one query per type.

use async_graphql::{Context, ID, Interface, Object};

use super::{
    ContextExt,
    ids::{self, NodeType},
};
use crate::{
    accounts::graphql::User,
    calls::graphql::{CallLog, unshare},
    error::AppError,
    numbers::graphql::VirtualNumber,
};

/// An object with a global id.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Opaque global id, usable with `node(id:)`."))]
pub enum Node {
    User(User),
    VirtualNumber(VirtualNumber),
    CallLog(CallLog),
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object by its global id; `null` when it does not exist or is not yours.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Node>, AppError> {
        let viewer = ctx.viewer()?;
        let loaders = ctx.loaders()?;
        let (kind, key) = ids::decode(&id, "id")?;
        Ok(match kind {
            NodeType::User => loaders
                .users
                .load_one(key)
                .await
                .map_err(unshare)?
                .filter(|user| viewer.may_act_for(user.id))
                .map(|user| Node::User(user.into())),
            NodeType::VirtualNumber => loaders
                .numbers
                .load_one(key)
                .await
                .map_err(unshare)?
                .filter(|number| number.released_at.is_none() && viewer.may_act_for(number.owner_id))
                .map(|number| Node::VirtualNumber(number.into())),
            NodeType::CallLog => loaders
                .calls
                .load_one(key)
                .await
                .map_err(unshare)?
                .filter(|log| viewer.may_act_for(log.owner_id))
                .map(|log| Node::CallLog(log.into())),
        })
    }
}
