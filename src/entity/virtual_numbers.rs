//! The `virtual_numbers` table.

use sea_orm::entity::prelude::*;

use crate::error::UniqueIndex;

/// One holder per number among numbers not released (a partial index).
pub const PHONE_NUMBER_KEY: UniqueIndex = UniqueIndex {
    name: "virtual_numbers_phone_number_key",
    columns: "virtual_numbers.phone_number",
};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "virtual_numbers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub owner_id: Uuid,
    pub phone_number: String,
    pub friendly_name: Option<String>,
    /// The friendly name in Unicode lower case, for search (see `numbers::input::fold`).
    pub friendly_name_folded: Option<String>,
    pub country_code: Option<String>,
    pub is_active: bool,
    pub released_at: Option<DateTimeUtc>,
    /// The port-in order the number arrived by, if it was ported in.
    pub porting_order_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::users::Entity",
        from = "Column::OwnerId",
        to = "super::users::Column::Id"
    )]
    Owner,
    #[sea_orm(has_many = "super::call_logs::Entity")]
    CallLogs,
}

impl Related<super::users::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Owner.def()
    }
}

impl Related<super::call_logs::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::CallLogs.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
