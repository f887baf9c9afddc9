//! The server over a real socket: health, readiness, the playground, request
//! ids, HTTP statuses, limits, and a graceful shutdown.

use serde_json::json;

use crate::helpers::{TestApp, test_config};

#[tokio::test]
async fn health_readiness_and_the_playground_answer() {
    let app = TestApp::spawn().await;
    let client = app.client();

    let health = client.get(format!("{}/healthz", app.address)).send().await.unwrap();
    let ready = client.get(format!("{}/readyz", app.address)).send().await.unwrap();
    let page = client
        .get(format!("{}/graphql", app.address))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    let request_id = health.headers().get("x-request-id").cloned();
    let page_text = page.text().await.unwrap();
    let asset = client
        .get(format!("{}/graphql/assets/graphiql.min.js", app.address))
        .send()
        .await
        .unwrap();

    assert_eq!(health.status(), 200);
    assert!(request_id.is_some(), "every response carries x-request-id");
    assert_eq!(ready.status(), 200);
    assert!(
        page_text.contains("/graphql/assets/"),
        "the playground loads its own assets"
    );
    assert!(!page_text.contains("cdn"), "no CDN");
    assert_eq!(asset.status(), 200);
}

#[tokio::test]
async fn get_runs_queries_but_never_mutations() {
    let app = TestApp::spawn().await;
    let client = app.client();

    let query = client
        .get(format!("{}/graphql", app.address))
        .query(&[("query", "{ __typename }")])
        .send()
        .await
        .unwrap();
    let mutation = client
        .get(format!("{}/graphql", app.address))
        .query(&[("query", "mutation { logout(refreshToken: \"x\") }")])
        .send()
        .await
        .unwrap();

    assert_eq!(query.status(), 200);
    assert_eq!(
        query.json::<serde_json::Value>().await.unwrap()["data"]["__typename"],
        "Query"
    );
    assert_eq!(mutation.status(), 405);
}

#[tokio::test]
async fn broken_queries_get_400_and_a_code() {
    let app = TestApp::spawn().await;

    let syntax = app.gql("{ me { ", json!({})).await;
    let unknown_field = app.gql("{ nope }", json!({})).await;

    assert_eq!(syntax.status, 400);
    syntax.assert_error("BAD_USER_INPUT", None);
    assert_eq!(unknown_field.status, 400);
    unknown_field.assert_error("BAD_USER_INPUT", None);
}

#[tokio::test]
async fn queries_that_are_too_deep_are_refused() {
    let app = TestApp::spawn().await;
    let deep = format!(
        "{{ me {} }}",
        "{ virtualNumbers { nodes { owner ".repeat(8) + "{ id }" + &" } } }".repeat(8)
    );

    let response = app.gql(&deep, json!({})).await;

    response.assert_error("QUERY_TOO_COMPLEX", None);
}

#[tokio::test]
async fn the_server_starts_on_a_socket_and_stops_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let config = test_config(&format!("sqlite://{}?mode=rwc", dir.path().join("app.db").display()));
    let app = switchboard::app::App::build(&config).await.unwrap();
    let address = app.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));

    let health = reqwest::get(format!("http://{address}/healthz")).await.unwrap();
    stop.send(()).unwrap();
    let finished = tokio::time::timeout(std::time::Duration::from_secs(10), server).await;

    assert_eq!(health.status(), 200);
    assert!(
        matches!(finished, Ok(Ok(Ok(())))),
        "the server stops cleanly: {finished:?}"
    );
    assert!(
        tokio::net::TcpStream::connect(address).await.is_err(),
        "the port is closed"
    );
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_errors_by_code() {
    let app = TestApp::spawn().await;
    app.gql("{ me { id } }", json!({})).await;

    let metrics = app
        .client()
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap();
    let status = metrics.status();
    let text = metrics.text().await.unwrap();

    assert_eq!(status, 200);
    assert!(
        text.contains(r#"switchboard_http_requests_total{method="POST",route="/graphql",status="200"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"switchboard_graphql_errors_total{code="UNAUTHENTICATED"} 1"#),
        "{text}"
    );
    assert!(
        text.contains("switchboard_http_request_duration_seconds_bucket"),
        "{text}"
    );
}

#[tokio::test]
async fn page_sizes_count_toward_complexity_so_huge_nested_pages_are_refused() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let huge = "{ myVirtualNumbers(first: 100) { nodes { callLogs(first: 100) { nodes { id callerNumber calledNumber } } } } }";
    let fine =
        "{ myVirtualNumbers(first: 10) { nodes { callLogs(first: 5) { nodes { id callerNumber calledNumber } } } } }";

    let refused = alice.gql(huge, json!({})).await;
    let allowed = alice.gql(fine, json!({})).await;

    refused.assert_error("QUERY_TOO_COMPLEX", None);
    assert_eq!(allowed.data("myVirtualNumbers")["nodes"], json!([]));
}

#[tokio::test]
async fn browsers_may_call_from_other_origins_and_huge_bodies_are_refused() {
    let app = TestApp::spawn().await;
    let client = app.client();

    let preflight = client
        .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.address))
        .header("Origin", "https://app.example.com")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "authorization, content-type")
        .send()
        .await
        .unwrap();
    let huge = client
        .post(format!("{}/graphql", app.address))
        .header("Content-Type", "application/json")
        .body(format!(
            r#"{{"query":"{{ __typename }}","variables":{{"x":"{}"}}}}"#,
            "x".repeat(2 * 1024 * 1024)
        ))
        .send()
        .await
        .unwrap();

    assert!(preflight.status().is_success());
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
    assert_eq!(huge.status(), 413);
}

#[tokio::test]
async fn a_body_that_is_not_graphql_gets_a_coded_json_error() {
    let app = TestApp::spawn().await;

    let response = app
        .client()
        .post(format!("{}/graphql", app.address))
        .header("Content-Type", "application/json")
        .body("{ not json")
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap();

    assert_eq!(status, 400);
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(body["errors"][0]["extensions"]["field"], "body");
}
