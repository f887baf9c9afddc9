//! The `users` table.

use sea_orm::entity::prelude::*;

use crate::error::UniqueIndex;

/// One account per username, whatever its case (an index on `lower(username)`).
pub const USERNAME_KEY: UniqueIndex = UniqueIndex {
    name: "users_username_lower_key",
    columns: "",
};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub username: String,
    pub email: Option<String>,
    pub password_hash: String,
    pub contact_number: Option<String>,
    pub is_staff: bool,
    pub is_active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::virtual_numbers::Entity")]
    VirtualNumbers,
}

impl Related<super::virtual_numbers::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::VirtualNumbers.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
