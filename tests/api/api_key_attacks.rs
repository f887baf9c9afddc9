//! Thinking like an attacker with API keys: forged, oversized and tampered
//! values, and a key reaching for another user's numbers.

use serde_json::{Value, json};

use crate::helpers::TestApp;

const NUMBER: &str = "+12015550123";

#[tokio::test]
async fn forged_oversized_and_unknown_keys_are_refused_alike() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let key = alice.creates_api_key(&["READ_NUMBERS"]).await;
    let mut tampered = key.clone().into_bytes();
    tampered[30] = if tampered[30] == b'a' { b'b' } else { b'a' };
    let tampered = String::from_utf8(tampered).unwrap();
    let values = [
        format!("Bearer sb_live_{}", "A".repeat(10_000)),
        format!("Bearer sb_live_{}", "A".repeat(43)),
        format!("Bearer {tampered}"),
        format!("Bearer {}", &key[..12]),
        format!("Bearer {key}x"),
        format!("Bearer sb_live_{}", "-".repeat(43)),
    ];

    for value in &values {
        let response = app.gql_with_authorization(value, "{ me { id } }").await;
        assert_eq!(response.status, 401, "{value:.40}: {}", response.body);
        response.assert_error("UNAUTHENTICATED", None);
        assert_eq!(response.error_message(), "the API key is not valid");
    }
    let genuine = app
        .gql_with_authorization(&format!("bearer {key}"), "{ me { username } }")
        .await;
    assert_eq!(genuine.data("me")["username"], "alice");
}

#[tokio::test]
async fn a_key_cannot_reach_another_users_number() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let bob = app.signed_up("bob").await;
    let alices_number = alice.creates_number(NUMBER).await;
    let key = bob
        .creates_api_key(&["READ_NUMBERS", "WRITE_NUMBERS", "RECORD_CALLS"])
        .await;
    let variables = json!({ "n": alices_number });

    let lookup = app
        .gql_as(
            Some(&key),
            "query($n: ID!) { virtualNumber(id: $n) { id } }",
            variables.clone(),
        )
        .await;
    let node = app
        .gql_as(Some(&key), "query($n: ID!) { node(id: $n) { id } }", variables.clone())
        .await;
    let release = app
        .gql_as(
            Some(&key),
            "mutation($n: ID!) { releaseVirtualNumber(id: $n) }",
            variables.clone(),
        )
        .await;
    let record = app
        .gql_as(
            Some(&key),
            "mutation($n: ID!) { recordCall(input: { virtualNumberId: $n, direction: INBOUND,
               callerNumber: \"+14155550100\", calledNumber: \"+12015550123\", durationSeconds: 5 }) { id } }",
            variables,
        )
        .await;

    assert_eq!(lookup.data("virtualNumber"), &Value::Null);
    assert_eq!(node.data("node"), &Value::Null);
    release.assert_error("NOT_FOUND", None);
    record.assert_error("NOT_FOUND", None);
    let alices = alice
        .gql("{ myVirtualNumbers { totalCount } callLogs { totalCount } }", json!({}))
        .await;
    assert_eq!(alices.data("myVirtualNumbers")["totalCount"], 1, "not released");
    assert_eq!(alices.data("callLogs")["totalCount"], 0, "no call recorded");
}

#[tokio::test]
async fn fragments_aliases_and_interfaces_smuggle_no_field_past_the_scopes() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number(NUMBER).await;
    let key = alice.creates_api_key(&["READ_CALLS"]).await;
    let smuggled = [
        "query { ...F } fragment F on Query { numbers: myVirtualNumbers { totalCount } }",
        "query { calls: callLogs { totalCount } numbers: myVirtualNumbers { totalCount } }",
        "query { ... on Query { ... { myVirtualNumbers { totalCount } } } }",
        "query($n: ID!) { node(id: $n) { ...N } } fragment N on VirtualNumber { phoneNumber }",
        "query($n: ID!) { node(id: $n) { ... on Node { ... on VirtualNumber { owner { id } } } } }",
        "mutation { ...M } fragment M on Mutation { releaseVirtualNumber(id: \"x\") }",
        "query { me { ...U } } fragment U on User { virtualNumbers { totalCount } }",
    ];

    for query in smuggled {
        let response = app.gql_as(Some(&key), query, json!({ "n": number })).await;
        response.assert_error("FORBIDDEN", None);
        assert_eq!(response.body["data"], Value::Null, "{query}: {}", response.body);
    }
    let allowed = app
        .gql_as(
            Some(&key),
            "{ __typename calls: callLogs { totalCount } me { ... on User { username } } }",
            json!({}),
        )
        .await;
    assert_eq!(allowed.data("me")["username"], "alice");
}
