//! Walking a Relay connection from one end to the other by its cursors, and
//! reading the node ids off its pages. What a page should hold is each test's to say.

use serde_json::{Value, json};

use super::TestUser;

/// Which way to walk a connection, and how many edges to ask for at a time.
#[derive(Clone, Copy, Debug)]
pub enum Walk {
    /// `first`/`after` from the start, following `endCursor` while `hasNextPage`.
    Forward(u32),
    /// `last`/`before` from the end, following `startCursor` while `hasPreviousPage`.
    Backward(u32),
}

/// More pages than any test makes: a connection whose `pageInfo` never ends
/// fails the test instead of hanging the suite.
const MOST_PAGES: usize = 1_000;

impl TestUser<'_> {
    /// Every page of the connection `field` that `query` returns, in list order
    /// whichever way it was walked (a backward walk's first answer is its last page).
    pub async fn walks_pages(&self, query: &str, field: &str, walk: Walk) -> Vec<Value> {
        let (more, next) = match walk {
            Walk::Forward(_) => ("hasNextPage", "endCursor"),
            Walk::Backward(_) => ("hasPreviousPage", "startCursor"),
        };
        let mut pages = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let variables = match walk {
                Walk::Forward(size) => json!({ "first": size, "after": cursor }),
                Walk::Backward(size) => json!({ "last": size, "before": cursor }),
            };
            let connection = self.gql(query, variables).await.data(field).clone();
            let done = connection["pageInfo"][more] == false;
            cursor = connection["pageInfo"][next].as_str().map(str::to_owned);
            pages.push(connection);
            if done {
                break;
            }
            assert!(pages.len() < MOST_PAGES, "{field} never reached its last page");
        }
        if let Walk::Backward(_) = walk {
            pages.reverse();
        }
        pages
    }
}

/// The ids of a connection's `edges { node { id } }`, in order.
pub fn edge_ids(connection: &Value) -> Vec<String> {
    connection["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("a connection with edges: {connection}"))
        .iter()
        .map(|edge| edge["node"]["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The ids of every page's edges, in list order.
pub fn ids_of_pages(pages: &[Value]) -> Vec<String> {
    pages.iter().flat_map(edge_ids).collect()
}
