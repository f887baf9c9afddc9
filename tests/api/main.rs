//! One integration binary: the real router, over HTTP, on a fresh database per test
//! (SQLite by default, PostgreSQL when `TEST_DATABASE_URL` is set).

mod accounts;
mod admin;
mod api_key_access;
mod api_key_attacks;
mod api_key_socket;
mod api_keys;
mod attacks;
mod authority;
mod browser;
mod call_paging;
mod calls;
mod cli;
mod counterparts;
mod edges;
mod exports;
mod feed;
mod helpers;
mod http_spec;
mod lifecycle;
mod manage;
mod numbers;
mod operations;
mod paging;
mod persisted;
mod phone_numbers;
mod porting;
mod protocol;
mod reports;
mod rollups;
mod schema;
mod stats;
mod subscriptions;
mod tokens;
