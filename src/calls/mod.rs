//! Call logs: shapes (`types`), recording, search and keyset paging (`service`),
//! statistics (`stats`), events for subscriptions (`events`), batched loading
//! (`loaders`), demo data (`seed`) and the GraphQL API (`graphql`, `stats_graphql`,
//! `subscription`).

pub mod events;
pub mod graphql;
pub mod loaders;
pub mod seed;
pub mod service;
pub mod stats;
pub mod stats_graphql;
pub mod subscription;
pub mod types;

pub use service::CallService;
pub use types::{CallDirection, CallFilter, CallKey, CallStatus, NewCall};
