//! Virtual numbers: E.164 parsing (`e164`), ownership rules and queries
//! (`service`), and the GraphQL types and resolvers (`graphql`).

pub mod e164;
pub mod graphql;
pub mod service;

pub use e164::{E164, Region};
pub use service::{NUMBER_NOT_FOUND, NewNumber, NumberChanges, NumberFilter, NumberService};
