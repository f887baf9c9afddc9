//! The `porting_orders` table: port-in orders and what the losing carrier demands.

use sea_orm::entity::prelude::*;

/// Where an order stands; stored as its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum PortingStatus {
    #[sea_orm(string_value = "DRAFT")]
    Draft,
    #[sea_orm(string_value = "SUBMITTED")]
    Submitted,
    #[sea_orm(string_value = "IN_PROCESS")]
    InProcess,
    #[sea_orm(string_value = "FOC_DATE_CONFIRMED")]
    FocDateConfirmed,
    #[sea_orm(string_value = "PORTED")]
    Ported,
    #[sea_orm(string_value = "EXCEPTION")]
    Exception,
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "porting_orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub owner_id: Uuid,
    pub status: PortingStatus,
    /// ISO 3166-1 alpha-2 country of every number of the order.
    pub country_code: String,
    /// libphonenumber's type of every number of the order (`MOBILE`, …).
    pub number_type: String,
    pub account_holder_name: Option<String>,
    pub account_number: Option<String>,
    /// Write-only: sent to the losing carrier, never returned by the API.
    pub account_pin: Option<String>,
    pub service_street: Option<String>,
    pub service_locality: Option<String>,
    pub service_region: Option<String>,
    pub service_postal_code: Option<String>,
    pub authorized_person_name: Option<String>,
    pub requested_foc_date: Option<Date>,
    pub confirmed_foc_date: Option<Date>,
    pub exception_reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub submitted_at: Option<DateTimeUtc>,
    pub completed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
