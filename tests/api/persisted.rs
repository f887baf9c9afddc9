//! Persisted documents: Apollo's automatic persisted queries over POST and GET,
//! and a server locked to its trusted documents.

use std::time::Duration;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{Arrival, TestApp, WsClient};

fn sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn persisted(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

async fn post(app: &TestApp, body: Value) -> (u16, Value) {
    let response = app
        .client()
        .post(format!("{}/graphql", app.address))
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn code(body: &Value) -> Option<&str> {
    body.pointer("/errors/0/extensions/code").and_then(Value::as_str)
}

#[tokio::test]
async fn a_persisted_query_misses_registers_then_hits_over_post_and_get() {
    let app = TestApp::spawn().await;
    let query = "query Hello { __typename }";
    let hash = sha256(query);

    let miss = post(&app, json!({ "extensions": persisted(&hash) })).await;
    let register = post(&app, json!({ "query": query, "extensions": persisted(&hash) })).await;
    let hit = post(
        &app,
        json!({ "extensions": persisted(&hash), "operationName": "Hello" }),
    )
    .await;
    let get = app
        .client()
        .get(format!("{}/graphql", app.address))
        .query(&[
            ("extensions", persisted(&hash).to_string()),
            ("operationName", "Hello".to_owned()),
        ])
        .send()
        .await
        .unwrap();
    let get_status = get.status().as_u16();
    let get_body: Value = get.json().await.unwrap();
    let get_miss = app
        .client()
        .get(format!("{}/graphql", app.address))
        .query(&[("extensions", persisted(&sha256("{ me { id } }")).to_string())])
        .send()
        .await
        .unwrap();

    assert_eq!(code(&miss.1), Some("PERSISTED_QUERY_NOT_FOUND"), "{:?}", miss);
    assert_eq!(miss.1["errors"][0]["message"], "PersistedQueryNotFound");
    assert!(miss.1.get("data").is_none());
    assert_eq!(register.0, 200);
    assert_eq!(register.1["data"]["__typename"], "Query", "{register:?}");
    assert_eq!(hit.0, 200);
    assert_eq!(hit.1["data"]["__typename"], "Query", "{hit:?}");
    assert_eq!(get_status, 200);
    assert_eq!(get_body["data"]["__typename"], "Query", "{get_body}");
    assert_eq!(
        get_miss.headers()["cache-control"],
        "private, no-cache, must-revalidate",
        "a CDN must not keep a miss"
    );
}

#[tokio::test]
async fn a_hash_that_does_not_match_its_query_is_refused_and_not_kept() {
    let app = TestApp::spawn().await;
    let wrong = sha256("{ __typename }");
    let evil = "{ me { id } }";

    let mismatch = post(&app, json!({ "query": evil, "extensions": persisted(&wrong) })).await;
    let later = post(&app, json!({ "extensions": persisted(&wrong) })).await;
    let version_two = post(
        &app,
        json!({ "query": "{ __typename }", "extensions": { "persistedQuery": { "version": 2, "sha256Hash": wrong } } }),
    )
    .await;
    let shapeless = post(
        &app,
        json!({ "query": "{ __typename }", "extensions": { "persistedQuery": "yes" } }),
    )
    .await;

    assert_eq!(mismatch.0, 400);
    assert_eq!(code(&mismatch.1), Some("BAD_USER_INPUT"));
    assert_eq!(
        mismatch.1["errors"][0]["extensions"]["field"],
        "extensions.persistedQuery.sha256Hash"
    );
    assert_eq!(
        code(&later.1),
        Some("PERSISTED_QUERY_NOT_FOUND"),
        "the refused pair registered nothing"
    );
    assert_eq!(code(&version_two.1), Some("BAD_USER_INPUT"), "{version_two:?}");
    assert_eq!(code(&shapeless.1), Some("BAD_USER_INPUT"), "{shapeless:?}");
}

#[tokio::test]
async fn a_server_locked_to_its_trusted_documents_runs_nothing_else() {
    let directory = tempfile::tempdir().unwrap();
    let register = "mutation Register($input: RegisterInput!) { register(input: $input) { accessToken } }";
    let me = "query Me { me { username } }";
    let watch = "subscription Watch { callLogged { id } }";
    // graphql-codegen's client preset writes { "<sha256>": "<document>" }.
    let manifest = json!({ sha256(register): register, sha256(me): me, sha256(watch): watch });
    let path = directory.path().join("persisted-documents.json");
    std::fs::write(&path, manifest.to_string()).unwrap();
    let app = TestApp::spawn_with(|config| {
        config.trusted_documents = Some(path.clone());
        config.trusted_documents_only = true;
    })
    .await;

    let signed_up = post(
        &app,
        json!({ "extensions": persisted(&sha256(register)),
                "variables": { "input": { "username": "alice", "password": "correct horse battery" } } }),
    )
    .await;
    let token = signed_up.1["data"]["register"]["accessToken"]
        .as_str()
        .expect("a trusted document runs by hash")
        .to_owned();
    let by_text = app.gql_as(Some(&token), me, json!({})).await;
    let other = post(
        &app,
        json!({ "query": "mutation { register(input: { username: \"mallory\", password: \"correct horse battery\" }) { accessToken } }" }),
    )
    .await;
    let registering = post(
        &app,
        json!({ "query": "{ __typename }", "extensions": persisted(&sha256("{ __typename }")) }),
    )
    .await;
    let mallory = post(
        &app,
        json!({ "extensions": persisted(&sha256(register)),
                "variables": { "input": { "username": "mallory", "password": "correct horse battery" } } }),
    )
    .await;
    let mut socket = WsClient::acknowledged(&app, Some(&token)).await;
    socket
        .subscribe("untrusted", "subscription { callLogged { id startedAt } }", json!({}))
        .await;
    let untrusted = socket.arrival(Duration::from_secs(10)).await;
    socket
        .send(json!({ "id": "trusted", "type": "subscribe",
                      "payload": { "extensions": persisted(&sha256(watch)) } }))
        .await;
    let trusted = socket.arrival(Duration::from_millis(500)).await;

    assert_eq!(
        by_text.data("me")["username"],
        "alice",
        "a trusted document also runs by its text"
    );
    assert_eq!(code(&other.1), Some("FORBIDDEN"), "{other:?}");
    assert_eq!(
        code(&registering.1),
        Some("FORBIDDEN"),
        "no automatic registration: {registering:?}"
    );
    assert!(
        mallory.1["data"]["register"]["accessToken"].is_string(),
        "the refused register wrote nothing, so the name is still free: {mallory:?}"
    );
    let Arrival::Message(untrusted) = untrusted else {
        panic!("expected an error, got {untrusted:?}");
    };
    assert_eq!(untrusted["type"], "error", "{untrusted}");
    assert_eq!(untrusted["payload"][0]["extensions"]["code"], "FORBIDDEN");
    assert_eq!(
        trusted,
        Arrival::Quiet,
        "the trusted subscription runs, waiting for calls"
    );
}
