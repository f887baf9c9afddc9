//! Account management for the signed-in user: sessions they can see and end,
//! password changes that end the other sessions, profile changes, deactivation.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{LOGIN, TestApp, TestUser};

const SESSIONS: &str = "{ mySessions { id createdAt lastUsedAt clientAddress userAgent current } }";
const REFRESH: &str = "mutation($t: String!) { refresh(refreshToken: $t) { accessToken } }";
const NUMBERS: &str = "{ myVirtualNumbers { totalCount } }";

/// Whether `user`'s access token is refused within the promised ten seconds.
async fn refused_within_ten_seconds(user: &TestUser<'_>) -> bool {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        if user.gql(NUMBERS, json!({})).await.status == 401 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    false
}

#[tokio::test]
async fn a_user_sees_their_sessions_and_ends_one() {
    let app = TestApp::spawn().await;
    let phone = app.signed_up("alice").await;
    let laptop = app.logged_in("alice").await;
    let bob = app.signed_up("bob").await;

    let listed = phone.gql(SESSIONS, json!({})).await;
    let sessions = listed.data("mySessions").as_array().unwrap().clone();
    let laptop_id = sessions.iter().find(|s| s["current"] == false).unwrap()["id"].clone();
    let by_bob = bob
        .gql("mutation($id: ID!) { endSession(id: $id) }", json!({ "id": laptop_id }))
        .await;
    let ended = phone
        .gql("mutation($id: ID!) { endSession(id: $id) }", json!({ "id": laptop_id }))
        .await;
    let again = phone
        .gql("mutation($id: ID!) { endSession(id: $id) }", json!({ "id": laptop_id }))
        .await;
    let laptop_refresh = app.gql(REFRESH, json!({ "t": laptop.refresh_token })).await;

    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    assert_eq!(sessions[0]["clientAddress"], "127.0.0.1");
    by_bob.assert_error("NOT_FOUND", None);
    assert_eq!(ended.data("endSession"), true);
    again.assert_error("NOT_FOUND", None);
    laptop_refresh.assert_error("UNAUTHENTICATED", None);
    assert!(refused_within_ten_seconds(&laptop).await);
    assert_eq!(phone.gql(NUMBERS, json!({})).await.status, 200);
}

#[tokio::test]
async fn changing_the_password_ends_the_other_sessions_and_keeps_this_one() {
    let app = TestApp::spawn().await;
    let phone = app.signed_up("alice").await;
    let laptop = app.logged_in("alice").await;
    let change = "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }";

    let wrong = phone
        .gql(change, json!({ "c": "not-my-password", "n": "a-brand-new-secret" }))
        .await;
    let common = phone
        .gql(change, json!({ "c": "alice-password", "n": "password123" }))
        .await;
    let changed = phone
        .gql(change, json!({ "c": "alice-password", "n": "a-brand-new-secret" }))
        .await;
    let laptop_refresh = app.gql(REFRESH, json!({ "t": laptop.refresh_token })).await;
    let old = app
        .gql(LOGIN, json!({ "username": "alice", "password": "alice-password" }))
        .await;
    let new = app
        .gql(LOGIN, json!({ "username": "alice", "password": "a-brand-new-secret" }))
        .await;
    let anonymous = app.gql(change, json!({ "c": "x", "n": "y" })).await;

    wrong.assert_error("BAD_USER_INPUT", Some("currentPassword"));
    common.assert_error("BAD_USER_INPUT", Some("newPassword"));
    assert_eq!(changed.data("changePassword"), true);
    laptop_refresh.assert_error("UNAUTHENTICATED", None);
    old.assert_error("UNAUTHENTICATED", None);
    assert!(new.data("login")["accessToken"].is_string());
    anonymous.assert_error("UNAUTHENTICATED", None);
    assert!(refused_within_ten_seconds(&laptop).await);
    assert_eq!(phone.gql(NUMBERS, json!({})).await.status, 200);
}

#[tokio::test]
async fn a_user_updates_their_profile_with_the_rules_of_sign_up() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let update = "mutation($i: UpdateMeInput!) { updateMe(input: $i) { email contactNumber } }";

    let bad_email = alice.gql(update, json!({ "i": { "email": "not-an-email" } })).await;
    let bad_number = alice.gql(update, json!({ "i": { "contactNumber": "12345" } })).await;
    let set = alice
        .gql(
            update,
            json!({ "i": { "email": "alice@example.com", "contactNumber": "+1 201 555 0123" } }),
        )
        .await;
    let cleared = alice.gql(update, json!({ "i": { "email": null } })).await;

    bad_email.assert_error("BAD_USER_INPUT", Some("email"));
    bad_number.assert_error("BAD_USER_INPUT", Some("contactNumber"));
    assert_eq!(
        set.data("updateMe"),
        &json!({ "email": "alice@example.com", "contactNumber": "+12015550123" })
    );
    assert_eq!(
        cleared.data("updateMe"),
        &json!({ "email": null, "contactNumber": "+12015550123" })
    );
}

#[tokio::test]
async fn deactivating_releases_the_numbers_ends_every_session_and_keeps_the_logs() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number("+12015550123").await;
    alice
        .records_call(
            json!({ "virtualNumberId": number, "direction": "INBOUND", "callerNumber": "+14155550100",
            "calledNumber": "+12015550123", "durationSeconds": 60 }),
        )
        .await;
    let boss = app.signed_up_staff("boss").await;
    let deactivate = "mutation($p: String!) { deactivateMe(password: $p) }";

    let wrong = alice.gql(deactivate, json!({ "p": "not-my-password" })).await;
    let done = alice.gql(deactivate, json!({ "p": "alice-password" })).await;
    let sign_in = app
        .gql(LOGIN, json!({ "username": "alice", "password": "alice-password" }))
        .await;
    let refresh = app.gql(REFRESH, json!({ "t": alice.refresh_token })).await;
    let bob = app.signed_up("bob").await;
    let taken = bob.creates_number("+12015550123").await;
    let logs = boss.gql("{ callLogs { totalCount } }", json!({})).await;

    wrong.assert_error("BAD_USER_INPUT", Some("password"));
    assert_eq!(done.data("deactivateMe"), true);
    sign_in.assert_error("UNAUTHENTICATED", None);
    refresh.assert_error("UNAUTHENTICATED", None);
    assert!(!taken.is_empty());
    assert_eq!(logs.data("callLogs")["totalCount"], 1);
    assert!(refused_within_ten_seconds(&alice).await);
}

#[tokio::test]
async fn logout_everywhere_ends_every_session_and_staff_may_end_a_users() {
    let app = TestApp::spawn().await;
    let phone = app.signed_up("alice").await;
    let laptop = app.logged_in("alice").await;
    let bob = app.signed_up("bob").await;
    let bob_tablet = app.logged_in("bob").await;
    let boss = app.signed_up_staff("boss").await;
    let everywhere = "mutation($u: ID) { logoutEverywhere(userId: $u) }";

    let by_alice = phone.gql(everywhere, json!({})).await;
    let alice_on_bob = laptop.gql(everywhere, json!({ "u": bob.id })).await;
    let by_staff = boss.gql(everywhere, json!({ "u": bob.id })).await;

    assert_eq!(by_alice.data("logoutEverywhere"), 2);
    assert!(alice_on_bob.body.get("errors").is_some(), "{}", alice_on_bob.body);
    assert_eq!(by_staff.data("logoutEverywhere"), 2);
    for user in [&phone, &laptop, &bob, &bob_tablet] {
        assert!(refused_within_ten_seconds(user).await);
    }
    let refreshed: Value = app.gql(REFRESH, json!({ "t": bob_tablet.refresh_token })).await.body;
    assert!(refreshed.get("errors").is_some());
}
