//! `callLogged` as a feed that loses nothing: resuming from a cursor, the hand-over
//! from replay to live events, a lost `LISTEN` connection, and two instances.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Arrival, TestApp, TestUser, WsClient};

const NUMBER: &str = "+12015550123";
const OTHER_NUMBER: &str = "+12015550124";
const FEED: &str = "subscription($after: String, $id: ID) { callLogged(after: $after, virtualNumberId: $id) { id cursor externalId } }";
const RECORD: &str = "mutation($input: RecordCallInput!) { recordCall(input: $input) { id cursor } }";
const WAIT: Duration = Duration::from_secs(20);

/// Records an inbound call on `number` (whose phone number is `own`) and returns `{ id cursor }`.
async fn record(user: &TestUser<'_>, number: &str, own: &str, label: &str) -> Value {
    record_started(user, number, own, label, None).await
}

async fn record_started(user: &TestUser<'_>, number: &str, own: &str, label: &str, started: Option<&str>) -> Value {
    let mut input = json!({ "virtualNumberId": number, "direction": "INBOUND", "callerNumber": "+14155550100",
                            "calledNumber": own, "durationSeconds": 5, "externalId": label });
    if let Some(started) = started {
        input["startedAt"] = json!(started);
    }
    user.gql(RECORD, json!({ "input": input }))
        .await
        .data("recordCall")
        .clone()
}

fn labels(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|event| {
            assert!(event.get("errors").is_none(), "{event}");
            event["data"]["callLogged"]["externalId"].as_str().unwrap().to_owned()
        })
        .collect()
}

fn numbered(prefix: &str, range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|index| format!("{prefix}{index}")).collect()
}

#[tokio::test]
async fn a_subscriber_resumes_from_its_last_cursor_and_misses_nothing() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number(NUMBER).await;
    let anchor = record(&alice, &number, NUMBER, "anchor").await;

    let mut first = WsClient::acknowledged(&app, Some(&alice.access_token)).await;
    first
        .subscribe("feed", FEED, json!({ "after": anchor["cursor"] }))
        .await;
    record(&alice, &number, NUMBER, "b").await;
    // Recorded late: its start is long past, but it comes after `b` in the feed.
    record_started(&alice, &number, NUMBER, "c", Some("2026-01-01T00:00:00Z")).await;
    let heard = first.events(2, WAIT).await;
    first.close().await;
    record(&alice, &number, NUMBER, "d").await;
    record(&alice, &number, NUMBER, "e").await;
    let mut second = WsClient::acknowledged(&app, Some(&alice.access_token)).await;
    let last_cursor = heard[1]["data"]["callLogged"]["cursor"].clone();
    second.subscribe("feed", FEED, json!({ "after": last_cursor })).await;
    let replayed = second.events(2, WAIT).await;
    record(&alice, &number, NUMBER, "f").await;
    let live = second.events(1, WAIT).await;

    assert_eq!(labels(&heard), ["b", "c"]);
    assert_eq!(labels(&replayed), ["d", "e"], "what was recorded while away, once each");
    assert_eq!(labels(&live), ["f"]);
    assert_eq!(second.arrival(Duration::from_millis(300)).await, Arrival::Quiet);
}

#[tokio::test]
async fn the_hand_over_from_replay_to_live_has_no_gap_and_no_duplicate() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number(NUMBER).await;
    let anchor = record(&alice, &number, NUMBER, "anchor").await;
    let calls = 60;

    // Calls are recorded one after another while the subscriber joins midway.
    let recording = async {
        for index in 0..calls {
            record(&alice, &number, NUMBER, &format!("call-{index}")).await;
        }
    };
    let subscribing = async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let mut client = WsClient::acknowledged(&app, Some(&alice.access_token)).await;
        client
            .subscribe("feed", FEED, json!({ "after": anchor["cursor"] }))
            .await;
        let events = client.events(calls, WAIT).await;
        (client, events)
    };
    let ((), (mut client, events)) = tokio::join!(recording, subscribing);

    assert_eq!(labels(&events), numbered("call-", 0..calls));
    assert_eq!(client.arrival(Duration::from_millis(300)).await, Arrival::Quiet);
}

#[tokio::test]
async fn a_number_feed_resumes_with_that_numbers_calls_only() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let watched = alice.creates_number(NUMBER).await;
    let other = alice.creates_number(OTHER_NUMBER).await;
    // The cursor may be any of alice's calls, even on another number.
    let anchor = record(&alice, &other, OTHER_NUMBER, "anchor").await;
    record(&alice, &watched, NUMBER, "w1").await;
    record(&alice, &other, OTHER_NUMBER, "o1").await;
    record(&alice, &watched, NUMBER, "w2").await;

    let mut client = WsClient::acknowledged(&app, Some(&alice.access_token)).await;
    client
        .subscribe("feed", FEED, json!({ "after": anchor["cursor"], "id": watched }))
        .await;
    let replayed = client.events(2, WAIT).await;
    record(&alice, &other, OTHER_NUMBER, "o2").await;
    record(&alice, &watched, NUMBER, "w3").await;
    let live = client.events(1, WAIT).await;

    assert_eq!(labels(&replayed), ["w1", "w2"]);
    assert_eq!(labels(&live), ["w3"]);
}

#[tokio::test]
async fn after_must_be_the_cursor_of_a_call_the_subscriber_can_see() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let bob = app.signed_up("bob").await;
    let bobs_number = bob.creates_number(OTHER_NUMBER).await;
    let bobs_call = record(&bob, &bobs_number, OTHER_NUMBER, "secret").await;
    let alices_number = alice.creates_number(NUMBER).await;
    let number_cursor = alice
        .gql("{ myVirtualNumbers { edges { cursor } } }", json!({}))
        .await
        .data("myVirtualNumbers")["edges"][0]["cursor"]
        .clone();
    let mut client = WsClient::acknowledged(&app, Some(&alice.access_token)).await;

    for (id, after) in [
        ("bobs", bobs_call["cursor"].clone()),
        ("garbage", json!("not-a-cursor")),
        ("a-number-cursor", number_cursor),
        ("huge", json!("A".repeat(100_000))),
    ] {
        client.subscribe(id, FEED, json!({ "after": after })).await;
        let Arrival::Message(answer) = client.arrival(WAIT).await else {
            panic!("no answer to {id}");
        };
        let error = answer["payload"]
            .get("errors")
            .map(|errors| errors[0].clone())
            .unwrap_or_else(|| answer["payload"][0].clone());
        // The subscription's only result is the error; then it completes (or, for a
        // document refused before it ran, the protocol's `error` message).
        assert_eq!(answer["id"], id, "{answer}");
        assert!(
            error["extensions"]["code"] == "BAD_USER_INPUT" || error["extensions"]["code"] == "QUERY_TOO_COMPLEX",
            "{id}: {answer}"
        );
        if id != "huge" {
            assert_eq!(error["extensions"]["field"], "after", "{answer}");
        }
        while let Arrival::Message(message) = client.arrival(Duration::from_millis(200)).await {
            assert_eq!(message["type"], "complete", "{message}");
        }
    }
    // Bob's later call never reaches alice.
    client.subscribe("live", FEED, json!({})).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    record(&bob, &bobs_number, OTHER_NUMBER, "bob-later").await;
    record(&alice, &alices_number, NUMBER, "alice-later").await;
    assert_eq!(labels(&client.events(1, WAIT).await), ["alice-later"]);
}

#[tokio::test]
async fn the_feed_survives_losing_its_listen_connection() {
    let app = TestApp::spawn().await;
    if !app.database_url.starts_with("postgres") {
        eprintln!("SKIPPED the_feed_survives_losing_its_listen_connection: needs PostgreSQL (TEST_DATABASE_URL)");
        return;
    }
    let beside = app.spawn_beside(|_| {}).await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number(NUMBER).await;
    let anchor = record(&alice, &number, NUMBER, "anchor").await;
    let mut client = WsClient::acknowledged(&beside, Some(&alice.access_token)).await;
    client
        .subscribe("feed", FEED, json!({ "after": anchor["cursor"] }))
        .await;
    record(&alice, &number, NUMBER, "before").await;
    assert_eq!(labels(&client.events(1, WAIT).await), ["before"]);

    let db = sea_orm::Database::connect(&app.database_url).await.unwrap();
    let killed = terminate_listeners(&db).await;
    for index in 0..10 {
        record(&alice, &number, NUMBER, &format!("during-{index}")).await;
    }
    let during = client.events(10, WAIT).await;
    terminate_listeners(&db).await;
    record(&alice, &number, NUMBER, "after").await;
    let after = client.events(1, WAIT).await;

    assert!(killed >= 2, "both instances' LISTEN connections were ended ({killed})");
    assert_eq!(labels(&during), numbered("during-", 0..10));
    assert_eq!(labels(&after), ["after"]);
}

/// Ends every `LISTEN` connection on this test's database, as a failover would.
async fn terminate_listeners(db: &sea_orm::DatabaseConnection) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(pg_terminate_backend(pid)) AS killed FROM pg_stat_activity \
             WHERE datname = current_database() AND query ILIKE 'LISTEN%'",
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "killed").unwrap()
}

#[tokio::test]
async fn two_instances_deliver_every_call_to_every_subscriber_in_order() {
    let app = TestApp::spawn_with(|config| config.ws_max_connections_per_user = 500).await;
    let beside = app
        .spawn_beside(|config| config.ws_max_connections_per_user = 500)
        .await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number(NUMBER).await;
    let anchor = record(&alice, &number, NUMBER, "anchor").await;
    let (subscribers, calls) = (200, 100);

    let mut clients = Vec::new();
    for _ in 0..subscribers {
        let mut client = WsClient::acknowledged(&beside, Some(&alice.access_token)).await;
        client
            .subscribe("feed", FEED, json!({ "after": anchor["cursor"] }))
            .await;
        clients.push(client);
    }
    let listening: Vec<_> = clients
        .into_iter()
        .map(|mut client| tokio::spawn(async move { labels(&client.events(calls, Duration::from_secs(30)).await) }))
        .collect();
    for index in 0..calls {
        record(&alice, &number, NUMBER, &format!("call-{index}")).await;
    }

    let expected = numbered("call-", 0..calls);
    for heard in listening {
        assert_eq!(heard.await.unwrap(), expected);
    }
}

#[tokio::test]
async fn a_subscriber_that_reads_nothing_is_dropped_while_others_keep_receiving() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number(NUMBER).await;
    let anchor = record(&alice, &number, NUMBER, "anchor").await;
    copy_calls(&app, 20_000).await;
    // Each event ~3 kB: the replay overfills every buffer between server and client.
    let wide: String = (0..100).map(|index| format!("n{index}: callerNumber ")).collect();
    let heavy = format!("subscription($after: String) {{ callLogged(after: $after) {{ {wide} }} }}");

    let mut slow = WsClient::acknowledged(&app, Some(&alice.access_token)).await;
    slow.subscribe("heavy", &heavy, json!({ "after": anchor["cursor"] }))
        .await;
    // The copies count as recorded calls: the fast client starts after them.
    let newest = record(&alice, &number, NUMBER, "newest").await;
    let mut fast = WsClient::acknowledged(&app, Some(&alice.access_token)).await;
    fast.subscribe("live", FEED, json!({ "after": newest["cursor"] })).await;
    let mut heard = Vec::new();
    for index in 0..3 {
        record(&alice, &number, NUMBER, &format!("live-{index}")).await;
        heard.extend(fast.events(1, WAIT).await);
    }
    // The slow client reads at last: what was already on its way, then the end.
    tokio::time::sleep(Duration::from_secs(8)).await;
    let mut delivered = 0;
    let end = loop {
        match slow.arrival(WAIT).await {
            Arrival::Message(_) => delivered += 1,
            other => break other,
        }
    };
    let metrics = app.metrics().await;

    assert_eq!(labels(&heard), ["live-0", "live-1", "live-2"]);
    assert!(
        delivered < 20_000,
        "the slow client was cut off ({delivered} delivered)"
    );
    // Its socket was too full for a close frame to get through: the connection just ends.
    assert!(matches!(end, Arrival::Closed(4499 | 1006)), "{end:?}");
    assert!(metrics.contains("switchboard_websocket_dropped_total 1"), "{metrics}");
}

/// Writes `count` copies of the one call log straight to the database (the API
/// would take minutes), numbered after it, and moves the counter past them.
async fn copy_calls(app: &TestApp, count: u32) {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let db = sea_orm::Database::connect(&app.database_url).await.unwrap();
    let columns = "virtual_number_id, owner_id, direction, status, caller_number, called_number, \
                   counterpart_number, started_at, duration_seconds, external_id, created_at, seq";
    let copied = "virtual_number_id, owner_id, direction, status, caller_number, called_number, \
                  counterpart_number, started_at, duration_seconds, NULL, created_at, seq + i";
    let copy = match db.get_database_backend() {
        DbBackend::Postgres => format!(
            "INSERT INTO call_logs (id, {columns}) SELECT gen_random_uuid(), {copied} \
             FROM call_logs, generate_series(1, {count}) AS i"
        ),
        _ => format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count}) \
             INSERT INTO call_logs (id, {columns}) SELECT randomblob(16), {copied} FROM call_logs, n"
        ),
    };
    for sql in [
        copy.as_str(),
        "UPDATE sequences SET value = (SELECT MAX(seq) FROM call_logs) WHERE name = 'call_logs'",
    ] {
        db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_withheld_call_reaches_the_feed_with_its_kind() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number(NUMBER).await;
    let anchor = record(&alice, &number, NUMBER, "anchor").await;
    let mut client = WsClient::acknowledged(&app, Some(&alice.access_token)).await;
    let query =
        "subscription($after: String) { callLogged(after: $after) { callerNumber counterpartKind externalId } }";
    client
        .subscribe("feed", query, json!({ "after": anchor["cursor"] }))
        .await;
    let input = json!({ "virtualNumberId": number, "direction": "INBOUND", "callerNumber": "anonymous",
                        "calledNumber": NUMBER, "durationSeconds": 0, "status": "NO_ANSWER", "externalId": "hidden" });
    alice.gql(RECORD, json!({ "input": input })).await.data("recordCall");

    let event = &client.events(1, WAIT).await[0]["data"]["callLogged"];

    assert_eq!(event["externalId"], "hidden");
    assert_eq!(event["counterpartKind"], "WITHHELD");
    assert_eq!(event["callerNumber"], Value::Null);
}
