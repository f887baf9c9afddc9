//! The playground in a real headless Chromium with every outside address unreachable, under
//! its Content-Security-Policy: GraphiQL renders and runs queries, a person signs in with the
//! form and never pastes a token, the session renews itself, and subscriptions are heard.
//! Where Chromium is missing: skipped with a note, but not on CI.

mod chromium;

use std::{path::PathBuf, time::Duration};

use serde_json::{Value, json};
use tokio::time::{Instant, sleep};

use switchboard::http::security::PLAYGROUND_POLICY;

use crate::helpers::{TestApp, TestUser};
use chromium::{Chromium, PATIENCE, Page};

const QUERY_EDITOR: &str = ".graphiql-query-editor .CodeMirror";
// The Headers tab is open by default (playground.js); the Variables editor beside it is hidden.
const HEADERS_EDITOR: &str = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror";
const RESULT_PANE: &str = ".result-window .CodeMirror";
// With several operations in the editor (the default query has two) the button opens a menu;
// waiting for it to be a plain button waits for GraphiQL to have parsed what was typed.
const RUN_BUTTON: &str = ".graphiql-execute-button:not([aria-haspopup])";
// The sign-in bar above GraphiQL (index.html).
const USERNAME_FIELD: &str = "#sign-in-username";
const PASSWORD_FIELD: &str = "#sign-in-password";
const SIGN_IN_BUTTON: &str = "#sign-in-button";
const SIGN_OUT_BUTTON: &str = "#sign-out-button";
const SESSION_BAR: &str = "#session";
/// Where playground.js keeps the session (a JSON object) in `sessionStorage`.
const STORED_SESSION: &str = "JSON.parse(sessionStorage.getItem('switchboard.playground.session'))";

const MY_NUMBERS: &str = "{ myVirtualNumbers { nodes { phoneNumber } } }";

#[tokio::test]
async fn the_playground_runs_a_query_under_its_content_security_policy() {
    let Some(chromium) = Chromium::launch_unless_missing().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let mut page = chromium.opens(&format!("{}/graphql", app.address)).await;
    page.types_into(QUERY_EDITOR, "{ __typename }").await;

    page.clicks(RUN_BUTTON).await;
    let result = page.waits_for_a_result().await;

    assert_eq!(
        page.policy.as_deref(),
        Some(PLAYGROUND_POLICY),
        "the page came with the policy"
    );
    assert!(
        result.contains(r#""__typename": "Query""#),
        "the result pane shows: {result}"
    );
    assert_eq!(page.violations().await, Vec::<String>::new());
}

#[tokio::test]
async fn a_person_signs_in_with_the_form_and_lists_their_numbers_with_no_internet() {
    let Some(chromium) = Chromium::launch_unless_missing().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    alice.creates_number("+1 201 555 0123").await;
    let mut page = chromium.opens(&format!("{}/graphql", app.address)).await;

    page.signs_in("alice").await;
    page.types_into(QUERY_EDITOR, MY_NUMBERS).await;
    page.clicks(RUN_BUTTON).await;
    let result = page.waits_for_a_result().await;
    page.saves_a_screenshot(&screenshot_path()).await;

    assert_eq!(page.editor_text(HEADERS_EDITOR).await, "", "no token was pasted");
    assert!(
        result.contains(r#""phoneNumber": "+12015550123""#),
        "the result pane shows: {result}"
    );
    assert_eq!(page.requests_beyond(&app.address), Vec::<String>::new());
    assert_eq!(page.violations().await, Vec::<String>::new());
}

#[tokio::test]
async fn a_wrong_password_is_said_in_the_bar_and_signs_no_one_in() {
    let Some(chromium) = Chromium::launch_unless_missing().await else {
        return;
    };
    let app = TestApp::spawn().await;
    app.signed_up("alice").await;
    let mut page = chromium.opens(&format!("{}/graphql", app.address)).await;

    page.fills(USERNAME_FIELD, "alice").await;
    page.fills(PASSWORD_FIELD, "not-alices-password").await;
    page.clicks(SIGN_IN_BUTTON).await;
    let bar = page.waits_for_text(SESSION_BAR, "wrong username or password").await;

    assert!(!bar.contains("Signed in as"), "the bar shows: {bar}");
    assert_eq!(page.evaluate(STORED_SESSION).await, Ok(Value::Null));
    assert_eq!(page.violations().await, Vec::<String>::new());
}

#[tokio::test]
async fn a_signed_in_playground_hears_a_subscription_with_no_pasted_header() {
    let Some(chromium) = Chromium::launch_unless_missing().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number("+12015550123").await;
    let mut page = chromium.opens(&format!("{}/graphql", app.address)).await;
    page.signs_in("alice").await;
    page.types_into(QUERY_EDITOR, "subscription { callLogged { callerNumber } }")
        .await;

    page.clicks(RUN_BUTTON).await;
    let result = page.hears_a_call_to(&alice, &number).await;

    let socket = format!("{}/graphql/ws", app.address.replacen("http", "ws", 1));
    assert!(
        page.websockets.contains(&socket),
        "sockets opened: {:?}",
        page.websockets
    );
    assert!(
        result.contains(r#""callerNumber": "+14155550100""#),
        "the result pane shows: {result:?}; {}",
        page.diagnostics().await
    );
    assert_eq!(page.violations().await, Vec::<String>::new());
}

#[tokio::test]
async fn the_playground_hears_a_subscription_with_a_token_pasted_in_the_headers_tab() {
    let Some(chromium) = Chromium::launch_unless_missing().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number("+12015550123").await;
    let mut page = chromium.opens(&format!("{}/graphql", app.address)).await;
    let headers = format!(r#"{{"Authorization": "Bearer {}"}}"#, alice.access_token);
    page.types_into(HEADERS_EDITOR, &headers).await;
    page.types_into(QUERY_EDITOR, "subscription { callLogged { callerNumber } }")
        .await;

    page.clicks(RUN_BUTTON).await;
    let result = page.hears_a_call_to(&alice, &number).await;

    assert!(
        result.contains(r#""callerNumber": "+14155550100""#),
        "the result pane shows: {result:?}; {}",
        page.diagnostics().await
    );
    assert_eq!(page.violations().await, Vec::<String>::new());
}

#[tokio::test]
async fn the_playground_renews_its_session_before_the_access_token_expires() {
    let Some(chromium) = Chromium::launch_unless_missing().await else {
        return;
    };
    let app = TestApp::spawn_with(|config| config.access_token_ttl = Duration::from_secs(3)).await;
    let alice = app.signed_up("alice").await;
    alice.creates_number("+12015550123").await;
    let mut page = chromium.opens(&format!("{}/graphql", app.address)).await;
    page.signs_in("alice").await;
    let first = page.stored_access_token().await;

    app.refuses(&first).await;
    let renewed = page.stored_access_token().await;
    page.types_into(QUERY_EDITOR, MY_NUMBERS).await;
    page.clicks(RUN_BUTTON).await;
    let result = page.waits_for_a_result().await;

    assert_ne!(renewed, first, "the page renewed its token before it was refused");
    assert!(
        result.contains(r#""phoneNumber": "+12015550123""#),
        "the result pane shows: {result}"
    );
    assert_eq!(page.violations().await, Vec::<String>::new());
}

#[tokio::test]
async fn a_subscription_started_when_signed_in_outlives_its_first_access_token() {
    let Some(chromium) = Chromium::launch_unless_missing().await else {
        return;
    };
    let app = TestApp::spawn_with(|config| config.access_token_ttl = Duration::from_secs(3)).await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number("+12015550123").await;
    let mut page = chromium.opens(&format!("{}/graphql", app.address)).await;
    page.signs_in("alice").await;
    let first = page.stored_access_token().await;
    page.types_into(QUERY_EDITOR, "subscription { callLogged { callerNumber } }")
        .await;
    page.clicks(RUN_BUTTON).await;

    app.refuses(&first).await;
    page.opens_websockets(2).await;
    let alice = app.logged_in("alice").await; // her first token has expired too
    let result = page.hears_a_call_to(&alice, &number).await;

    assert!(
        result.contains(r#""callerNumber": "+14155550100""#),
        "the result pane shows: {result:?}; {}",
        page.diagnostics().await
    );
    assert_eq!(page.violations().await, Vec::<String>::new());
}

#[tokio::test]
async fn a_token_in_the_headers_tab_wins_over_the_signed_in_session() {
    let Some(chromium) = Chromium::launch_unless_missing().await else {
        return;
    };
    let app = TestApp::spawn().await;
    app.signed_up("alice").await;
    let bob = app.signed_up("bob").await;
    let mut page = chromium.opens(&format!("{}/graphql", app.address)).await;
    page.signs_in("alice").await;
    let headers = format!(r#"{{"authorization": "Bearer {}"}}"#, bob.access_token);
    page.types_into(HEADERS_EDITOR, &headers).await;
    page.types_into(QUERY_EDITOR, "{ me { username } }").await;

    page.clicks(RUN_BUTTON).await;
    let result = page.waits_for_a_result().await;

    assert!(
        result.contains(r#""username": "bob""#),
        "the result pane shows: {result}"
    );
}

#[tokio::test]
async fn signing_out_ends_the_session_on_the_server_too() {
    let Some(chromium) = Chromium::launch_unless_missing().await else {
        return;
    };
    let app = TestApp::spawn().await;
    app.signed_up("alice").await;
    let mut page = chromium.opens(&format!("{}/graphql", app.address)).await;
    page.signs_in("alice").await;
    let stored = page.evaluate(STORED_SESSION).await.expect("the stored session");
    let refresh_token = stored["refreshToken"].as_str().unwrap_or_default().to_owned();

    page.clicks(SIGN_OUT_BUTTON).await;
    page.waits_for_text(SESSION_BAR, "Signed out").await;
    page.types_into(QUERY_EDITOR, "{ me { username } }").await;
    page.clicks(RUN_BUTTON).await;
    let result = page.waits_for_a_result().await;

    assert_eq!(page.evaluate(STORED_SESSION).await, Ok(Value::Null));
    assert!(result.contains("UNAUTHENTICATED"), "the result pane shows: {result}");
    let refresh = app
        .gql(
            "mutation($token: String!) { refresh(refreshToken: $token) { accessToken } }",
            json!({ "token": refresh_token }),
        )
        .await;
    refresh.assert_error("UNAUTHENTICATED", None);
}

/// Where the signed-in screenshot goes: `PLAYGROUND_SCREENSHOT` when set (the README's
/// picture is made with `PLAYGROUND_SCREENSHOT=docs/playground-signed-in.png`), else a
/// temporary file, so CI takes one too and depends on no committed file.
fn screenshot_path() -> PathBuf {
    std::env::var_os("PLAYGROUND_SCREENSHOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("switchboard-playground-signed-in.png"))
}

impl Page {
    /// Signs in with the form as the `TestApp` user `username` and waits for the bar to say so.
    async fn signs_in(&mut self, username: &str) {
        self.fills(USERNAME_FIELD, username).await;
        self.fills(PASSWORD_FIELD, &format!("{username}-password")).await;
        self.clicks(SIGN_IN_BUTTON).await;
        self.waits_for_text(SESSION_BAR, &format!("Signed in as {username}"))
            .await;
    }

    async fn stored_access_token(&mut self) -> String {
        let stored = self.evaluate(STORED_SESSION).await.expect("the stored session");
        let token = stored["accessToken"].as_str();
        token
            .unwrap_or_else(|| panic!("no access token stored: {stored}"))
            .to_owned()
    }

    /// Waits until the page has opened `count` WebSockets.
    async fn opens_websockets(&mut self, count: usize) {
        let deadline = Instant::now() + PATIENCE;
        while self.websockets.len() < count {
            assert!(
                Instant::now() < deadline,
                "{} WebSockets opened in {PATIENCE:?}, not {count}; {}",
                self.websockets.len(),
                self.diagnostics().await
            );
            // Any call reads the DevTools events that report new sockets.
            let _ = self.evaluate("0").await;
            sleep(Duration::from_millis(100)).await;
        }
    }

    /// With a subscription running, records calls to `number` until the result pane shows one:
    /// a subscription goes live a moment after it is sent.
    async fn hears_a_call_to(&mut self, owner: &TestUser<'_>, number: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        let mut result = String::new();
        while result.is_empty() && Instant::now() < deadline {
            let call = json!({ "virtualNumberId": number, "direction": "INBOUND",
                "callerNumber": "+14155550100", "calledNumber": "+12015550123", "durationSeconds": 5 });
            owner.records_call(call).await;
            sleep(Duration::from_millis(200)).await;
            result = self.result().await;
        }
        result
    }
}

impl TestApp {
    /// Waits until the server refuses `access_token` (it expired).
    async fn refuses(&self, access_token: &str) {
        let deadline = Instant::now() + PATIENCE;
        while self.gql_as(Some(access_token), "{ me { id } }", json!({})).await.status != 401 {
            assert!(
                Instant::now() < deadline,
                "the token was still accepted after {PATIENCE:?}"
            );
            sleep(Duration::from_millis(250)).await;
        }
    }
}
