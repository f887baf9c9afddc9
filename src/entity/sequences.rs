//! The `sequences` table: named counters that hand out numbers in commit order.
//!
//! Taking numbers updates the counter's row, which PostgreSQL locks until the
//! taking transaction ends: a second recorder waits for the first to commit,
//! so rows numbered from a counter become visible in number order (SQLite has
//! one writer at a time). A reader that has seen number `n` has seen every
//! committed row below it.

use sea_orm::{
    ConnectionTrait, DbErr,
    sea_query::{Alias, Expr, ExprTrait, Query},
};

/// The counter behind `call_logs.seq`.
pub const CALL_LOGS: &str = "call_logs";
/// The counter behind `porting_events.seq`.
pub const PORTING_EVENTS: &str = "porting_events";

/// Takes the next `count` numbers of the counter `name` and returns the last of
/// them (so they are `last - count + 1 ..= last`). Call it inside the
/// transaction that writes the numbered rows.
pub async fn take(db: &impl ConnectionTrait, name: &str, count: i64) -> Result<i64, DbErr> {
    let value = Alias::new("value");
    let statement = Query::update()
        .table(Alias::new("sequences"))
        .value(value.clone(), Expr::col(value.clone()).add(count))
        .and_where(Expr::col(Alias::new("name")).eq(name))
        .returning_col(value)
        .to_owned();
    let row = db
        .query_one(&statement)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("the `{name}` sequence")))?;
    row.try_get_by_index::<i64>(0)
}
