//! Registration, sign-in, `me`, refresh rotation and logout.

use serde_json::{Value, json};

use crate::helpers::{LOGIN, REGISTER, TestApp};

const ME: &str = "{ me { id username email contactNumber isStaff createdAt } }";
const REFRESH: &str =
    "mutation($token: String!) { refresh(refreshToken: $token) { accessToken refreshToken user { username } } }";
const LOGOUT: &str = "mutation($token: String!) { logout(refreshToken: $token) }";

#[tokio::test]
async fn a_new_user_registers_logs_in_and_sees_themselves() {
    let app = TestApp::spawn().await;

    let registered = app
        .gql(
            REGISTER,
            json!({ "input": { "username": "Alice", "password": "a long password", "email": "alice@example.com", "contactNumber": "+44 20 7946 0958" } }),
        )
        .await;
    let login = app
        .gql(LOGIN, json!({ "username": "alice", "password": "a long password" }))
        .await;
    let token = login.data("login")["accessToken"].as_str().unwrap().to_owned();
    let me = app.gql_as(Some(&token), ME, json!({})).await;

    let payload = registered.data("register");
    assert_eq!(payload["tokenType"], "Bearer");
    assert_eq!(payload["expiresIn"], 15 * 60);
    assert_eq!(payload["user"]["contactNumber"], "+442079460958");
    assert_eq!(me.data("me")["username"], "Alice");
    assert_eq!(me.data("me")["email"], "alice@example.com");
    assert_eq!(me.data("me")["isStaff"], false);
    assert_eq!(me.data("me")["id"], payload["user"]["id"]);
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_answer() {
    let app = TestApp::spawn().await;
    app.signed_up("alice").await;

    let wrong_password = app
        .gql(LOGIN, json!({ "username": "alice", "password": "not-the-password" }))
        .await;
    let unknown_user = app
        .gql(LOGIN, json!({ "username": "nobody", "password": "alice-password" }))
        .await;

    wrong_password.assert_error("UNAUTHENTICATED", None);
    unknown_user.assert_error("UNAUTHENTICATED", None);
    assert_eq!(wrong_password.error_message(), unknown_user.error_message());
    assert_eq!(wrong_password.data_even_with_errors("login"), &Value::Null);
}

#[tokio::test]
async fn usernames_are_unique_whatever_their_case() {
    let app = TestApp::spawn().await;
    app.signed_up("alice").await;

    let again = app
        .gql(
            REGISTER,
            json!({ "input": { "username": "ALICE", "password": "another password" } }),
        )
        .await;

    again.assert_error("CONFLICT", Some("username"));
}

#[tokio::test]
async fn concurrent_registrations_of_one_name_give_one_account() {
    let app = TestApp::spawn().await;

    let attempts = (0..8).map(|i| {
        let name = if i % 2 == 0 { "racer" } else { "RACER" };
        app.gql(
            REGISTER,
            json!({ "input": { "username": name, "password": "a long password" } }),
        )
    });
    let responses = futures_util::future::join_all(attempts).await;

    let winners = responses.iter().filter(|r| r.error_code().is_none()).count();
    let conflicts = responses.iter().filter(|r| r.error_code() == Some("CONFLICT")).count();
    assert_eq!((winners, conflicts), (1, 7), "{responses:#?}");
}

#[tokio::test]
async fn bad_registrations_name_the_field_and_write_nothing() {
    let app = TestApp::spawn().await;
    let cases = [
        (json!({ "username": "ab", "password": "a long password" }), "username"),
        (
            json!({ "username": "has space", "password": "a long password" }),
            "username",
        ),
        (json!({ "username": "alice", "password": "short" }), "password"),
        (json!({ "username": "alice", "password": "x".repeat(129) }), "password"),
        (json!({ "username": "alice1234", "password": "ALICE1234" }), "password"),
        (
            json!({ "username": "alice", "password": "a long password", "email": "not-an-email" }),
            "email",
        ),
        (
            json!({ "username": "alice", "password": "a long password", "contactNumber": "12345" }),
            "contactNumber",
        ),
    ];

    for (input, field) in cases {
        let response = app.gql(REGISTER, json!({ "input": input })).await;
        response.assert_error("BAD_USER_INPUT", Some(field));
    }

    let nobody = app
        .gql(LOGIN, json!({ "username": "alice", "password": "a long password" }))
        .await;
    nobody.assert_error("UNAUTHENTICATED", None);
}

#[tokio::test]
async fn sign_up_can_be_closed() {
    let app = TestApp::spawn_with(|config| config.allow_signup = false).await;

    let response = app
        .gql(
            REGISTER,
            json!({ "input": { "username": "alice", "password": "a long password" } }),
        )
        .await;

    response.assert_error("FORBIDDEN", None);
}

#[tokio::test]
async fn me_needs_a_signed_in_user() {
    let app = TestApp::spawn().await;

    let response = app.gql(ME, json!({})).await;

    response.assert_error("UNAUTHENTICATED", None);
}

#[tokio::test]
async fn refresh_rotates_the_token_and_reuse_revokes_the_family() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;

    let first = app.gql(REFRESH, json!({ "token": alice.refresh_token })).await;
    let rotated = first.data("refresh")["refreshToken"].as_str().unwrap().to_owned();
    let reused = app.gql(REFRESH, json!({ "token": alice.refresh_token })).await;
    let after_theft = app.gql(REFRESH, json!({ "token": rotated })).await;

    assert_eq!(first.data("refresh")["user"]["username"], "alice");
    assert_ne!(rotated, alice.refresh_token);
    reused.assert_error("UNAUTHENTICATED", None);
    after_theft.assert_error("UNAUTHENTICATED", None);
}

#[tokio::test]
async fn a_refreshed_access_token_works() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;

    let refreshed = app.gql(REFRESH, json!({ "token": alice.refresh_token })).await;
    let token = refreshed.data("refresh")["accessToken"].as_str().unwrap().to_owned();
    let me = app.gql_as(Some(&token), ME, json!({})).await;

    assert_eq!(me.data("me")["username"], "alice");
}

#[tokio::test]
async fn logout_ends_the_session_and_other_sessions_live_on() {
    let app = TestApp::spawn().await;
    let phone = app.signed_up("alice").await;
    let laptop = app.logged_in("alice").await;

    let logged_out = app.gql(LOGOUT, json!({ "token": phone.refresh_token })).await;
    let twice = app.gql(LOGOUT, json!({ "token": phone.refresh_token })).await;
    let refresh_after = app.gql(REFRESH, json!({ "token": phone.refresh_token })).await;
    let other_session = app.gql(REFRESH, json!({ "token": laptop.refresh_token })).await;

    assert_eq!(logged_out.data("logout"), true);
    assert_eq!(twice.data("logout"), false);
    refresh_after.assert_error("UNAUTHENTICATED", None);
    assert_eq!(other_session.data("refresh")["user"]["username"], "alice");
}

#[tokio::test]
async fn an_unknown_refresh_token_is_refused() {
    let app = TestApp::spawn().await;

    let response = app.gql(REFRESH, json!({ "token": "made-up" })).await;

    response.assert_error("UNAUTHENTICATED", None);
}

#[tokio::test]
async fn repeated_sign_in_attempts_are_rate_limited_per_username() {
    let app = TestApp::spawn_with(|config| config.login_attempts_per_minute = 3).await;
    app.signed_up("alice").await;
    crate::attacks::clear_of_a_minute_boundary().await;
    let guess = |password: &'static str| app.gql(LOGIN, json!({ "username": "ALICE", "password": password }));

    for _ in 0..3 {
        guess("wrong guess").await.assert_error("UNAUTHENTICATED", None);
    }
    let limited = guess("alice-password").await;
    let someone_else = app
        .gql(LOGIN, json!({ "username": "bob", "password": "whatever1" }))
        .await;

    limited.assert_error("RATE_LIMITED", None);
    let retry_after = limited
        .body
        .pointer("/errors/0/extensions/retryAfter")
        .and_then(Value::as_u64)
        .unwrap();
    assert!((1..=60).contains(&retry_after), "retryAfter {retry_after}");
    someone_else.assert_error("UNAUTHENTICATED", None);
}

#[tokio::test]
async fn an_expired_refresh_token_is_refused() {
    let app = TestApp::spawn_with(|config| config.refresh_token_ttl = std::time::Duration::from_secs(1)).await;
    let alice = app.signed_up("alice").await;

    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let response = app.gql(REFRESH, json!({ "token": alice.refresh_token })).await;

    response.assert_error("UNAUTHENTICATED", None);
}
