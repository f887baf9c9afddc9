//! Relay paging over virtual numbers: forward and backward with no gaps or
//! repeats, page-size limits, and bad cursors.

use std::collections::HashSet;

use serde_json::json;

use crate::helpers::{MY_NUMBERS, TestApp, TestUser, Walk, ids_of_pages};

/// Creates `count` numbers and returns their ids in creation order.
async fn numbers_for(user: &TestUser<'_>, count: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(count);
    for i in 0..count {
        ids.push(user.creates_number(&format!("+1201555{:04}", 1000 + i)).await);
    }
    ids
}

#[tokio::test]
async fn forty_five_numbers_page_forward_and_backward_with_no_gaps_or_repeats() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let created = numbers_for(&alice, 45).await;

    let forward_pages = alice
        .walks_pages(MY_NUMBERS, "myVirtualNumbers", Walk::Forward(10))
        .await;
    let backward_pages = alice
        .walks_pages(MY_NUMBERS, "myVirtualNumbers", Walk::Backward(10))
        .await;

    let forward = ids_of_pages(&forward_pages);
    let backward = ids_of_pages(&backward_pages);
    assert_eq!(forward, created, "forward paging is creation order, oldest first");
    assert_eq!(backward, created, "backward paging covers the same list");
    assert_eq!(forward.iter().collect::<HashSet<_>>().len(), 45);
    for page in &forward_pages {
        assert_eq!(page["totalCount"], 45);
    }
    assert_eq!(forward_pages.len(), 5);
    assert_eq!(forward_pages[0]["pageInfo"]["hasPreviousPage"], false);
    assert_eq!(forward_pages[4]["pageInfo"]["hasNextPage"], false);
}

#[tokio::test]
async fn the_default_page_is_twenty_and_more_than_a_hundred_is_refused() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    numbers_for(&alice, 21).await;

    let default = alice.gql(MY_NUMBERS, json!({})).await;
    let too_many = alice.gql(MY_NUMBERS, json!({ "first": 101 })).await;
    let negative = alice.gql(MY_NUMBERS, json!({ "last": -1 })).await;
    let both = alice.gql(MY_NUMBERS, json!({ "first": 1, "last": 1 })).await;
    let bad_cursor = alice.gql(MY_NUMBERS, json!({ "after": "not-a-cursor" })).await;

    assert_eq!(default.data("myVirtualNumbers")["nodes"].as_array().unwrap().len(), 20);
    assert_eq!(default.data("myVirtualNumbers")["pageInfo"]["hasNextPage"], true);
    too_many.assert_error("BAD_USER_INPUT", Some("first"));
    negative.assert_error("BAD_USER_INPUT", Some("last"));
    both.assert_error("BAD_USER_INPUT", None);
    bad_cursor.assert_error("BAD_USER_INPUT", Some("after"));
}
