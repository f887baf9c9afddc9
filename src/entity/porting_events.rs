//! The `porting_events` table: each order's status changes and comments, in
//! the order they happened (`seq`, from the `porting_events` sequence).

use sea_orm::entity::prelude::*;

use super::porting_orders::PortingStatus;

/// What happened to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum PortingEventKind {
    /// The order was made (as a draft).
    #[sea_orm(string_value = "CREATED")]
    Created,
    /// Its details changed (a draft, or an order in EXCEPTION being fixed).
    #[sea_orm(string_value = "UPDATED")]
    Updated,
    #[sea_orm(string_value = "STATUS_CHANGED")]
    StatusChanged,
    #[sea_orm(string_value = "COMMENT")]
    Comment,
}

/// In which capacity someone acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ActorRole {
    #[sea_orm(string_value = "OWNER")]
    Owner,
    #[sea_orm(string_value = "STAFF")]
    Staff,
    /// The server itself (activation on the FOC date).
    #[sea_orm(string_value = "SYSTEM")]
    System,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "porting_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub seq: i64,
    pub order_id: Uuid,
    /// The order's owner, so a feed filters without a join.
    pub owner_id: Uuid,
    pub kind: PortingEventKind,
    pub from_status: Option<PortingStatus>,
    pub to_status: Option<PortingStatus>,
    pub actor_id: Option<Uuid>,
    pub actor_role: ActorRole,
    pub comment: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
