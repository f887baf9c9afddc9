//! `portingOrderUpdated` events: each order's status changes and comments in
//! the order they happened, on every instance (see `crate::feed`).

use sea_orm::DatabaseConnection;

use crate::{
    entity::porting_events::{self, Column},
    error::AppError,
    feed::{self, Feed, Journal},
};

/// The porting timeline, as a journal for `crate::feed`.
pub struct PortingJournal;

impl Journal for PortingJournal {
    type Row = porting_events::Model;
    const CHANNEL: &'static str = "switchboard_porting_event";
    const NAME: &'static str = "porting events";

    fn seq(row: &porting_events::Model) -> i64 {
        row.seq
    }

    async fn latest(db: &DatabaseConnection) -> Result<i64, AppError> {
        feed::latest_seq::<porting_events::Entity>(db, Column::Seq).await
    }

    async fn after(db: &DatabaseConnection, seq: i64, limit: u64) -> Result<Vec<porting_events::Model>, AppError> {
        feed::rows_after::<porting_events::Entity>(db, Column::Seq, seq, limit).await
    }
}

/// Announces porting events and lets subscribers hear them.
pub type PortingEvents = Feed<PortingJournal>;
