//! The rules of virtual numbers: who may see and change which, one holder per
//! number (a database constraint), and keyset-paged listing.

use sea_orm::{
    ActiveValue::Set, Condition, DatabaseConnection, PaginatorTrait, TransactionTrait, prelude::*, sea_query::LikeExpr,
};
use uuid::Uuid;

use super::{E164, FriendlyName, NumberSearch};
use crate::{
    auth::Viewer,
    entity::{
        self, by_position, porting_order_numbers, users,
        virtual_numbers::{self, Column},
    },
    error::{AppError, OnConflict},
    paging::{self, Page, PageRequest},
};

/// A number to take, already validated. `owner_id` is for staff acting for someone.
#[derive(Debug)]
pub struct NewNumber {
    pub phone_number: E164,
    pub friendly_name: Option<FriendlyName>,
    pub owner_id: Option<Uuid>,
}

/// Changes to a number; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct NumberChanges {
    /// `Some(None)` clears the name.
    pub friendly_name: Option<Option<FriendlyName>>,
    pub is_active: Option<bool>,
}

/// Narrows a list of numbers.
#[derive(Debug, Default, Clone)]
pub struct NumberFilter {
    pub is_active: Option<bool>,
    /// Matches the friendly name (any case) or the digits of the number.
    pub search: Option<NumberSearch>,
}

#[derive(Clone)]
pub struct NumberService {
    db: DatabaseConnection,
}

/// The one answer for a number that is missing, released or someone else's, so
/// ids cannot be probed by comparing messages.
pub const NUMBER_NOT_FOUND: &str = "no such virtual number";

impl NumberService {
    pub fn new(db: DatabaseConnection) -> Self {
        NumberService { db }
    }

    /// Takes a number for the viewer (or, for staff, for `owner_id`). The partial
    /// unique index on unreleased numbers decides races: one winner, the rest `CONFLICT`.
    pub async fn create(&self, viewer: &Viewer, number: NewNumber) -> Result<virtual_numbers::Model, AppError> {
        let owner_id = number.owner_id.unwrap_or(viewer.user_id);
        if !viewer.may_act_for(owner_id) {
            return Err(AppError::Forbidden("only staff may create numbers for another user"));
        }
        let owner = users::Entity::find_by_id(owner_id).one(&self.db).await?;
        if !owner.is_some_and(|owner| owner.is_active) {
            return Err(AppError::bad_input("ownerId", "no active user has that id"));
        }
        let now = entity::now();
        let phone_number = number.phone_number.as_str().to_owned();
        // Locked (PostgreSQL) and written first, then checked against the ports
        // in progress: see `porting::service` for why this settles every race.
        let transaction = self.db.begin().await?;
        entity::lock_numbers(&transaction, std::slice::from_ref(&phone_number)).await?;
        let created = virtual_numbers::ActiveModel {
            id: Set(Uuid::now_v7()),
            owner_id: Set(owner_id),
            country_code: Set(number.phone_number.country_code()),
            phone_number: Set(phone_number.clone()),
            friendly_name_folded: Set(number.friendly_name.as_ref().map(FriendlyName::folded)),
            friendly_name: Set(number.friendly_name.map(|name| name.as_str().to_owned())),
            is_active: Set(true),
            released_at: Set(None),
            porting_order_id: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&transaction)
        .await
        .on_conflict(
            virtual_numbers::PHONE_NUMBER_KEY,
            "phoneNumber",
            "that number is already taken",
        )?;
        let reserved = porting_order_numbers::Entity::find()
            .filter(porting_order_numbers::Column::PhoneNumber.eq(phone_number))
            .filter(porting_order_numbers::Column::Reserved.eq(true))
            .one(&transaction)
            .await?;
        if reserved.is_some() {
            return Err(AppError::conflict_because(
                "phoneNumber",
                "ALREADY_IN_AN_ORDER",
                "that number is reserved for a port-in order in progress; it arrives with the port",
            ));
        }
        transaction.commit().await?;
        Ok(created)
    }

    /// A number the viewer may see: their own (staff: any), not released.
    pub async fn find_visible(&self, viewer: &Viewer, id: Uuid) -> Result<Option<virtual_numbers::Model>, AppError> {
        Ok(virtual_numbers::Entity::find_by_id(id)
            .filter(Column::ReleasedAt.is_null())
            .one(&self.db)
            .await?
            .filter(|number| viewer.may_act_for(number.owner_id)))
    }

    /// The numbers among `ids` the viewer may see (their own, staff: any; not
    /// released), in one query: what `node` and lookups answer.
    pub async fn visible_many(&self, viewer: &Viewer, ids: &[Uuid]) -> Result<Vec<virtual_numbers::Model>, AppError> {
        self.owned_many(viewer, ids, Condition::all().add(Column::ReleasedAt.is_null()))
            .await
    }

    /// The numbers among `ids` whose call history the viewer may read: their own
    /// (staff: any), released ones included, since a log keeps its number.
    pub async fn in_history_many(
        &self,
        viewer: &Viewer,
        ids: &[Uuid],
    ) -> Result<Vec<virtual_numbers::Model>, AppError> {
        self.owned_many(viewer, ids, Condition::all()).await
    }

    async fn owned_many(
        &self,
        viewer: &Viewer,
        ids: &[Uuid],
        mut condition: Condition,
    ) -> Result<Vec<virtual_numbers::Model>, AppError> {
        condition = condition.add(Column::Id.is_in(ids.iter().copied()));
        if !viewer.is_staff {
            condition = condition.add(Column::OwnerId.eq(viewer.user_id));
        }
        Ok(by_position::all(&self.db, virtual_numbers::Entity::find().filter(condition)).await?)
    }

    async fn get_visible(&self, viewer: &Viewer, id: Uuid) -> Result<virtual_numbers::Model, AppError> {
        self.find_visible(viewer, id)
            .await?
            .ok_or(AppError::NotFound(NUMBER_NOT_FOUND))
    }

    /// One page of `owner_id`'s unreleased numbers, oldest first.
    pub async fn list(
        &self,
        viewer: &Viewer,
        owner_id: Uuid,
        filter: &NumberFilter,
        request: &PageRequest<Uuid>,
    ) -> Result<Page<virtual_numbers::Model>, AppError> {
        if !viewer.may_act_for(owner_id) {
            return Ok(Page::empty());
        }
        let query = virtual_numbers::Entity::find().filter(Self::condition(owner_id, filter));
        // UUIDv7 ids grow with creation time, so id order is creation order.
        let rows = by_position::all(&self.db, paging::keyed(query, Column::Id, request)).await?;
        Ok(Page::from_rows(rows, request))
    }

    /// How many numbers the same list holds in all, without paging.
    pub async fn count(&self, viewer: &Viewer, owner_id: Uuid, filter: &NumberFilter) -> Result<u64, AppError> {
        if !viewer.may_act_for(owner_id) {
            return Ok(0);
        }
        Ok(virtual_numbers::Entity::find()
            .filter(Self::condition(owner_id, filter))
            .count(&self.db)
            .await?)
    }

    fn condition(owner_id: Uuid, filter: &NumberFilter) -> Condition {
        let mut condition = Condition::all()
            .add(Column::OwnerId.eq(owner_id))
            .add(Column::ReleasedAt.is_null());
        if let Some(is_active) = filter.is_active {
            condition = condition.add(Column::IsActive.eq(is_active));
        }
        if let Some(search) = &filter.search {
            let name = like_pattern(&search.folded());
            let mut any = Condition::any().add(Column::FriendlyNameFolded.like(LikeExpr::new(name).escape('\\')));
            let digits = search.digits();
            if !digits.is_empty() {
                any = any.add(Column::PhoneNumber.like(LikeExpr::new(like_pattern(&digits)).escape('\\')));
            }
            condition = condition.add(any);
        }
        condition
    }

    /// Renames, deactivates or reactivates a number the viewer may see. The update
    /// is conditional on the number still being held, in the same statement, so a
    /// release racing it wins cleanly: a released number is never changed or revived.
    pub async fn update(
        &self,
        viewer: &Viewer,
        id: Uuid,
        changes: NumberChanges,
    ) -> Result<virtual_numbers::Model, AppError> {
        let number = self.get_visible(viewer, id).await?;
        let mut update = virtual_numbers::Entity::update_many()
            .col_expr(Column::UpdatedAt, Expr::value(entity::now()))
            .filter(Column::Id.eq(number.id))
            .filter(Column::ReleasedAt.is_null());
        if let Some(name) = changes.friendly_name {
            update = update
                .col_expr(
                    Column::FriendlyNameFolded,
                    Expr::value(name.as_ref().map(FriendlyName::folded)),
                )
                .col_expr(
                    Column::FriendlyName,
                    Expr::value(name.map(|name| name.as_str().to_owned())),
                );
        }
        if let Some(is_active) = changes.is_active {
            update = update.col_expr(Column::IsActive, Expr::value(is_active));
        }
        update
            .exec_with_returning(&self.db)
            .await?
            .into_iter()
            .next()
            .ok_or(AppError::NotFound(NUMBER_NOT_FOUND))
    }

    /// Releases a number: it leaves every list and lookup and may be taken again;
    /// its call logs stay in the owner's history.
    pub async fn release(&self, viewer: &Viewer, id: Uuid) -> Result<bool, AppError> {
        let number = self.get_visible(viewer, id).await?;
        let now = entity::now();
        let released = virtual_numbers::Entity::update_many()
            .col_expr(Column::ReleasedAt, Expr::value(now))
            .col_expr(Column::IsActive, Expr::value(false))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::Id.eq(number.id))
            .filter(Column::ReleasedAt.is_null())
            .exec(&self.db)
            .await?;
        if released.rows_affected == 0 {
            return Err(AppError::NotFound(NUMBER_NOT_FOUND));
        }
        Ok(true)
    }

    /// Releases every number `owner_id` holds (when their account is deactivated),
    /// and says how many. Their call logs stay in the owner's history.
    pub async fn release_all_of(&self, viewer: &Viewer, owner_id: Uuid) -> Result<u64, AppError> {
        if !viewer.may_act_for(owner_id) {
            return Err(AppError::Forbidden("only staff may release another user's numbers"));
        }
        let now = entity::now();
        let released = virtual_numbers::Entity::update_many()
            .col_expr(Column::ReleasedAt, Expr::value(now))
            .col_expr(Column::IsActive, Expr::value(false))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::OwnerId.eq(owner_id))
            .filter(Column::ReleasedAt.is_null())
            .exec(&self.db)
            .await?;
        Ok(released.rows_affected)
    }
}

/// `%text%` for LIKE, with the wildcard characters in `text` taken literally.
fn like_pattern(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}
