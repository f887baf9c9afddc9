//! The `audit_events` table: append-only (database triggers refuse UPDATE and DELETE).

use sea_orm::entity::prelude::*;

/// What a staff member did; stored as its dotted name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(64))")]
pub enum AuditAction {
    #[sea_orm(string_value = "user.create")]
    UserCreate,
    #[sea_orm(string_value = "user.update")]
    UserUpdate,
    #[sea_orm(string_value = "user.reset_password")]
    UserResetPassword,
    #[sea_orm(string_value = "user.sessions.end")]
    UserSessionsEnd,
    #[sea_orm(string_value = "user.session.end")]
    UserSessionEnd,
    #[sea_orm(string_value = "user.read")]
    UserRead,
    #[sea_orm(string_value = "users.list")]
    UsersList,
    #[sea_orm(string_value = "porting_order.update")]
    PortingOrderUpdate,
    #[sea_orm(string_value = "porting_order.submit")]
    PortingOrderSubmit,
    #[sea_orm(string_value = "porting_order.cancel")]
    PortingOrderCancel,
    #[sea_orm(string_value = "porting_order.start")]
    PortingOrderStart,
    #[sea_orm(string_value = "porting_order.confirm_foc_date")]
    PortingOrderConfirmFocDate,
    #[sea_orm(string_value = "porting_order.complete")]
    PortingOrderComplete,
    #[sea_orm(string_value = "porting_order.raise_exception")]
    PortingOrderRaiseException,
}

/// The kind of object an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(64))")]
pub enum SubjectType {
    #[sea_orm(string_value = "user")]
    User,
    #[sea_orm(string_value = "porting_order")]
    PortingOrder,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The staff member who acted.
    pub actor_id: Uuid,
    pub action: AuditAction,
    pub subject_type: SubjectType,
    /// The object acted on; `None` for a list.
    pub subject_id: Option<Uuid>,
    /// A JSON object: which fields changed, the filter of a list. Never a secret.
    pub details: String,
    pub client_address: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::users::Entity",
        from = "Column::ActorId",
        to = "super::users::Column::Id"
    )]
    Actor,
}

impl Related<super::users::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Actor.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
