//! Call logs: shapes and parsed inputs (`types`), recording, search and keyset
//! paging (`service`), statistics (`stats`, over `periods`, read from the
//! quarter-hour `rollups` where they can answer), reports
//! (`reports`: breakdowns and the heatmap, over `local_time`), single-use
//! export links (`exports`), events for subscriptions (`events`), batched
//! loading (`loaders`) and the GraphQL API (`graphql`).

pub mod events;
pub mod exports;
pub mod graphql;
pub mod loaders;
pub mod local_time;
pub mod periods;
pub mod reports;
pub mod rollups;
pub mod service;
pub mod stats;
pub mod types;

pub use service::CallService;
pub use types::{CallDirection, CallFilter, CallKey, CallStatus, NewCall};
