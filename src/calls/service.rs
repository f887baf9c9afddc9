//! The rules of call logs: who may record and read which, idempotent ingestion
//! by `externalId`, and newest-first keyset paging on `(started_at, id)`.

use std::collections::HashMap;

use futures_util::Stream;

use sea_orm::{
    ActiveValue::{NotSet, Set},
    Condition, DatabaseConnection, FromQueryResult, Order, PaginatorTrait, QueryOrder, QuerySelect, QueryTrait,
    TransactionTrait,
    prelude::*,
    sea_query::{Alias, Asterisk, ExprTrait, Query, SimpleExpr, UnionType},
};
use uuid::Uuid;

use super::{
    events::{CallEvents, Event},
    types::{CallDirection, CallFilter, CallKey, CallStatus, CounterpartKind, ExternalId, NewCall},
};
use crate::{
    auth::Viewer,
    entity::{
        self, by_position,
        call_logs::{self, Column},
        sequences, virtual_numbers,
    },
    error::{AppError, violates},
    feed::Reader,
    numbers::NUMBER_NOT_FOUND,
    paging::{Direction, Page, PageRequest},
};

#[derive(Clone)]
pub struct CallService {
    pub(super) db: DatabaseConnection,
    /// Where statistics, reports and counts over a range of calls read
    /// (`db::analytics`): on PostgreSQL a pool that plans every run for its
    /// parameters.
    pub(super) analytics: DatabaseConnection,
    events: CallEvents,
    /// Whether statistics read `call_rollups` (`STATS_FROM_ROLLUPS`).
    pub(super) rollups: bool,
}

impl CallService {
    pub fn new(db: DatabaseConnection, events: CallEvents) -> Self {
        CallService {
            analytics: db.clone(),
            db,
            events,
            rollups: true,
        }
    }

    /// Statistics, reports and counts over a range of calls read through `analytics`.
    pub fn with_analytics(mut self, analytics: DatabaseConnection) -> Self {
        self.analytics = analytics;
        self
    }

    /// Statistics read every call instead of the rollups (`false`).
    pub fn with_rollups(mut self, rollups: bool) -> Self {
        self.rollups = rollups;
        self
    }

    /// The logs the viewer may read (all of them or one number's, which the caller
    /// has checked the viewer may see), in the order they were recorded: first
    /// every one recorded after `after` (a `seq`) from the database, then each new
    /// one as it is recorded on any instance, with no gap and no duplicate across
    /// the hand-over. Without `after`, only what is recorded from now on.
    ///
    /// A subscriber that falls more than the broadcast buffer behind reads what
    /// it missed from the database instead of losing it.
    pub fn feed(
        &self,
        viewer: Viewer,
        number_id: Option<Uuid>,
        after: Option<i64>,
    ) -> impl Stream<Item = Result<Event, AppError>> + use<> {
        let reader = CallReader {
            calls: self.clone(),
            viewer,
            number_id,
        };
        self.events.follow(reader, after)
    }

    /// The `seq` of a log the viewer may read, for resuming a feed from it.
    pub async fn seq_of(&self, viewer: &Viewer, id: Uuid) -> Result<Option<i64>, AppError> {
        Ok(call_logs::Entity::find()
            .filter(scope(viewer, &CallFilter::default()).add(Column::Id.eq(id)))
            .select_only()
            .column(Column::Seq)
            .into_tuple()
            .one(&self.db)
            .await?)
    }

    /// Up to `limit` logs in scope recorded after `seq`, in recording order.
    async fn recorded_after(
        &self,
        viewer: &Viewer,
        number_id: Option<Uuid>,
        seq: i64,
        limit: u64,
    ) -> Result<Vec<call_logs::Model>, AppError> {
        let filter = CallFilter {
            virtual_number_id: number_id,
            ..CallFilter::default()
        };
        Ok(call_logs::Entity::find()
            .filter(scope(viewer, &filter).add(Column::Seq.gt(seq)))
            .order_by_asc(Column::Seq)
            .limit(limit)
            .all(&self.db)
            .await?)
    }

    /// Logs a call on one of the viewer's numbers. The same `external_id` on the
    /// same number returns the first log unchanged, also under concurrent retries
    /// (the unique index decides; the losers read the winner's row).
    pub async fn record(&self, viewer: &Viewer, call: NewCall) -> Result<call_logs::Model, AppError> {
        let number = virtual_numbers::Entity::find_by_id(call.virtual_number_id)
            .one(&self.db)
            .await?
            .filter(|number| viewer.may_act_for(number.owner_id))
            .ok_or(AppError::NotFound(NUMBER_NOT_FOUND))?;
        if let Some(external_id) = &call.external_id
            && let Some(existing) = self.find_external(number.id, external_id).await?
        {
            return Ok(existing);
        }
        if number.released_at.is_some() || !number.is_active {
            return Err(AppError::bad_input(
                "virtualNumberId",
                "this number is released or inactive and takes no new calls",
            ));
        }
        // The virtual number's own side must be the number exactly; the other
        // side is whatever the carrier sent, kept with its kind.
        let own = number.phone_number.as_str();
        if call.own_number.as_str() != own {
            let (field, message) = match call.direction {
                CallDirection::Inbound => (
                    "calledNumber",
                    "an inbound call's calledNumber must be the virtual number",
                ),
                CallDirection::Outbound => (
                    "callerNumber",
                    "an outbound call's callerNumber must be the virtual number",
                ),
            };
            return Err(AppError::bad_input(field, message));
        }
        // Only a caller can hide their number: a call made has a number dialled.
        if call.direction == CallDirection::Outbound && call.counterpart.kind() == CounterpartKind::Withheld {
            return Err(AppError::bad_input(
                "calledNumber",
                "an outbound call's calledNumber is the number dialled; only a caller can be withheld",
            ));
        }
        let counterpart = call.counterpart.stored_number();
        let (caller, called) = match call.direction {
            CallDirection::Inbound => (counterpart, own),
            CallDirection::Outbound => (own, counterpart),
        };
        if call.status != CallStatus::Completed && call.duration.seconds() != 0 {
            return Err(AppError::bad_input(
                "durationSeconds",
                "a call that was not completed has durationSeconds 0",
            ));
        }
        let mut log = call_logs::ActiveModel {
            id: Set(Uuid::now_v7()),
            virtual_number_id: Set(number.id),
            owner_id: Set(number.owner_id),
            direction: Set(call.direction),
            status: Set(call.status),
            caller_number: Set(caller.to_owned()),
            called_number: Set(called.to_owned()),
            counterpart_number: Set(counterpart.to_owned()),
            counterpart_kind: Set(call.counterpart.kind()),
            counterpart_extension: Set(call.counterpart.extension().map(str::to_owned)),
            started_at: Set(call.started_at.instant()),
            duration_seconds: Set(call.duration.seconds()),
            external_id: Set(call.external_id.as_ref().map(|id| id.as_str().to_owned())),
            created_at: Set(entity::now()),
            seq: NotSet,
        };
        // Numbered and written in one transaction, so calls commit in `seq` order.
        let transaction = self.db.begin().await?;
        log.seq = Set(sequences::take(&transaction, sequences::CALL_LOGS, 1).await?);
        match log.insert(&transaction).await {
            Ok(log) => {
                super::rollups::add(&transaction, &log).await?;
                transaction.commit().await?;
                // The call is recorded whether or not anyone hears of it now: every
                // instance also looks for new calls on its own every few seconds.
                self.events.wake();
                if let Err(error) = self.events.announce(&self.db, log.seq).await {
                    tracing::warn!(?error, "could not announce a new call log");
                }
                Ok(log)
            }
            Err(error) => {
                transaction.rollback().await?;
                match &call.external_id {
                    Some(external_id) if violates(&error, call_logs::EXTERNAL_ID_KEY) => self
                        .find_external(number.id, external_id)
                        .await?
                        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("external id conflict without a row"))),
                    _ => Err(error.into()),
                }
            }
        }
    }

    async fn find_external(
        &self,
        number_id: Uuid,
        external_id: &ExternalId,
    ) -> Result<Option<call_logs::Model>, AppError> {
        Ok(call_logs::Entity::find()
            .filter(Column::VirtualNumberId.eq(number_id))
            .filter(Column::ExternalId.eq(external_id.as_str()))
            .one(&self.db)
            .await?)
    }

    /// One page of the logs the viewer may read, newest first.
    pub async fn list(
        &self,
        viewer: &Viewer,
        filter: &CallFilter,
        request: &PageRequest<CallKey>,
    ) -> Result<Page<call_logs::Model>, AppError> {
        let mut query = call_logs::Entity::find().filter(scope(viewer, filter));
        if let Some(after) = request.after {
            query = query.filter(older_than(after));
        }
        if let Some(before) = request.before {
            query = query.filter(newer_than(before));
        }
        // Newest first; reading backwards walks the same index the other way.
        query = match request.direction {
            Direction::Forward => query.order_by_desc(Column::StartedAt).order_by_desc(Column::Id),
            Direction::Backward => query.order_by_asc(Column::StartedAt).order_by_asc(Column::Id),
        };
        let rows = by_position::all(&self.db, query.limit(request.fetch_limit())).await?;
        Ok(Page::from_rows(rows, request))
    }

    /// How many logs the same list holds in all.
    pub async fn count(&self, viewer: &Viewer, filter: &CallFilter) -> Result<u64, AppError> {
        // Every call: one row a number. Otherwise the rollups count as exactly
        // as the calls, at the cost of a day's rows per day.
        if let Some(calls) = self.lifetime_count(viewer, filter).await? {
            return Ok(calls);
        }
        if let Some(figures) = self.rollup_totals(viewer, filter).await? {
            return Ok(u64::try_from(figures.total_calls).unwrap_or(0));
        }
        Ok(call_logs::Entity::find()
            .filter(scope(viewer, filter))
            .count(&self.analytics)
            .await?)
    }

    /// How many logs each of several numbers holds under `filter`, in one GROUP BY query.
    pub async fn count_per_number(
        &self,
        viewer: &Viewer,
        number_ids: &[Uuid],
        filter: &CallFilter,
    ) -> Result<HashMap<Uuid, u64>, AppError> {
        if let Some(counts) = self.rollup_count_per_number(viewer, number_ids, filter).await? {
            return Ok(counts);
        }
        let rows: Vec<(Uuid, i64)> = call_logs::Entity::find()
            .filter(scope(viewer, filter).add(Column::VirtualNumberId.is_in(number_ids.iter().copied())))
            .select_only()
            .column(Column::VirtualNumberId)
            .column_as(Expr::cust("COUNT(*)"), "calls")
            .group_by(Column::VirtualNumberId)
            .into_tuple()
            .all(&self.analytics)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, calls)| (id, u64::try_from(calls).unwrap_or(0)))
            .collect())
    }

    /// The logs among `ids` that the viewer may read, in one query (for `node`).
    pub async fn visible_many(&self, viewer: &Viewer, ids: &[Uuid]) -> Result<Vec<call_logs::Model>, AppError> {
        Ok(call_logs::Entity::find()
            .filter(scope(viewer, &CallFilter::default()).add(Column::Id.is_in(ids.iter().copied())))
            .all(&self.db)
            .await?)
    }

    /// The same page of logs for each of several numbers: one statement per
    /// [`NUMBERS_PER_STATEMENT`] numbers, a `UNION ALL` of each number's own
    /// `ORDER BY ... LIMIT size + 1`, so every number reads only its page from
    /// the `(virtual_number_id, started_at, id)` index however many calls it holds.
    pub async fn first_pages(
        &self,
        viewer: &Viewer,
        number_ids: &[Uuid],
        filter: &CallFilter,
        request: &PageRequest<CallKey>,
    ) -> Result<HashMap<Uuid, Page<call_logs::Model>>, AppError> {
        let mut condition = scope(viewer, filter);
        if let Some(after) = request.after {
            condition = condition.add(older_than(after));
        }
        if let Some(before) = request.before {
            condition = condition.add(newer_than(before));
        }
        let order = match request.direction {
            Direction::Forward => Order::Desc,
            Direction::Backward => Order::Asc,
        };
        let page_of = |index: usize, number_id: Uuid| {
            let page = call_logs::Entity::find()
                .filter(condition.clone().add(Column::VirtualNumberId.eq(number_id)))
                .order_by(Column::StartedAt, order.clone())
                .order_by(Column::Id, order.clone())
                .limit(request.fetch_limit())
                .into_query();
            // Wrapped, because SQLite allows no ORDER BY or LIMIT in a compound's parts.
            Query::select()
                .column(Asterisk)
                .from_subquery(page, Alias::new(format!("page_{index}")))
                .to_owned()
        };
        let mut grouped: HashMap<Uuid, Vec<call_logs::Model>> = HashMap::new();
        for chunk in number_ids.chunks(NUMBERS_PER_STATEMENT) {
            let mut parts = chunk.iter().enumerate().map(|(index, id)| page_of(index, *id));
            let Some(mut query) = parts.next() else {
                continue;
            };
            for part in parts {
                query.union(UnionType::All, part);
            }
            let statement = self.db.get_database_backend().build(&query);
            for row in call_logs::Model::find_by_statement(statement).all(&self.db).await? {
                grouped.entry(row.virtual_number_id).or_default().push(row);
            }
        }
        Ok(grouped
            .into_iter()
            .map(|(id, mut rows)| {
                // A compound keeps no order across its parts; each part's own is restored here.
                rows.sort_by_key(|row| (row.started_at, row.id));
                if order == Order::Desc {
                    rows.reverse();
                }
                (id, Page::from_rows(rows, request))
            })
            .collect())
    }
}

/// Numbers whose pages one `UNION ALL` statement reads (SQLite allows 500 parts).
const NUMBERS_PER_STATEMENT: usize = 100;

/// Rows strictly after `key` in newest-first order: `(started_at, id) < key`.
/// A row-value comparison, so both databases bound the index range with it
/// (the equivalent OR form makes PostgreSQL filter every row before the cursor).
fn older_than(key: CallKey) -> SimpleExpr {
    sort_key().lt(key_value(key))
}

/// Rows strictly before `key` in newest-first order: `(started_at, id) > key`.
fn newer_than(key: CallKey) -> SimpleExpr {
    sort_key().gt(key_value(key))
}

fn sort_key() -> SimpleExpr {
    Expr::tuple([Expr::col(Column::StartedAt), Expr::col(Column::Id)])
}

fn key_value(key: CallKey) -> SimpleExpr {
    Expr::tuple([Expr::val(key.started_at), Expr::val(key.id)])
}

/// The logs `viewer` may read (their own numbers', released ones included; staff:
/// everyone's), narrowed by `filter`.
pub fn scope(viewer: &Viewer, filter: &CallFilter) -> Condition {
    let mut condition = Condition::all();
    if !viewer.is_staff {
        condition = condition.add(Column::OwnerId.eq(viewer.user_id));
    }
    if let Some(number_id) = filter.virtual_number_id {
        condition = condition.add(Column::VirtualNumberId.eq(number_id));
    }
    if let Some(direction) = filter.direction {
        condition = condition.add(Column::Direction.eq(direction));
    }
    if let Some(status) = filter.status {
        condition = condition.add(Column::Status.eq(status));
    }
    if let Some(after) = filter.started_after {
        condition = condition.add(Column::StartedAt.gte(after));
    }
    if let Some(before) = filter.started_before {
        condition = condition.add(Column::StartedAt.lt(before));
    }
    if let Some(counterpart) = &filter.counterpart_number {
        condition = condition.add(Column::CounterpartNumber.eq(counterpart.as_str()));
    }
    if let Some(kind) = filter.counterpart_kind {
        condition = condition.add(Column::CounterpartKind.eq(kind));
    }
    condition
}

/// One subscriber of `callLogged`: the logs a viewer may read, of one number or all.
struct CallReader {
    calls: CallService,
    viewer: Viewer,
    number_id: Option<Uuid>,
}

impl Reader for CallReader {
    type Row = call_logs::Model;

    fn seq(row: &call_logs::Model) -> i64 {
        row.seq
    }

    fn wants(&self, log: &call_logs::Model) -> bool {
        self.viewer.may_act_for(log.owner_id) && self.number_id.is_none_or(|id| id == log.virtual_number_id)
    }

    async fn replay(&self, seq: i64, limit: u64) -> Result<Vec<call_logs::Model>, AppError> {
        self.calls
            .recorded_after(&self.viewer, self.number_id, seq, limit)
            .await
    }
}
