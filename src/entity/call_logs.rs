//! The `call_logs` table, and the three values it stores as text: the direction
//! and the status of a call, and the kind of its counterpart. Each variant's
//! stored spelling is written here once.

use sea_orm::entity::prelude::*;

use crate::error::UniqueIndex;

/// One log per carrier id and number (a partial index on non-null ids).
pub const EXTERNAL_ID_KEY: UniqueIndex = UniqueIndex {
    name: "call_logs_virtual_number_id_external_id_key",
    columns: "call_logs.virtual_number_id, call_logs.external_id",
};

/// Which way a call went, seen from the virtual number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum CallDirection {
    #[sea_orm(string_value = "inbound")]
    Inbound,
    #[sea_orm(string_value = "outbound")]
    Outbound,
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum CallStatus {
    #[sea_orm(string_value = "completed")]
    Completed,
    #[sea_orm(string_value = "no_answer")]
    NoAnswer,
    #[sea_orm(string_value = "busy")]
    Busy,
    #[sea_orm(string_value = "failed")]
    Failed,
    #[sea_orm(string_value = "canceled")]
    Canceled,
}

/// What the other party of a call was. Only `Number` has an E.164 number; the
/// number columns hold `''` for `Withheld` and the digits for the others.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum CounterpartKind {
    /// A valid number, stored in E.164 (every log from before kinds existed).
    #[default]
    #[sea_orm(string_value = "number")]
    Number,
    /// No number presented: anonymous, restricted, unavailable, an empty caller id.
    #[sea_orm(string_value = "withheld")]
    Withheld,
    /// A short code or service number of the virtual number's country (`911`, `112`,
    /// `999`, SMS short codes), stored as its digits.
    #[sea_orm(string_value = "short_code")]
    ShortCode,
    /// Digits that are no valid number (`+` and country code when they had one).
    #[sea_orm(string_value = "unverifiable")]
    Unverifiable,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "call_logs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub virtual_number_id: Uuid,
    /// The number's owner when the call was logged (copied for fast history queries).
    pub owner_id: Uuid,
    pub direction: CallDirection,
    pub status: CallStatus,
    /// The virtual number (outbound) or the counterpart as `counterpart_number` holds it.
    pub caller_number: String,
    /// The virtual number (inbound) or the counterpart as `counterpart_number` holds it.
    pub called_number: String,
    /// The other party: the caller of an inbound call, the called of an outbound one;
    /// E.164 for a `Number`, `''` when withheld, the digits otherwise.
    pub counterpart_number: String,
    pub counterpart_kind: CounterpartKind,
    /// The extension (or subaddress) a `Number` counterpart was given with.
    pub counterpart_extension: Option<String>,
    pub started_at: DateTimeUtc,
    pub duration_seconds: i32,
    pub external_id: Option<String>,
    pub created_at: DateTimeUtc,
    /// The order calls were recorded in (see `entity::sequences`), for `callLogged`.
    pub seq: i64,
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
