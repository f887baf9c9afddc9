//! `callLogged` events: call logs in the order they were recorded, on every
//! instance (see `crate::feed` for how a feed works).
//!
//! Every call log carries `seq`, the order it was recorded in (see
//! `entity::sequences`: PostgreSQL commits calls in `seq` order).

use sea_orm::DatabaseConnection;

use crate::{
    entity::call_logs::{self, Column},
    error::AppError,
    feed::{self, Feed, Journal},
};

/// The call logs, as a journal for `crate::feed`.
pub struct CallJournal;

impl Journal for CallJournal {
    type Row = call_logs::Model;
    const CHANNEL: &'static str = "switchboard_call_logged";
    const NAME: &'static str = "call logs";

    fn seq(row: &call_logs::Model) -> i64 {
        row.seq
    }

    async fn latest(db: &DatabaseConnection) -> Result<i64, AppError> {
        feed::latest_seq::<call_logs::Entity>(db, Column::Seq).await
    }

    async fn after(db: &DatabaseConnection, seq: i64, limit: u64) -> Result<Vec<call_logs::Model>, AppError> {
        feed::rows_after::<call_logs::Entity>(db, Column::Seq, seq, limit).await
    }
}

/// Announces new call logs and lets subscribers hear them.
pub type CallEvents = Feed<CallJournal>;

/// One announced call log, shared by every subscriber of the instance.
pub type Event = std::sync::Arc<call_logs::Model>;
