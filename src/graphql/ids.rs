//! Relay global ids: opaque, base64 of `TypeName:uuid`, decoded and type-checked here.

use async_graphql::ID;
use base64::Engine;
use uuid::Uuid;

use crate::error::AppError;

/// The types that carry global ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeType {
    User,
    VirtualNumber,
    CallLog,
    /// Not a `Node` (`node(id)` answers `null`), but its id is opaque all the same.
    Session,
    ApiKey,
    AuditEvent,
    PortingOrder,
    /// Not a `Node`: an entry of a porting order's timeline.
    PortingEvent,
}

impl NodeType {
    /// The GraphQL type name.
    pub fn name(self) -> &'static str {
        match self {
            NodeType::User => "User",
            NodeType::VirtualNumber => "VirtualNumber",
            NodeType::CallLog => "CallLog",
            NodeType::Session => "Session",
            NodeType::ApiKey => "ApiKey",
            NodeType::AuditEvent => "AuditEvent",
            NodeType::PortingOrder => "PortingOrder",
            NodeType::PortingEvent => "PortingOrderEvent",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [
            NodeType::User,
            NodeType::VirtualNumber,
            NodeType::CallLog,
            NodeType::Session,
            NodeType::ApiKey,
            NodeType::AuditEvent,
            NodeType::PortingOrder,
            NodeType::PortingEvent,
        ]
        .into_iter()
        .find(|kind| kind.name() == name)
    }
}

const ENGINE: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub fn encode(kind: NodeType, key: Uuid) -> ID {
    ID(ENGINE.encode(format!("{}:{key}", kind.name())))
}

/// Reads any global id; a malformed one is `BAD_USER_INPUT` on `field`.
pub fn decode(id: &ID, field: &'static str) -> Result<(NodeType, Uuid), AppError> {
    let malformed = || AppError::bad_input(field, format!("`{}` is not an id from this API", id.as_str()));
    let bytes = ENGINE.decode(id.as_str()).map_err(|_| malformed())?;
    let text = String::from_utf8(bytes).map_err(|_| malformed())?;
    let (name, key) = text.split_once(':').ok_or_else(malformed)?;
    let kind = NodeType::from_name(name).ok_or_else(malformed)?;
    let key = key.parse().map_err(|_| malformed())?;
    Ok((kind, key))
}

/// Reads a global id that must name a `kind`; an id of another type names nothing
/// of this kind, so it answers `None` (the caller reports it as missing).
pub fn decode_as(id: &ID, kind: NodeType, field: &'static str) -> Result<Option<Uuid>, AppError> {
    let (found, key) = decode(id, field)?;
    Ok((found == kind).then_some(key))
}

/// Reads the id of an object that must exist: an id of another type names
/// nothing of this kind, so it answers `NOT_FOUND` with the kind's one message.
pub fn decode_existing(
    id: &ID,
    kind: NodeType,
    field: &'static str,
    not_found: &'static str,
) -> Result<Uuid, AppError> {
    decode_as(id, kind, field)?.ok_or(AppError::NotFound(not_found))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_carry_their_type() {
        let key = Uuid::now_v7();
        let id = encode(NodeType::VirtualNumber, key);

        assert_eq!(decode(&id, "id").unwrap(), (NodeType::VirtualNumber, key));
        assert_eq!(decode_as(&id, NodeType::User, "id").unwrap(), None);
        assert!(decode(&ID("not-an-id".into()), "id").is_err());
    }
}
