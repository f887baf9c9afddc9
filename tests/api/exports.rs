//! `GET /exports/call-logs.csv` and `createCallLogExport`: the header, RFC 4180
//! quoting, neutralised formulas, local times, filters, authorisation, the
//! single-use link, metering, and memory while 100,000 calls stream.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};
use switchboard::entity::{call_log_exports, virtual_numbers};

use crate::helpers::{LOGIN, TEST_SECRET, TestApp, TestUser};

const HEADER: [&str; 15] = [
    "id",
    "virtualNumberId",
    "virtualNumber",
    "virtualNumberFriendlyName",
    "direction",
    "status",
    "callerNumber",
    "calledNumber",
    "counterpartNumber",
    "counterpartKind",
    "counterpartExtension",
    "startedAt",
    "durationSeconds",
    "externalId",
    "createdAt",
];
const NUMBER: &str = "+12015550123";
const CREATE_EXPORT: &str = "mutation($filter: CallLogFilter, $timeZone: String) {
    createCallLogExport(filter: $filter, timeZone: $timeZone) { url expiresAt } }";

/// A CSV download: its status, headers and body.
struct Download {
    status: u16,
    content_type: String,
    body: String,
}

impl Download {
    /// The rows under the header, each a map from column to cell.
    fn rows(&self) -> Vec<BTreeMap<String, String>> {
        let mut reader = csv::Reader::from_reader(self.body.as_bytes());
        let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
        assert_eq!(header, HEADER);
        reader
            .records()
            .map(|record| {
                header
                    .iter()
                    .cloned()
                    .zip(record.unwrap().iter().map(str::to_owned))
                    .collect()
            })
            .collect()
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }

    fn assert_error(&self, status: u16, code: &str, field: Option<&str>) {
        let body = self.json();
        assert_eq!(self.status, status, "{body}");
        assert_eq!(
            body.pointer("/errors/0/extensions/code").and_then(Value::as_str),
            Some(code),
            "{body}"
        );
        assert_eq!(
            body.pointer("/errors/0/extensions/field").and_then(Value::as_str),
            field,
            "{body}"
        );
    }
}

async fn download(app: &TestApp, token: Option<&str>, path_and_query: &str, query: &[(&str, &str)]) -> Download {
    let mut request = app
        .client()
        .get(format!("{}{path_and_query}", app.address))
        .query(query);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("sending the request");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    Download {
        status,
        content_type,
        body: response.text().await.expect("a body"),
    }
}

async fn export(user: &TestUser<'_>, query: &[(&str, &str)]) -> Download {
    download(user.app, Some(&user.access_token), "/exports/call-logs.csv", query).await
}

async fn db(app: &TestApp) -> sea_orm::DatabaseConnection {
    switchboard::db::connect(&app.database_url, 1, switchboard::db::Planning::Cached)
        .await
        .expect("connecting")
}

/// Sets a number's friendly name straight in the database, past the API's
/// rules (as a row written before a rule existed could hold).
async fn set_friendly_name(app: &TestApp, phone_number: &str, name: &str) {
    let db = db(app).await;
    virtual_numbers::Entity::update_many()
        .col_expr(virtual_numbers::Column::FriendlyName, Expr::value(name))
        .filter(virtual_numbers::Column::PhoneNumber.eq(phone_number))
        .exec(&db)
        .await
        .expect("renaming the number");
    db.close().await.expect("closing");
}

/// Makes an export link as `user` and returns its URL.
async fn link(user: &TestUser<'_>, variables: Value) -> String {
    let response = user.gql(CREATE_EXPORT, variables).await;
    response.data("createCallLogExport")["url"].as_str().unwrap().to_owned()
}

async fn record(user: &TestUser<'_>, number: &str, started_at: &str, inbound: bool, external_id: Option<&str>) {
    let counterpart = "+14155550100";
    let (caller, called) = if inbound {
        (counterpart, NUMBER)
    } else {
        (NUMBER, counterpart)
    };
    user.records_call(
        json!({ "virtualNumberId": number, "direction": if inbound { "INBOUND" } else { "OUTBOUND" },
        "status": "COMPLETED", "callerNumber": caller, "calledNumber": called, "startedAt": started_at,
        "durationSeconds": 60, "externalId": external_id }),
    )
    .await;
}

#[tokio::test]
async fn the_csv_has_every_field_quoted_neutralised_and_in_the_zone() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number(NUMBER).await;
    record(&alice, &number, "2026-03-06T18:31:00Z", true, Some("@SUM(1+1)")).await;
    record(
        &alice,
        &number,
        "2026-03-06T18:29:00.250Z",
        false,
        Some("say \"hi\", twice"),
    )
    .await;
    record(&alice, &number, "2026-03-05T12:00:00Z", false, Some("-2+3")).await;
    set_friendly_name(&app, NUMBER, "=HYPERLINK(\"http://evil.example\",\"Sales, East\")").await;

    let kolkata = export(&alice, &[("timeZone", "Asia/Kolkata")]).await;
    set_friendly_name(&app, NUMBER, "Front desk\r\nsecond line").await;
    let multiline = export(&alice, &[]).await;
    set_friendly_name(&app, NUMBER, "\tTabbed").await;
    let tabbed = export(&alice, &[]).await;

    assert_eq!(kolkata.status, 200);
    assert_eq!(kolkata.content_type, "text/csv; charset=utf-8");
    assert!(kolkata.body.starts_with(&format!("{}\r\n", HEADER.join(","))));
    let rows = kolkata.rows();
    assert_eq!(rows.len(), 3);
    // Newest first, as callLogs lists them.
    let newest = &rows[0];
    assert_eq!(newest["virtualNumberId"], number);
    assert_eq!(newest["startedAt"], "2026-03-07T00:01:00+05:30");
    assert_eq!(
        newest["virtualNumberFriendlyName"],
        "'=HYPERLINK(\"http://evil.example\",\"Sales, East\")"
    );
    assert_eq!(newest["externalId"], "'@SUM(1+1)");
    assert_eq!(newest["direction"], "INBOUND");
    assert_eq!(newest["status"], "COMPLETED");
    assert_eq!(newest["counterpartKind"], "NUMBER");
    assert_eq!(newest["durationSeconds"], "60");
    // E.164 starts with `+`, so it is neutralised too: spreadsheets show it as text.
    assert_eq!(newest["virtualNumber"], format!("'{NUMBER}"));
    assert_eq!(newest["callerNumber"], "'+14155550100");
    assert_eq!(newest["calledNumber"], format!("'{NUMBER}"));
    assert!(newest["createdAt"].ends_with("+05:30"));
    assert_eq!(rows[1]["startedAt"], "2026-03-06T23:59:00.250+05:30");
    assert_eq!(rows[1]["externalId"], "say \"hi\", twice");
    assert_eq!(rows[2]["externalId"], "'-2+3");
    // Quoted as RFC 4180 says: the comma and the doubled quotes inside one field.
    assert!(kolkata.body.contains(",\"say \"\"hi\"\", twice\","), "{}", kolkata.body);
    assert!(
        kolkata
            .body
            .contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"Sales, East\"\")\"")
    );
    assert_eq!(
        multiline.rows()[0]["virtualNumberFriendlyName"],
        "Front desk\r\nsecond line"
    );
    assert!(multiline.body.contains(",\"Front desk\r\nsecond line\","));
    assert_eq!(multiline.rows()[0]["startedAt"], "2026-03-06T18:31:00Z");
    assert_eq!(tabbed.rows()[0]["virtualNumberFriendlyName"], "'\tTabbed");
}

#[tokio::test]
async fn the_csv_applies_every_filter() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number(NUMBER).await;
    let other = alice.creates_number("+12015550124").await;
    record(&alice, &number, "2026-03-01T10:00:00Z", true, Some("a")).await;
    record(&alice, &number, "2026-03-02T10:00:00Z", false, Some("b")).await;
    record(&alice, &number, "2026-03-03T10:00:00Z", true, Some("c")).await;
    alice
        .records_call(
            json!({ "virtualNumberId": other, "direction": "INBOUND", "status": "NO_ANSWER",
            "callerNumber": "anonymous", "calledNumber": "+12015550124", "startedAt": "2026-03-02T12:00:00Z",
            "durationSeconds": 0, "externalId": "d" }),
        )
        .await;
    let ids =
        |download: &Download| -> Vec<String> { download.rows().iter().map(|row| row["externalId"].clone()).collect() };

    let inbound = export(&alice, &[("direction", "INBOUND")]).await;
    let missed = export(&alice, &[("status", "NO_ANSWER")]).await;
    let one_number = export(&alice, &[("virtualNumberId", &number)]).await;
    let window = export(
        &alice,
        &[
            ("startedAfter", "2026-03-02T15:30:00+05:30"),
            ("startedBefore", "2026-03-03T00:00:00Z"),
        ],
    )
    .await;
    let withheld = export(&alice, &[("counterpartKind", "WITHHELD")]).await;
    let counterpart = export(
        &alice,
        &[("counterpartNumber", "+1 415 555 0100"), ("direction", "OUTBOUND")],
    )
    .await;

    assert_eq!(ids(&inbound), ["c", "d", "a"]);
    assert_eq!(ids(&missed), ["d"]);
    assert_eq!(ids(&one_number), ["c", "b", "a"]);
    assert_eq!(ids(&window), ["d", "b"]);
    assert_eq!(ids(&withheld), ["d"]);
    assert_eq!(withheld.rows()[0]["callerNumber"], "");
    assert_eq!(withheld.rows()[0]["counterpartNumber"], "");
    assert_eq!(ids(&counterpart), ["b"]);
}

#[tokio::test]
async fn bad_parameters_are_refused_with_their_code_and_field() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;

    let cases: [(&[(&str, &str)], &str); 11] = [
        (&[("direction", "SIDEWAYS")], "direction"),
        (&[("status", "ringing")], "status"),
        (&[("counterpartKind", "ROBOT")], "counterpartKind"),
        (&[("timeZone", "Mars/Olympus")], "timeZone"),
        (&[("startedAfter", "yesterday")], "startedAfter"),
        (&[("startedBefore", "1960-01-01T00:00:00Z")], "startedBefore"),
        (&[("virtualNumberId", "garbage")], "virtualNumberId"),
        (&[("counterpartNumber", "ACME Corp")], "counterpartNumber"),
        (&[("colour", "blue")], "colour"),
        (&[("status", "BUSY"), ("status", "FAILED")], "status"),
        (&[("token", "x"), ("direction", "INBOUND")], "direction"),
    ];
    for (query, field) in cases {
        export(&alice, query)
            .await
            .assert_error(400, "BAD_USER_INPUT", Some(field));
    }
}

#[tokio::test]
async fn the_csv_needs_a_user_or_a_key_that_reads_calls() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number(NUMBER).await;
    record(&alice, &number, "2026-03-01T10:00:00Z", true, None).await;
    let reader = alice.creates_api_key(&["READ_CALLS"]).await;
    let numbers_only = alice.creates_api_key(&["READ_NUMBERS"]).await;

    let anonymous = download(&app, None, "/exports/call-logs.csv", &[]).await;
    let bad_token = download(&app, Some("not-a-token"), "/exports/call-logs.csv", &[]).await;
    let with_reader = download(&app, Some(&reader), "/exports/call-logs.csv", &[]).await;
    let with_numbers_key = download(&app, Some(&numbers_only), "/exports/call-logs.csv", &[]).await;

    anonymous.assert_error(401, "UNAUTHENTICATED", None);
    bad_token.assert_error(401, "UNAUTHENTICATED", None);
    assert_eq!(with_reader.status, 200);
    assert_eq!(with_reader.rows().len(), 1);
    with_numbers_key.assert_error(403, "FORBIDDEN", None);
}

#[tokio::test]
async fn another_user_s_calls_are_never_exported() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let bob = app.signed_up("bob").await;
    let alices_number = alice.creates_number(NUMBER).await;
    let bobs_number = bob.creates_number("+12015550199").await;
    record(&alice, &alices_number, "2026-03-01T10:00:00Z", true, Some("alice's")).await;
    bob.records_call(
        json!({ "virtualNumberId": bobs_number, "direction": "INBOUND", "status": "COMPLETED",
        "callerNumber": "+14155550100", "calledNumber": "+12015550199", "startedAt": "2026-03-01T11:00:00Z",
        "durationSeconds": 5, "externalId": "bob's" }),
    )
    .await;

    let bobs = export(&bob, &[]).await;
    let bob_asks_for_alices_number = export(&bob, &[("virtualNumberId", &alices_number)]).await;

    let ids: Vec<String> = bobs.rows().iter().map(|row| row["externalId"].clone()).collect();
    assert_eq!(ids, ["bob's"]);
    assert_eq!(bob_asks_for_alices_number.status, 200);
    assert!(bob_asks_for_alices_number.rows().is_empty());
}

#[tokio::test]
async fn an_export_link_works_once_for_its_maker_s_calls_and_expires() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let bob = app.signed_up("bob").await;
    let alices_number = alice.creates_number(NUMBER).await;
    let bobs_number = bob.creates_number("+12015550199").await;
    record(&alice, &alices_number, "2026-03-01T10:00:00Z", true, Some("alice in")).await;
    record(&alice, &alices_number, "2026-03-01T11:00:00Z", false, Some("alice out")).await;
    bob.records_call(
        json!({ "virtualNumberId": bobs_number, "direction": "INBOUND", "status": "COMPLETED",
        "callerNumber": "+14155550100", "calledNumber": "+12015550199", "startedAt": "2026-03-01T11:00:00Z",
        "durationSeconds": 5, "externalId": "bob's" }),
    )
    .await;

    let alices_link = link(
        &alice,
        json!({ "filter": { "direction": "INBOUND" }, "timeZone": "Asia/Kolkata" }),
    )
    .await;
    let presented_by_bob = download(&app, Some(&bob.access_token), &alices_link, &[]).await;
    let first = download(&app, None, &alices_link, &[]).await;
    let second = download(&app, None, &alices_link, &[]).await;
    let bobs_link = link(&bob, json!({ "filter": { "virtualNumberId": alices_number } })).await;
    let bobs_download = download(&app, None, &bobs_link, &[]).await;
    let bobs_unfiltered = link(&bob, json!({})).await;
    let bobs_own = download(&app, Some(&bob.access_token), &bobs_unfiltered, &[]).await;
    let stale = link(&alice, json!({})).await;
    let db = db(&app).await;
    call_log_exports::Entity::update_many()
        .col_expr(
            call_log_exports::Column::ExpiresAt,
            Expr::value(chrono::Utc::now() - chrono::TimeDelta::seconds(1)),
        )
        .exec(&db)
        .await
        .unwrap();
    let expired = download(&app, None, &stale, &[]).await;
    let fresh = link(&alice, json!({})).await;
    let head = app
        .client()
        .head(format!("{}{fresh}", app.address))
        .send()
        .await
        .unwrap();
    let after_head = download(&app, None, &fresh, &[]).await;
    let garbage = download(&app, None, "/exports/call-logs.csv?token=garbage", &[]).await;
    let tampered = download(&app, None, &format!("{stale}&direction=OUTBOUND"), &[]).await;

    assert!(alices_link.starts_with("/exports/call-logs.csv?token="));
    assert!(!alices_link.contains(&alice.access_token) && !alices_link.contains(&alice.refresh_token));
    presented_by_bob.assert_error(403, "FORBIDDEN", None);
    assert_eq!(first.status, 200, "{}", first.body);
    let rows = first.rows();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["externalId"], "alice in");
    assert_eq!(rows[0]["startedAt"], "2026-03-01T15:30:00+05:30");
    second.assert_error(401, "UNAUTHENTICATED", None);
    assert!(second.json()["errors"][0]["message"].as_str().unwrap().contains("used"));
    assert!(
        bobs_download.rows().is_empty(),
        "a link of Bob's never reads Alice's calls"
    );
    let bobs: Vec<String> = bobs_own.rows().iter().map(|row| row["externalId"].clone()).collect();
    assert_eq!(bobs, ["bob's"]);
    expired.assert_error(401, "UNAUTHENTICATED", None);
    assert!(
        expired.json()["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
    assert_eq!(head.status(), 405, "a HEAD (a link preview) does not spend the link");
    assert_eq!(after_head.status, 200);
    assert_eq!(after_head.rows().len(), 2);
    garbage.assert_error(401, "UNAUTHENTICATED", None);
    tampered.assert_error(400, "BAD_USER_INPUT", Some("direction"));
}

#[tokio::test]
async fn making_a_link_needs_a_user_and_good_input() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;

    let anonymous = app.gql(CREATE_EXPORT, json!({})).await;
    let bad_zone = alice.gql(CREATE_EXPORT, json!({ "timeZone": "Mars/Olympus" })).await;
    let bad_filter = alice
        .gql(CREATE_EXPORT, json!({ "filter": { "virtualNumberId": "garbage" } }))
        .await;

    anonymous.assert_error("UNAUTHENTICATED", None);
    bad_zone.assert_error("BAD_USER_INPUT", Some("timeZone"));
    bad_filter.assert_error("BAD_USER_INPUT", Some("virtualNumberId"));
}

#[tokio::test]
async fn an_export_is_metered_against_the_caller_s_cost_bucket() {
    // Each export of nothing costs 60 points (50 to start, 10 for its one batch).
    let app = TestApp::spawn_with(|config| {
        config.cost_bucket_size = 200;
        config.cost_restore_per_second = 1;
    })
    .await;
    let alice = app.signed_up("alice").await;

    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(export(&alice, &[]).await);
    }

    let codes: Vec<u16> = statuses.iter().map(|download| download.status).collect();
    assert_eq!(codes, [200, 200, 200, 429]);
    statuses[3].assert_error(429, "RATE_LIMITED", None);
}

/// The resident memory of process `pid`, in bytes (Linux).
fn resident_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// The server as its own process, so its memory is its own (the tests beside
/// this one share this process and allocate as they please).
struct Server {
    child: std::process::Child,
    address: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn serve(database_url: &str) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .arg("serve")
        .env("DATABASE_URL", database_url)
        .env("SWITCHBOARD_LISTEN", format!("127.0.0.1:{port}"))
        .env("JWT_SECRET", TEST_SECRET)
        .env("RUST_LOG", "warn")
        // Each pooled SQLite connection keeps up to 2 MiB of page cache: with the
        // default ten, a long read can warm 20 MiB of cache that is the pool's,
        // not the export's. Two connections keep that part to 4 MiB, so what is
        // measured is the export (the CSV itself is 27 MiB).
        .env("DATABASE_MAX_CONNECTIONS", "2")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("running switchboard");
    let server = Server {
        child,
        address: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::new();
    for _ in 0..600 {
        if client
            .get(format!("{}/healthz", server.address))
            .send()
            .await
            .is_ok_and(|response| response.status().is_success())
        {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not start");
}

/// Downloads an export, reading it as it arrives: (rows, bytes, time to the
/// first byte, time to the last).
async fn stream_export(server: &Server, token: &str, query: &[(&str, &str)]) -> (usize, usize, Duration, Duration) {
    let started = Instant::now();
    let mut response = reqwest::Client::new()
        .get(format!("{}/exports/call-logs.csv", server.address))
        .query(query)
        .bearer_auth(token)
        .send()
        .await
        .expect("asking for the export");
    assert_eq!(response.status(), 200);
    let (mut lines, mut bytes, mut first_byte) = (0, 0, None);
    while let Some(chunk) = response.chunk().await.expect("reading the export") {
        first_byte.get_or_insert_with(|| started.elapsed());
        bytes += chunk.len();
        // Seeded cells hold no line breaks: each one ends a row.
        lines += chunk.iter().filter(|&&byte| byte == b'\n').count();
    }
    (lines - 1, bytes, first_byte.unwrap_or_default(), started.elapsed())
}

#[tokio::test]
async fn an_export_of_200_000_calls_streams_in_flat_memory() {
    const CALLS: usize = 200_000;
    const MIB: u64 = 1024 * 1024;
    let app = TestApp::spawn().await;
    let db = db(&app).await;
    let seeded = Instant::now();
    let users = switchboard::cli::seed::seed_demo(
        &db,
        switchboard::cli::seed::SeedOptions {
            users: 1,
            numbers: 3,
            calls: CALLS,
        },
    )
    .await
    .expect("seeding calls");
    let seeded = seeded.elapsed();
    db.close().await.expect("closing");
    let server = serve(&app.database_url).await;
    let login = reqwest::Client::new()
        .post(format!("{}/graphql", server.address))
        .json(&json!({ "query": LOGIN, "variables": { "username": users[0].username, "password": users[0].password } }))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let token = login["data"]["login"]["accessToken"].as_str().unwrap().to_owned();
    // A small export first, so the pool, the allocator and the CSV writer are warm.
    let a_day_ago = (chrono::Utc::now() - chrono::TimeDelta::days(1)).to_rfc3339();
    stream_export(&server, &token, &[("startedAfter", &a_day_ago)]).await;
    let pid = server.child.id();
    let baseline = resident_bytes(pid);
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let sampler = tokio::spawn(async move {
        let mut peak = 0;
        loop {
            peak = peak.max(resident_bytes(pid));
            tokio::select! {
                _ = stopped.changed() => return peak,
                _ = tokio::time::sleep(Duration::from_millis(5)) => {}
            }
        }
    });

    let (rows, bytes, first_byte, total) = stream_export(&server, &token, &[("timeZone", "Europe/Paris")]).await;
    let _ = stop.send(true);
    let peak = sampler.await.unwrap().max(resident_bytes(pid));

    let growth = peak.saturating_sub(baseline);
    let rate = rows as f64 / total.as_secs_f64();
    // Straight to stderr, past the harness's capture: these are the figures the README quotes.
    eprintln!(
        "export of {rows} calls ({} MiB of CSV): first byte after {first_byte:?}, all in {total:?} \
         ({rate:.0} rows/s); server RSS {} MiB before, peak {} MiB, growth {:.1} MiB; seeding took {seeded:?}",
        bytes as u64 / MIB,
        baseline / MIB,
        peak / MIB,
        growth as f64 / MIB as f64
    );
    assert_eq!(rows, CALLS);
    assert!(
        bytes as u64 > 20 * MIB,
        "the CSV ({bytes} bytes) is bigger than the memory bound"
    );
    assert!(growth < 20 * MIB, "the server grew by {growth} bytes");
    assert!(first_byte < total / 4, "first byte after {first_byte:?} of {total:?}");
}
