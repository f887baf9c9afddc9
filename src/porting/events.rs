//! `portingOrderUpdated` events: each order's status changes and comments in
//! the order they happened, on every instance (see `crate::feed`).

use sea_orm::{DatabaseConnection, QueryOrder, QuerySelect, prelude::*};

use crate::{
    entity::porting_events::{self, Column},
    error::AppError,
    feed::{Feed, Journal},
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
        let latest: Option<Option<i64>> = porting_events::Entity::find()
            .select_only()
            .column_as(Column::Seq.max(), "latest")
            .into_tuple()
            .one(db)
            .await?;
        Ok(latest.flatten().unwrap_or(0))
    }

    async fn after(db: &DatabaseConnection, seq: i64, limit: u64) -> Result<Vec<porting_events::Model>, AppError> {
        Ok(porting_events::Entity::find()
            .filter(Column::Seq.gt(seq))
            .order_by_asc(Column::Seq)
            .limit(limit)
            .all(db)
            .await?)
    }
}

/// Announces porting events and lets subscribers hear them.
pub type PortingEvents = Feed<PortingJournal>;
