//! GraphQL over HTTP to the letter: content negotiation, the status codes of
//! each media type, no `data` when a request never ran, and 4xx for requests
//! that are not GraphQL requests at all; plus graphql-http's own audit suite.

use std::process::Command;

use reqwest::{Method, header};
use serde_json::{Value, json};

use crate::helpers::TestApp;

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

/// A request with exactly these headers (the test client's default `Accept` is replaced).
async fn send(app: &TestApp, method: Method, accept: Option<&str>, body: Option<Value>) -> (u16, String, Value) {
    let client = reqwest::Client::new();
    let mut request = client.request(method.clone(), format!("{}/graphql", app.address));
    if let Some(accept) = accept {
        request = request.header(header::ACCEPT, accept);
    }
    if let Some(body) = body {
        request = match method {
            Method::GET => request.query(
                &body
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(key, value)| (key.clone(), value.as_str().map_or(value.to_string(), str::to_owned)))
                    .collect::<Vec<_>>(),
            ),
            _ => request.json(&body),
        };
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, content_type, body)
}

#[tokio::test]
async fn each_media_type_answers_with_its_own_status_codes() {
    let app = TestApp::spawn().await;
    let never_ran = [
        ("a syntax error", json!({ "query": "{" })),
        ("an unknown field", json!({ "query": "{ nope }" })),
        (
            "a variable of the wrong type",
            json!({ "query": "query($n: Int!) { __typename }", "variables": { "n": "seven" } }),
        ),
        (
            "an unknown operationName",
            json!({ "query": "query A { __typename }", "operationName": "B" }),
        ),
        (
            "a document over a limit",
            json!({ "query": "{ a: __typename ".repeat(300) + "}" }),
        ),
    ];
    let cases = [
        (None, JSON, 200),
        (Some("*/*"), JSON, 200),
        (Some("application/json"), JSON, 200),
        (Some("application/graphql-response+json"), GRAPHQL_RESPONSE, 400),
        (
            Some("application/graphql-response+json, application/json;q=0.9"),
            GRAPHQL_RESPONSE,
            400,
        ),
        (Some("text/html;q=0.5, application/*"), JSON, 200),
    ];

    for (accept, media_type, refused_status) in cases {
        for (what, body) in &never_ran {
            let (status, content_type, body) = send(&app, Method::POST, accept, Some(body.clone())).await;
            assert_eq!(status, refused_status, "{what} with Accept {accept:?}: {body}");
            assert!(
                content_type.starts_with(media_type),
                "{what}, {accept:?}: {content_type}"
            );
            assert!(
                body.get("data").is_none(),
                "{what}: never ran, so no data entry: {body}"
            );
            assert!(body["errors"][0]["extensions"]["code"].is_string(), "{body}");
        }
        let (status, content_type, body) =
            send(&app, Method::POST, accept, Some(json!({ "query": "{ __typename }" }))).await;
        assert_eq!((status, body["data"]["__typename"].as_str()), (200, Some("Query")));
        assert!(content_type.starts_with(media_type), "{content_type}");
        assert!(content_type.contains("charset=utf-8"), "{content_type}");
        // A field error: the request ran, so 200 and a `data` entry under either type.
        let (status, _, body) = send(&app, Method::POST, accept, Some(json!({ "query": "{ me { id } }" }))).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("data").is_some(), "{body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    }
}

#[tokio::test]
async fn requests_that_are_not_graphql_requests_get_a_4xx_and_say_why() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::new();
    let url = format!("{}/graphql", app.address);
    let post = |content_type: Option<&'static str>, body: &'static str| {
        let mut request = client.post(&url).body(body);
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        async move {
            let response = request.send().await.unwrap();
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };

    let malformed = post(Some("application/json"), "{\"query\": ").await;
    let no_query = post(Some("application/json"), "{\"qeury\": \"{ __typename }\"}").await;
    let number_query = post(Some("application/json"), "{\"query\": 7}").await;
    let array_variables = post(
        Some("application/json"),
        "{\"query\": \"{ __typename }\", \"variables\": [1]}",
    )
    .await;
    let no_content_type = post(None, "{\"query\": \"{ __typename }\"}").await;
    let form = post(Some("application/x-www-form-urlencoded"), "query=%7B__typename%7D").await;
    let (not_acceptable, _, refusal) = send(
        &app,
        Method::POST,
        Some("text/plain"),
        Some(json!({ "query": "{ __typename }" })),
    )
    .await;
    let get_mutation = client
        .get(&url)
        .query(&[("query", "mutation { logout(refreshToken: \"x\") }")])
        .send()
        .await
        .unwrap();
    let (get_status, _, get_body) = send(
        &app,
        Method::GET,
        Some(GRAPHQL_RESPONSE),
        Some(json!({ "query": "query($n: String!) { __type(name: $n) { name } }", "variables": "{\"n\": \"Query\"}" })),
    )
    .await;

    for (what, (status, body)) in [
        ("malformed JSON", &malformed),
        ("no query", &no_query),
        ("a number as query", &number_query),
        ("variables as a list", &array_variables),
    ] {
        assert_eq!(*status, 400, "{what}: {body}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{what}: {body}"
        );
        assert!(body.get("data").is_none(), "{what}: {body}");
    }
    assert!(
        no_query.1["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("no `query`"),
        "{no_query:?}"
    );
    assert_eq!(no_content_type.0, 415);
    assert_eq!(form.0, 415);
    assert_eq!(not_acceptable, 406, "{refusal}");
    assert_eq!(refusal["errors"][0]["extensions"]["field"], "Accept");
    assert_eq!(get_mutation.status(), 405);
    assert_eq!(get_mutation.headers()[header::ALLOW], "POST");
    assert_eq!(
        (get_status, &get_body["data"]["__type"]["name"]),
        (200, &json!("Query")),
        "{get_body}"
    );
}

/// graphql-http's audits (the reference suite for the specification), run with
/// Node from `tests/http-audit` (`npm ci --prefix tests/http-audit`; `.ci/run`
/// does it). Skipped with a note where Node or the package is missing, except on CI.
#[tokio::test]
async fn the_graphql_http_audit_suite_finds_nothing() {
    let directory = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/http-audit");
    let installed = directory.join("node_modules/graphql-http").exists();
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success());
    if !(installed && node) {
        assert!(
            std::env::var("CI").is_err(),
            "CI must run the GraphQL-over-HTTP audit: install Node.js and run `npm ci --prefix tests/http-audit`"
        );
        eprintln!(
            "SKIPPED the_graphql_http_audit_suite_finds_nothing: needs Node.js and `npm ci --prefix tests/http-audit`"
        );
        return;
    }
    let app = TestApp::spawn().await;
    let url = format!("{}/graphql", app.address);
    let script = directory.join("audit.mjs");
    let output = tokio::task::spawn_blocking(move || Command::new("node").arg(script).arg(url).output())
        .await
        .unwrap()
        .expect("running node");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let results: Vec<Value> = serde_json::from_slice(&output.stdout).expect("the audit's JSON");

    let not_ok: Vec<&Value> = results.iter().filter(|result| result["status"] != "ok").collect();
    assert!(results.len() >= 50, "the suite ran: {} audits", results.len());
    assert!(not_ok.is_empty(), "failures, warnings or notices: {not_ok:#?}");
}
