//! The `call_log_exports` table: single-use export links, by the SHA-256 of
//! their token (never the token itself).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "call_log_exports")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Whose calls the link exports.
    pub user_id: Uuid,
    /// SHA-256 of the token, in hex.
    pub token_hash: String,
    /// Whether it was made by staff acting as staff (it then exports everyone's
    /// calls, while its maker still is staff).
    pub as_staff: bool,
    /// The `CallFilter` it is bound to, as JSON.
    pub filter: String,
    /// The IANA zone its times are written in.
    pub time_zone: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    /// Set when the link is used; it is then spent.
    pub used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::users::Entity",
        from = "Column::UserId",
        to = "super::users::Column::Id"
    )]
    User,
}

impl Related<super::users::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
