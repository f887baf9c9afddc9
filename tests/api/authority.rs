//! Authority comes from the database, not from the token: deactivation,
//! demotion and ended sessions take access away on every path within seconds;
//! a rotated-out signing secret keeps working only while it is configured.

use std::time::{Duration, Instant};

use base64::Engine;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};

use crate::helpers::{CREATE_NUMBER, TEST_SECRET, TestApp, TestUser, VIRTUAL_NUMBER};

const ME: &str = "{ me { username isStaff } }";
/// The server promises that what the database takes away is gone within this.
const PROMISE: Duration = Duration::from_secs(10);

async fn execute(app: &TestApp, sql: &str) {
    let db = Database::connect(&app.database_url).await.unwrap();
    db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap();
    db.close().await.unwrap();
}

/// Waits until `query` as `user` stops answering as before; returns how long it took.
async fn until_refused(
    user: &TestUser<'_>,
    query: &str,
    variables: Value,
    refused: impl Fn(&Value) -> bool,
) -> Duration {
    let started = Instant::now();
    loop {
        let response = user.gql(query, variables.clone()).await;
        if refused(&response.body) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < PROMISE,
            "still answered after {PROMISE:?}: {}",
            response.body
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn unauthenticated(body: &Value) -> bool {
    body.pointer("/errors/0/extensions/code").and_then(Value::as_str) == Some("UNAUTHENTICATED")
}

#[tokio::test]
async fn a_user_deactivated_in_the_database_loses_every_path_within_ten_seconds() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number("+12015550123").await;

    execute(&app, "UPDATE users SET is_active = false WHERE username = 'alice'").await;
    let waited = until_refused(
        &alice,
        "{ myVirtualNumbers { totalCount } }",
        json!({}),
        unauthenticated,
    )
    .await;
    let me = alice.gql(ME, json!({})).await;
    let mutation = alice
        .gql(CREATE_NUMBER, json!({ "input": { "phoneNumber": "+12015550124" } }))
        .await;
    let lookup = alice.gql(VIRTUAL_NUMBER, json!({ "id": number })).await;
    let node = alice
        .gql("query($id: ID!) { node(id: $id) { id } }", json!({ "id": number }))
        .await;

    assert!(waited < PROMISE);
    for response in [&me, &mutation, &lookup, &node] {
        assert_eq!(response.status, 401, "{}", response.body);
        response.assert_error("UNAUTHENTICATED", None);
    }
    execute(&app, "UPDATE users SET is_active = true WHERE username = 'alice'").await;
    let numbers = app
        .logged_in("alice")
        .await
        .gql("{ myVirtualNumbers { totalCount } }", json!({}))
        .await;
    assert_eq!(numbers.data("myVirtualNumbers")["totalCount"], 1, "nothing was written");
}

#[tokio::test]
async fn a_demoted_staff_user_stops_seeing_other_users_numbers() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number("+12015550123").await;
    let boss = app.signed_up_staff("boss").await;
    let before = boss.gql(VIRTUAL_NUMBER, json!({ "id": number })).await;

    execute(&app, "UPDATE users SET is_staff = false WHERE username = 'boss'").await;
    let waited = until_refused(&boss, VIRTUAL_NUMBER, json!({ "id": number }), |body| {
        body["data"]["virtualNumber"].is_null()
    })
    .await;
    let me = boss.gql(ME, json!({})).await;

    assert_eq!(before.data("virtualNumber")["phoneNumber"], "+12015550123");
    assert!(waited < PROMISE);
    assert_eq!(me.data("me")["isStaff"], false);
}

#[tokio::test]
async fn logging_out_ends_that_sessions_access_tokens_and_no_other() {
    let app = TestApp::spawn().await;
    let phone = app.signed_up("alice").await;
    let laptop = app.logged_in("alice").await;

    let logout = app
        .gql(
            "mutation($t: String!) { logout(refreshToken: $t) }",
            json!({ "t": phone.refresh_token }),
        )
        .await;
    let waited = until_refused(
        &phone,
        "{ myVirtualNumbers { totalCount } }",
        json!({}),
        unauthenticated,
    )
    .await;
    let other = laptop.gql(ME, json!({})).await;

    assert_eq!(logout.data("logout"), true);
    assert!(waited < PROMISE);
    assert_eq!(other.data("me")["username"], "alice");
}

/// The claims of a real token, signed again with `secret` and no `kid`.
fn resigned(token: &str, secret: &str) -> String {
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    let claims: Value = serde_json::from_slice(&bytes).unwrap();
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

#[tokio::test]
async fn a_rotated_out_secret_verifies_while_configured_and_never_signs() {
    const NEW: &str = "the-new-signing-secret-of-at-least-32-bytes";
    let rotating = TestApp::spawn_with(|config| {
        config.jwt_secret = Some(NEW.to_owned());
        config.jwt_secret_previous = Some(TEST_SECRET.to_owned());
    })
    .await;
    let rotated = TestApp::spawn_with(|config| config.jwt_secret = Some(NEW.to_owned())).await;
    let during = rotating.signed_up("alice").await;
    let after = rotated.signed_up("alice").await;

    let old_during = rotating
        .gql_with_authorization(&format!("Bearer {}", resigned(&during.access_token, TEST_SECRET)), ME)
        .await;
    let old_after = rotated
        .gql_with_authorization(&format!("Bearer {}", resigned(&after.access_token, TEST_SECRET)), ME)
        .await;
    let new_during = during.gql(ME, json!({})).await;

    assert_eq!(old_during.data("me")["username"], "alice");
    assert_eq!(old_after.status, 401);
    assert_eq!(new_during.data("me")["username"], "alice");
}

#[tokio::test]
async fn a_common_password_is_refused_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let register = "mutation($p: String!) { register(input: { username: \"carol\", password: $p }) { accessToken } }";

    let common = app.gql(register, json!({ "p": "password123" })).await;
    let sign_in = app
        .gql(
            crate::helpers::LOGIN,
            json!({ "username": "carol", "password": "password123" }),
        )
        .await;

    common.assert_error("BAD_USER_INPUT", Some("password"));
    assert!(common.error_message().contains("most common"), "{}", common.body);
    sign_in.assert_error("UNAUTHENTICATED", None);
}

#[tokio::test]
async fn a_hash_made_with_weaker_parameters_is_replaced_at_sign_in() {
    use argon2::{Algorithm, Argon2, Params, PasswordHasher, Version, password_hash::SaltString};
    let app = TestApp::spawn().await;
    app.signed_up("alice").await;
    let salt = SaltString::encode_b64(b"sixteen byte salt").unwrap();
    let weak = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(8 * 1024, 1, 1, None).unwrap(),
    )
    .hash_password(b"alice-password", &salt)
    .unwrap()
    .to_string();
    execute(
        &app,
        &format!("UPDATE users SET password_hash = '{weak}' WHERE username = 'alice'"),
    )
    .await;

    let signed_in = app.logged_in("alice").await;
    let db = Database::connect(&app.database_url).await.unwrap();
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT password_hash FROM users WHERE username = 'alice'",
        ))
        .await
        .unwrap()
        .unwrap();
    let stored: String = row.try_get("", "password_hash").unwrap();

    assert!(!signed_in.access_token.is_empty());
    assert!(stored.contains("m=19456,t=2,p=1"), "{stored}");
    assert_ne!(stored, weak);
}

/// A valid credential whose standing cannot be read (the database is gone) is
/// not an invalid one: 503 with `Retry-After` over HTTP and 1011 on a socket,
/// so clients keep their tokens and retry instead of signing their user out.
#[tokio::test]
async fn a_credential_the_database_cannot_check_is_unavailable_not_unauthenticated() {
    let (app, pool) = TestApp::spawn_keeping_pool().await;
    app.signed_up("alice").await;
    // Fresh sessions, never looked up, so no cached answer stands in for the database.
    let over_http = app.logged_in("alice").await;
    let over_socket = app.logged_in("alice").await;
    let bad_token = "Bearer not-a-token";

    // Closing waits for every connection to come back, and a feed's LISTEN
    // connection never does: the pool refuses new work as soon as closing starts.
    tokio::spawn(pool.close());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let response = app
        .client()
        .post(format!("{}/graphql", app.address))
        .bearer_auth(&over_http.access_token)
        .json(&json!({ "query": ME }))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let retry_after = response.headers().get("retry-after").cloned();
    let authenticate = response.headers().get("www-authenticate").cloned();
    let body: Value = response.json().await.unwrap();
    let forged = app.gql_with_authorization(bad_token, ME).await;
    let mut socket = crate::helpers::WsClient::connect(&app).await;
    socket
        .send(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {}", over_socket.access_token) } }))
        .await;
    let closed = socket.arrival(Duration::from_secs(10)).await;

    assert_eq!(status, 503, "{body}");
    assert_eq!(retry_after.unwrap(), "1");
    assert!(authenticate.is_none());
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "INTERNAL_SERVER_ERROR",
        "{body}"
    );
    assert_eq!(body["errors"][0]["message"], "internal error");
    assert_eq!(forged.status, 401, "{}", forged.body);
    assert_eq!(closed, crate::helpers::Arrival::Closed(1011));
}
