//! Operating it: metrics by operation and outcome, the pool, the build, metrics
//! on their own address; request ids, operation names and viewers on log lines
//! (and never a secret); a graceful shutdown with a grace period; the command
//! line's errors and exit codes.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{Arrival, TEST_SECRET, TestApp, WsClient, test_config};

#[tokio::test]
async fn metrics_count_each_operation_by_outcome_and_show_the_pool_and_build() {
    let app = TestApp::spawn().await;
    let send = |body: Value| {
        let request = app.client().post(format!("{}/graphql", app.address)).json(&body);
        async move { request.send().await.unwrap().status() }
    };
    send(json!({ "query": "query Hello { __typename }", "operationName": "Hello" })).await;
    send(json!({ "query": "query Hello { __typename }", "operationName": "Hello" })).await;
    send(json!({ "query": "query Me { me { id } }", "operationName": "Me" })).await;
    send(json!({ "query": "{" })).await;
    // A client inventing names cannot grow /metrics without bound.
    for index in 0..520 {
        send(json!({ "query": format!("query Q{index} {{ __typename }}"), "operationName": format!("Q{index}") }))
            .await;
    }
    send(json!({ "query": "query Hello { __typename }", "operationName": "Hello\" } evil{" })).await;

    let metrics = app.metrics().await;
    let line = |prefix: &str| {
        metrics
            .lines()
            .find(|line| line.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in\n{metrics}"))
            .to_owned()
    };

    assert!(line("switchboard_graphql_operations_total{operation=\"Hello\",outcome=\"ok\"}").ends_with(" 2"));
    assert!(line("switchboard_graphql_operations_total{operation=\"Me\",outcome=\"field_errors\"}").ends_with(" 1"));
    assert!(line("switchboard_graphql_operations_total{operation=\"anonymous\",outcome=\"refused\"}").ends_with(" 1"));
    let other = line("switchboard_graphql_operations_total{operation=\"other\",outcome=\"ok\"}");
    assert!(other.ends_with(" 22"), "the 22 names past the first 500: {other}");
    line("switchboard_graphql_operations_total{operation=\"other\",outcome=\"refused\"}");
    let labels = metrics
        .lines()
        .filter(|line| line.starts_with("switchboard_graphql_operations_total{"))
        .count();
    assert!(labels <= 503, "{labels} series");
    line("switchboard_graphql_operation_duration_seconds_count{operation=\"Hello\"}");
    let pool = line("switchboard_db_pool_connections ");
    assert!(!pool.ends_with(" 0"), "{pool}");
    line("switchboard_db_pool_idle_connections ");
    line(&format!(
        "switchboard_build_info{{version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION")
    ));
}

#[tokio::test]
async fn metrics_can_be_served_apart_from_the_api() {
    let app = TestApp::spawn_with(|config| config.metrics_listen = Some("127.0.0.1:0".parse().unwrap())).await;
    app.gql("{ __typename }", json!({})).await;

    let on_the_api = reqwest::get(format!("{}/metrics", app.address)).await.unwrap().status();
    assert!(app.metrics_address.is_some(), "a metrics address");
    let apart = app.metrics().await;

    assert_eq!(on_the_api, 404, "metrics no longer face the API's clients");
    assert!(apart.contains("switchboard_http_requests_total"), "{apart}");
}

/// Sends a POST whose body is cut short: the request is in flight until `rest` is sent.
async fn half_sent(address: &str, body: &str) -> (tokio::net::TcpStream, String) {
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let (first, rest) = body.split_at(body.len() / 2);
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(first.as_bytes()).await.unwrap();
    stream.flush().await.unwrap();
    (stream, rest.to_owned())
}

#[tokio::test]
async fn shutdown_finishes_in_flight_requests_and_closes_subscriptions() {
    let directory = tempfile::tempdir().unwrap();
    let config = test_config(&format!(
        "sqlite://{}?mode=rwc",
        directory.path().join("app.db").display()
    ));
    let app = switchboard::app::App::build(&config).await.unwrap();
    let address = app.local_addr().unwrap().to_string();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    let test_app = TestApp::at(&address);
    let alice = test_app.signed_up("alice").await;
    let mut socket = WsClient::acknowledged(&test_app, Some(&alice.access_token)).await;
    socket
        .subscribe("feed", "subscription { callLogged { id } }", json!({}))
        .await;
    let (mut in_flight, rest) = half_sent(&address, r#"{"query": "{ __typename }"}"#).await;
    // Until the server has read the request's head, its connection counts as idle.
    tokio::time::sleep(Duration::from_millis(300)).await;

    stop.send(()).unwrap();
    let closed = socket.arrival(Duration::from_secs(5)).await;
    in_flight.write_all(rest.as_bytes()).await.unwrap();
    let mut answer = String::new();
    in_flight.read_to_string(&mut answer).await.unwrap();
    let finished = tokio::time::timeout(Duration::from_secs(10), server).await;

    assert_eq!(
        closed,
        Arrival::Closed(1001),
        "subscribers are told to reconnect elsewhere"
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(r#""__typename":"Query""#), "{answer}");
    assert!(matches!(finished, Ok(Ok(Ok(())))), "{finished:?}");
}

#[tokio::test]
async fn the_grace_period_ends_a_shutdown_that_a_request_would_hold_forever() {
    let directory = tempfile::tempdir().unwrap();
    let mut config = test_config(&format!(
        "sqlite://{}?mode=rwc",
        directory.path().join("app.db").display()
    ));
    config.shutdown_grace = Duration::from_secs(1);
    let app = switchboard::app::App::build(&config).await.unwrap();
    let address = app.local_addr().unwrap().to_string();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    let (_never_finished, _) = half_sent(&address, r#"{"query": "{ __typename }"}"#).await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    let started = Instant::now();
    stop.send(()).unwrap();
    let finished = tokio::time::timeout(Duration::from_secs(10), server).await;

    assert!(matches!(finished, Ok(Ok(Ok(())))), "{finished:?}");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "{took:?}"
    );
}

#[tokio::test]
async fn every_log_line_of_a_request_names_it_and_no_secret_is_written() {
    let directory = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}?mode=rwc", directory.path().join("app.db").display());
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let mut server = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .arg("serve")
        .env("DATABASE_URL", &database)
        .env("SWITCHBOARD_LISTEN", format!("127.0.0.1:{port}"))
        .env("JWT_SECRET", TEST_SECRET)
        .env("LOG_FORMAT", "json")
        .env(
            "RUST_LOG",
            "debug,sqlx=warn,sea_orm=warn,sea_orm_migration=warn,hyper=warn",
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("running switchboard");
    let stdout = server.stdout.take().unwrap();
    let lines = std::thread::spawn(move || BufReader::new(stdout).lines().map_while(Result::ok).collect::<Vec<_>>());
    let address = format!("127.0.0.1:{port}");
    let app = TestApp::at(&address);
    for _ in 0..100 {
        if reqwest::get(format!("http://{address}/healthz")).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let password = "a-password-never-logged";
    let register = app
        .gql(
            "mutation SignUp($input: RegisterInput!) { register(input: $input) { accessToken } }",
            json!({ "input": { "username": "alice", "password": password } }),
        )
        .await;
    let token = register.data("register")["accessToken"].as_str().unwrap().to_owned();
    let traced = app
        .client()
        .post(format!("http://{address}/graphql"))
        .header("x-request-id", "trace-me-42")
        .bearer_auth(&token)
        .json(&json!({ "query": "query Mine { me { username } }", "operationName": "Mine" }))
        .send()
        .await
        .unwrap();
    assert_eq!(traced.status(), 200);
    // SIGTERM: the server stops gracefully and its output ends.
    let _ = Command::new("kill").arg(server.id().to_string()).status();
    let _ = server.wait();
    let lines = lines.join().unwrap();

    let of_request: Vec<Value> = lines
        .iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line.to_string().contains("trace-me-42"))
        .collect();
    assert!(
        of_request.len() >= 2,
        "the request's lines: {of_request:#?}\nall: {lines:#?}"
    );
    for line in &of_request {
        let span = &line["span"];
        assert_eq!(span["request_id"], "trace-me-42", "{line}");
        assert_eq!(span["operation"], "Mine", "{line}");
        assert!(span["viewer"].is_string(), "the viewer id is on every line: {line}");
    }
    let everything = lines.join("\n");
    assert!(!everything.contains(password), "a password was logged");
    assert!(!everything.contains(&token), "a token was logged");
}

#[test]
fn every_command_fails_clearly_with_a_non_zero_exit() {
    let run = |args: &[&str], database: &str| {
        let output = Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .args(args)
            .env("DATABASE_URL", database)
            .env_remove("JWT_SECRET")
            .output()
            .expect("running switchboard");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr),
        )
    };
    let unreachable = "postgres://someone:hunter2secret@127.0.0.1:1/switchboard";

    let version = run(&["--version"], unreachable);
    assert_eq!(version.0, Some(0));
    assert!(version.1.contains(env!("CARGO_PKG_VERSION")), "{}", version.1);
    for command in [
        vec!["migrate"],
        vec!["serve"],
        vec!["seed-demo"],
        vec!["numbers", "check"],
    ] {
        let (code, output) = run(&command, unreachable);
        assert_eq!(code, Some(1), "{command:?}: {output}");
        assert!(output.to_lowercase().contains("database"), "{command:?}: {output}");
        assert!(
            !output.contains("hunter2secret"),
            "{command:?} printed the password: {output}"
        );
    }
    let (code, output) = run(&["migrate"], "mysql-ish://nonsense");
    assert_eq!(code, Some(1), "{output}");
    let (code, output) = run(&["--listen", "not-an-address", "serve"], unreachable);
    assert_eq!(code, Some(2), "a bad argument is a usage error: {output}");
    assert!(output.contains("--listen"), "{output}");
    let (code, output) = run(&["no-such-command"], unreachable);
    assert_eq!(code, Some(2), "{output}");
}
