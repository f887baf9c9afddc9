//! Recording calls: the rules one by one, idempotent ingestion, and who sees which logs.

use serde_json::{Value, json};

use crate::helpers::{CALL_LOGS, RECORD_CALL, TestApp, TestUser};

const NUMBER: &str = "+12015550123";
const OTHER: &str = "+14155550100";

fn inbound(number_id: &str) -> Value {
    json!({ "virtualNumberId": number_id, "direction": "INBOUND", "callerNumber": OTHER,
            "calledNumber": NUMBER, "durationSeconds": 42 })
}

async fn total_logs(user: &TestUser<'_>) -> u64 {
    user.gql(CALL_LOGS, json!({})).await.data("callLogs")["totalCount"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn an_owner_records_calls_in_both_directions() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number(NUMBER).await;

    let received = alice
        .records_call(json!({ "virtualNumberId": number, "direction": "INBOUND",
        "callerNumber": "+1 (415) 555-0100", "calledNumber": "+1 201 555 0123", "durationSeconds": 42 }))
        .await;
    let made = alice
        .records_call(
            json!({ "virtualNumberId": number, "direction": "OUTBOUND", "status": "NO_ANSWER",
        "callerNumber": NUMBER, "calledNumber": "+44 20 7946 0958", "durationSeconds": 0,
        "startedAt": "2026-01-02T03:04:05Z" }),
        )
        .await;

    assert_eq!(received["callerNumber"], OTHER);
    assert_eq!(received["counterpartNumber"], OTHER);
    assert_eq!(received["status"], "COMPLETED", "status defaults to COMPLETED");
    assert_eq!(received["virtualNumber"]["id"], number.as_str());
    assert_eq!(made["counterpartNumber"], "+442079460958");
    assert_eq!(made["startedAt"], "2026-01-02T03:04:05+00:00");
    assert_eq!(total_logs(&alice).await, 2);
}

#[tokio::test]
async fn every_broken_rule_is_refused_by_field_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number(NUMBER).await;
    let future = (chrono::Utc::now() + chrono::Duration::minutes(10)).to_rfc3339();
    let with = |changes: Value| {
        let mut input = inbound(&number);
        input
            .as_object_mut()
            .unwrap()
            .extend(changes.as_object().unwrap().clone());
        input
    };
    let cases = [
        (
            with(json!({ "calledNumber": OTHER, "callerNumber": NUMBER })),
            "calledNumber",
        ),
        (with(json!({ "direction": "OUTBOUND" })), "callerNumber"),
        (with(json!({ "callerNumber": "ACME Corp" })), "callerNumber"),
        (with(json!({ "calledNumber": "not a number" })), "calledNumber"),
        (with(json!({ "durationSeconds": -1 })), "durationSeconds"),
        (with(json!({ "durationSeconds": 86_401 })), "durationSeconds"),
        (
            with(json!({ "status": "BUSY", "durationSeconds": 30 })),
            "durationSeconds",
        ),
        (with(json!({ "startedAt": future })), "startedAt"),
        (with(json!({ "externalId": "" })), "externalId"),
        (with(json!({ "externalId": "x".repeat(129) })), "externalId"),
        (with(json!({ "virtualNumberId": "garbage" })), "virtualNumberId"),
    ];

    for (input, field) in cases {
        let response = alice.gql(RECORD_CALL, json!({ "input": input })).await;
        response.assert_error("BAD_USER_INPUT", Some(field));
    }

    assert_eq!(total_logs(&alice).await, 0);
}

#[tokio::test]
async fn inactive_and_released_numbers_take_no_new_calls() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let paused = alice.creates_number(NUMBER).await;
    let released = alice.creates_number("+12015550124").await;
    alice
        .gql(
            "mutation($id: ID!) { updateVirtualNumber(id: $id, input: { isActive: false }) { id } }",
            json!({ "id": paused }),
        )
        .await;
    alice.releases_number(&released).await;

    let to_paused = alice.gql(RECORD_CALL, json!({ "input": inbound(&paused) })).await;
    let mut released_call = inbound(&released);
    released_call["calledNumber"] = json!("+12015550124");
    let to_released = alice.gql(RECORD_CALL, json!({ "input": released_call })).await;

    to_paused.assert_error("BAD_USER_INPUT", Some("virtualNumberId"));
    to_released.assert_error("BAD_USER_INPUT", Some("virtualNumberId"));
    assert_eq!(total_logs(&alice).await, 0);
}

#[tokio::test]
async fn the_same_external_id_under_twenty_concurrent_retries_gives_one_log() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number(NUMBER).await;
    let mut input = inbound(&number);
    input["externalId"] = json!("carrier-call-1");

    let retries = (0..20).map(|_| alice.gql(RECORD_CALL, json!({ "input": input.clone() })));
    let responses = futures_util::future::join_all(retries).await;

    let ids: std::collections::HashSet<_> = responses
        .iter()
        .map(|r| r.data("recordCall")["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 1, "every retry returns the first log");
    assert_eq!(total_logs(&alice).await, 1);
}

#[tokio::test]
async fn an_external_id_is_unique_per_number_not_globally() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let first = alice.creates_number(NUMBER).await;
    let second = alice.creates_number("+12015550124").await;
    let mut on_first = inbound(&first);
    on_first["externalId"] = json!("same");
    let mut on_second = inbound(&second);
    on_second["calledNumber"] = json!("+12015550124");
    on_second["externalId"] = json!("same");

    let a = alice.records_call(on_first.clone()).await;
    let b = alice.records_call(on_second).await;
    let again = alice.records_call(on_first).await;

    assert_ne!(a["id"], b["id"]);
    assert_eq!(again["id"], a["id"]);
}

#[tokio::test]
async fn recording_needs_a_signed_in_owner() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let bob = app.signed_up("bob").await;
    let number = alice.creates_number(NUMBER).await;

    let anonymous = app.gql(RECORD_CALL, json!({ "input": inbound(&number) })).await;
    let someone_else = bob.gql(RECORD_CALL, json!({ "input": inbound(&number) })).await;

    anonymous.assert_error("UNAUTHENTICATED", None);
    someone_else.assert_error("NOT_FOUND", None);
    assert_eq!(total_logs(&alice).await, 0);
}

#[tokio::test]
async fn other_users_logs_never_appear_and_staff_see_all() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let bob = app.signed_up("bob").await;
    let staff = app.signed_up_staff("operator").await;
    let number = alice.creates_number(NUMBER).await;
    let log = alice.records_call(inbound(&number)).await;
    let node = "query($id: ID!) { node(id: $id) { id ... on CallLog { durationSeconds } } }";

    let bobs_list = bob.gql(CALL_LOGS, json!({})).await;
    let bobs_filtered = bob
        .gql(CALL_LOGS, json!({ "filter": { "virtualNumberId": number } }))
        .await;
    let bobs_node = bob.gql(node, json!({ "id": log["id"] })).await;
    let staff_list = staff.gql(CALL_LOGS, json!({})).await;
    let alices_node = alice.gql(node, json!({ "id": log["id"] })).await;

    assert_eq!(bobs_list.data("callLogs")["totalCount"], 0);
    assert_eq!(bobs_filtered.data("callLogs")["totalCount"], 0);
    assert_eq!(bobs_node.data("node"), &Value::Null);
    assert_eq!(staff_list.data("callLogs")["totalCount"], 1);
    assert_eq!(alices_node.data("node")["durationSeconds"], 42);
}

#[tokio::test]
async fn a_released_numbers_logs_stay_in_the_owners_history() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let bob = app.signed_up("bob").await;
    let number = alice.creates_number(NUMBER).await;
    alice.records_call(inbound(&number)).await;
    alice.releases_number(&number).await;
    let bobs_number = bob.creates_number(NUMBER).await;
    bob.records_call(inbound(&bobs_number)).await;

    let history = alice.gql(CALL_LOGS, json!({})).await;
    let bobs = bob.gql(CALL_LOGS, json!({})).await;

    assert_eq!(history.data("callLogs")["totalCount"], 1);
    assert_eq!(bobs.data("callLogs")["totalCount"], 1);
}

#[tokio::test]
async fn seed_demo_makes_accounts_that_sign_in_and_see_their_calls() {
    let app = TestApp::spawn().await;
    let db = switchboard::db::connect(&app.database_url, 2, switchboard::db::Planning::Cached)
        .await
        .unwrap();
    let options = switchboard::cli::seed::SeedOptions {
        users: 2,
        numbers: 3,
        calls: 600,
    };

    let users = switchboard::cli::seed::seed_demo(&db, options).await.unwrap();
    let mut seen = 0;
    for user in &users {
        let login = app
            .gql(
                crate::helpers::LOGIN,
                json!({ "username": user.username, "password": user.password }),
            )
            .await;
        let token = login.data("login")["accessToken"].as_str().unwrap().to_owned();
        let logs = app.gql_as(Some(&token), CALL_LOGS, json!({ "first": 100 })).await;
        seen += logs.data("callLogs")["totalCount"].as_u64().unwrap();
        for log in logs.data("callLogs")["edges"].as_array().unwrap() {
            let started: chrono::DateTime<chrono::Utc> = log["node"]["startedAt"].as_str().unwrap().parse().unwrap();
            assert!(started > chrono::Utc::now() - chrono::Duration::days(91));
            // A few demo calls come from withheld numbers or go to short codes.
            let counterpart = &log["node"]["counterpartNumber"];
            match log["node"]["counterpartKind"].as_str().unwrap() {
                "NUMBER" => assert!(counterpart.as_str().unwrap().starts_with('+')),
                "WITHHELD" => assert!(counterpart.is_null()),
                "SHORT_CODE" => assert!(counterpart.as_str().unwrap().chars().all(|c| c.is_ascii_digit())),
                kind => panic!("the demo makes no {kind} counterparts"),
            }
        }
    }

    assert_eq!(users.len(), 2);
    assert!(users.iter().all(|u| u.numbers.len() == 3));
    assert_eq!(seen, 600);
}

#[tokio::test]
async fn staff_record_and_read_calls_on_anyones_number() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let staff = app.signed_up_staff("operator").await;
    let number = alice.creates_number(NUMBER).await;

    let recorded = staff.gql(RECORD_CALL, json!({ "input": inbound(&number) })).await;
    let alices_view = alice.gql(CALL_LOGS, json!({})).await;
    let anonymous_list = app.gql(CALL_LOGS, json!({})).await;

    assert_eq!(recorded.data("recordCall")["virtualNumber"]["id"], number.as_str());
    assert_eq!(alices_view.data("callLogs")["totalCount"], 1);
    anonymous_list.assert_error("UNAUTHENTICATED", None);
}

#[tokio::test]
async fn a_numbers_call_logs_filtered_by_another_number_are_empty_and_count_zero() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let first = alice.creates_number(NUMBER).await;
    let second = alice.creates_number("+12015550124").await;
    alice.records_call(inbound(&first)).await;
    let mut on_second = inbound(&second);
    on_second["calledNumber"] = json!("+12015550124");
    alice.records_call(on_second).await;
    let query = "query($id: ID!, $other: ID) { virtualNumber(id: $id) {
        callLogs(filter: { virtualNumberId: $other }) { totalCount nodes { id } } } }";

    let own = alice.gql(query, json!({ "id": first, "other": first })).await;
    let other = alice.gql(query, json!({ "id": first, "other": second })).await;

    assert_eq!(own.data("virtualNumber")["callLogs"]["totalCount"], 1);
    assert_eq!(other.data("virtualNumber")["callLogs"]["totalCount"], 0);
    assert_eq!(other.data("virtualNumber")["callLogs"]["nodes"], json!([]));
}
