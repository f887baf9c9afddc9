//! GraphQL plumbing every feature may use: context access, global ids, Relay
//! connections, loader helpers, scalars and the request guard. It imports no
//! feature; the schema is assembled above the features, in `crate::schema`.

pub mod connection;
pub mod context;
pub mod cost;
pub mod document;
pub mod enum_arguments;
pub mod guard;
pub mod ids;
pub mod key_scopes;
pub mod loaders;
pub mod scalars;
pub mod seen;
pub mod throttle;

pub use connection::{Connection, ConnectionNode, RelayArgs};
pub use context::{ContextExt, Identity};
pub use scalars::{Date, Long};
