//! What an API key may do: each scope opens its fields and nothing else; a key
//! never signs in, never manages credentials and never has staff powers; a
//! revoked or expired key, or one whose owner is deactivated, stops working.

use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};

use crate::helpers::{CREATE_API_KEY, TestApp, TestUser};

const NUMBER: &str = "+12015550123";
const PROMISE: Duration = Duration::from_secs(10);

async fn execute(app: &TestApp, sql: &str) {
    let db = Database::connect(&app.database_url).await.unwrap();
    db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap();
    db.close().await.unwrap();
}

/// How many numbers and calls alice holds, read with her session.
async fn holdings(alice: &TestUser<'_>) -> (Value, Value) {
    let response = alice
        .gql("{ myVirtualNumbers { totalCount } callLogs { totalCount } }", json!({}))
        .await;
    (
        response.data("myVirtualNumbers")["totalCount"].clone(),
        response.data("callLogs")["totalCount"].clone(),
    )
}

/// An operation, the scope it needs, and whether it writes.
struct Operation {
    needs: &'static str,
    query: &'static str,
    writes: bool,
}

fn operations() -> Vec<Operation> {
    let read = |needs, query| Operation {
        needs,
        query,
        writes: false,
    };
    let write = |needs, query| Operation {
        needs,
        query,
        writes: true,
    };
    vec![
        read("READ_NUMBERS", "{ myVirtualNumbers { nodes { id phoneNumber } } }"),
        read(
            "READ_NUMBERS",
            "query($n: ID!) { virtualNumber(id: $n) { phoneNumber } }",
        ),
        read(
            "READ_NUMBERS",
            "query($n: ID!) { node(id: $n) { ... on VirtualNumber { phoneNumber } } }",
        ),
        read("READ_NUMBERS", "{ me { virtualNumbers { totalCount } } }"),
        read("READ_CALLS", "{ callLogs { nodes { id callerNumber } } }"),
        read("READ_CALLS", "{ callStats { totalCalls } }"),
        write(
            "WRITE_NUMBERS",
            "mutation { createVirtualNumber(input: { phoneNumber: \"+12015550199\" }) { id phoneNumber } }",
        ),
        write(
            "WRITE_NUMBERS",
            "mutation($n: ID!) { updateVirtualNumber(id: $n, input: { friendlyName: \"changed\" }) { id friendlyName } }",
        ),
        write(
            "RECORD_CALLS",
            "mutation($n: ID!) { recordCall(input: { virtualNumberId: $n, direction: INBOUND,
               callerNumber: \"+14155550100\", calledNumber: \"+12015550123\", durationSeconds: 5 }) {
               id direction status startedAt durationSeconds } }",
        ),
    ]
}

#[tokio::test]
async fn each_scope_opens_its_fields_and_every_other_key_is_refused_writing_nothing() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number(NUMBER).await;
    let scopes = ["READ_NUMBERS", "WRITE_NUMBERS", "READ_CALLS", "RECORD_CALLS"];
    let mut keys = Vec::new();
    for scope in scopes {
        keys.push((scope, alice.creates_api_key(&[scope]).await));
    }

    for operation in operations() {
        for (scope, key) in &keys {
            let before = holdings(&alice).await;
            let response = app.gql_as(Some(key), operation.query, json!({ "n": number })).await;
            let after = holdings(&alice).await;

            if *scope == operation.needs {
                assert!(response.body.get("errors").is_none(), "{scope}: {}", response.body);
            } else {
                response.assert_error("FORBIDDEN", None);
                assert!(response.error_message().contains(operation.needs), "{}", response.body);
                assert_eq!(response.body["data"], Value::Null, "nothing ran: {}", response.body);
                assert_eq!(before, after, "{scope} wrote nothing with {}", operation.query);
            }
            if !operation.writes {
                assert_eq!(before, after);
            }
        }
    }
    let name = alice
        .gql(
            "query($n: ID!) { virtualNumber(id: $n) { friendlyName } }",
            json!({ "n": number }),
        )
        .await;
    assert_eq!(
        name.data("virtualNumber")["friendlyName"],
        "changed",
        "only WRITE_NUMBERS changed it"
    );
}

#[tokio::test]
async fn a_key_reads_back_what_it_wrote_but_not_what_that_leads_to() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number(NUMBER).await;
    let recorder = alice.creates_api_key(&["RECORD_CALLS"]).await;
    let reader = alice.creates_api_key(&["READ_CALLS"]).await;
    let record = "mutation($n: ID!) { recordCall(input: { virtualNumberId: $n, direction: INBOUND,
        callerNumber: \"+14155550100\", calledNumber: \"+12015550123\", durationSeconds: 5 }) { id virtualNumber { id } } }";

    let leading_on = app.gql_as(Some(&recorder), record, json!({ "n": number })).await;
    let (_, calls) = holdings(&alice).await;
    let node_of_a_number = app
        .gql_as(
            Some(&reader),
            "query($n: ID!) { node(id: $n) { id } }",
            json!({ "n": number }),
        )
        .await;
    let numbers_of_a_call = app
        .gql_as(
            Some(&reader),
            "{ callLogs { nodes { virtualNumber { phoneNumber } } } }",
            json!({}),
        )
        .await;

    leading_on.assert_error("FORBIDDEN", None);
    assert_eq!(calls, 0, "a refused mutation writes nothing");
    node_of_a_number.assert_error("FORBIDDEN", None);
    assert!(node_of_a_number.error_message().contains("READ_NUMBERS"));
    numbers_of_a_call.assert_error("FORBIDDEN", None);
}

#[tokio::test]
async fn a_key_never_signs_in_or_manages_credentials_and_has_no_staff_powers() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let alices_number = alice.creates_number(NUMBER).await;
    let boss = app.signed_up_staff("boss").await;
    let all = ["READ_NUMBERS", "WRITE_NUMBERS", "READ_CALLS", "RECORD_CALLS"];
    let key = boss.creates_api_key(&all).await;
    let refused = [
        "mutation { createApiKey(input: { name: \"another\", scopes: [READ_CALLS] }) { secret } }",
        "{ apiKeys { totalCount } }",
        "mutation($n: ID!) { revokeApiKey(id: $n) { id } }",
        "{ mySessions { id } }",
        "mutation { changePassword(currentPassword: \"boss-password\", newPassword: \"a-new-password-1\") }",
        "mutation { updateMe(input: { email: \"x@example.com\" }) { id } }",
        "mutation { logoutEverywhere }",
        "mutation { deactivateMe(password: \"boss-password\") }",
        "mutation { login(username: \"boss\", password: \"boss-password\") { accessToken } }",
        "mutation { register(input: { username: \"mallory\", password: \"mallory-password\" }) { accessToken } }",
        "{ me { email } }",
    ];

    for query in refused {
        let response = app.gql_as(Some(&key), query, json!({ "n": alices_number })).await;
        response.assert_error("FORBIDDEN", None);
    }
    let me = app.gql_as(Some(&key), "{ me { username isStaff } }", json!({})).await;
    let alices = app
        .gql_as(
            Some(&key),
            "query($n: ID!) { virtualNumber(id: $n) { id } }",
            json!({ "n": alices_number }),
        )
        .await;
    let keys = boss
        .gql("{ apiKeys { totalCount } mySessions { id } }", json!({}))
        .await;
    let signs_in = app.logged_in("boss").await;
    let mallory = app
        .gql(
            "mutation { login(username: \"mallory\", password: \"mallory-password\") { accessToken } }",
            json!({}),
        )
        .await;

    assert_eq!(me.data("me")["username"], "boss");
    assert_eq!(
        alices.data("virtualNumber"),
        &Value::Null,
        "a staff user's key sees only their own"
    );
    assert_eq!(keys.data("apiKeys")["totalCount"], 1);
    assert!(
        !keys.data("mySessions").as_array().unwrap().is_empty(),
        "no session was ended"
    );
    assert!(!signs_in.access_token.is_empty(), "password unchanged, account active");
    mallory.assert_error("UNAUTHENTICATED", None);
}

/// Waits until the key is refused with 401; returns how long it took.
async fn until_refused(app: &TestApp, key: &str) -> Duration {
    let started = Instant::now();
    loop {
        let response = app.gql_as(Some(key), "{ me { id } }", json!({})).await;
        if response.status == 401 {
            response.assert_error("UNAUTHENTICATED", None);
            assert_eq!(response.error_message(), "the API key is not valid");
            return started.elapsed();
        }
        assert!(started.elapsed() < PROMISE, "still answered: {}", response.body);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn revoked_expired_and_deactivated_owners_keys_stop_within_seconds() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let bob = app.signed_up("bob").await;
    let revoked = alice.creates_api_key(&["READ_CALLS"]).await;
    let expiring = alice.creates_api_key(&["READ_NUMBERS"]).await;
    let bobs = bob.creates_api_key(&["READ_NUMBERS"]).await;
    for key in [&revoked, &expiring, &bobs] {
        let response = app.gql_as(Some(key), "{ me { id } }", json!({})).await;
        assert!(response.body.get("errors").is_none(), "{}", response.body);
    }
    let listed = alice
        .gql("{ apiKeys { nodes { id tokenPrefix lastUsedAt } } }", json!({}))
        .await;
    let id = listed.data("apiKeys")["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| revoked.starts_with(key["tokenPrefix"].as_str().unwrap()))
        .unwrap()["id"]
        .clone();

    alice
        .gql(
            "mutation($id: ID!) { revokeApiKey(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    let prefix = &expiring[..12];
    execute(
        &app,
        &format!("UPDATE api_keys SET expires_at = created_at WHERE token_prefix = '{prefix}'"),
    )
    .await;
    execute(&app, "UPDATE users SET is_active = false WHERE username = 'bob'").await;

    assert!(until_refused(&app, &revoked).await < PROMISE);
    assert!(until_refused(&app, &expiring).await < PROMISE);
    assert!(until_refused(&app, &bobs).await < PROMISE);
    assert!(
        listed.data("apiKeys")["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|key| key["lastUsedAt"].is_string()),
        "last use is recorded: {}",
        listed.body
    );
}

#[tokio::test]
async fn a_key_the_create_payload_showed_works_in_the_readme_example() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number(NUMBER).await;
    let created = alice
        .gql(
            CREATE_API_KEY,
            json!({ "input": { "name": "carrier webhook", "scopes": ["RECORD_CALLS"], "expiresAt": null } }),
        )
        .await;
    let key = created.data("createApiKey")["secret"].as_str().unwrap().to_owned();

    let response = app
        .gql_as(
            Some(&key),
            "mutation($input: RecordCallInput!) { recordCall(input: $input) { id startedAt } }",
            json!({ "input": { "virtualNumberId": number, "direction": "INBOUND",
                    "callerNumber": "+14155550100", "calledNumber": NUMBER,
                    "durationSeconds": 42, "externalId": "CA123" } }),
        )
        .await;

    assert!(response.data("recordCall")["id"].is_string());
    assert_eq!(holdings(&alice).await, (json!(1), json!(1)));
}
