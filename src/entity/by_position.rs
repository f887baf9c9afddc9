//! Rows read by the position of their columns, for the hottest pages.
//!
//! sea-orm's derived `FromQueryResult` looks every column up by name: it
//! formats the name into a new `String`, hashes it into sqlx's column map,
//! and formats a message for every NULL it meets. On a page of numbers that
//! was a sixth of the server's instructions (callgrind; BENCHMARKS.md).
//! `Entity::find()` selects the entity's columns in the model's field order,
//! so a page read from such a select can take them by position instead. The
//! test below holds each model's listed fields to its columns, in order.

use std::sync::Arc;

use sea_orm::{
    ActiveEnum, ConnectionTrait, DbErr, EntityTrait, QueryResult, QueryTrait, RuntimeErr, Select, TryGetable,
    sqlx::{self, Postgres, Row},
};

/// A model whose fields are its entity's columns, in order.
pub trait ByPosition: Sized {
    /// The columns' names in the order `from_row` reads them.
    const COLUMNS: &'static [&'static str];
    fn from_row(row: &QueryResult) -> Result<Self, DbErr>;
}

/// One column's value in a row, by position. On PostgreSQL it is decoded as
/// sea-orm decodes it (sqlx's `Decode`, `Option` for NULL), without sqlx's
/// check that the column's type fits, which costs a type comparison (by name
/// for text) a value: the columns are the migrations', and `COLUMNS` is held
/// to the entity. Elsewhere sea-orm reads it.
pub trait Cell: Sized {
    fn read(row: &QueryResult, index: usize) -> Result<Self, DbErr>;
}

impl<T> Cell for T
where
    T: TryGetable + for<'r> sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
{
    fn read(row: &QueryResult, index: usize) -> Result<Self, DbErr> {
        match row.try_as_pg_row() {
            Some(row) => row
                .try_get_unchecked::<T, _>(index)
                .map_err(|error| DbErr::Query(RuntimeErr::SqlxError(Arc::new(error)))),
            None => row.try_get_by_index(index),
        }
    }
}

/// Enums stored as their string values, read as sea-orm reads them.
macro_rules! enum_cell {
    ($($enum:ty),+) => {
        $(impl Cell for $enum {
            fn read(row: &QueryResult, index: usize) -> Result<Self, DbErr> {
                <$enum as ActiveEnum>::try_from_value(&Cell::read(row, index)?)
            }
        })+
    };
}

enum_cell!(
    super::call_logs::CallDirection,
    super::call_logs::CallStatus,
    super::call_logs::CounterpartKind
);

/// Implements `ByPosition` for a model from its fields, listed in column order.
macro_rules! by_position {
    ($model:path { $($field:ident),+ $(,)? }) => {
        impl $crate::entity::by_position::ByPosition for $model {
            const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),+];

            fn from_row(row: &sea_orm::QueryResult) -> Result<Self, sea_orm::DbErr> {
                let mut position = 0usize;
                let mut next = || {
                    position += 1;
                    position - 1
                };
                Ok(Self {
                    $($field: $crate::entity::by_position::Cell::read(row, next())?,)+
                })
            }
        }
    };
}

by_position!(super::virtual_numbers::Model {
    id,
    owner_id,
    phone_number,
    friendly_name,
    friendly_name_folded,
    country_code,
    is_active,
    released_at,
    porting_order_id,
    created_at,
    updated_at,
});

by_position!(super::call_logs::Model {
    id,
    virtual_number_id,
    owner_id,
    direction,
    status,
    caller_number,
    called_number,
    counterpart_number,
    counterpart_kind,
    counterpart_extension,
    started_at,
    duration_seconds,
    external_id,
    created_at,
    seq,
});

/// Every row of a plain `Entity::find()` select (filters, order and limit as
/// wished, no columns added or taken away), read by position.
pub async fn all<E>(db: &impl ConnectionTrait, select: Select<E>) -> Result<Vec<E::Model>, DbErr>
where
    E: EntityTrait,
    E::Model: ByPosition,
{
    let statement = select.build(db.get_database_backend());
    let rows = db.query_all_raw(statement).await?;
    rows.iter().map(E::Model::from_row).collect()
}

#[cfg(test)]
mod tests {
    use sea_orm::{ColumnTrait, Iterable};

    use super::*;
    use crate::entity::{call_logs, virtual_numbers};

    fn names<C: ColumnTrait + Iterable>() -> Vec<String> {
        C::iter().map(|column| column.as_str().to_owned()).collect()
    }

    #[test]
    fn each_model_lists_its_columns_in_the_order_its_select_names_them() {
        assert_eq!(
            <virtual_numbers::Model as ByPosition>::COLUMNS,
            names::<virtual_numbers::Column>()
        );
        assert_eq!(<call_logs::Model as ByPosition>::COLUMNS, names::<call_logs::Column>());
    }
}
