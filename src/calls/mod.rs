//! Call logs: recording (`service`), search and keyset paging (`service`),
//! statistics (`stats`), batched loading (`loaders`) and the GraphQL API (`graphql`).

pub mod events;
pub mod graphql;
pub mod loaders;
pub mod seed;
pub mod service;
pub mod stats;
pub mod stats_graphql;
pub mod subscription;

pub use service::{CallDirection, CallFilter, CallKey, CallService, CallStatus, NewCall};
