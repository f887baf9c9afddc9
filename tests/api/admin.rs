//! Staff administration: listing, creating and changing users, resetting
//! passwords; each admin operation allowed for staff and refused to everyone
//! else with nothing written; every action on record in an audit log that no
//! one can edit, not even with SQL.

use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};

use crate::helpers::{LOGIN, TestApp, TestUser, Walk, ids_of_pages};

const USERS: &str = "query($first: Int, $after: String, $last: Int, $before: String, $filter: UserFilter) {
    users(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
      totalCount edges { cursor node { id username email isStaff isActive } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";
const AUDIT: &str = "query($first: Int, $after: String, $last: Int, $before: String, $filter: AuditEventFilter) {
    auditEvents(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
      totalCount edges { cursor node { id action actor { id username } subjectId subject { username }
      details clientAddress createdAt } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";
const CREATE: &str = "mutation($input: CreateUserInput!) { createUser(input: $input) {
    id username email contactNumber isStaff isActive } }";
const UPDATE: &str = "mutation($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) {
    id username email contactNumber isStaff isActive } }";
const RESET: &str = "mutation($id: ID!, $p: String!) { resetPassword(id: $id, newPassword: $p) }";
const EVERYWHERE: &str = "mutation($u: ID) { logoutEverywhere(userId: $u) }";
const NODE: &str = "query($id: ID!) { node(id: $id) { id ... on User { username } ... on AuditEvent { action } } }";
const REFRESH: &str = "mutation($t: String!) { refresh(refreshToken: $t) { accessToken } }";
const ME: &str = "{ me { username isActive } }";

/// The audit log as `staff` reads it, newest first (reading it is not itself recorded).
async fn audit_log(staff: &TestUser<'_>) -> Vec<Value> {
    let response = staff.gql(AUDIT, json!({ "first": 100 })).await;
    let log = response.data("auditEvents");
    log["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| edge["node"].clone())
        .collect()
}

/// How many users there are, counted straight from the database (a `users` query would be on record).
async fn user_rows(app: &TestApp) -> i64 {
    let db = Database::connect(&app.database_url).await.unwrap();
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM users",
        ))
        .await
        .unwrap()
        .unwrap();
    db.close().await.unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

/// Runs raw SQL and returns the database's answer.
async fn execute(app: &TestApp, sql: &str) -> Result<(), String> {
    let db = Database::connect(&app.database_url).await.unwrap();
    let result = db
        .execute_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .map(|_| ())
        .map_err(|error| error.to_string());
    db.close().await.unwrap();
    result
}

/// Whether `user`'s access token is refused within the promised ten seconds.
async fn refused_within_ten_seconds(user: &TestUser<'_>) -> bool {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        if user.gql(ME, json!({})).await.status == 401 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    false
}

/// The global id of a user who does not exist.
fn nobody() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("User:{}", uuid::Uuid::now_v7()))
}

fn details(event: &Value) -> Value {
    serde_json::from_str(event["details"].as_str().unwrap()).unwrap()
}

fn usernames(response: &crate::helpers::GqlResponse) -> Vec<String> {
    response.data("users")["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| edge["node"]["username"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn staff_list_filter_and_page_users_and_each_list_is_on_record() {
    let app = TestApp::spawn().await;
    let boss = app.signed_up_staff("boss").await;
    let alice = app.signed_up("alice").await;
    app.signed_up("bob").await;
    app.signed_up("al_bundy").await;
    alice
        .gql(
            "mutation { updateMe(input: { email: \"ALI@example.com\" }) { email } }",
            json!({}),
        )
        .await;

    let all = boss.gql(USERS, json!({})).await;
    let search = boss.gql(USERS, json!({ "filter": { "search": "aL" } })).await;
    let by_email = boss.gql(USERS, json!({ "filter": { "search": "ali@EXAMPLE" } })).await;
    let underscore = boss.gql(USERS, json!({ "filter": { "search": "l_b" } })).await;
    let wildcard = boss.gql(USERS, json!({ "filter": { "search": "a_i" } })).await;
    let percent = boss.gql(USERS, json!({ "filter": { "search": "%" } })).await;
    let staff_only = boss.gql(USERS, json!({ "filter": { "isStaff": true } })).await;
    let inactive = boss.gql(USERS, json!({ "filter": { "isActive": false } })).await;
    let forward = boss.walks_pages(USERS, "users", Walk::Forward(1)).await;
    let backward = boss.walks_pages(USERS, "users", Walk::Backward(3)).await;
    let too_long = boss
        .gql(USERS, json!({ "filter": { "search": "x".repeat(151) } }))
        .await;
    let log = audit_log(&boss).await;

    assert_eq!(usernames(&all), ["boss", "alice", "bob", "al_bundy"]);
    assert_eq!(all.data("users")["totalCount"], 4);
    assert_eq!(usernames(&search), ["alice", "al_bundy"]);
    assert_eq!(usernames(&by_email), ["alice"]);
    assert_eq!(usernames(&underscore), ["al_bundy"], "`_` is no wildcard");
    assert!(usernames(&wildcard).is_empty(), "`_` matches only itself");
    assert!(usernames(&percent).is_empty(), "`%` is no wildcard");
    assert_eq!(usernames(&staff_only), ["boss"]);
    assert!(usernames(&inactive).is_empty());
    assert_eq!(ids_of_pages(&forward), ids_of_pages(&backward));
    assert_eq!(forward.len(), 4);
    too_long.assert_error("BAD_USER_INPUT", Some("search"));
    let lists = 8 + forward.len() + backward.len();
    assert_eq!(log.len(), lists, "one event per list request, none for a refused one");
    assert!(log.iter().all(|event| event["action"] == "USERS_LIST"));
    assert_eq!(details(&log[lists - 2])["filter"]["search"], "al");
    assert_eq!(log[0]["actor"]["username"], "boss");
    assert_eq!(log[0]["subjectId"], Value::Null);
}

#[tokio::test]
async fn staff_create_a_user_who_can_then_sign_in_with_the_rules_of_sign_up() {
    let app = TestApp::spawn_with(|config| config.allow_signup = false).await;
    let boss = app.signed_up_staff("boss").await;
    let input = |username: &str, password: &str| {
        json!({ "input": { "username": username, "password": password, "email": "carol@example.com",
            "contactNumber": "+1 201 555 0123" } })
    };

    let created = boss.gql(CREATE, input("carol", "carol-password")).await;
    let duplicate = boss.gql(CREATE, input("CAROL", "carol-password")).await;
    let common = boss.gql(CREATE, input("dave", "password123")).await;
    let bad_name = boss.gql(CREATE, input("a b", "dave-password")).await;
    let colleague = boss
        .gql(
            CREATE,
            json!({ "input": { "username": "erin", "password": "erin-password", "isStaff": true } }),
        )
        .await;
    let carol = app.logged_in("carol").await;
    let log = audit_log(&boss).await;

    let user = created.data("createUser");
    assert_eq!(user["username"], "carol");
    assert_eq!(user["contactNumber"], "+12015550123");
    assert_eq!(
        (user["isStaff"].clone(), user["isActive"].clone()),
        (json!(false), json!(true))
    );
    duplicate.assert_error("CONFLICT", Some("username"));
    common.assert_error("BAD_USER_INPUT", Some("password"));
    bad_name.assert_error("BAD_USER_INPUT", Some("username"));
    assert_eq!(colleague.data("createUser")["isStaff"], true);
    assert_eq!(carol.gql(ME, json!({})).await.data("me")["username"], "carol");
    assert_eq!(log.len(), 2, "only the two accounts opened are on record: {log:?}");
    assert_eq!(log[1]["action"], "USER_CREATE");
    assert_eq!(log[1]["actor"]["username"], "boss");
    assert_eq!(log[1]["subjectId"], user["id"]);
    assert_eq!(log[1]["subject"]["username"], "carol");
    assert_eq!(log[1]["clientAddress"], "127.0.0.1");
    assert_eq!(details(&log[1]), json!({ "username": "carol", "isStaff": false }));
    assert!(!log[1]["details"].as_str().unwrap().contains("password"));
}

#[tokio::test]
async fn a_deactivated_user_loses_their_sessions_and_reactivation_lets_them_back() {
    let app = TestApp::spawn().await;
    let boss = app.signed_up_staff("boss").await;
    let alice = app.signed_up("alice").await;
    let laptop = app.logged_in("alice").await;

    let deactivated = boss
        .gql(UPDATE, json!({ "id": alice.id, "input": { "isActive": false } }))
        .await;
    let sign_in = app
        .gql(LOGIN, json!({ "username": "alice", "password": "alice-password" }))
        .await;
    let refresh = app.gql(REFRESH, json!({ "t": laptop.refresh_token })).await;
    let listed = boss.gql(USERS, json!({ "filter": { "isActive": false } })).await;
    let reactivated = boss
        .gql(UPDATE, json!({ "id": alice.id, "input": { "isActive": true } }))
        .await;
    let again = app.logged_in("alice").await;
    let log = audit_log(&boss).await;

    assert_eq!(deactivated.data("updateUser")["isActive"], false);
    sign_in.assert_error("UNAUTHENTICATED", None);
    refresh.assert_error("UNAUTHENTICATED", None);
    assert_eq!(usernames(&listed), ["alice"]);
    assert_eq!(reactivated.data("updateUser")["isActive"], true);
    assert!(refused_within_ten_seconds(&alice).await);
    assert!(
        refused_within_ten_seconds(&laptop).await,
        "reactivation revives no old session"
    );
    assert_eq!(again.gql(ME, json!({})).await.data("me")["isActive"], true);
    let updates: Vec<&Value> = log.iter().filter(|e| e["action"] == "USER_UPDATE").collect();
    assert_eq!(updates.len(), 2);
    assert_eq!(details(updates[1]), json!({ "isActive": false, "sessionsEnded": 2 }));
    assert_eq!(details(updates[0]), json!({ "isActive": true }));
    assert!(updates.iter().all(|e| e["subjectId"] == json!(alice.id)));
}

#[tokio::test]
async fn staff_promote_a_user_and_set_and_clear_their_contact_details() {
    let app = TestApp::spawn().await;
    let boss = app.signed_up_staff("boss").await;
    let alice = app.signed_up("alice").await;
    let before = alice.gql(USERS, json!({})).await;

    let set = boss
        .gql(
            UPDATE,
            json!({ "id": alice.id, "input": { "email": "alice@example.com", "contactNumber": "+44 20 7946 0958" } }),
        )
        .await;
    let bad = boss
        .gql(UPDATE, json!({ "id": alice.id, "input": { "email": "not-an-email" } }))
        .await;
    let cleared = boss
        .gql(UPDATE, json!({ "id": alice.id, "input": { "email": null } }))
        .await;
    let promoted = boss
        .gql(UPDATE, json!({ "id": alice.id, "input": { "isStaff": true } }))
        .await;
    let missing = boss
        .gql(UPDATE, json!({ "id": nobody(), "input": { "isStaff": true } }))
        .await;
    let log = audit_log(&boss).await;

    before.assert_error("FORBIDDEN", None);
    assert_eq!(set.data("updateUser")["email"], "alice@example.com");
    assert_eq!(set.data("updateUser")["contactNumber"], "+442079460958");
    bad.assert_error("BAD_USER_INPUT", Some("email"));
    assert_eq!(cleared.data("updateUser")["email"], Value::Null);
    assert_eq!(cleared.data("updateUser")["contactNumber"], "+442079460958");
    assert_eq!(promoted.data("updateUser")["isStaff"], true);
    missing.assert_error("NOT_FOUND", None);
    assert_eq!(
        log.iter().map(details).collect::<Vec<_>>(),
        [
            json!({ "isStaff": true }),
            json!({ "email": "cleared" }),
            json!({ "email": "set", "contactNumber": "set" }),
        ],
        "newest first, personal data only as set or cleared"
    );
    // The promotion reaches alice's own token within the authority's few seconds.
    let started = Instant::now();
    loop {
        let now = alice.gql(USERS, json!({})).await;
        if now.body.get("errors").is_none() {
            assert_eq!(now.data("users")["totalCount"], 2);
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{}", now.body);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn a_reset_password_replaces_the_old_one_and_ends_every_session() {
    let app = TestApp::spawn().await;
    let boss = app.signed_up_staff("boss").await;
    let alice = app.signed_up("alice").await;

    let common = boss.gql(RESET, json!({ "id": alice.id, "p": "password123" })).await;
    let reset = boss
        .gql(RESET, json!({ "id": alice.id, "p": "a-brand-new-secret" }))
        .await;
    let old = app
        .gql(LOGIN, json!({ "username": "alice", "password": "alice-password" }))
        .await;
    let new = app
        .gql(LOGIN, json!({ "username": "alice", "password": "a-brand-new-secret" }))
        .await;
    let refresh = app.gql(REFRESH, json!({ "t": alice.refresh_token })).await;
    let log = audit_log(&boss).await;

    common.assert_error("BAD_USER_INPUT", Some("newPassword"));
    assert_eq!(reset.data("resetPassword"), true);
    old.assert_error("UNAUTHENTICATED", None);
    assert!(new.data("login")["accessToken"].is_string());
    refresh.assert_error("UNAUTHENTICATED", None);
    assert!(refused_within_ten_seconds(&alice).await);
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["action"], "USER_RESET_PASSWORD");
    assert_eq!(log[0]["subjectId"], json!(alice.id));
    assert_eq!(details(&log[0]), json!({ "sessionsEnded": 1 }));
}

#[tokio::test]
async fn staff_may_not_deactivate_or_demote_themselves() {
    let app = TestApp::spawn().await;
    let boss = app.signed_up_staff("boss").await;

    let deactivate = boss
        .gql(UPDATE, json!({ "id": boss.id, "input": { "isActive": false } }))
        .await;
    let demote = boss
        .gql(UPDATE, json!({ "id": boss.id, "input": { "isStaff": false } }))
        .await;
    let own_email = boss
        .gql(
            UPDATE,
            json!({ "id": boss.id, "input": { "email": "boss@example.com" } }),
        )
        .await;
    let me = boss.gql("{ me { isStaff isActive email } }", json!({})).await;
    let log = audit_log(&boss).await;

    deactivate.assert_error("BAD_USER_INPUT", Some("isActive"));
    demote.assert_error("BAD_USER_INPUT", Some("isStaff"));
    assert_eq!(own_email.data("updateUser")["email"], "boss@example.com");
    assert_eq!(
        me.data("me"),
        &json!({ "isStaff": true, "isActive": true, "email": "boss@example.com" })
    );
    assert_eq!(log.len(), 1, "only the change that happened is on record");
}

#[tokio::test]
async fn every_admin_operation_is_refused_to_others_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let boss = app.signed_up_staff("boss").await;
    let alice = app.signed_up("alice").await;
    let bob = app.signed_up("bob").await;
    boss.gql(UPDATE, json!({ "id": bob.id, "input": { "email": "bob@example.com" } }))
        .await;
    let event = audit_log(&boss).await[0]["id"].clone();
    let users_before = user_rows(&app).await;
    let operations = [
        (USERS, json!({}), "users"),
        (AUDIT, json!({}), "auditEvents"),
        (
            CREATE,
            json!({ "input": { "username": "mallory", "password": "mallory-password", "isStaff": true } }),
            "createUser",
        ),
        (
            UPDATE,
            json!({ "id": bob.id, "input": { "isStaff": true, "email": null } }),
            "updateUser",
        ),
        (
            UPDATE,
            json!({ "id": alice.id, "input": { "isStaff": true } }),
            "updateUser",
        ),
        (RESET, json!({ "id": bob.id, "p": "mallory-was-here" }), "resetPassword"),
    ];

    let mut answers = Vec::new();
    for (query, variables, field) in &operations {
        answers.push((alice.gql(query, variables.clone()).await, "FORBIDDEN", *field));
        answers.push((app.gql(query, variables.clone()).await, "UNAUTHENTICATED", *field));
    }
    let node = alice.gql(NODE, json!({ "id": event })).await;
    let others_sessions = alice.gql(EVERYWHERE, json!({ "u": bob.id })).await;
    let users_after = user_rows(&app).await;
    let log = audit_log(&boss).await;
    let bob_now = app.logged_in("bob").await;

    for (response, code, field) in &answers {
        response.assert_error(code, None);
        assert_eq!(response.data_even_with_errors(field), &Value::Null, "{field}");
    }
    assert_eq!(node.data("node"), &Value::Null);
    assert!(others_sessions.body.get("errors").is_some());
    assert_eq!(users_after, users_before, "no account opened");
    assert_eq!(log.len(), 1, "nothing on record but staff's own change: {log:?}");
    let bob_seen = bob_now.gql("{ me { isStaff email } }", json!({})).await;
    assert_eq!(
        bob_seen.data("me"),
        &json!({ "isStaff": false, "email": "bob@example.com" })
    );
    assert_eq!(
        alice.gql("{ me { isStaff } }", json!({})).await.data("me")["isStaff"],
        false
    );
}

#[tokio::test]
async fn the_audit_log_pages_newest_first_and_filters() {
    let app = TestApp::spawn().await;
    let boss = app.signed_up_staff("boss").await;
    let eve = app.signed_up_staff("eve").await;
    let alice = app.signed_up("alice").await;
    let bob = app.signed_up("bob").await;
    for email in ["a1@example.com", "a2@example.com", "a3@example.com"] {
        boss.gql(UPDATE, json!({ "id": alice.id, "input": { "email": email } }))
            .await;
    }
    eve.gql(UPDATE, json!({ "id": bob.id, "input": { "email": "b@example.com" } }))
        .await;
    let ended = eve.gql(EVERYWHERE, json!({ "u": bob.id })).await;
    let own = eve.gql(EVERYWHERE, json!({})).await;
    let read = boss.gql(NODE, json!({ "id": alice.id })).await;
    let read_self = boss.gql(NODE, json!({ "id": boss.id })).await;

    let forward = boss.walks_pages(AUDIT, "auditEvents", Walk::Forward(2)).await;
    let backward = boss.walks_pages(AUDIT, "auditEvents", Walk::Backward(4)).await;
    let by_eve = boss.gql(AUDIT, json!({ "filter": { "actorId": eve.id } })).await;
    let about_alice = boss
        .gql(
            AUDIT,
            json!({ "filter": { "subjectId": alice.id, "action": "USER_UPDATE" } }),
        )
        .await;
    let wrong_kind = boss
        .gql(
            AUDIT,
            json!({ "filter": { "actorId": forward[0]["edges"][0]["node"]["id"] } }),
        )
        .await;
    let newest = forward[0]["edges"][0]["node"].clone();
    let as_node = boss.gql(NODE, json!({ "id": newest["id"] })).await;
    let bad_cursor = boss.gql(AUDIT, json!({ "after": "nonsense" })).await;

    assert_eq!(ended.data("logoutEverywhere"), 1);
    assert_eq!(own.status, 200);
    assert_eq!(read.data("node")["username"], "alice");
    assert_eq!(read_self.data("node")["username"], "boss");
    let all = ids_of_pages(&forward);
    assert_eq!(all.len(), 6, "four updates, ending bob's sessions, reading alice");
    assert_eq!(all, ids_of_pages(&backward));
    let times: Vec<chrono::DateTime<chrono::FixedOffset>> = forward
        .iter()
        .flat_map(|page| page["edges"].as_array().unwrap())
        .map(|edge| chrono::DateTime::parse_from_rfc3339(edge["node"]["createdAt"].as_str().unwrap()).unwrap())
        .collect();
    assert!(
        times.windows(2).all(|pair| pair[0] >= pair[1]),
        "newest first: {times:?}"
    );
    assert_eq!(newest["action"], "USER_READ");
    assert_eq!(newest["subjectId"], json!(alice.id));
    let eves = by_eve.data("auditEvents");
    assert_eq!(eves["totalCount"], 2);
    assert_eq!(eves["edges"][0]["node"]["action"], "USER_SESSIONS_END");
    assert_eq!(details(&eves["edges"][0]["node"]), json!({ "sessionsEnded": 1 }));
    assert_eq!(about_alice.data("auditEvents")["totalCount"], 3);
    assert_eq!(wrong_kind.data("auditEvents")["totalCount"], 0);
    assert_eq!(as_node.data("node")["action"], "USER_READ");
    bad_cursor.assert_error("BAD_USER_INPUT", Some("after"));
}

#[tokio::test]
async fn the_audit_log_cannot_be_changed_even_with_sql() {
    let app = TestApp::spawn().await;
    let boss = app.signed_up_staff("boss").await;
    let alice = app.signed_up("alice").await;
    boss.gql(UPDATE, json!({ "id": alice.id, "input": { "email": "a@example.com" } }))
        .await;

    let update = execute(&app, "UPDATE audit_events SET client_address = '10.0.0.1'").await;
    let delete = execute(&app, "DELETE FROM audit_events").await;
    let log = audit_log(&boss).await;

    assert!(update.unwrap_err().contains("append-only"));
    assert!(delete.unwrap_err().contains("append-only"));
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["clientAddress"], "127.0.0.1");
}

#[tokio::test]
async fn staff_ending_another_users_session_is_on_record_and_their_own_is_not() {
    let app = TestApp::spawn().await;
    let boss = app.signed_up_staff("boss").await;
    let boss_laptop = app.logged_in("boss").await;
    let alice = app.signed_up("alice").await;
    let sessions = "{ mySessions { id current } }";
    let end = "mutation($id: ID!) { endSession(id: $id) }";
    let alice_session = alice.gql(sessions, json!({})).await.data("mySessions")[0]["id"].clone();
    let laptop_session = boss_laptop
        .gql(sessions, json!({}))
        .await
        .data("mySessions")
        .as_array()
        .unwrap()
        .iter()
        .find(|session| session["current"] == true)
        .unwrap()["id"]
        .clone();

    let by_staff = boss.gql(end, json!({ "id": alice_session })).await;
    let again = boss.gql(end, json!({ "id": alice_session })).await;
    let own = boss.gql(end, json!({ "id": laptop_session })).await;
    let log = audit_log(&boss).await;

    assert_eq!(by_staff.data("endSession"), true);
    again.assert_error("NOT_FOUND", None);
    assert_eq!(own.data("endSession"), true);
    assert!(refused_within_ten_seconds(&alice).await);
    assert!(refused_within_ten_seconds(&boss_laptop).await);
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["action"], "USER_SESSION_END");
    assert_eq!(log[0]["subjectId"], json!(alice.id));
}

#[tokio::test]
async fn aliases_and_extreme_values_change_nothing_and_leave_no_record() {
    let app = TestApp::spawn().await;
    let boss = app.signed_up_staff("boss").await;
    let alice = app.signed_up("alice").await;
    let promotions: Vec<String> = (0..20)
        .map(|i| {
            format!(
                "p{i}: updateUser(id: \"{}\", input: {{ isStaff: true }}) {{ id }}",
                alice.id
            )
        })
        .collect();

    let aliased = alice
        .gql(&format!("mutation {{ {} }}", promotions.join(" ")), json!({}))
        .await;
    let too_many = boss.gql(USERS, json!({ "first": 101 })).await;
    let negative = boss.gql(AUDIT, json!({ "last": -1 })).await;
    let huge = boss
        .gql(USERS, json!({ "filter": { "search": "x".repeat(1_500) } }))
        .await;
    let control = boss.gql(USERS, json!({ "filter": { "search": "a\u{7}b" } })).await;
    let foreign_id = boss
        .gql(
            UPDATE,
            json!({ "id": boss.id.clone() + "x", "input": { "isStaff": true } }),
        )
        .await;
    let log = audit_log(&boss).await;

    let errors = aliased.body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 20);
    assert!(errors.iter().all(|e| e["extensions"]["code"] == "FORBIDDEN"));
    too_many.assert_error("BAD_USER_INPUT", Some("first"));
    negative.assert_error("BAD_USER_INPUT", Some("last"));
    huge.assert_error("BAD_USER_INPUT", Some("search"));
    control.assert_error("BAD_USER_INPUT", Some("search"));
    foreign_id.assert_error("BAD_USER_INPUT", Some("id"));
    assert!(log.is_empty(), "{log:?}");
    assert_eq!(
        alice.gql("{ me { isStaff } }", json!({})).await.data("me")["isStaff"],
        false
    );
}
