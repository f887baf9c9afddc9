//! Keyset paging, independent of GraphQL: a `PageRequest` says where to start
//! and how many to take; a `Page` says what came back and whether more exists.
//! Pages are bounded by keys, never by OFFSET, so every page costs the same.

use base64::Engine;

use crate::error::AppError;

/// Page size when a client asks for none.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
/// Largest page a client may ask for.
pub const MAX_PAGE_SIZE: u64 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `first`/`after`: from the start of the sort order onwards.
    Forward,
    /// `last`/`before`: from the end of the sort order backwards.
    Backward,
}

/// Which slice of a sorted list to read, bounded by keys of type `K`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageRequest<K> {
    pub direction: Direction,
    pub size: u64,
    pub after: Option<K>,
    pub before: Option<K>,
}

/// One page of rows in sort order, and whether rows exist beyond each end.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next_page: bool,
    pub has_previous_page: bool,
}

/// A sort key that can travel to a client as an opaque cursor.
pub trait CursorKey: Sized {
    fn to_cursor_text(&self) -> String;
    fn from_cursor_text(text: &str) -> Option<Self>;

    fn encode_cursor(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.to_cursor_text())
    }

    fn decode_cursor(cursor: &str) -> Option<Self> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).ok()?;
        Self::from_cursor_text(std::str::from_utf8(&bytes).ok()?)
    }
}

impl CursorKey for uuid::Uuid {
    fn to_cursor_text(&self) -> String {
        format!("id:{self}")
    }

    fn from_cursor_text(text: &str) -> Option<Self> {
        text.strip_prefix("id:")?.parse().ok()
    }
}

impl<K> PageRequest<K> {
    /// How many rows to fetch: one more than the page holds, to learn if more exist.
    pub fn fetch_limit(&self) -> u64 {
        self.size + 1
    }
}

/// One page of `query`'s rows in ascending order of the single key `column`
/// (an id, a sequence number), bounded by the request's cursors.
pub async fn by_key<E, C, K>(
    db: &impl sea_orm::ConnectionTrait,
    query: sea_orm::Select<E>,
    column: C,
    request: &PageRequest<K>,
) -> Result<Page<E::Model>, sea_orm::DbErr>
where
    E: sea_orm::EntityTrait,
    C: sea_orm::ColumnTrait,
    K: Clone + Into<sea_orm::Value>,
{
    let rows = keyed(query, column, request).all(db).await?;
    Ok(Page::from_rows(rows, request))
}

/// `query` bounded by the request's cursors, ordered by `column`, one row
/// past the page (for a reader of its own, as `entity::by_position`).
pub fn keyed<E, C, K>(query: sea_orm::Select<E>, column: C, request: &PageRequest<K>) -> sea_orm::Select<E>
where
    E: sea_orm::EntityTrait,
    C: sea_orm::ColumnTrait,
    K: Clone + Into<sea_orm::Value>,
{
    use sea_orm::{QueryFilter, QueryOrder, QuerySelect};
    let mut query = query;
    if let Some(after) = &request.after {
        query = query.filter(column.gt(after.clone()));
    }
    if let Some(before) = &request.before {
        query = query.filter(column.lt(before.clone()));
    }
    query = match request.direction {
        Direction::Forward => query.order_by_asc(column),
        Direction::Backward => query.order_by_desc(column),
    };
    query.limit(request.fetch_limit())
}

impl<K: CursorKey> PageRequest<K> {
    /// Reads Relay's `first`/`after`/`last`/`before`, refusing what makes no sense.
    pub fn from_relay(
        first: Option<i32>,
        after: Option<&str>,
        last: Option<i32>,
        before: Option<&str>,
    ) -> Result<Self, AppError> {
        let size = |value: i32, field: &'static str| -> Result<u64, AppError> {
            match u64::try_from(value) {
                Ok(size) if size <= MAX_PAGE_SIZE => Ok(size),
                Ok(_) => Err(AppError::bad_input(
                    field,
                    format!("`{field}` may be at most {MAX_PAGE_SIZE}"),
                )),
                Err(_) => Err(AppError::bad_input(field, format!("`{field}` may not be negative"))),
            }
        };
        let cursor = |text: Option<&str>, field: &'static str| -> Result<Option<K>, AppError> {
            text.map(|text| {
                K::decode_cursor(text)
                    .ok_or_else(|| AppError::bad_input(field, format!("`{field}` is not a cursor from this list")))
            })
            .transpose()
        };
        let (direction, size) = match (first, last) {
            (Some(_), Some(_)) => {
                return Err(AppError::bad_input("last", "give `first` or `last`, not both"));
            }
            (None, Some(last)) => (Direction::Backward, size(last, "last")?),
            (Some(first), None) => (Direction::Forward, size(first, "first")?),
            (None, None) if before.is_some() && after.is_none() => (Direction::Backward, DEFAULT_PAGE_SIZE),
            (None, None) => (Direction::Forward, DEFAULT_PAGE_SIZE),
        };
        Ok(PageRequest {
            direction,
            size,
            after: cursor(after, "after")?,
            before: cursor(before, "before")?,
        })
    }
}

impl<T> Page<T> {
    /// A page with nothing on it and nothing around it.
    pub fn empty() -> Self {
        Page {
            items: Vec::new(),
            has_next_page: false,
            has_previous_page: false,
        }
    }

    /// Builds a page from rows read in the request's direction with one extra row
    /// (`size + 1`) fetched to learn whether more exist.
    pub fn from_rows<K>(mut rows: Vec<T>, request: &PageRequest<K>) -> Self {
        let has_more = rows.len() as u64 > request.size;
        rows.truncate(usize::try_from(request.size).unwrap_or(usize::MAX));
        match request.direction {
            Direction::Forward => Page {
                items: rows,
                has_next_page: has_more,
                has_previous_page: request.after.is_some(),
            },
            Direction::Backward => {
                rows.reverse();
                Page {
                    items: rows,
                    has_next_page: request.before.is_some(),
                    has_previous_page: has_more,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn page_sizes_default_and_are_bounded() {
        let request = PageRequest::<Uuid>::from_relay(None, None, None, None).unwrap();
        assert_eq!(
            (request.direction, request.size),
            (Direction::Forward, DEFAULT_PAGE_SIZE)
        );
        assert!(PageRequest::<Uuid>::from_relay(Some(101), None, None, None).is_err());
        assert!(PageRequest::<Uuid>::from_relay(Some(-1), None, None, None).is_err());
        assert!(PageRequest::<Uuid>::from_relay(Some(1), None, Some(1), None).is_err());
        assert!(PageRequest::<Uuid>::from_relay(None, Some("garbage"), None, None).is_err());
    }

    #[test]
    fn cursors_round_trip() {
        let id = Uuid::now_v7();
        assert_eq!(Uuid::decode_cursor(&id.encode_cursor()), Some(id));
    }
}
