//! API keys, managed by a signed-in person: made with their secret shown once and
//! stored only as a hash, listed newest first, revoked; bad input and someone
//! else's keys answered as for any object.

use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{CREATE_API_KEY, TestApp};

const API_KEYS: &str = "query($first: Int, $after: String) { apiKeys(first: $first, after: $after) {
    totalCount nodes { id name tokenPrefix scopes revokedAt lastUsedAt } pageInfo { hasNextPage endCursor } } }";
const REVOKE: &str = "mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }";

fn create_input(name: &str, scopes: Value, expires_at: Value) -> Value {
    json!({ "input": { "name": name, "scopes": scopes, "expiresAt": expires_at } })
}

/// Every value of every column of `api_keys`, as text.
async fn stored_key_columns(app: &TestApp) -> Vec<String> {
    let db = Database::connect(&app.database_url).await.unwrap();
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT name, token_prefix, secret_hash, scopes FROM api_keys",
        ))
        .await
        .unwrap();
    db.close().await.unwrap();
    rows.iter()
        .flat_map(|row| {
            ["name", "token_prefix", "secret_hash", "scopes"].map(|column| row.try_get::<String>("", column).unwrap())
        })
        .collect()
}

#[tokio::test]
async fn a_new_key_shows_its_secret_once_and_is_stored_only_as_its_hash() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;

    let created = alice
        .gql(
            CREATE_API_KEY,
            create_input(
                "  billing backend ",
                json!(["RECORD_CALLS", "READ_NUMBERS", "RECORD_CALLS"]),
                Value::Null,
            ),
        )
        .await;
    let listed = alice.gql(API_KEYS, json!({})).await;
    let asking_for_the_secret = alice.gql("{ apiKeys { nodes { secret } } }", json!({})).await;
    let stored = stored_key_columns(&app).await;

    let created = created.data("createApiKey");
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.starts_with("sb_live_") && secret.len() == 51, "{secret}");
    assert!(secret[8..].chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(created["apiKey"]["name"], "billing backend");
    assert_eq!(created["apiKey"]["tokenPrefix"], &secret[..12]);
    assert_eq!(created["apiKey"]["scopes"], json!(["READ_NUMBERS", "RECORD_CALLS"]));
    assert_eq!(listed.data("apiKeys")["nodes"][0]["id"], created["apiKey"]["id"]);
    assert!(
        !listed.body.to_string().contains(&secret[12..]),
        "the secret is never readable again"
    );
    asking_for_the_secret.assert_error("BAD_USER_INPUT", None);
    assert!(stored.contains(&hex::encode(Sha256::digest(secret.as_bytes()))));
    assert!(stored.iter().all(|value| !value.contains(&secret[12..])), "{stored:?}");
}

#[tokio::test]
async fn keys_are_listed_newest_first_page_by_page_with_revoked_ones_marked() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let mut ids = Vec::new();
    for name in ["first", "second", "third"] {
        let created = alice
            .gql(CREATE_API_KEY, create_input(name, json!(["READ_CALLS"]), Value::Null))
            .await;
        ids.push(created.data("createApiKey")["apiKey"]["id"].clone());
    }

    let revoked = alice.gql(REVOKE, json!({ "id": ids[0] })).await;
    let again = alice.gql(REVOKE, json!({ "id": ids[0] })).await;
    let first_page = alice.gql(API_KEYS, json!({ "first": 2 })).await;
    let cursor = first_page.data("apiKeys")["pageInfo"]["endCursor"].clone();
    let second_page = alice.gql(API_KEYS, json!({ "first": 2, "after": cursor })).await;

    let names = |page: &Value| -> Vec<Value> {
        page["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|key| key["name"].clone())
            .collect()
    };
    assert!(revoked.data("revokeApiKey")["revokedAt"].is_string());
    assert_eq!(
        again.data("revokeApiKey")["revokedAt"],
        revoked.data("revokeApiKey")["revokedAt"],
        "idempotent"
    );
    assert_eq!(names(first_page.data("apiKeys")), vec![json!("third"), json!("second")]);
    assert_eq!(first_page.data("apiKeys")["totalCount"], 3);
    assert_eq!(first_page.data("apiKeys")["pageInfo"]["hasNextPage"], true);
    assert_eq!(names(second_page.data("apiKeys")), vec![json!("first")]);
    assert!(second_page.data("apiKeys")["nodes"][0]["revokedAt"].is_string());
}

#[tokio::test]
async fn every_bad_input_names_its_field_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let past = "2020-01-01T00:00:00Z";
    let far = (chrono::Utc::now() + chrono::TimeDelta::days(400)).to_rfc3339();
    let cases = [
        (create_input("   ", json!(["READ_CALLS"]), Value::Null), "name"),
        (
            create_input(&"x".repeat(101), json!(["READ_CALLS"]), Value::Null),
            "name",
        ),
        (create_input("ok", json!([]), Value::Null), "scopes"),
        (create_input("ok", json!(["READ_CALLS"]), json!(past)), "expiresAt"),
        (create_input("ok", json!(["READ_CALLS"]), json!(far)), "expiresAt"),
    ];

    for (input, field) in cases {
        let response = alice.gql(CREATE_API_KEY, input).await;
        response.assert_error("BAD_USER_INPUT", Some(field));
    }
    let unknown_scope = alice
        .gql(CREATE_API_KEY, create_input("ok", json!(["ADMIN"]), Value::Null))
        .await;
    let malformed_id = alice.gql(REVOKE, json!({ "id": "garbage" })).await;
    let listed = alice.gql(API_KEYS, json!({})).await;

    unknown_scope.assert_error("BAD_USER_INPUT", None);
    malformed_id.assert_error("BAD_USER_INPUT", Some("id"));
    assert_eq!(listed.data("apiKeys")["totalCount"], 0);
}

#[tokio::test]
async fn managing_keys_needs_someone_signed_in() {
    let app = TestApp::spawn().await;

    let create = app
        .gql(CREATE_API_KEY, create_input("ok", json!(["READ_CALLS"]), Value::Null))
        .await;
    let list = app.gql(API_KEYS, json!({})).await;

    create.assert_error("UNAUTHENTICATED", None);
    list.assert_error("UNAUTHENTICATED", None);
}

#[tokio::test]
async fn someone_elses_key_answers_as_missing_and_keeps_working() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let bob = app.signed_up("bob").await;
    let created = alice
        .gql(
            CREATE_API_KEY,
            create_input("alice's", json!(["READ_NUMBERS"]), Value::Null),
        )
        .await;
    let id = created.data("createApiKey")["apiKey"]["id"].clone();
    let secret = created.data("createApiKey")["secret"].as_str().unwrap().to_owned();
    let boss = app.signed_up_staff("boss").await;

    let revoke = bob.gql(REVOKE, json!({ "id": id })).await;
    let staff_revoke = boss.gql(REVOKE, json!({ "id": id })).await;
    let node = bob
        .gql("query($id: ID!) { node(id: $id) { id } }", json!({ "id": id }))
        .await;
    let own_node = alice
        .gql(
            "query($id: ID!) { node(id: $id) { ... on ApiKey { name } } }",
            json!({ "id": id }),
        )
        .await;
    let bobs_list = bob.gql(API_KEYS, json!({})).await;
    let still_works = app.gql_as(Some(&secret), "{ me { username } }", json!({})).await;

    revoke.assert_error("NOT_FOUND", None);
    staff_revoke.assert_error("NOT_FOUND", None);
    assert_eq!(node.data("node"), &Value::Null);
    assert_eq!(own_node.data("node")["name"], "alice's");
    assert_eq!(bobs_list.data("apiKeys")["totalCount"], 0);
    assert_eq!(still_works.data("me")["username"], "alice");
}

#[tokio::test]
async fn a_user_holds_at_most_fifty_live_keys() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    for _ in 0..50 {
        alice.creates_api_key(&["READ_CALLS"]).await;
    }

    let one_more = alice
        .gql(CREATE_API_KEY, create_input("51st", json!(["READ_CALLS"]), Value::Null))
        .await;
    let listed = alice.gql(API_KEYS, json!({ "first": 1 })).await;

    one_more.assert_error("CONFLICT", None);
    assert!(one_more.error_message().contains("revoke"), "{}", one_more.body);
    assert_eq!(listed.data("apiKeys")["totalCount"], 50);
}
