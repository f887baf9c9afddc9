//! Virtual numbers: E.164 parsing (`e164`), parsed inputs (`input`), ownership
//! rules and queries (`service`), batched lookups (`loaders`), and the GraphQL
//! types and resolvers (`graphql`).

pub mod e164;
pub mod graphql;
pub mod input;
pub mod loaders;
pub mod service;

pub use e164::{E164, Region};
pub use input::{DefaultRegion, FriendlyName, NumberSearch};
pub use service::{NUMBER_NOT_FOUND, NewNumber, NumberChanges, NumberFilter, NumberService};
