//! The Relay `Node` interface and `node(id)`: any object by global id, answered
//! as missing when the viewer may not see it.

use async_graphql::{Context, ID, Interface, Object};

use super::{
    ContextExt,
    ids::{self, NodeType},
};
use crate::{accounts::graphql::User, error::AppError, numbers::graphql::VirtualNumber};

/// An object with a global id.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Opaque global id, usable with `node(id:)`."))]
pub enum Node {
    User(User),
    VirtualNumber(VirtualNumber),
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object by its global id; `null` when it does not exist or is not yours.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Node>, AppError> {
        let viewer = ctx.viewer()?;
        let services = ctx.services()?;
        let (kind, key) = ids::decode(&id, "id")?;
        Ok(match kind {
            NodeType::User => services
                .accounts
                .find_visible(viewer, key)
                .await?
                .map(|user| Node::User(user.into())),
            NodeType::VirtualNumber => services
                .numbers
                .find_visible(viewer, key)
                .await?
                .map(|number| Node::VirtualNumber(number.into())),
            NodeType::CallLog => None,
        })
    }
}
