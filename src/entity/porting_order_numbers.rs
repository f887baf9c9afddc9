//! The `porting_order_numbers` table: the numbers of each port-in order.

use sea_orm::entity::prelude::*;

use crate::error::UniqueIndex;

/// One live (submitted, not yet ported or cancelled) order per number.
pub const RESERVED_KEY: UniqueIndex = UniqueIndex {
    name: "porting_order_numbers_reserved_key",
    columns: "porting_order_numbers.phone_number",
};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "porting_order_numbers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub order_id: Uuid,
    /// E.164.
    #[sea_orm(primary_key, auto_increment = false)]
    pub phone_number: String,
    /// Where the number stood in the list the customer gave.
    pub position: i32,
    /// Whether the order holds the number for itself (SUBMITTED and after, until
    /// PORTED or CANCELLED).
    pub reserved: bool,
    /// The virtual number the port created (PORTED orders).
    pub virtual_number_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
