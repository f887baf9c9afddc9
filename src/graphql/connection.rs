//! Relay cursor connections (`edges`, `nodes`, `pageInfo`, `totalCount`) for any
//! node type, named `<Node>Connection` and `<Node>Edge`. `totalCount` runs its
//! count query only when a client asks for it.

use std::{borrow::Cow, future::Future, sync::Arc};

use async_graphql::{Object, OutputType, SimpleObject, TypeName};
use futures_util::{
    FutureExt,
    future::{BoxFuture, Shared},
};

use super::Long;
use crate::{
    error::AppError,
    paging::{CursorKey, Page, PageRequest},
};

/// Relay paging arguments as they arrive: `first`, `after`, `last`, `before`.
#[derive(Debug, Default, Clone)]
pub struct RelayArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

impl RelayArgs {
    /// The page these arguments ask for; nonsense is `BAD_USER_INPUT` on its argument.
    pub fn page_request<K: CursorKey>(&self) -> Result<PageRequest<K>, AppError> {
        PageRequest::from_relay(self.first, self.after.as_deref(), self.last, self.before.as_deref())
    }
}

/// Relay's page information.
#[derive(SimpleObject, Clone)]
pub struct PageInfo {
    /// Whether more items follow this page.
    pub has_next_page: bool,
    /// Whether items come before this page.
    pub has_previous_page: bool,
    /// Cursor of the first item on this page.
    pub start_cursor: Option<String>,
    /// Cursor of the last item on this page.
    pub end_cursor: Option<String>,
}

/// Counts a whole list: a future that runs only if a client asks for `totalCount`
/// (and once, however many aliases ask).
type Counter = Shared<BoxFuture<'static, Result<u64, Arc<AppError>>>>;

/// A node type that can be listed: its GraphQL name names the connection.
pub trait ConnectionNode: OutputType + Clone {
    const NAME: &'static str;
}

pub struct Connection<N> {
    edges: Vec<Edge<N>>,
    has_next_page: bool,
    has_previous_page: bool,
    counter: Counter,
}

pub struct Edge<N> {
    cursor: String,
    node: N,
}

impl<N: ConnectionNode> Connection<N> {
    /// A connection over one page: `key` gives each row's cursor, `node` its GraphQL
    /// form, and `count` (an `async` block, run only if `totalCount` is asked for)
    /// the size of the whole list.
    pub fn new<T, K: CursorKey>(
        page: Page<T>,
        key: impl Fn(&T) -> K,
        node: impl Fn(T) -> N,
        count: impl Future<Output = Result<u64, AppError>> + Send + 'static,
    ) -> Self {
        let edges = page
            .items
            .into_iter()
            .map(|row| Edge {
                cursor: key(&row).encode_cursor(),
                node: node(row),
            })
            .collect();
        Connection {
            edges,
            has_next_page: page.has_next_page,
            has_previous_page: page.has_previous_page,
            counter: count.map(|result| result.map_err(Arc::new)).boxed().shared(),
        }
    }
}

impl<N: ConnectionNode> TypeName for Connection<N> {
    fn type_name() -> Cow<'static, str> {
        Cow::Owned(format!("{}Connection", N::NAME))
    }
}

impl<N: ConnectionNode> TypeName for Edge<N> {
    fn type_name() -> Cow<'static, str> {
        Cow::Owned(format!("{}Edge", N::NAME))
    }
}

#[Object(name_type)]
impl<N: ConnectionNode> Connection<N> {
    /// The items of this page, each with its cursor.
    async fn edges(&self) -> &[Edge<N>] {
        &self.edges
    }

    /// The items of this page, without cursors.
    async fn nodes(&self) -> Vec<N> {
        self.edges.iter().map(|edge| edge.node.clone()).collect()
    }

    /// Where this page sits in the whole list.
    async fn page_info(&self) -> PageInfo {
        PageInfo {
            has_next_page: self.has_next_page,
            has_previous_page: self.has_previous_page,
            start_cursor: self.edges.first().map(|edge| edge.cursor.clone()),
            end_cursor: self.edges.last().map(|edge| edge.cursor.clone()),
        }
    }

    /// How many items the whole list holds (with the same filter), across all pages.
    async fn total_count(&self) -> Result<Long, AppError> {
        let count = self.counter.clone().await.map_err(crate::graphql::loaders::unshare)?;
        Long::try_from(count).map_err(|_| AppError::Internal(anyhow::anyhow!("a count past 2^63")))
    }
}

#[Object(name_type)]
impl<N: ConnectionNode> Edge<N> {
    /// Opaque cursor: pass it as `after` or `before` to page from here.
    async fn cursor(&self) -> &str {
        &self.cursor
    }

    /// The item.
    async fn node(&self) -> &N {
        &self.node
    }
}
