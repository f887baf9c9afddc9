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

#[tokio::test]
async fn a_rotation_that_fails_halfway_leaves_the_presented_token_working() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let database = refuse_new_refresh_tokens(&app).await;

    let failed = app.gql(REFRESH, json!({ "token": alice.refresh_token })).await;
    allow_new_refresh_tokens(&database).await;
    let retried = app.gql(REFRESH, json!({ "token": alice.refresh_token })).await;

    failed.assert_error("INTERNAL_SERVER_ERROR", None);
    assert_eq!(retried.data("refresh")["user"]["username"], "alice");
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_have_one_winner_whose_token_lives_on() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let busy_database = hold_every_refresh_token(&app).await;

    let attempts = (0..20).map(|_| app.gql(REFRESH, json!({ "token": alice.refresh_token })));
    let (responses, ()) = tokio::join!(futures_util::future::join_all(attempts), async {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        busy_database.commit().await.unwrap();
    });
    let winner = responses.iter().find(|r| r.error_code().is_none()).expect("one winner");
    let winning_token = winner.data("refresh")["refreshToken"].as_str().unwrap().to_owned();
    let next = app.gql(REFRESH, json!({ "token": winning_token })).await;

    let winners = responses.iter().filter(|r| r.error_code().is_none()).count();
    let refused = responses
        .iter()
        .filter(|r| r.error_code() == Some("UNAUTHENTICATED"))
        .count();
    assert_eq!((winners, refused), (1, 19), "{responses:#?}");
    assert_eq!(next.data("refresh")["user"]["username"], "alice");
}

// A write that holds every refresh token (and, on SQLite, the database) until
// committed: the server's rotation waits behind it as behind a busy database,
// so all twenty requests are surely in flight before any is answered. (One sent
// after the winner's answer came back would be a replay, rightly ending the family.)
async fn hold_every_refresh_token(app: &TestApp) -> sea_orm::DatabaseTransaction {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let database = sea_orm::Database::connect(&app.database_url).await.unwrap();
    let transaction = database.begin().await.unwrap();
    transaction
        .execute_unprepared("UPDATE refresh_tokens SET expires_at = expires_at")
        .await
        .unwrap();
    transaction
}

// A trigger stands in for the database failing between the two writes of a
// rotation (a dropped connection, a full disk).
async fn refuse_new_refresh_tokens(app: &TestApp) -> sea_orm::DatabaseConnection {
    use sea_orm::{ConnectionTrait, DbBackend};
    let database = sea_orm::Database::connect(&app.database_url).await.unwrap();
    let refuse = match database.get_database_backend() {
        DbBackend::Postgres => {
            "CREATE FUNCTION refuse_insert() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN RAISE EXCEPTION 'injected failure'; END $$;
             CREATE TRIGGER refuse_new_refresh_tokens BEFORE INSERT ON refresh_tokens
               FOR EACH ROW EXECUTE FUNCTION refuse_insert();"
        }
        _ => {
            "CREATE TRIGGER refuse_new_refresh_tokens BEFORE INSERT ON refresh_tokens
               BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"
        }
    };
    database.execute_unprepared(refuse).await.unwrap();
    database
}

async fn allow_new_refresh_tokens(database: &sea_orm::DatabaseConnection) {
    use sea_orm::{ConnectionTrait, DbBackend};
    let allow = match database.get_database_backend() {
        DbBackend::Postgres => "DROP TRIGGER refuse_new_refresh_tokens ON refresh_tokens",
        _ => "DROP TRIGGER refuse_new_refresh_tokens",
    };
    database.execute_unprepared(allow).await.unwrap();
}
