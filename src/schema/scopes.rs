//! What an API key needs for each field of this schema, applied by
//! `graphql::key_scopes` before a request runs and as each field resolves.
//! A field not named here is refused to keys: one added later stays closed to
//! them until someone decides which scope opens it.

use crate::{
    accounts::api_keys::CREDENTIALS_NEED_A_SESSION,
    auth::Scope,
    graphql::key_scopes::{FieldPlace, KeyAccess},
};

const READ_NUMBERS: &[Scope] = &[Scope::ReadNumbers];
const WRITE_NUMBERS: &[Scope] = &[Scope::WriteNumbers];
const READ_CALLS: &[Scope] = &[Scope::ReadCalls];
const RECORD_CALLS: &[Scope] = &[Scope::RecordCalls];
const READ_NUMBERS_AND_CALLS: &[Scope] = &[Scope::ReadNumbers, Scope::ReadCalls];

/// Root fields that sign in or manage credentials: a person's business, never a key's.
const CREDENTIAL_FIELDS: &[&str] = &[
    "register",
    "login",
    "refresh",
    "logout",
    "changePassword",
    "updateMe",
    "deactivateMe",
    "mySessions",
    "endSession",
    "logoutEverywhere",
    "createApiKey",
    "apiKeys",
    "revokeApiKey",
];

const NOT_FOR_KEYS: &str = "API keys may not use this field; sign in as a person";
const PROFILE: &str = "an API key reads only a user's id, username, creation time and staff flag";

/// The rule for one field (see the README's table of scopes).
pub fn key_access(place: &FieldPlace<'_>) -> KeyAccess {
    use KeyAccess::{Needs, Open, Refused};
    match (place.parent, place.field) {
        // Any key may ask whose it is.
        ("Query", "me") => Open,
        // The object's own type decides, field by field, once it is known.
        ("Query", "node") => Open,
        ("Query", "myVirtualNumbers" | "virtualNumber") => Needs(READ_NUMBERS),
        ("Query", "callLogs" | "callStats" | "callBreakdown" | "callHeatmap") => Needs(READ_CALLS),
        ("Mutation", "createVirtualNumber" | "updateVirtualNumber" | "releaseVirtualNumber") => Needs(WRITE_NUMBERS),
        ("Mutation", "recordCall") => Needs(RECORD_CALLS),
        ("Mutation", "createCallLogExport") => Needs(READ_CALLS),
        ("Subscription", "callLogged") => Needs(READ_CALLS),
        ("Query" | "Mutation" | "Subscription", field) if CREDENTIAL_FIELDS.contains(&field) => {
            Refused(CREDENTIALS_NEED_A_SESSION)
        }
        ("Query" | "Mutation" | "Subscription", _) => Refused(NOT_FOR_KEYS),
        // The id a client already sent to `node`.
        ("Node", "id") => Open,
        // A key that may write may read back what it wrote (its own fields, not
        // the objects it leads to).
        ("VirtualNumber", _) if place.leaf && matches!(place.root, "createVirtualNumber" | "updateVirtualNumber") => {
            Open
        }
        ("CallLog", _) if place.leaf && place.root == "recordCall" => Open,
        ("VirtualNumber", "callLogs") => Needs(READ_NUMBERS_AND_CALLS),
        ("VirtualNumber", _) => Needs(READ_NUMBERS),
        ("CallLog" | "CallStats" | "CallStatsBucket", _) => Needs(READ_CALLS),
        ("CallBreakdownRow" | "CallHeatmap" | "CallHeatmapCell" | "CallLogExport", _) => Needs(READ_CALLS),
        // Reached only through a field checked above.
        (
            "VirtualNumberConnection"
            | "VirtualNumberEdge"
            | "CallLogConnection"
            | "CallLogEdge"
            | "CallBreakdownRowConnection"
            | "CallBreakdownRowEdge"
            | "PageInfo",
            _,
        ) => Open,
        ("User", "id" | "username" | "createdAt" | "isStaff") => Open,
        ("User", "virtualNumbers") => Needs(READ_NUMBERS),
        ("User", _) => Refused(PROFILE),
        _ => Refused(NOT_FOR_KEYS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(root: &str, parent: &str, field: &str, leaf: bool) -> KeyAccess {
        key_access(&FieldPlace {
            root,
            parent,
            field,
            leaf,
        })
    }

    #[test]
    fn fields_nobody_decided_on_are_refused_to_keys() {
        assert!(matches!(
            access("x", "Query", "portInOrders", false),
            KeyAccess::Refused(_)
        ));
        assert!(matches!(access("x", "PortInOrder", "id", true), KeyAccess::Refused(_)));
        assert!(matches!(access("me", "User", "email", true), KeyAccess::Refused(_)));
    }

    #[test]
    fn a_write_reads_back_its_own_fields_but_not_what_they_lead_to() {
        assert_eq!(access("recordCall", "CallLog", "id", true), KeyAccess::Open);
        assert_eq!(
            access("recordCall", "CallLog", "virtualNumber", false),
            KeyAccess::Needs(READ_CALLS)
        );
        assert_eq!(access("callLogs", "CallLog", "id", true), KeyAccess::Needs(READ_CALLS));
        assert_eq!(
            access("createVirtualNumber", "VirtualNumber", "phoneNumber", true),
            KeyAccess::Open
        );
        assert_eq!(
            access("createVirtualNumber", "VirtualNumber", "owner", false),
            KeyAccess::Needs(READ_NUMBERS)
        );
    }
}
