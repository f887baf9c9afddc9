//! `callLogged` events: call logs in the order they were recorded, on every
//! instance (see `crate::feed` for how a feed works).
//!
//! Every call log carries `seq`, the order it was recorded in (see
//! `entity::sequences`: PostgreSQL commits calls in `seq` order).

use sea_orm::{DatabaseConnection, QueryOrder, QuerySelect, prelude::*};

use crate::{
    entity::call_logs::{self, Column},
    error::AppError,
    feed::{Feed, Journal},
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
        let latest: Option<Option<i64>> = call_logs::Entity::find()
            .select_only()
            .column_as(Column::Seq.max(), "latest")
            .into_tuple()
            .one(db)
            .await?;
        Ok(latest.flatten().unwrap_or(0))
    }

    async fn after(db: &DatabaseConnection, seq: i64, limit: u64) -> Result<Vec<call_logs::Model>, AppError> {
        Ok(call_logs::Entity::find()
            .filter(Column::Seq.gt(seq))
            .order_by_asc(Column::Seq)
            .limit(limit)
            .all(db)
            .await?)
    }
}

/// Announces new call logs and lets subscribers hear them.
pub type CallEvents = Feed<CallJournal>;

/// One announced call log, shared by every subscriber of the instance.
pub type Event = std::sync::Arc<call_logs::Model>;
