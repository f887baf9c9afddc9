//! The `call_logs` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "call_logs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub virtual_number_id: Uuid,
    /// The number's owner when the call was logged (copied for fast history queries).
    pub owner_id: Uuid,
    pub direction: String,
    pub status: String,
    pub caller_number: String,
    pub called_number: String,
    /// The other party: the caller of an inbound call, the called of an outbound one.
    pub counterpart_number: String,
    pub started_at: DateTimeUtc,
    pub duration_seconds: i32,
    pub external_id: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::virtual_numbers::Entity",
        from = "Column::VirtualNumberId",
        to = "super::virtual_numbers::Column::Id"
    )]
    VirtualNumber,
}

impl Related<super::virtual_numbers::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::VirtualNumber.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
