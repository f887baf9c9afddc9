//! Switchboard: a GraphQL API for virtual phone numbers and their call logs.
//!
//! The dependency rule: `http → graphql → <feature>::graphql → <feature>::service → entity`.
//! `auth`, `error`, `paging` and `config` are leaves anyone may use. Services never import
//! axum or async-graphql; resolvers never build queries; `migration/` imports nothing from here.
//!
//! - `cli`, `config`, `telemetry`, `app`, `db`: start-up, settings, logs, connections.
//! - `http`: the router, middleware, GraphQL endpoint, playground, health checks.
//! - `graphql`: schema assembly, context access, global ids, connections, `node`.
//! - `accounts`, `numbers`, `calls`: one folder per feature (rules in `service`, API in `graphql`).
//! - `entity`: sea-orm entities, one per table.

pub mod accounts;
pub mod app;
pub mod auth;
pub mod calls;
pub mod cli;
pub mod config;
pub mod db;
pub mod entity;
pub mod error;
pub mod graphql;
pub mod http;
pub mod numbers;
pub mod paging;
pub mod telemetry;
