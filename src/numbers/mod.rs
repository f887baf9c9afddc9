//! Virtual numbers: E.164 parsing (`e164`, spellings read in `spelling`, display
//! types in `display` and their GraphQL enums in `display_graphql`, call
//! counterparts in `counterpart`), parsed inputs (`input`), ownership rules and
//! queries (`service`), batched lookups (`loaders`), the stored numbers check
//! (`check`), and the GraphQL types and resolvers (`graphql`).

pub mod check;
pub mod counterpart;
pub mod display;
pub mod display_graphql;
pub mod e164;
pub mod graphql;
pub mod input;
pub mod loaders;
pub mod service;
mod spelling;

#[cfg(test)]
mod e164_tests;

pub use counterpart::{Counterpart, parse_counterpart};
pub use display::{NumberFormat, PhoneNumberType};
pub use e164::{E164, InvalidNumber, Region};
pub use input::{DefaultRegion, FriendlyName, NumberSearch};
pub use service::{NUMBER_NOT_FOUND, NewNumber, NumberChanges, NumberFilter, NumberService};
