//! The attack suite: what a prober sends the day the API goes up. Each attack
//! gets its exact refusal, nothing is written, and other users stay served.

use serde_json::{Value, json};

use crate::helpers::{LOGIN, TestApp};

const REGISTER_MALLORY: &str = r#"{"query":"mutation { register(input: { username: \"mallory\", password: \"mallory-password\" }) { accessToken } }"}"#;

/// Whether `mallory` can sign in: whether any of the attacks created the account.
async fn mallory_exists(app: &TestApp) -> bool {
    let response = app
        .gql(LOGIN, json!({ "username": "mallory", "password": "mallory-password" }))
        .await;
    response.body.get("errors").is_none()
}

#[tokio::test]
async fn posts_a_browser_could_send_cross_site_are_refused_before_parsing() {
    let app = TestApp::spawn().await;
    let url = format!("{}/graphql", app.address);
    let client = app.client();

    let mut statuses = Vec::new();
    for content_type in [
        Some("text/plain"),
        Some("text/plain;charset=UTF-8"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        None,
    ] {
        let mut request = client.post(&url).body(REGISTER_MALLORY);
        if let Some(content_type) = content_type {
            request = request.header("Content-Type", content_type);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{content_type:?}"
        );
        statuses.push(status);
    }

    assert_eq!(statuses, vec![415; 5]);
    assert!(!mallory_exists(&app).await);
}

#[tokio::test]
async fn both_graphql_json_media_types_are_accepted() {
    let app = TestApp::spawn().await;
    let url = format!("{}/graphql", app.address);

    let mut answers = Vec::new();
    for content_type in [
        "application/json",
        "application/json; charset=utf-8",
        "application/graphql-response+json",
    ] {
        let response = app
            .client()
            .post(&url)
            .header("Content-Type", content_type)
            .body(r#"{"query":"{ __typename }"}"#)
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap();
        answers.push(body["data"]["__typename"].clone());
    }

    assert_eq!(answers, vec![json!("Query"); 3]);
}

#[tokio::test]
async fn one_request_checks_at_most_one_password() {
    let app = TestApp::spawn().await;
    app.signed_up("alice").await;
    let logins: String = (0..40)
        .map(|n| format!("l{n}: login(username: \"user{n}\", password: \"wrong-password\") {{ accessToken }} "))
        .collect();
    let registers: String = (0..20)
        .map(|n| {
            format!("r{n}: register(input: {{ username: \"mallory{n}\", password: \"mallory-password\" }}) {{ accessToken }} ")
        })
        .collect();

    let many_logins = app.gql(&format!("mutation {{ {logins} }}"), json!({})).await;
    let many_registers = app.gql(&format!("mutation {{ {registers} }}"), json!({})).await;
    let mixed = app
        .gql(
            "mutation { login(username: \"alice\", password: \"alice-password\") { accessToken } \
             refresh(refreshToken: \"x\") { accessToken } }",
            json!({}),
        )
        .await;
    let one = app
        .gql(LOGIN, json!({ "username": "alice", "password": "alice-password" }))
        .await;

    many_logins.assert_error("BAD_USER_INPUT", Some("login"));
    many_registers.assert_error("BAD_USER_INPUT", Some("register"));
    mixed.assert_error("BAD_USER_INPUT", Some("refresh"));
    assert_eq!(many_registers.body["data"], Value::Null);
    let mallory0 = app
        .gql(LOGIN, json!({ "username": "mallory0", "password": "mallory-password" }))
        .await;
    mallory0.assert_error("UNAUTHENTICATED", None);
    assert!(one.data("login")["accessToken"].is_string());
}

#[tokio::test]
async fn every_response_carries_the_security_headers_and_the_playground_its_policy() {
    let app = TestApp::spawn().await;
    let client = app.client();

    let health = client.get(format!("{}/healthz", app.address)).send().await.unwrap();
    let graphql = client
        .post(format!("{}/graphql", app.address))
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    let playground = client
        .get(format!("{}/graphql", app.address))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();

    for response in [&health, &graphql, &playground] {
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["x-frame-options"], "DENY");
        assert_eq!(headers["referrer-policy"], "no-referrer");
    }
    let policy = playground.headers()["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("default-src 'none'"), "{policy}");
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(policy.contains("connect-src 'self'"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(!policy.contains("script-src 'self' 'unsafe"), "{policy}");
}

#[tokio::test]
async fn introspection_can_be_switched_off_and_then_nothing_suggests_field_names() {
    let open = TestApp::spawn().await;
    let closed = TestApp::spawn_with(|config| config.introspection = false).await;
    let schema = "{ __schema { queryType { name } } }";
    let typo = "{ virtualNumbr(id: \"x\") { id } }";

    let open_schema = open.gql(schema, json!({})).await;
    let closed_schema = closed.gql(schema, json!({})).await;
    let open_typo = open.gql(typo, json!({})).await;
    let closed_typo = closed.gql(typo, json!({})).await;

    assert_eq!(open_schema.data("__schema")["queryType"]["name"], "Query");
    assert_eq!(
        closed_schema.body["data"]["__schema"],
        Value::Null,
        "{}",
        closed_schema.body
    );
    assert!(open_typo.error_message().contains("Did you mean"), "{}", open_typo.body);
    assert!(
        !closed_typo.error_message().contains("Did you mean"),
        "{}",
        closed_typo.body
    );
    assert!(
        !closed_typo.error_message().contains("\"virtualNumber\""),
        "{}",
        closed_typo.body
    );
}

/// A sign-in as seen through a trusted proxy, from `address`.
async fn login_from(app: &TestApp, address: &str, username: &str, password: &str) -> Value {
    app.client()
        .post(format!("{}/graphql", app.address))
        .header("X-Forwarded-For", address)
        .json(&json!({ "query": LOGIN, "variables": { "username": username, "password": password } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Limits count in fixed one-minute windows: a test that counts attempts starts
/// well inside one, so its attempts all fall in the same window.
pub async fn clear_of_a_minute_boundary() {
    let second = chrono::Utc::now().timestamp().rem_euclid(60);
    if second >= 50 {
        tokio::time::sleep(std::time::Duration::from_secs((61 - second) as u64)).await;
    }
}

fn code(body: &Value) -> Option<&str> {
    body.pointer("/errors/0/extensions/code").and_then(Value::as_str)
}

#[tokio::test]
async fn a_guesser_is_stopped_without_locking_the_owner_out() {
    let app = TestApp::spawn_with(|config| config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]).await;
    app.signed_up("alice").await;
    clear_of_a_minute_boundary().await;

    let mut guesses = Vec::new();
    for _ in 0..12 {
        let body = login_from(&app, "198.51.100.7", "alice", "wrong-password").await;
        guesses.push(code(&body).unwrap_or("none").to_owned());
    }
    let owner = login_from(&app, "192.0.2.10", "alice", "alice-password").await;
    let mut other_names = Vec::new();
    for n in 0..25 {
        let body = login_from(&app, "198.51.100.7", &format!("user{n}"), "wrong-password").await;
        other_names.push(code(&body).unwrap_or("none").to_owned());
    }

    assert_eq!(guesses[..10], vec!["UNAUTHENTICATED"; 10]);
    assert_eq!(guesses[10..], vec!["RATE_LIMITED"; 2]);
    assert!(owner.pointer("/data/login/accessToken").is_some(), "{owner}");
    // 30 sign-ins a minute from one address, whatever the names: 12 + 18 allowed.
    assert_eq!(other_names.iter().filter(|code| *code == "UNAUTHENTICATED").count(), 18);
    assert_eq!(other_names.iter().filter(|code| *code == "RATE_LIMITED").count(), 7);
}

#[tokio::test]
async fn a_forwarded_for_header_from_an_untrusted_peer_changes_nothing() {
    let app = TestApp::spawn_with(|config| config.login_attempts_per_minute = 3).await;
    app.signed_up("alice").await;
    clear_of_a_minute_boundary().await;

    let mut codes = Vec::new();
    for n in 0..5 {
        let body = login_from(&app, &format!("203.0.113.{n}"), "alice", "wrong-password").await;
        codes.push(code(&body).unwrap_or("none").to_owned());
    }

    assert_eq!(
        codes,
        [
            "UNAUTHENTICATED",
            "UNAUTHENTICATED",
            "UNAUTHENTICATED",
            "RATE_LIMITED",
            "RATE_LIMITED"
        ]
    );
}

#[tokio::test]
async fn sign_ups_are_limited_per_address_and_the_refused_one_writes_nothing() {
    let app = TestApp::spawn_with(|config| {
        config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        config.signups_per_address_per_hour = 2;
    })
    .await;
    let register_from = |address: &'static str, username: &'static str| {
        app.client()
            .post(format!("{}/graphql", app.address))
            .header("X-Forwarded-For", address)
            .json(&json!({ "query": "mutation($u: String!) { register(input: { username: $u, password: \"long-enough-password\" }) { accessToken } }",
                "variables": { "u": username } }))
            .send()
    };

    let mut codes = Vec::new();
    for (address, username) in [
        ("198.51.100.7", "mal1"),
        ("198.51.100.7", "mal2"),
        ("198.51.100.7", "mal3"),
        ("192.0.2.10", "carol"),
    ] {
        let body: Value = register_from(address, username).await.unwrap().json().await.unwrap();
        codes.push(code(&body).unwrap_or("none").to_owned());
    }
    let third = app
        .gql(LOGIN, json!({ "username": "mal3", "password": "long-enough-password" }))
        .await;

    assert_eq!(codes, ["none", "none", "RATE_LIMITED", "none"]);
    third.assert_error("UNAUTHENTICATED", None);
}

/// Sends a raw document anonymously and returns (status, body).
async fn raw(app: &TestApp, query: &str) -> (u16, Value) {
    let response = app
        .client()
        .post(format!("{}/graphql", app.address))
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn limit_of(body: &Value) -> (Option<&str>, Option<&str>) {
    (
        code(body),
        body.pointer("/errors/0/extensions/limit").and_then(Value::as_str),
    )
}

fn fragment_bomb(levels: usize) -> String {
    let fragments: String = (0..levels)
        .map(|n| format!("fragment F{n} on Query {{ ...F{m} ...F{m} }} ", m = n + 1))
        .collect();
    format!("query {{ ...F0 }} {fragments} fragment F{levels} on Query {{ __typename }}")
}

#[tokio::test]
async fn documents_over_a_limit_are_refused_on_that_limit_before_anything_runs() {
    let app = TestApp::spawn().await;
    let aliases: String = (0..1_000).map(|n| format!("a{n}: __typename ")).collect();
    let ten_thousand_aliases: String = (0..10_000).map(|n| format!("a{n}: __typename ")).collect();
    let root_fields = format!("{{ {} }}", "__typename ".repeat(1_000));
    let directives = format!("{{ __typename {} }}", "@include(if: true) ".repeat(1_000));
    let tokens = format!("{{ {} }}", "__typename ".repeat(90_000));
    let deep = format!(
        "{{ {} __typename {} }}",
        "me { virtualNumbers { nodes { owner { ".repeat(8),
        "} } } } ".repeat(8)
    );

    let cases = [
        (fragment_bomb(30), "selections"),
        (format!("{{ {aliases} }}"), "aliases"),
        // Refused on its length before it is even parsed.
        (format!("{{ {ten_thousand_aliases} }}"), "tokens"),
        (root_fields, "rootFields"),
        (directives, "directives"),
        (tokens, "tokens"),
        (deep, "depth"),
    ];
    for (query, limit) in cases {
        let (status, body) = raw(&app, &query).await;

        assert_eq!(status, 400, "{limit}: {body}");
        assert_eq!(limit_of(&body), (Some("QUERY_TOO_COMPLEX"), Some(limit)), "{body}");
        assert_eq!(body["data"], Value::Null);
    }
}

#[tokio::test]
async fn a_batch_array_and_a_fragment_cycle_are_refused() {
    let app = TestApp::spawn().await;

    let batch = app
        .client()
        .post(format!("{}/graphql", app.address))
        .header("Content-Type", "application/json")
        .body(r#"[{"query":"{ __typename }"},{"query":"{ __typename }"}]"#)
        .send()
        .await
        .unwrap();
    let (cycle_status, cycle) = raw(
        &app,
        "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }",
    )
    .await;

    assert_eq!(batch.status(), 400);
    assert_eq!(cycle_status, 400);
    assert_eq!(code(&cycle), Some("BAD_USER_INPUT"), "{cycle}");
}

#[tokio::test]
async fn the_cost_of_a_request_is_calculated_reported_and_capped() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let page = "{ myVirtualNumbers(first: 20) { nodes { id phoneNumber } } }";
    let counted = "{ myVirtualNumbers(first: 20) { totalCount nodes { id phoneNumber } } }";
    let nothing = "{ myVirtualNumbers(first: 0) { totalCount } }";
    let me = "{ me { id username } }";
    let calls = "{ callLogs(first: 20) { nodes { id startedAt counterpartNumber virtualNumber { phoneNumber } } } }";
    let totals = "{ callStats { totalCalls } }";
    let days = "{ callStats(groupBy: DAY, filter: { startedAfter: \"2026-01-01T00:00:00Z\", \
                startedBefore: \"2026-04-01T00:00:00Z\" }) { buckets { periodStart totalCalls } } }";
    let reports: String = (0..40)
        .map(|n| format!("s{n}: callStats(groupBy: HOUR) {{ buckets {{ periodStart totalCalls }} }} "))
        .collect();

    let mut costs = Vec::new();
    for query in [page, counted, nothing, me, calls, totals, days] {
        let response = alice.gql(query, json!({})).await;
        let cost = &response.body["extensions"]["cost"];
        assert_eq!(cost["requestedQueryCost"], cost["actualQueryCost"], "{}", response.body);
        assert_eq!(cost["throttleStatus"]["maximumAvailable"], 20_000);
        assert_eq!(cost["throttleStatus"]["restoreRate"], 1_000);
        costs.push(cost["requestedQueryCost"].as_u64().unwrap());
    }
    let heavy = alice.gql(&format!("{{ {reports} }}"), json!({})).await;

    // The README's figures: 1 + 20 x (nodes 1 + id 1 + phoneNumber 1); totalCount adds 10;
    // an empty page costs its count; 90 days are 92 buckets, 10 points of 3.
    assert_eq!(costs, vec![61, 71, 11, 3, 121, 51, 80]);
    heavy.assert_error("QUERY_TOO_COMPLEX", None);
    assert_eq!(heavy.body["errors"][0]["extensions"]["limit"], "cost");
    assert_eq!(heavy.body["errors"][0]["extensions"]["found"], 62_000);
    assert_eq!(heavy.body["extensions"]["cost"]["actualQueryCost"], 0);
}

#[tokio::test]
async fn a_callers_bucket_drains_answers_429_and_refills() {
    let app = TestApp::spawn_with(|config| {
        // Room for the two sign-ups (110 each) on the address's bucket, and four pages on alice's.
        config.cost_bucket_size = 250;
        config.cost_restore_per_second = 100;
    })
    .await;
    let alice = app.signed_up("alice").await;
    let bob = app.signed_up("bob").await;
    let page = "{ myVirtualNumbers(first: 20) { nodes { id phoneNumber } } }";

    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(alice.gql(page, json!({})).await.status);
    }
    let refused = alice.gql(page, json!({})).await;
    let raw_refusal = app
        .client()
        .post(format!("{}/graphql", app.address))
        .bearer_auth(&alice.access_token)
        .json(&json!({ "query": page }))
        .send()
        .await
        .unwrap();
    let someone_else = bob.gql(page, json!({})).await;
    tokio::time::sleep(std::time::Duration::from_millis(1_300)).await;
    let refilled = alice.gql(page, json!({})).await;

    assert_eq!(statuses[..3], [200, 200, 200]);
    assert_eq!(refused.status, 429);
    refused.assert_error("RATE_LIMITED", None);
    assert!(refused.body["errors"][0]["extensions"]["retryAfter"].as_u64().unwrap() >= 1);
    assert!(
        refused.body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"]
            .as_u64()
            .unwrap()
            < 61
    );
    assert!(raw_refusal.headers().contains_key("retry-after"));
    assert_eq!(someone_else.status, 200);
    assert_eq!(refilled.status, 200, "{}", refilled.body);
}

#[tokio::test]
async fn other_users_stay_served_while_attacks_are_refused() {
    let app = TestApp::spawn().await;
    let bob = app.signed_up("bob").await;
    let bomb = fragment_bomb(30);
    let aliases: String = (0..1_000)
        .map(|n| format!("s{n}: callStats {{ totalCalls }} "))
        .collect();
    let flood = format!("{{ {aliases} }}");

    let attacks = async {
        let mut refused = Vec::new();
        for _ in 0..10 {
            let (bomb_status, _) = raw(&app, &bomb).await;
            let (flood_status, _) = raw(&app, &flood).await;
            refused.push((bomb_status, flood_status));
        }
        refused
    };
    let checks = async {
        let mut slowest = std::time::Duration::ZERO;
        for _ in 0..10 {
            let started = std::time::Instant::now();
            let health = app
                .client()
                .get(format!("{}/healthz", app.address))
                .send()
                .await
                .unwrap();
            let me = bob.gql("{ me { username } }", json!({})).await;
            slowest = slowest.max(started.elapsed() / 2);
            assert_eq!(health.status(), 200);
            assert_eq!(me.data("me")["username"], "bob");
        }
        slowest
    };
    let (refused, slowest) = tokio::join!(attacks, checks);

    assert!(refused.iter().all(|statuses| *statuses == (400, 400)), "{refused:?}");
    assert!(
        // Served, not starved: a bound for a busy 2-core CI machine, not a speed test
        // (bench/ measures speed).
        slowest < std::time::Duration::from_secs(2),
        "slowest answer {slowest:?}"
    );
}

#[tokio::test]
async fn sign_in_limits_hold_across_instances_sharing_a_database() {
    let first = TestApp::spawn_with(|config| config.login_attempts_per_minute = 4).await;
    let second = first.spawn_beside(|config| config.login_attempts_per_minute = 4).await;
    first.signed_up("alice").await;
    clear_of_a_minute_boundary().await;

    let mut codes = Vec::new();
    for attempt in 0..6 {
        let instance = if attempt % 2 == 0 { &first } else { &second };
        let response = instance
            .gql(LOGIN, json!({ "username": "alice", "password": "wrong-password" }))
            .await;
        codes.push(response.error_code().unwrap_or("none").to_owned());
    }

    assert_eq!(codes[..4], vec!["UNAUTHENTICATED"; 4]);
    assert_eq!(codes[4..], vec!["RATE_LIMITED"; 2]);
}

/// The instance keeps documents it has parsed and checked, and requests it has
/// validated (`graphql::seen`): a document sent again is still checked for what
/// its request brings (variables, cost, an API key's scopes), and a document
/// once refused is refused again.
#[tokio::test]
async fn a_document_sent_again_is_checked_again_for_what_its_request_brings() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    alice.creates_number("+12015550123").await;
    alice.creates_number("+12015550124").await;
    let calls_key = alice.creates_api_key(&["READ_CALLS"]).await;
    let page = "query($n: Int!) { myVirtualNumbers(first: $n) { nodes { phoneNumber } } }";
    let direction = "query($d: CallDirection) { callLogs(first: 1, filter: { direction: $d }) { totalCount } }";
    let aliases: String = (0..201).map(|n| format!("a{n}: __typename ")).collect();
    let over = format!("{{ {aliases}}}");

    let first = alice.gql(page, json!({ "n": 1 })).await;
    let larger = alice.gql(page, json!({ "n": 2 })).await;
    let mistyped = alice.gql(page, json!({ "n": "seven" })).await;
    let by_key = app.gql_as(Some(&calls_key), page, json!({ "n": 1 })).await;
    let again = alice.gql(page, json!({ "n": 1 })).await;
    let inbound = alice.gql(direction, json!({ "d": "INBOUND" })).await;
    let sideways = alice.gql(direction, json!({ "d": "SIDEWAYS" })).await;
    let over_once = alice.gql(&over, json!({})).await;
    let over_twice = alice.gql(&over, json!({})).await;

    let cost =
        |response: &crate::helpers::GqlResponse| response.body["extensions"]["cost"]["requestedQueryCost"].clone();
    assert_eq!(first.data("myVirtualNumbers")["nodes"].as_array().unwrap().len(), 1);
    assert_eq!(larger.data("myVirtualNumbers")["nodes"].as_array().unwrap().len(), 2);
    assert_ne!(cost(&first), cost(&larger), "the cost follows the variables");
    assert!(
        mistyped.body["errors"][0]["message"].as_str().unwrap().contains("n"),
        "{}",
        mistyped.body
    );
    assert_eq!(mistyped.body["data"], Value::Null, "{}", mistyped.body);
    by_key.assert_error("FORBIDDEN", None);
    assert_eq!(again.body["data"], first.body["data"]);
    assert_eq!(cost(&again), cost(&first));
    assert_eq!(inbound.data("callLogs")["totalCount"], 0);
    sideways.assert_error("BAD_USER_INPUT", Some("direction"));
    for response in [&over_once, &over_twice] {
        response.assert_error("QUERY_TOO_COMPLEX", None);
    }
}
