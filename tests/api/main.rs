//! One integration binary: the real router, over HTTP, on a fresh database per test
//! (SQLite by default, PostgreSQL when `TEST_DATABASE_URL` is set).

mod accounts;
mod attacks;
mod call_paging;
mod calls;
mod cli;
mod edges;
mod helpers;
mod lifecycle;
mod numbers;
mod paging;
mod phone_numbers;
mod schema;
mod stats;
mod subscriptions;
mod tokens;
