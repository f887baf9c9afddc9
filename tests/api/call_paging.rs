//! Call-log search and paging: every filter, ties on `startedAt`, stable deep
//! cursors, nested connections, and a bounded number of SQL statements.

use std::{collections::HashSet, sync::atomic::Ordering};

use serde_json::{Value, json};

use crate::helpers::{CALL_LOGS, TestApp, TestUser, Walk, edge_ids, ids_of_pages};

const NUMBER: &str = "+12015550123";
const SECOND: &str = "+12015550124";

/// A call on `number` (whose E.164 is `own`) at `minute` past 2026-01-01T00:00Z.
fn call(number: &str, own: &str, inbound: bool, status: &str, counterpart: &str, minute: i64) -> Value {
    let started =
        chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap() + chrono::Duration::minutes(minute);
    let (caller, called) = if inbound {
        (counterpart, own)
    } else {
        (own, counterpart)
    };
    json!({ "virtualNumberId": number, "direction": if inbound { "INBOUND" } else { "OUTBOUND" }, "status": status,
            "callerNumber": caller, "calledNumber": called, "startedAt": started.to_rfc3339(),
            "durationSeconds": if status == "COMPLETED" { 60 } else { 0 } })
}

async fn ids(user: &TestUser<'_>, variables: Value) -> (Vec<String>, Value) {
    let response = user.gql(CALL_LOGS, variables).await;
    let connection = response.data("callLogs").clone();
    (edge_ids(&connection), connection)
}

#[tokio::test]
async fn every_filter_narrows_alone_and_combined() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let first = alice.creates_number(NUMBER).await;
    let second = alice.creates_number(SECOND).await;
    let a = alice
        .records_call(call(&first, NUMBER, true, "COMPLETED", "+14155550100", 0))
        .await;
    let b = alice
        .records_call(call(&first, NUMBER, false, "BUSY", "+14155550100", 10))
        .await;
    let c = alice
        .records_call(call(&second, SECOND, true, "NO_ANSWER", "+442079460958", 20))
        .await;
    let d = alice
        .records_call(call(&second, SECOND, false, "COMPLETED", "+14155550101", 30))
        .await;
    let id = |log: &Value| log["id"].as_str().unwrap().to_owned();
    let cases = [
        (json!({ "virtualNumberId": first }), vec![id(&b), id(&a)]),
        (json!({ "direction": "INBOUND" }), vec![id(&c), id(&a)]),
        (json!({ "status": "COMPLETED" }), vec![id(&d), id(&a)]),
        (
            json!({ "startedAfter": "2026-01-01T00:10:00Z" }),
            vec![id(&d), id(&c), id(&b)],
        ),
        (json!({ "startedBefore": "2026-01-01T00:10:00Z" }), vec![id(&a)]),
        (
            json!({ "startedAfter": "2026-01-01T00:10:00Z", "startedBefore": "2026-01-01T00:30:00Z" }),
            vec![id(&c), id(&b)],
        ),
        (json!({ "counterpartNumber": "(415) 555-0100", }), vec![]),
        (json!({ "counterpartNumber": "+1 415-555-0100" }), vec![id(&b), id(&a)]),
        (json!({ "counterpartNumber": "0044 20 7946 0958" }), vec![id(&c)]),
        (
            json!({ "virtualNumberId": first, "direction": "OUTBOUND", "status": "BUSY" }),
            vec![id(&b)],
        ),
        (
            json!({ "virtualNumberId": second, "counterpartNumber": "+14155550100" }),
            vec![],
        ),
    ];

    for (filter, expected) in cases {
        let response = alice.gql(CALL_LOGS, json!({ "filter": filter.clone() })).await;
        if filter["counterpartNumber"] == "(415) 555-0100" {
            // A national spelling needs a country (or DEFAULT_REGION).
            response.assert_error("BAD_USER_INPUT", Some("counterpartNumber"));
            continue;
        }
        let connection = response.data("callLogs");
        let found = edge_ids(connection);
        assert_eq!(found, expected, "filter {filter}");
        assert_eq!(connection["totalCount"], expected.len(), "filter {filter}");
    }
}

#[tokio::test]
async fn a_hundred_and_twenty_logs_with_tied_start_times_page_both_ways_without_gaps() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number(NUMBER).await;
    for i in 0..120 {
        // Three calls share each minute, so ties on startedAt are everywhere.
        alice
            .records_call(call(&number, NUMBER, true, "COMPLETED", "+14155550100", i / 3))
            .await;
    }

    let forward = ids_of_pages(&alice.walks_pages(CALL_LOGS, "callLogs", Walk::Forward(25)).await);
    let backward = ids_of_pages(&alice.walks_pages(CALL_LOGS, "callLogs", Walk::Backward(25)).await);
    let (everything, _) = ids(&alice, json!({ "first": 100 })).await;

    assert_eq!(forward.len(), 120);
    assert_eq!(forward.iter().collect::<HashSet<_>>().len(), 120, "no repeats");
    assert_eq!(backward, forward, "both directions give the same order");
    assert_eq!(&forward[..100], &everything[..], "pages join up exactly");
}

#[tokio::test]
async fn a_deep_cursor_still_works_after_newer_calls_arrive() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number(NUMBER).await;
    for i in 0..30 {
        alice
            .records_call(call(&number, NUMBER, true, "COMPLETED", "+14155550100", i))
            .await;
    }
    let (first_page, connection) = ids(&alice, json!({ "first": 10 })).await;
    let cursor = connection["pageInfo"]["endCursor"].clone();
    let (expected_next, _) = ids(&alice, json!({ "first": 10, "after": cursor })).await;

    for i in 0..5 {
        alice
            .records_call(call(&number, NUMBER, true, "COMPLETED", "+14155550100", 100 + i))
            .await;
    }
    let (next_page, _) = ids(&alice, json!({ "first": 10, "after": cursor })).await;

    assert_eq!(first_page.len(), 10);
    assert_eq!(
        next_page, expected_next,
        "new calls before the cursor do not shift later pages"
    );
}

#[tokio::test]
async fn the_number_of_statements_does_not_grow_with_the_rows_returned() {
    let (app, statements) = TestApp::spawn_counting_statements().await;
    let alice = app.signed_up("alice").await;
    let mut numbers = Vec::new();
    for i in 0..10 {
        let own = format!("+1201555{:04}", 2000 + i);
        numbers.push((alice.creates_number(&own).await, own));
    }
    for i in 0..100 {
        let (number, own) = &numbers[i % numbers.len()];
        alice
            .records_call(call(number, own, true, "COMPLETED", "+14155550100", i as i64))
            .await;
    }
    let flat = "{ callLogs(first: 100) { nodes { id virtualNumber { phoneNumber owner { username } } } } }";
    let nested = "{ myVirtualNumbers(first: 10) { nodes { phoneNumber owner { username }
        callLogs(first: 5) { totalCount nodes { id startedAt virtualNumber { id } } pageInfo { hasNextPage } } } } }";

    let before_flat = statements.load(Ordering::SeqCst);
    let flat_response = alice.gql(flat, json!({})).await;
    let flat_statements = statements.load(Ordering::SeqCst) - before_flat;
    let before_nested = statements.load(Ordering::SeqCst);
    let nested_response = alice.gql(nested, json!({})).await;
    let nested_statements = statements.load(Ordering::SeqCst) - before_nested;

    let flat_nodes = flat_response.data("callLogs")["nodes"].as_array().unwrap();
    assert_eq!(flat_nodes.len(), 100);
    assert_eq!(flat_nodes[0]["virtualNumber"]["owner"]["username"], "alice");
    let nested_numbers = nested_response.data("myVirtualNumbers")["nodes"].as_array().unwrap();
    assert_eq!(nested_numbers.len(), 10);
    assert!(
        nested_numbers
            .iter()
            .all(|n| n["callLogs"]["nodes"].as_array().unwrap().len() == 5)
    );
    assert!(
        nested_numbers
            .iter()
            .all(|n| n["callLogs"]["pageInfo"]["hasNextPage"] == true)
    );
    assert!(
        nested_numbers.iter().all(|n| n["callLogs"]["totalCount"] == 10),
        "100 calls over 10 numbers"
    );
    // Flat: the page, its numbers, their owners (3). Nested: the numbers page, owners,
    // one windowed query for every call page, one GROUP BY for every totalCount, the
    // logs' numbers (5). A loader batch closes a few milliseconds after its first key,
    // so on a busy machine one can split in two, hence the slack; one query per row
    // would be over 100. On PostgreSQL the reads by position (pages of calls and
    // numbers, numbers by id) go to sqlx directly and are not counted; SQLite
    // counts every statement.
    assert!(flat_statements <= 10, "flat query ran {flat_statements} statements");
    assert!(
        nested_statements <= 10,
        "nested query ran {nested_statements} statements"
    );
}

/// Each number's nested page (one statement for all numbers) holds exactly the
/// page the flat list gives for that number alone, ties on `startedAt` included,
/// forwards, backwards and after a cursor, and a number without calls is empty.
#[tokio::test]
async fn nested_pages_equal_each_numbers_own_page() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let mut numbers = Vec::new();
    for i in 0..4 {
        let own = format!("+1201555{:04}", 3000 + i);
        numbers.push((alice.creates_number(&own).await, own));
    }
    // Uneven counts (0, 3, 6, 9 calls) and many calls sharing a minute.
    for (index, (number, own)) in numbers.iter().enumerate() {
        for i in 0..(index * 3) as i64 {
            alice
                .records_call(call(number, own, i % 2 == 0, "COMPLETED", "+14155550100", i / 2))
                .await;
        }
    }
    let flat = "query($filter: CallLogFilter, $first: Int, $last: Int, $after: String) {
        callLogs(filter: $filter, first: $first, last: $last, after: $after) {
            nodes { id } pageInfo { hasNextPage hasPreviousPage endCursor } } }";
    let nested = "query($first: Int, $last: Int, $after: String) { myVirtualNumbers(first: 10) { nodes { id
        callLogs(first: $first, last: $last, after: $after) { nodes { id } pageInfo { hasNextPage hasPreviousPage endCursor } } } } }";
    let by_number = |response: &crate::helpers::GqlResponse| -> Vec<(String, Value)> {
        response.data("myVirtualNumbers")["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|node| (node["id"].as_str().unwrap().to_owned(), node["callLogs"].clone()))
            .collect()
    };

    let mut compared = 0;
    for page in [json!({ "first": 4 }), json!({ "last": 4 }), json!({ "first": 100 })] {
        let nested_pages = by_number(&alice.gql(nested, page.clone()).await);
        assert_eq!(nested_pages.len(), 4);
        for (number, connection) in nested_pages {
            let mut variables = page.clone();
            variables["filter"] = json!({ "virtualNumberId": number });
            let own = alice.gql(flat, variables).await;
            assert_eq!(connection, own.data("callLogs").clone(), "{page} of {number}");
            compared += connection["nodes"].as_array().unwrap().len();
        }
    }
    // After a cursor taken from the flat list of the largest number.
    let (largest, _) = &numbers[3];
    let first = alice
        .gql(flat, json!({ "filter": { "virtualNumberId": largest }, "first": 4 }))
        .await;
    let cursor = first.data("callLogs")["pageInfo"]["endCursor"].clone();
    let nested_after = by_number(&alice.gql(nested, json!({ "first": 4, "after": cursor })).await);
    let own_after = alice
        .gql(
            flat,
            json!({ "filter": { "virtualNumberId": largest }, "first": 4, "after": cursor }),
        )
        .await;
    let (_, largest_after) = nested_after.iter().find(|(id, _)| id == largest).unwrap();

    // 0, 3, 6 and 9 calls: pages of 4 hold 0, 3, 4 and 4; pages of 100 hold them all.
    assert_eq!(compared, (3 + 4 + 4) * 2 + (3 + 6 + 9));
    assert_eq!(largest_after, own_after.data("callLogs"));
    assert_eq!(largest_after["nodes"].as_array().unwrap().len(), 4);
}
