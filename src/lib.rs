//! Switchboard: a GraphQL API for virtual phone numbers and their call logs.
//!
//! The dependency rule:
//! `http → schema → <feature>::graphql → <feature>::service → entity`, and every
//! feature's `graphql` (and `loaders`) may use the plumbing in `graphql`, which
//! imports no feature. `auth`, `error`, `paging`, `weighted_lru` and `config` are leaves anyone may
//! use. Services never import axum or async-graphql; resolvers never build
//! queries; `migration/` imports nothing from here.
//!
//! - `cli` (with the `seed-demo` generator), `config`, `telemetry`, `app`, `db`:
//!   start-up, settings, logs, connections.
//! - `http`: the router, middleware, GraphQL endpoint, WebSocket, playground, health.
//! - `schema`: the assembly on top: merged roots, `node(id)`, services, per-request loaders.
//! - `graphql`: plumbing: context access, global ids, connections, loader helpers,
//!   the `Long` scalar, the request guard (limits with coded errors).
//! - `accounts`, `numbers`, `calls`: one folder per feature: parsed inputs, rules
//!   (`service`), batched lookups (`loaders`), API (`graphql`).
//! - `entity`: sea-orm entities, one per table, with their stored enums and unique indexes.

pub mod accounts;
pub mod app;
pub mod auth;
pub mod calls;
pub mod cli;
pub mod config;
pub mod db;
pub mod entity;
pub mod error;
pub mod feed;
pub mod graphql;
pub mod http;
pub mod numbers;
pub mod paging;
pub mod porting;
pub mod schema;
pub mod telemetry;
pub mod weighted_lru;
