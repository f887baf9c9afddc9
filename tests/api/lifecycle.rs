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
    let page_type = content_type(&page);
    let page_text = page.text().await.unwrap();

    assert_eq!(health.status(), 200);
    assert!(request_id.is_some(), "every response carries x-request-id");
    assert_eq!(ready.status(), 200);
    assert!(
        page_type.starts_with("text/html"),
        "the playground is a page: {page_type}"
    );
    assert!(!page_text.contains("cdn"), "no CDN");
}

#[tokio::test]
async fn every_asset_the_playground_references_is_served_with_its_type() {
    let app = TestApp::spawn().await;
    let page = app
        .client()
        .get(format!("{}/graphql", app.address))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    let assets = referenced_assets(&page.text().await.unwrap());

    let mut served = Vec::new();
    for (path, expected_type) in &assets {
        let response = app.client().get(format!("{}{path}", app.address)).send().await.unwrap();
        let status = response.status();
        let served_type = content_type(&response);
        let body = response.bytes().await.unwrap();
        served.push((path, expected_type, status, served_type, body.len()));
    }

    let loads = |name: &str, kind: &str| {
        assets
            .iter()
            .any(|(path, expected_type)| path.contains(name) && *expected_type == kind)
    };
    assert!(loads("graphiql", "text/javascript"), "the GraphiQL script: {assets:?}");
    assert!(loads("graphiql", "text/css"), "the GraphiQL stylesheet: {assets:?}");
    for (path, expected_type, status, served_type, length) in served {
        assert!(path.starts_with("/graphql/assets/"), "{path} comes from this server");
        assert_eq!(status, 200, "{path}");
        assert!(
            served_type.starts_with(expected_type),
            "{path} is served as {served_type}"
        );
        assert!(length > 1024, "{path} has a real body, not {length} bytes");
    }
}

/// The `Content-Type` header, or "" when there is none.
fn content_type(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Every `<script src>` and `<link href>` in `html`, with the content type it
/// must be served as (scripts JavaScript, stylesheets CSS, other links anything).
/// Inline `data:` URLs (the empty favicon) load nothing and are left out.
fn referenced_assets(html: &str) -> Vec<(String, &'static str)> {
    // ASCII lowercasing keeps byte offsets, so tags found in `lower` cut `html`.
    let lower = html.to_ascii_lowercase();
    let mut assets = Vec::new();
    for (tag, attribute) in [("<script", "src"), ("<link", "href")] {
        for (start, _) in lower.match_indices(tag) {
            let end = start + lower[start..].find('>').expect("a closed tag");
            let (element, element_lower) = (&html[start..end], &lower[start..end]);
            let Some(reference) = attribute_value(element, element_lower, attribute) else {
                continue;
            };
            let expected_type = match (tag, attribute_value(element, element_lower, "rel")) {
                ("<script", _) => "text/javascript",
                (_, Some(rel)) if rel.eq_ignore_ascii_case("stylesheet") => "text/css",
                _ => "",
            };
            if !reference.starts_with("data:") {
                assets.push((reference.to_owned(), expected_type));
            }
        }
    }
    assets
}

/// The value of attribute `name` in one tag (`lower` is the tag lowercased), quoted or not.
fn attribute_value<'a>(element: &'a str, lower: &str, name: &str) -> Option<&'a str> {
    let (at, _) = lower
        .match_indices(&format!("{name}="))
        .find(|(at, _)| lower[..*at].ends_with(char::is_whitespace))?;
    let value = &element[at + name.len() + 1..];
    match value.chars().next()? {
        quote @ ('"' | '\'') => value[1..].split(quote).next(),
        _ => value.split(char::is_whitespace).next(),
    }
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
