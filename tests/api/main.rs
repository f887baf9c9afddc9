//! One integration binary: the real router, over HTTP, on a fresh database per test
//! (SQLite by default, PostgreSQL when `TEST_DATABASE_URL` is set).

mod accounts;
mod admin;
mod attacks;
mod authority;
mod browser;
mod call_paging;
mod calls;
mod cli;
mod edges;
mod feed;
mod helpers;
mod lifecycle;
mod manage;
mod numbers;
mod paging;
mod phone_numbers;
mod protocol;
mod schema;
mod stats;
mod subscriptions;
mod tokens;
