//! The rules of port-in orders that touch the database: who may see and move
//! which order, the reservation of the numbers an order waits for, atomic
//! completion, the timeline of events, and activation on the FOC date.
//!
//! Races over one number are settled in the database. A submission reserves
//! the order's numbers in `porting_order_numbers` (a unique index among
//! reserved rows: one live order per number); completion creates the virtual
//! numbers under `virtual_numbers`' own unique index (one holder per number).
//! On PostgreSQL every path that takes or reserves a number first takes a
//! transaction-scoped advisory lock on it, so "is it held?" and "is it
//! reserved?" are answered in the same order the writes commit in; SQLite has
//! one writer at a time, and each of these transactions writes first.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, Utc};
use futures_util::Stream;
use sea_orm::{
    ActiveValue::Set, Condition, ConnectionTrait, DatabaseConnection, DatabaseTransaction, PaginatorTrait, QueryOrder,
    QuerySelect, TransactionTrait, prelude::*, sea_query::SimpleExpr,
};
use uuid::Uuid;

use super::{
    events::PortingEvents,
    rules::{self, Change, DetailChanges, Requirement, Step},
};
use crate::{
    accounts::audit::{self, AuditAction, Staff, SubjectType},
    auth::Viewer,
    entity::{
        self, porting_events,
        porting_events::{ActorRole, PortingEventKind},
        porting_order_numbers,
        porting_orders::{self, Column, PortingStatus},
        sequences, users, virtual_numbers,
    },
    error::{AppError, violates},
    feed::Reader,
    numbers::{E164, PhoneNumberType},
    paging::{self, Page, PageRequest},
};

/// The one answer for an order that is missing or someone else's.
pub const ORDER_NOT_FOUND: &str = "no such porting order";

/// Settings of porting, from the configuration.
#[derive(Debug, Clone)]
pub struct PortingSettings {
    /// ISO 3166-1 alpha-2 codes numbers may be ported in from (`PORTING_COUNTRIES`).
    pub countries: Vec<String>,
    /// How many business days ahead a requested FOC date must be at least
    /// (`PORTING_MIN_BUSINESS_DAYS`).
    pub min_business_days: u32,
}

/// Why a number cannot be ported in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortabilityIssue {
    InvalidNumber,
    AlreadyHeld,
    AlreadyInAnOrder,
    UnsupportedCountry,
}

impl PortabilityIssue {
    /// The API's name, also `extensions.reason` of a refusal.
    pub fn name(self) -> &'static str {
        match self {
            PortabilityIssue::InvalidNumber => "INVALID_NUMBER",
            PortabilityIssue::AlreadyHeld => "ALREADY_HELD",
            PortabilityIssue::AlreadyInAnOrder => "ALREADY_IN_AN_ORDER",
            PortabilityIssue::UnsupportedCountry => "UNSUPPORTED_COUNTRY",
        }
    }
}

/// The answer for one number of a portability check.
#[derive(Debug, Clone)]
pub struct Portability {
    pub input: String,
    /// `None` when the input is not a valid number.
    pub number: Option<E164>,
    pub issue: Option<PortabilityIssue>,
    /// Why, for a person.
    pub message: Option<String>,
}

/// Who acts on an order, in which capacity. Staff are on the audit log
/// whenever they act, whichever side they act for.
#[derive(Debug, Clone)]
pub enum Actor {
    /// The order's owner, or staff acting for them (`staff` set).
    Customer { user_id: Uuid, staff: Option<Staff> },
    /// Staff, as the losing carrier's side.
    Carrier(Staff),
    /// The server, activating an order on its FOC date.
    System,
}

impl Actor {
    fn user_id(&self) -> Option<Uuid> {
        match self {
            Actor::Customer { user_id, .. } => Some(*user_id),
            Actor::Carrier(staff) => Some(staff.user_id),
            Actor::System => None,
        }
    }

    fn role(&self) -> ActorRole {
        match self {
            Actor::Customer { staff: None, .. } => ActorRole::Owner,
            Actor::Customer { staff: Some(_), .. } | Actor::Carrier(_) => ActorRole::Staff,
            Actor::System => ActorRole::System,
        }
    }

    fn staff(&self) -> Option<&Staff> {
        match self {
            Actor::Customer { staff, .. } => staff.as_ref(),
            Actor::Carrier(staff) => Some(staff),
            Actor::System => None,
        }
    }
}

/// Narrows a list of orders.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub status: Option<Vec<PortingStatus>>,
    /// Staff lists: one user's orders.
    pub owner_id: Option<Uuid>,
}

/// What activation on the FOC date did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Activation {
    pub ported: u64,
    /// Orders that went to EXCEPTION because a number was held by then.
    pub failed: u64,
}

#[derive(Clone)]
pub struct PortingService {
    db: DatabaseConnection,
    events: PortingEvents,
    settings: std::sync::Arc<PortingSettings>,
}

impl PortingService {
    pub fn new(db: DatabaseConnection, events: PortingEvents, settings: PortingSettings) -> Self {
        PortingService {
            db,
            events,
            settings: std::sync::Arc::new(settings),
        }
    }

    /// Today, in UTC: FOC dates are calendar dates, read in UTC.
    pub fn today() -> NaiveDate {
        Utc::now().date_naive()
    }

    /// The earliest FOC date a customer may ask for today.
    pub fn earliest_foc_date(&self) -> NaiveDate {
        rules::business_days_after(Self::today(), self.settings.min_business_days)
    }

    /// What an order still lacks before it can be submitted (nothing, once it
    /// is past editing: a submitted order's date is the carrier's business).
    pub fn requirements(&self, order: &porting_orders::Model) -> Vec<Requirement> {
        if !rules::EDITABLE.contains(&order.status) {
            return Vec::new();
        }
        rules::requirements(order, self.earliest_foc_date())
    }

    fn supports(&self, number: &E164) -> bool {
        number
            .country_code()
            .is_some_and(|country| self.settings.countries.contains(&country))
    }

    /// Whether each number could be ported in for `owner_id` now. No side effects.
    pub async fn check(
        &self,
        owner_id: Uuid,
        inputs: Vec<(String, Result<E164, String>)>,
    ) -> Result<Vec<Portability>, AppError> {
        let valid: Vec<String> = inputs
            .iter()
            .filter_map(|(_, parsed)| parsed.as_ref().ok().map(|number| number.as_str().to_owned()))
            .collect();
        let held = self.held(&self.db, &valid).await?;
        let in_orders = self.in_orders(owner_id, &valid).await?;
        Ok(inputs
            .into_iter()
            .map(|(input, parsed)| {
                let number = match parsed {
                    Ok(number) => number,
                    Err(message) => {
                        return Portability {
                            input,
                            number: None,
                            issue: Some(PortabilityIssue::InvalidNumber),
                            message: Some(message),
                        };
                    }
                };
                let found = if !self.supports(&number) {
                    Some((
                        PortabilityIssue::UnsupportedCountry,
                        format!(
                            "numbers of {} cannot be ported in here (supported: {})",
                            number.country_code().as_deref().unwrap_or("no country"),
                            self.settings.countries.join(", ")
                        ),
                    ))
                } else if held.contains(number.as_str()) {
                    Some((
                        PortabilityIssue::AlreadyHeld,
                        format!("{} is already a virtual number here", number.as_str()),
                    ))
                } else if in_orders.contains(number.as_str()) {
                    Some((
                        PortabilityIssue::AlreadyInAnOrder,
                        format!("{} is already in a port-in order", number.as_str()),
                    ))
                } else {
                    None
                };
                Portability {
                    input,
                    number: Some(number),
                    issue: found.as_ref().map(|(issue, _)| *issue),
                    message: found.map(|(_, message)| message),
                }
            })
            .collect())
    }

    /// The numbers among `numbers` a virtual number holds now.
    async fn held(&self, db: &impl ConnectionTrait, numbers: &[String]) -> Result<HashSet<String>, AppError> {
        if numbers.is_empty() {
            return Ok(HashSet::new());
        }
        let rows: Vec<String> = virtual_numbers::Entity::find()
            .select_only()
            .column(virtual_numbers::Column::PhoneNumber)
            .filter(virtual_numbers::Column::PhoneNumber.is_in(numbers.iter().cloned()))
            .filter(virtual_numbers::Column::ReleasedAt.is_null())
            .into_tuple()
            .all(db)
            .await?;
        Ok(rows.into_iter().collect())
    }

    /// The numbers among `numbers` that a live order reserves, or that one of
    /// `owner_id`'s own drafts already holds (a draft reserves nothing, so
    /// nobody can block a number by drafting it).
    async fn in_orders(&self, owner_id: Uuid, numbers: &[String]) -> Result<HashSet<String>, AppError> {
        if numbers.is_empty() {
            return Ok(HashSet::new());
        }
        let rows = porting_order_numbers::Entity::find()
            .filter(porting_order_numbers::Column::PhoneNumber.is_in(numbers.iter().cloned()))
            .all(&self.db)
            .await?;
        let mut found: HashSet<String> = HashSet::new();
        let mut drafted: HashMap<Uuid, Vec<String>> = HashMap::new();
        for row in rows {
            if row.reserved {
                found.insert(row.phone_number);
            } else if row.virtual_number_id.is_none() {
                drafted.entry(row.order_id).or_default().push(row.phone_number);
            }
        }
        if !drafted.is_empty() {
            let own_drafts: Vec<Uuid> = porting_orders::Entity::find()
                .select_only()
                .column(Column::Id)
                .filter(Column::Id.is_in(drafted.keys().copied()))
                .filter(Column::OwnerId.eq(owner_id))
                .filter(Column::Status.eq(PortingStatus::Draft))
                .into_tuple()
                .all(&self.db)
                .await?;
            for id in own_drafts {
                found.extend(drafted.remove(&id).unwrap_or_default());
            }
        }
        Ok(found)
    }

    /// Makes DRAFT orders of `numbers` (each with its index in the request, for
    /// errors) for the viewer or, for staff, `owner_id`: one order per country
    /// and number type, as carriers take them, each with `details`.
    pub async fn create(
        &self,
        viewer: &Viewer,
        owner_id: Option<Uuid>,
        numbers: Vec<(usize, E164)>,
        details: DetailChanges,
    ) -> Result<Vec<porting_orders::Model>, AppError> {
        let owner_id = owner_id.unwrap_or(viewer.user_id);
        if !viewer.may_act_for(owner_id) {
            return Err(AppError::Forbidden("only staff may order ports for another user"));
        }
        let owner = users::Entity::find_by_id(owner_id).one(&self.db).await?;
        if !owner.is_some_and(|owner| owner.is_active) {
            return Err(AppError::bad_input("ownerId", "no active user has that id"));
        }
        if numbers.is_empty() {
            return Err(AppError::bad_input("phoneNumbers", "give at least one number to port"));
        }
        if numbers.len() > rules::MAX_NUMBERS {
            return Err(AppError::bad_input(
                "phoneNumbers",
                format!("an order may hold at most {} numbers", rules::MAX_NUMBERS),
            ));
        }
        self.check_foc_request(&details.requested_foc_date)?;
        // The same number in two spellings is one number.
        let mut seen = HashSet::new();
        let numbers: Vec<(usize, E164)> = numbers
            .into_iter()
            .filter(|(_, number)| seen.insert(number.as_str().to_owned()))
            .collect();
        let inputs = numbers
            .iter()
            .map(|(_, number)| (number.as_str().to_owned(), Ok(number.clone())))
            .collect();
        for ((index, _), verdict) in numbers.iter().zip(self.check(owner_id, inputs).await?) {
            if let (Some(issue), Some(message)) = (verdict.issue, verdict.message) {
                let field = format!("phoneNumbers.{index}");
                return Err(match issue {
                    PortabilityIssue::AlreadyHeld | PortabilityIssue::AlreadyInAnOrder => {
                        AppError::conflict_because(field, issue.name(), message)
                    }
                    PortabilityIssue::InvalidNumber | PortabilityIssue::UnsupportedCountry => {
                        AppError::bad_input(field, message)
                    }
                });
            }
        }
        // Split by country and type, in the order the numbers were given.
        let mut groups: Vec<((String, PhoneNumberType), Vec<E164>)> = Vec::new();
        for (_, number) in numbers {
            let key = (number.country_code().unwrap_or_default(), number.number_type());
            match groups.iter_mut().find(|(group, _)| *group == key) {
                Some((_, members)) => members.push(number),
                None => groups.push((key, vec![number])),
            }
        }
        let open = porting_orders::Entity::find()
            .filter(Column::OwnerId.eq(owner_id))
            .filter(Column::Status.is_not_in([PortingStatus::Ported, PortingStatus::Cancelled]))
            .count(&self.db)
            .await?;
        if open + groups.len() as u64 > rules::MAX_OPEN_ORDERS {
            return Err(AppError::bad_input(
                "phoneNumbers",
                format!(
                    "at most {} port-in orders may be open at once ({open} are, and these numbers need {}): \
                     finish or cancel some first",
                    rules::MAX_OPEN_ORDERS,
                    groups.len()
                ),
            ));
        }
        let actor = self.customer(viewer, owner_id, None);
        let now = entity::now();
        let transaction = self.db.begin().await?;
        let mut orders = Vec::with_capacity(groups.len());
        for ((country, kind), members) in groups {
            let mut order = porting_orders::ActiveModel {
                id: Set(Uuid::now_v7()),
                owner_id: Set(owner_id),
                status: Set(PortingStatus::Draft),
                country_code: Set(country),
                number_type: Set(kind.name().to_owned()),
                account_holder_name: Set(None),
                account_number: Set(None),
                account_pin: Set(None),
                service_street: Set(None),
                service_locality: Set(None),
                service_region: Set(None),
                service_postal_code: Set(None),
                authorized_person_name: Set(None),
                requested_foc_date: Set(None),
                confirmed_foc_date: Set(None),
                exception_reason: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                submitted_at: Set(None),
                completed_at: Set(None),
            };
            apply(&mut order, &details);
            let order = order.insert(&transaction).await?;
            for (position, number) in members.iter().enumerate() {
                porting_order_numbers::ActiveModel {
                    order_id: Set(order.id),
                    phone_number: Set(number.as_str().to_owned()),
                    position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
                    reserved: Set(false),
                    virtual_number_id: Set(None),
                }
                .insert(&transaction)
                .await?;
            }
            self.record(&transaction, &order, PortingEventKind::Created, None, &actor, None)
                .await?;
            orders.push(order);
        }
        transaction.commit().await?;
        self.events.wake();
        Ok(orders)
    }

    /// Refuses a requested FOC date sooner than the notice carriers need, or
    /// more than a year ahead.
    fn check_foc_request(&self, date: &Change<NaiveDate>) -> Result<(), AppError> {
        let Change::Set(date) = date else {
            return Ok(());
        };
        let earliest = self.earliest_foc_date();
        if *date < earliest {
            return Err(AppError::bad_input(
                "requestedFocDate",
                format!(
                    "the losing carrier needs {} business days' notice: ask for {earliest} or later",
                    self.settings.min_business_days
                ),
            ));
        }
        if *date > rules::latest_foc_date(Self::today()) {
            return Err(AppError::bad_input(
                "requestedFocDate",
                format!("`requestedFocDate` may be at most {} days ahead", rules::MAX_DAYS_AHEAD),
            ));
        }
        Ok(())
    }

    /// The owner, or staff acting for them (on the audit log, from `client_address`).
    fn customer(&self, viewer: &Viewer, owner_id: Uuid, client_address: Option<String>) -> Actor {
        Actor::Customer {
            user_id: viewer.user_id,
            staff: (viewer.user_id != owner_id).then_some(Staff {
                user_id: viewer.user_id,
                client_address,
            }),
        }
    }

    /// An order the viewer may see: their own (staff: any).
    pub async fn find_visible(&self, viewer: &Viewer, id: Uuid) -> Result<Option<porting_orders::Model>, AppError> {
        Ok(porting_orders::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .filter(|order| viewer.may_act_for(order.owner_id)))
    }

    /// The orders among `ids` the viewer may see, in one query.
    pub async fn visible_many(&self, viewer: &Viewer, ids: &[Uuid]) -> Result<Vec<porting_orders::Model>, AppError> {
        let mut condition = Condition::all().add(Column::Id.is_in(ids.iter().copied()));
        if !viewer.is_staff {
            condition = condition.add(Column::OwnerId.eq(viewer.user_id));
        }
        Ok(porting_orders::Entity::find().filter(condition).all(&self.db).await?)
    }

    async fn get_visible(&self, viewer: &Viewer, id: Uuid) -> Result<porting_orders::Model, AppError> {
        self.find_visible(viewer, id)
            .await?
            .ok_or(AppError::NotFound(ORDER_NOT_FOUND))
    }

    /// One page of orders, oldest first: `owner_id`'s, or (staff, no owner) everyone's.
    pub async fn list(
        &self,
        viewer: &Viewer,
        filter: &OrderFilter,
        request: &PageRequest<Uuid>,
    ) -> Result<Page<porting_orders::Model>, AppError> {
        let Some(condition) = Self::condition(viewer, filter) else {
            return Ok(Page::empty());
        };
        let query = porting_orders::Entity::find().filter(condition);
        Ok(paging::by_key(&self.db, query, Column::Id, request).await?)
    }

    /// How many orders the same list holds in all.
    pub async fn count(&self, viewer: &Viewer, filter: &OrderFilter) -> Result<u64, AppError> {
        let Some(condition) = Self::condition(viewer, filter) else {
            return Ok(0);
        };
        Ok(porting_orders::Entity::find().filter(condition).count(&self.db).await?)
    }

    /// The orders a list may show the viewer; `None` when it may show none.
    fn condition(viewer: &Viewer, filter: &OrderFilter) -> Option<Condition> {
        let mut condition = Condition::all();
        match filter.owner_id {
            Some(owner_id) if viewer.may_act_for(owner_id) => condition = condition.add(Column::OwnerId.eq(owner_id)),
            Some(_) => return None,
            None if viewer.is_staff => {}
            None => condition = condition.add(Column::OwnerId.eq(viewer.user_id)),
        }
        if let Some(statuses) = &filter.status {
            condition = condition.add(Column::Status.is_in(statuses.iter().copied()));
        }
        Some(condition)
    }

    /// The numbers of an order, in the order the customer gave them.
    pub async fn numbers_of(&self, order_id: Uuid) -> Result<Vec<porting_order_numbers::Model>, AppError> {
        Ok(porting_order_numbers::Entity::find()
            .filter(porting_order_numbers::Column::OrderId.eq(order_id))
            .order_by_asc(porting_order_numbers::Column::Position)
            .all(&self.db)
            .await?)
    }

    /// The numbers of several orders at once (for a page of orders).
    pub async fn numbers_of_many(
        &self,
        order_ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<porting_order_numbers::Model>>, AppError> {
        let rows = porting_order_numbers::Entity::find()
            .filter(porting_order_numbers::Column::OrderId.is_in(order_ids.iter().copied()))
            .order_by_asc(porting_order_numbers::Column::Position)
            .all(&self.db)
            .await?;
        let mut by_order: HashMap<Uuid, Vec<_>> = HashMap::new();
        for row in rows {
            by_order.entry(row.order_id).or_default().push(row);
        }
        Ok(by_order)
    }

    /// One page of an order's timeline, in the order things happened (by `seq`).
    pub async fn events_of(
        &self,
        order_id: Uuid,
        request: &PageRequest<i64>,
    ) -> Result<Page<porting_events::Model>, AppError> {
        use porting_events::Column as Event;
        let query = porting_events::Entity::find().filter(Event::OrderId.eq(order_id));
        Ok(paging::by_key(&self.db, query, Event::Seq, request).await?)
    }

    /// How many events an order's timeline holds.
    pub async fn count_events(&self, order_id: Uuid) -> Result<u64, AppError> {
        Ok(porting_events::Entity::find()
            .filter(porting_events::Column::OrderId.eq(order_id))
            .count(&self.db)
            .await?)
    }

    /// Changes the details of a DRAFT order, or of one in EXCEPTION being fixed.
    pub async fn update(
        &self,
        viewer: &Viewer,
        id: Uuid,
        changes: DetailChanges,
        client_address: Option<String>,
    ) -> Result<porting_orders::Model, AppError> {
        let order = self.get_visible(viewer, id).await?;
        if !rules::EDITABLE.contains(&order.status) {
            return Err(rules::not_editable(order.status));
        }
        self.check_foc_request(&changes.requested_foc_date)?;
        let fields = changes.field_names();
        if fields.is_empty() {
            return Ok(order);
        }
        let actor = self.customer(viewer, order.owner_id, client_address);
        let mut model: porting_orders::ActiveModel = order.clone().into();
        apply(&mut model, &changes);
        model.updated_at = Set(entity::now());
        let transaction = self.db.begin().await?;
        // Conditional on the status read above, in the same statement: a submission
        // racing this edit wins cleanly.
        let updated = porting_orders::Entity::update_many()
            .set(model)
            .filter(Column::Id.eq(order.id))
            .filter(Column::Status.eq(order.status))
            .exec_with_returning(&transaction)
            .await?
            .into_iter()
            .next();
        let Some(updated) = updated else {
            let current = self.current_status(&transaction, order.id).await?;
            return Err(rules::not_editable(current));
        };
        let comment = format!("changed {}", fields.join(", "));
        self.record(
            &transaction,
            &updated,
            PortingEventKind::Updated,
            None,
            &actor,
            Some(comment),
        )
        .await?;
        if let Some(staff) = actor.staff() {
            audit_order(&transaction, staff, AuditAction::PortingOrderUpdate, &updated, &fields).await?;
        }
        transaction.commit().await?;
        self.events.wake();
        Ok(updated)
    }

    async fn current_status(&self, db: &impl ConnectionTrait, id: Uuid) -> Result<PortingStatus, AppError> {
        Ok(porting_orders::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or(AppError::NotFound(ORDER_NOT_FOUND))?
            .status)
    }

    /// The owner (or staff for them) submits a complete order: its numbers are
    /// reserved from now until it is PORTED or CANCELLED.
    pub async fn submit(
        &self,
        viewer: &Viewer,
        id: Uuid,
        comment: Option<String>,
        client_address: Option<String>,
    ) -> Result<porting_orders::Model, AppError> {
        let order = self.get_visible(viewer, id).await?;
        if !Step::Submit.from().contains(&order.status) {
            return Err(Step::Submit.refused_from(order.status));
        }
        let missing = self.requirements(&order);
        if !missing.is_empty() {
            let names: Vec<&str> = missing
                .iter()
                .map(|requirement| requirement_name(*requirement))
                .collect();
            return Err(AppError::bad_input(
                "id",
                format!(
                    "the order is not complete: {} still needed (see `requirements`)",
                    names.join(", ")
                ),
            ));
        }
        let actor = self.customer(viewer, order.owner_id, client_address);
        let numbers: Vec<String> = self
            .numbers_of(order.id)
            .await?
            .into_iter()
            .map(|row| row.phone_number)
            .collect();
        let transaction = self.db.begin().await?;
        let submitted = self
            .move_order(
                &transaction,
                &order,
                Step::Submit,
                &actor,
                comment,
                vec![
                    (Column::SubmittedAt, Expr::value(entity::now())),
                    (Column::ExceptionReason, Expr::value(Option::<String>::None)),
                ],
                &numbers,
            )
            .await?;
        if let Some(number) = self.held(&transaction, &numbers).await?.into_iter().min() {
            return Err(AppError::conflict_because(
                "id",
                PortabilityIssue::AlreadyHeld.name(),
                format!(
                    "{number} is already a virtual number here; remove it by cancelling this order and ordering the rest"
                ),
            ));
        }
        let reserved = porting_order_numbers::Entity::update_many()
            .col_expr(porting_order_numbers::Column::Reserved, Expr::value(true))
            .filter(porting_order_numbers::Column::OrderId.eq(order.id))
            .exec(&transaction)
            .await;
        if let Err(error) = reserved {
            if violates(&error, porting_order_numbers::RESERVED_KEY) {
                return Err(AppError::conflict_because(
                    "id",
                    PortabilityIssue::AlreadyInAnOrder.name(),
                    "one of the order's numbers is already in another port-in order",
                ));
            }
            return Err(error.into());
        }
        transaction.commit().await?;
        self.events.wake();
        Ok(submitted)
    }

    /// The owner (or staff for them) gives up on an order before the losing
    /// carrier has confirmed a date; its numbers are free again.
    pub async fn cancel(
        &self,
        viewer: &Viewer,
        id: Uuid,
        comment: Option<String>,
        client_address: Option<String>,
    ) -> Result<porting_orders::Model, AppError> {
        let order = self.get_visible(viewer, id).await?;
        let actor = self.customer(viewer, order.owner_id, client_address);
        self.move_alone(&order, Step::Cancel, &actor, comment, Vec::new()).await
    }

    /// Staff, for the losing carrier: SUBMITTED → IN_PROCESS.
    pub async fn start(
        &self,
        staff: Staff,
        id: Uuid,
        comment: Option<String>,
    ) -> Result<porting_orders::Model, AppError> {
        self.carrier_step(staff, id, Step::Start, comment, Vec::new()).await
    }

    /// Staff, for the losing carrier: IN_PROCESS → FOC_DATE_CONFIRMED on `date`.
    pub async fn confirm_foc_date(
        &self,
        staff: Staff,
        id: Uuid,
        date: NaiveDate,
        comment: Option<String>,
    ) -> Result<porting_orders::Model, AppError> {
        let today = Self::today();
        if date < today {
            return Err(AppError::bad_input(
                "focDate",
                format!("`focDate` may not be in the past (today is {today} UTC)"),
            ));
        }
        if date > rules::latest_foc_date(today) {
            return Err(AppError::bad_input(
                "focDate",
                format!("`focDate` may be at most {} days ahead", rules::MAX_DAYS_AHEAD),
            ));
        }
        self.carrier_step(
            staff,
            id,
            Step::ConfirmFocDate,
            comment,
            vec![(Column::ConfirmedFocDate, Expr::value(date))],
        )
        .await
    }

    /// Staff, for the losing carrier: back to the owner with a reason they can act on.
    pub async fn raise_exception(
        &self,
        staff: Staff,
        id: Uuid,
        reason: String,
    ) -> Result<porting_orders::Model, AppError> {
        self.carrier_step(
            staff,
            id,
            Step::RaiseException,
            Some(reason.clone()),
            vec![(Column::ExceptionReason, Expr::value(reason))],
        )
        .await
    }

    async fn carrier_step(
        &self,
        staff: Staff,
        id: Uuid,
        step: Step,
        comment: Option<String>,
        set: Vec<(Column, SimpleExpr)>,
    ) -> Result<porting_orders::Model, AppError> {
        let order = self.get(id).await?;
        self.move_alone(&order, step, &Actor::Carrier(staff), comment, set)
            .await
    }

    /// Any order, for staff and the server (who may see every one).
    async fn get(&self, id: Uuid) -> Result<porting_orders::Model, AppError> {
        porting_orders::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(AppError::NotFound(ORDER_NOT_FOUND))
    }

    /// `move_order` in a transaction of its own.
    async fn move_alone(
        &self,
        order: &porting_orders::Model,
        step: Step,
        actor: &Actor,
        comment: Option<String>,
        set: Vec<(Column, SimpleExpr)>,
    ) -> Result<porting_orders::Model, AppError> {
        let transaction = self.db.begin().await?;
        let moved = self
            .move_order(&transaction, order, step, actor, comment, set, &[])
            .await?;
        transaction.commit().await?;
        self.events.wake();
        Ok(moved)
    }

    /// FOC_DATE_CONFIRMED → PORTED: every number of the order becomes a virtual
    /// number of its owner, in one transaction. If any is held by someone by
    /// then, nothing is created and the order goes to EXCEPTION naming it
    /// (the answer is then the order in EXCEPTION, not an error).
    pub async fn complete(
        &self,
        actor: Actor,
        id: Uuid,
        comment: Option<String>,
    ) -> Result<porting_orders::Model, AppError> {
        let order = self.get(id).await?;
        let numbers = self.numbers_of(order.id).await?;
        let phone_numbers: Vec<String> = numbers.iter().map(|row| row.phone_number.clone()).collect();
        let now = entity::now();
        let transaction = self.db.begin().await?;
        let ported = self
            .move_order(
                &transaction,
                &order,
                Step::Complete,
                &actor,
                comment,
                vec![(Column::CompletedAt, Expr::value(now))],
                &phone_numbers,
            )
            .await?;
        if let Some(taken) = self.held(&transaction, &phone_numbers).await?.into_iter().min() {
            transaction.rollback().await?;
            return self.fail_completion(actor, order, &taken).await;
        }
        for row in &numbers {
            let number = E164::parse(&row.phone_number, None).ok();
            let created = virtual_numbers::ActiveModel {
                id: Set(Uuid::now_v7()),
                owner_id: Set(order.owner_id),
                country_code: Set(number.and_then(|number| number.country_code())),
                phone_number: Set(row.phone_number.clone()),
                friendly_name: Set(None),
                friendly_name_folded: Set(None),
                is_active: Set(true),
                released_at: Set(None),
                porting_order_id: Set(Some(order.id)),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&transaction)
            .await;
            let created = match created {
                Ok(created) => created,
                Err(error) if violates(&error, virtual_numbers::PHONE_NUMBER_KEY) => {
                    transaction.rollback().await?;
                    return self.fail_completion(actor, order, &row.phone_number).await;
                }
                Err(error) => return Err(error.into()),
            };
            porting_order_numbers::Entity::update_many()
                .col_expr(porting_order_numbers::Column::Reserved, Expr::value(false))
                .col_expr(porting_order_numbers::Column::VirtualNumberId, Expr::value(created.id))
                .filter(porting_order_numbers::Column::OrderId.eq(order.id))
                .filter(porting_order_numbers::Column::PhoneNumber.eq(row.phone_number.clone()))
                .exec(&transaction)
                .await?;
        }
        transaction.commit().await?;
        self.events.wake();
        Ok(ported)
    }

    async fn fail_completion(
        &self,
        actor: Actor,
        order: porting_orders::Model,
        taken: &str,
    ) -> Result<porting_orders::Model, AppError> {
        let reason = format!(
            "{taken} is now held by another account, so nothing was ported; \
             cancel this order and order the other numbers again, or contact support"
        );
        self.move_alone(
            &order,
            Step::RaiseException,
            &actor,
            Some(reason.clone()),
            vec![(Column::ExceptionReason, Expr::value(reason))],
        )
        .await
    }

    /// Completes every order whose confirmed FOC date has come (in UTC).
    pub async fn activate_due(&self) -> Result<Activation, AppError> {
        let due: Vec<Uuid> = porting_orders::Entity::find()
            .select_only()
            .column(Column::Id)
            .filter(Column::Status.eq(PortingStatus::FocDateConfirmed))
            .filter(Column::ConfirmedFocDate.lte(Self::today()))
            .order_by_asc(Column::Id)
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut activation = Activation::default();
        for id in due {
            match self
                .complete(Actor::System, id, Some("activated on the FOC date".to_owned()))
                .await
            {
                Ok(order) if order.status == PortingStatus::Ported => activation.ported += 1,
                Ok(_) => activation.failed += 1,
                // Another instance (or staff) moved it first.
                Err(AppError::BadInput { .. }) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(activation)
    }

    /// A comment on an order from its owner or staff.
    pub async fn comment(&self, viewer: &Viewer, id: Uuid, body: String) -> Result<porting_events::Model, AppError> {
        let order = self.get_visible(viewer, id).await?;
        let comments = porting_events::Entity::find()
            .filter(porting_events::Column::OrderId.eq(order.id))
            .filter(porting_events::Column::Kind.eq(PortingEventKind::Comment))
            .count(&self.db)
            .await?;
        if comments >= rules::MAX_COMMENTS {
            return Err(AppError::bad_input(
                "comment",
                format!("an order holds at most {} comments", rules::MAX_COMMENTS),
            ));
        }
        let actor = if viewer.user_id == order.owner_id {
            Actor::Customer {
                user_id: viewer.user_id,
                staff: None,
            }
        } else {
            Actor::Carrier(Staff {
                user_id: viewer.user_id,
                client_address: None,
            })
        };
        let transaction = self.db.begin().await?;
        let event = self
            .record(
                &transaction,
                &order,
                PortingEventKind::Comment,
                None,
                &actor,
                Some(body),
            )
            .await?;
        transaction.commit().await?;
        self.events.wake();
        Ok(event)
    }

    /// Moves `order` (as read) by `step` in `transaction`, conditional on its
    /// status being unchanged since it was read; records the event and, for
    /// staff, the audit entry. On PostgreSQL, first locks `numbers` (see the
    /// module's note).
    #[allow(clippy::too_many_arguments)]
    async fn move_order(
        &self,
        transaction: &DatabaseTransaction,
        order: &porting_orders::Model,
        step: Step,
        actor: &Actor,
        comment: Option<String>,
        set: Vec<(Column, SimpleExpr)>,
        numbers: &[String],
    ) -> Result<porting_orders::Model, AppError> {
        if !step.from().contains(&order.status) {
            return Err(step.refused_from(order.status));
        }
        entity::lock_numbers(transaction, numbers).await?;
        let mut update = porting_orders::Entity::update_many()
            .col_expr(Column::Status, Expr::value(step.to()))
            .col_expr(Column::UpdatedAt, Expr::value(entity::now()))
            .filter(Column::Id.eq(order.id))
            .filter(Column::Status.eq(order.status));
        for (column, value) in set {
            update = update.col_expr(column, value);
        }
        let Some(moved) = update.exec_with_returning(transaction).await?.into_iter().next() else {
            let current = self.current_status(transaction, order.id).await?;
            return Err(step.refused_from(current));
        };
        if step == Step::Cancel {
            // Its numbers are free again.
            porting_order_numbers::Entity::update_many()
                .col_expr(porting_order_numbers::Column::Reserved, Expr::value(false))
                .filter(porting_order_numbers::Column::OrderId.eq(order.id))
                .exec(transaction)
                .await?;
        }
        self.record(
            transaction,
            &moved,
            PortingEventKind::StatusChanged,
            Some(order.status),
            actor,
            comment,
        )
        .await?;
        if let Some(staff) = actor.staff() {
            let action = match step {
                Step::Submit => AuditAction::PortingOrderSubmit,
                Step::Cancel => AuditAction::PortingOrderCancel,
                Step::Start => AuditAction::PortingOrderStart,
                Step::ConfirmFocDate => AuditAction::PortingOrderConfirmFocDate,
                Step::Complete => AuditAction::PortingOrderComplete,
                Step::RaiseException => AuditAction::PortingOrderRaiseException,
            };
            audit_order(transaction, staff, action, &moved, &[]).await?;
        }
        Ok(moved)
    }

    /// Appends one event to an order's timeline, numbered and announced in
    /// `transaction` (wake the pump after the commit).
    async fn record(
        &self,
        transaction: &DatabaseTransaction,
        order: &porting_orders::Model,
        kind: PortingEventKind,
        from: Option<PortingStatus>,
        actor: &Actor,
        comment: Option<String>,
    ) -> Result<porting_events::Model, AppError> {
        let seq = sequences::take(transaction, sequences::PORTING_EVENTS, 1).await?;
        let to = matches!(kind, PortingEventKind::StatusChanged | PortingEventKind::Created).then_some(order.status);
        let event = porting_events::ActiveModel {
            id: Set(Uuid::now_v7()),
            seq: Set(seq),
            order_id: Set(order.id),
            owner_id: Set(order.owner_id),
            kind: Set(kind),
            from_status: Set(from),
            to_status: Set(to),
            actor_id: Set(actor.user_id()),
            actor_role: Set(actor.role()),
            comment: Set(comment),
            created_at: Set(entity::now()),
        }
        .insert(transaction)
        .await?;
        self.events.announce(transaction, seq).await?;
        Ok(event)
    }

    /// The `seq` of an event of an order the viewer may see, for resuming from it.
    pub async fn seq_of(&self, viewer: &Viewer, event_id: Uuid) -> Result<Option<i64>, AppError> {
        let event = porting_events::Entity::find_by_id(event_id).one(&self.db).await?;
        Ok(event
            .filter(|event| viewer.may_act_for(event.owner_id))
            .map(|event| event.seq))
    }

    /// Events of the orders the viewer may see (or of one order), in the order
    /// they happened: replayed after `after` (a `seq`), then live.
    pub fn feed(
        &self,
        viewer: Viewer,
        order_id: Option<Uuid>,
        after: Option<i64>,
    ) -> impl Stream<Item = Result<std::sync::Arc<porting_events::Model>, AppError>> + use<> {
        let reader = EventReader {
            porting: self.clone(),
            viewer,
            order_id,
        };
        self.events.follow(reader, after)
    }
}

/// Sets the fields `changes` changes on `order`.
fn apply(order: &mut porting_orders::ActiveModel, changes: &DetailChanges) {
    fn value<T: Clone>(change: &Change<T>) -> Option<Option<T>> {
        match change {
            Change::Keep => None,
            Change::Clear => Some(None),
            Change::Set(value) => Some(Some(value.clone())),
        }
    }
    if let Some(name) = value(&changes.account_holder_name) {
        order.account_holder_name = Set(name);
    }
    if let Some(number) = value(&changes.account_number) {
        order.account_number = Set(number);
    }
    if let Some(pin) = value(&changes.account_pin) {
        order.account_pin = Set(pin);
    }
    if let Some(address) = value(&changes.service_address) {
        order.service_street = Set(address.as_ref().map(|address| address.street.clone()));
        order.service_locality = Set(address.as_ref().map(|address| address.locality.clone()));
        order.service_region = Set(address.as_ref().and_then(|address| address.region.clone()));
        order.service_postal_code = Set(address.map(|address| address.postal_code));
    }
    if let Some(name) = value(&changes.authorized_person_name) {
        order.authorized_person_name = Set(name);
    }
    if let Some(date) = value(&changes.requested_foc_date) {
        order.requested_foc_date = Set(date);
    }
}

/// The API's name of a requirement.
pub fn requirement_name(requirement: Requirement) -> &'static str {
    match requirement {
        Requirement::AccountHolderName => "accountHolderName",
        Requirement::AccountNumber => "accountNumber",
        Requirement::AccountPin => "accountPin",
        Requirement::ServiceAddress => "serviceAddress",
        Requirement::AuthorizedPersonName => "authorizedPersonName",
        Requirement::RequestedFocDate => "requestedFocDate",
    }
}

async fn audit_order(
    transaction: &DatabaseTransaction,
    staff: &Staff,
    action: AuditAction,
    order: &porting_orders::Model,
    fields: &[&str],
) -> Result<(), AppError> {
    let mut details = serde_json::json!({
        "owner": order.owner_id.to_string(),
        "status": rules::status_name(order.status),
    });
    if !fields.is_empty() {
        details["fields"] = serde_json::json!(fields);
    }
    audit::record_about(
        transaction,
        staff,
        action,
        SubjectType::PortingOrder,
        Some(order.id),
        details,
    )
    .await?;
    Ok(())
}

/// One subscriber of `portingOrderUpdated`.
struct EventReader {
    porting: PortingService,
    viewer: Viewer,
    order_id: Option<Uuid>,
}

impl Reader for EventReader {
    type Row = porting_events::Model;

    fn seq(row: &porting_events::Model) -> i64 {
        row.seq
    }

    fn wants(&self, event: &porting_events::Model) -> bool {
        self.viewer.may_act_for(event.owner_id) && self.order_id.is_none_or(|id| id == event.order_id)
    }

    async fn replay(&self, seq: i64, limit: u64) -> Result<Vec<porting_events::Model>, AppError> {
        use porting_events::Column as Event;
        let mut query = porting_events::Entity::find().filter(Event::Seq.gt(seq));
        if !self.viewer.is_staff {
            query = query.filter(Event::OwnerId.eq(self.viewer.user_id));
        }
        if let Some(order_id) = self.order_id {
            query = query.filter(Event::OrderId.eq(order_id));
        }
        Ok(query
            .order_by_asc(Event::Seq)
            .limit(limit)
            .all(&self.porting.db)
            .await?)
    }
}
