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
    ActiveEnum, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryResult, QueryTrait,
    RuntimeErr, Select, TryGetable, Values,
    sqlx::{self, Column, Postgres, Row},
};
use sea_query_sqlx::SqlxValues;

/// A model whose fields are its entity's columns, in order.
pub trait ByPosition: Sized {
    /// The columns' names in the order `from_row` reads them.
    const COLUMNS: &'static [&'static str];
    fn from_row(row: &QueryResult) -> Result<Self, DbErr>;
    /// Whether `row`'s columns are `COLUMNS`, in order, each of a type its
    /// field decodes (on PostgreSQL, where values are read unchecked).
    fn fits(row: &QueryResult) -> bool;
}

/// One column's value in a row, by position. On PostgreSQL it is decoded as
/// sea-orm decodes it (sqlx's `Decode`, `Option` for NULL), without sqlx's
/// check that the column's type fits, which costs a type comparison (by name
/// for text) a value: the columns are the migrations', and `COLUMNS` is held
/// to the entity. Elsewhere sea-orm reads it.
pub trait Cell: Sized {
    fn read(row: &QueryResult, index: usize) -> Result<Self, DbErr>;
    /// Whether the column at `index` is named `name` and of a type this
    /// decodes (always, where values are read by sea-orm's checked reader).
    fn fits(row: &QueryResult, index: usize, name: &str) -> bool;
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

    fn fits(row: &QueryResult, index: usize, name: &str) -> bool {
        row.try_as_pg_row().is_none_or(|row| {
            row.try_column(index)
                .is_ok_and(|column| column.name() == name && T::compatible(column.type_info()))
        })
    }
}

/// Enums stored as their string values, read as sea-orm reads them.
macro_rules! enum_cell {
    ($($enum:ty),+) => {
        $(impl Cell for $enum {
            fn read(row: &QueryResult, index: usize) -> Result<Self, DbErr> {
                <$enum as ActiveEnum>::try_from_value(&Cell::read(row, index)?)
            }

            fn fits(row: &QueryResult, index: usize, name: &str) -> bool {
                <<$enum as ActiveEnum>::Value as Cell>::fits(row, index, name)
            }
        })+
    };
}

enum_cell!(
    super::call_logs::CallDirection,
    super::call_logs::CallStatus,
    super::call_logs::CounterpartKind
);

/// Whether the column at `index` fits the field `field` reads (`Cell::fits`).
pub fn field_fits<M, T: Cell>(_field: fn(&M) -> &T, row: &QueryResult, index: usize, name: &str) -> bool {
    T::fits(row, index, name)
}

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

            fn fits(row: &sea_orm::QueryResult) -> bool {
                let mut position = 0usize;
                let mut next = || {
                    position += 1;
                    position - 1
                };
                true $(&& $crate::entity::by_position::field_fits::<Self, _>(
                    |model| &model.$field,
                    row,
                    next(),
                    stringify!($field),
                ))+
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
///
/// On PostgreSQL the statement goes to sqlx's pool directly, bound as sea-orm
/// binds it: sea-orm's `query_all_raw` builds a future of kilobytes and
/// copies it several times a query (callgrind: 7.6% of a page of numbers,
/// all in `memcpy`). sea-orm's statement metrics do not see these reads.
pub async fn all<E>(db: &DatabaseConnection, select: Select<E>) -> Result<Vec<E::Model>, DbErr>
where
    E: EntityTrait,
    E::Model: ByPosition,
{
    let statement = select.build(db.get_database_backend());
    let rows = match db.get_database_backend() {
        DbBackend::Postgres => {
            let values = SqlxValues(statement.values.unwrap_or(Values(Vec::new())));
            sqlx::query_with(sqlx::AssertSqlSafe(statement.sql), values)
                .fetch_all(db.get_postgres_connection_pool())
                .await
                .map_err(|error| DbErr::Query(RuntimeErr::SqlxError(Arc::new(error))))?
                .into_iter()
                .map(QueryResult::from)
                .collect()
        }
        _ => db.query_all_raw(statement).await?,
    };
    // One check a query: values are read by position, on PostgreSQL unchecked.
    if let Some(first) = rows.first()
        && !E::Model::fits(first)
    {
        return Err(DbErr::Type(format!(
            "the columns of {} are not {:?} in this order and of these types",
            std::any::type_name::<E>(),
            E::Model::COLUMNS
        )));
    }
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
