//! The Relay `Node` interface and `node(id)`: any object by global id, answered
//! as missing when the viewer may not see it. Lookups go through the request's
//! loaders, which ask each feature's service what the viewer may see, so many
//! `node` fields in one query cost one query per type.

use async_graphql::{Context, ID, Interface, Object};

use crate::{
    accounts::{
        ApiKeyService,
        admin_graphql::audit_user_read,
        api_keys_graphql::ApiKey,
        audit_graphql::AuditEvent,
        graphql::User,
        loaders::{AuditEventLoader, UserLoader},
    },
    calls::{graphql::CallLog, loaders::CallLoader},
    error::AppError,
    graphql::{
        ContextExt,
        ids::{self, NodeType},
        key_scopes::{FieldPlace, check_field},
        loaders::unshare,
    },
    numbers::{graphql::VirtualNumber, loaders::NumberLoader},
    porting::{graphql::PortingOrder, loaders::PortingOrderLoader},
};

/// An object with a global id.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Opaque global id, usable with `node(id:)`."))]
pub enum Node {
    User(User),
    VirtualNumber(VirtualNumber),
    CallLog(CallLog),
    ApiKey(ApiKey),
    AuditEvent(AuditEvent),
    PortingOrder(PortingOrder),
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object by its global id; `null` when it does not exist or is not yours.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Node>, AppError> {
        let viewer = ctx.viewer()?;
        let (kind, key) = ids::decode(&id, "id")?;
        // An API key reads an object here as it would through its own type (the
        // type comes from the id the client sent, so this reveals nothing).
        if let Some(grant) = viewer.api_key {
            let place = FieldPlace {
                root: "node",
                parent: kind.name(),
                field: "id",
                leaf: true,
            };
            check_field(super::scopes::key_access, grant.scopes, &place)?;
        }
        Ok(match kind {
            NodeType::User => {
                let user = ctx.loader::<UserLoader>()?.load_one(key).await.map_err(unshare)?;
                // Staff reading someone else is on record before the answer goes out.
                if user.is_some() && viewer.is_staff && key != viewer.user_id {
                    audit_user_read(ctx, key).await?;
                }
                user.map(|user| Node::User(user.into()))
            }
            NodeType::VirtualNumber => ctx
                .loader::<NumberLoader>()?
                .load_one(key)
                .await
                .map_err(unshare)?
                .map(|number| Node::VirtualNumber(number.into())),
            NodeType::CallLog => ctx
                .loader::<CallLoader>()?
                .load_one(key)
                .await
                .map_err(unshare)?
                .map(|log| Node::CallLog(log.into())),
            // Your own keys only: staff see no one else's.
            NodeType::ApiKey => ctx
                .service::<ApiKeyService>()?
                .find_own(viewer, key)
                .await?
                .map(|key| Node::ApiKey(key.into())),
            NodeType::AuditEvent => ctx
                .loader::<AuditEventLoader>()?
                .load_one(key)
                .await
                .map_err(unshare)?
                .map(|event| Node::AuditEvent(event.into())),
            NodeType::PortingOrder => ctx
                .loader::<PortingOrderLoader>()?
                .load_one(key)
                .await
                .map_err(unshare)?
                .map(|order| Node::PortingOrder(order.into())),
            NodeType::Session | NodeType::PortingEvent => None,
        })
    }
}
