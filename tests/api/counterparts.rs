//! Calls whose other party has no valid number: withheld callers, short codes and
//! service numbers, unverifiable digits. Recorded with their kind, listed,
//! filtered and counted; text that is no number at all is still refused.

use sea_orm::{ActiveEnum, ConnectionTrait, Database, DbBackend, Statement};
use serde_json::{Value, json};
use switchboard::entity::call_logs::CounterpartKind;

use crate::helpers::{CALL_LOGS, RECORD_CALL, TestApp, TestUser};

const NUMBER: &str = "+12015550123";
const LONDON: &str = "+442079460958";
const STATS: &str = "query($filter: CallLogFilter) {
    callStats(filter: $filter) { totalCalls inboundCalls outboundCalls completedCalls missedCalls } }";

/// An inbound call to `own` (the number `number_id`) from `caller`, as a carrier sent it.
fn from(number_id: &str, caller: &str) -> Value {
    json!({ "virtualNumberId": number_id, "direction": "INBOUND", "callerNumber": caller,
            "calledNumber": NUMBER, "durationSeconds": 30 })
}

/// An outbound call from `own` (the number `number_id`) to `called`.
fn to(number_id: &str, own: &str, called: &str) -> Value {
    json!({ "virtualNumberId": number_id, "direction": "OUTBOUND", "callerNumber": own,
            "calledNumber": called, "durationSeconds": 30 })
}

async fn logs(user: &TestUser<'_>, filter: Value) -> Value {
    user.gql(CALL_LOGS, json!({ "first": 100, "filter": filter }))
        .await
        .data("callLogs")
        .clone()
}

fn kinds_and_numbers(connection: &Value) -> Vec<(String, Value)> {
    connection["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| {
            let node = &edge["node"];
            (
                node["counterpartKind"].as_str().unwrap().to_owned(),
                node["counterpartNumber"].clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn withheld_callers_are_recorded_with_no_number_and_listed() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number(NUMBER).await;

    let mut recorded = Vec::new();
    for caller in [
        "anonymous",
        "Restricted",
        "unavailable",
        "",
        "sip:anonymous@anonymous.invalid",
    ] {
        recorded.push(alice.records_call(from(&number, caller)).await);
    }
    let listed = logs(&alice, json!({})).await;

    for log in &recorded {
        assert_eq!(log["counterpartKind"], "WITHHELD", "{log}");
        assert_eq!(log["counterpartNumber"], Value::Null);
        assert_eq!(log["callerNumber"], Value::Null);
        assert_eq!(
            log["calledNumber"], NUMBER,
            "the virtual number's side stays the number"
        );
    }
    assert_eq!(listed["totalCount"], 5);
    assert!(
        kinds_and_numbers(&listed)
            .iter()
            .all(|(kind, number)| kind == "WITHHELD" && number.is_null())
    );
}

#[tokio::test]
async fn emergency_and_short_codes_are_kept_with_their_digits() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let us = alice.creates_number(NUMBER).await;
    let gb = alice.creates_number("+44 20 7946 0958").await;
    let cases = [
        (to(&us, NUMBER, "911"), "911"),
        (to(&us, NUMBER, "12345"), "12345"),
        (to(&us, NUMBER, "654-321"), "654321"),
        (to(&gb, LONDON, "999"), "999"),
        (to(&gb, LONDON, "112"), "112"),
    ];

    for (call, digits) in cases {
        let log = alice.records_call(call).await;

        assert_eq!(log["counterpartKind"], "SHORT_CODE", "{log}");
        assert_eq!(log["counterpartNumber"], digits);
        assert_eq!(log["calledNumber"], digits);
        assert_eq!(log["callerNumber"], log["virtualNumber"]["phoneNumber"]);
    }
    assert_eq!(logs(&alice, json!({})).await["totalCount"], 5);
}

#[tokio::test]
async fn a_possible_but_invalid_number_is_kept_as_unverifiable() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number(NUMBER).await;

    let log = alice.records_call(from(&number, "+1 555 0100")).await;

    assert_eq!(log["counterpartKind"], "UNVERIFIABLE");
    assert_eq!(log["counterpartNumber"], "+15550100");
    assert_eq!(log["callerNumber"], "+15550100");
}

#[tokio::test]
async fn a_counterpart_is_read_in_the_virtual_numbers_country_and_keeps_its_extension() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number(NUMBER).await;

    // No DEFAULT_REGION: the national spelling is read as the US number dials it.
    let national = alice.records_call(from(&number, "(415) 555-0100")).await;
    let with_extension = alice.records_call(from(&number, "+1 415 555 0100 x45")).await;

    assert_eq!(national["counterpartKind"], "NUMBER");
    assert_eq!(national["counterpartNumber"], "+14155550100");
    assert_eq!(national["counterpartExtension"], Value::Null);
    assert_eq!(with_extension["counterpartNumber"], "+14155550100");
    assert_eq!(with_extension["counterpartExtension"], "45");
}

#[tokio::test]
async fn calls_are_filtered_by_counterpart_kind() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number(NUMBER).await;
    alice.records_call(from(&number, "+14155550100")).await;
    alice.records_call(from(&number, "anonymous")).await;
    alice.records_call(from(&number, "")).await;
    alice.records_call(to(&number, NUMBER, "911")).await;
    alice.records_call(from(&number, "+1 555 0100")).await;

    let withheld = logs(&alice, json!({ "counterpartKind": "WITHHELD" })).await;
    let numbers = logs(&alice, json!({ "counterpartKind": "NUMBER" })).await;
    let short_codes = logs(
        &alice,
        json!({ "counterpartKind": "SHORT_CODE", "direction": "OUTBOUND" }),
    )
    .await;
    let unverifiable = logs(&alice, json!({ "counterpartKind": "UNVERIFIABLE" })).await;
    let none = logs(
        &alice,
        json!({ "counterpartKind": "SHORT_CODE", "direction": "INBOUND" }),
    )
    .await;

    assert_eq!(withheld["totalCount"], 2);
    assert!(kinds_and_numbers(&withheld).iter().all(|(kind, _)| kind == "WITHHELD"));
    assert_eq!(
        kinds_and_numbers(&numbers),
        vec![("NUMBER".into(), json!("+14155550100"))]
    );
    assert_eq!(
        kinds_and_numbers(&short_codes),
        vec![("SHORT_CODE".into(), json!("911"))]
    );
    assert_eq!(
        kinds_and_numbers(&unverifiable),
        vec![("UNVERIFIABLE".into(), json!("+15550100"))]
    );
    assert_eq!(none["totalCount"], 0);
}

#[tokio::test]
async fn the_counterpart_number_filter_matches_every_spelling_and_short_codes() {
    let app = TestApp::spawn_with(|config| config.default_region = Some("US".into())).await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number(NUMBER).await;
    alice.records_call(from(&number, "415.555.0100")).await;
    alice.records_call(from(&number, "anonymous")).await;
    alice.records_call(to(&number, NUMBER, "911")).await;
    alice.records_call(from(&number, "+1 555 0100")).await;

    for spelling in [
        "+14155550100",
        "+1 (415) 555-0100",
        "(415) 555-0100",
        "415-555-0100",
        "011 1 415 555 0100",
        "tel:+1-415-555-0100",
    ] {
        let found = logs(&alice, json!({ "counterpartNumber": spelling })).await;
        assert_eq!(
            kinds_and_numbers(&found),
            vec![("NUMBER".into(), json!("+14155550100"))],
            "{spelling}"
        );
    }
    let short_code = logs(&alice, json!({ "counterpartNumber": "911" })).await;
    let unverifiable = logs(&alice, json!({ "counterpartNumber": "+1 555 0100" })).await;
    let withheld = alice
        .gql(CALL_LOGS, json!({ "filter": { "counterpartNumber": "anonymous" } }))
        .await;

    assert_eq!(
        kinds_and_numbers(&short_code),
        vec![("SHORT_CODE".into(), json!("911"))]
    );
    assert_eq!(
        kinds_and_numbers(&unverifiable),
        vec![("UNVERIFIABLE".into(), json!("+15550100"))]
    );
    withheld.assert_error("BAD_USER_INPUT", Some("counterpartNumber"));
}

#[tokio::test]
async fn statistics_count_withheld_and_short_code_calls() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number(NUMBER).await;
    alice.records_call(from(&number, "+14155550100")).await;
    alice.records_call(from(&number, "anonymous")).await;
    let mut missed = from(&number, "restricted");
    missed["status"] = json!("NO_ANSWER");
    missed["durationSeconds"] = json!(0);
    alice.records_call(missed).await;
    alice.records_call(to(&number, NUMBER, "911")).await;

    let all = alice.gql(STATS, json!({})).await;
    let withheld = alice
        .gql(STATS, json!({ "filter": { "counterpartKind": "WITHHELD" } }))
        .await;

    let all = all.data("callStats");
    assert_eq!(all["totalCalls"], 4);
    assert_eq!(all["inboundCalls"], 3);
    assert_eq!(all["outboundCalls"], 1);
    assert_eq!(all["missedCalls"], 1);
    let withheld = withheld.data("callStats");
    assert_eq!(withheld["totalCalls"], 2);
    assert_eq!(withheld["completedCalls"], 1);
    assert_eq!(withheld["missedCalls"], 1);
}

#[tokio::test]
async fn what_is_no_number_at_all_is_refused_by_field_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number(NUMBER).await;
    let cases = [
        (from(&number, "ACME Corp"), "callerNumber"),
        (from(&number, "1-800-FLOWERS"), "callerNumber"),
        (from(&number, "+999 1234 5678 9012 3456"), "callerNumber"),
        (from(&number, &"9".repeat(80)), "callerNumber"),
        (to(&number, NUMBER, "call me maybe"), "calledNumber"),
        (to(&number, "anonymous", "+14155550100"), "callerNumber"),
        (to(&number, "", "911"), "callerNumber"),
        (to(&number, "+14155550100", "911"), "callerNumber"),
        (to(&number, NUMBER, "anonymous"), "calledNumber"),
        (to(&number, NUMBER, ""), "calledNumber"),
        (
            json!({ "virtualNumberId": number, "direction": "INBOUND", "callerNumber": "anonymous",
                    "calledNumber": "911", "durationSeconds": 0 }),
            "calledNumber",
        ),
    ];

    for (call, field) in cases {
        let response = alice.gql(RECORD_CALL, json!({ "input": call })).await;
        response.assert_error("BAD_USER_INPUT", Some(field));
    }

    assert_eq!(logs(&alice, json!({})).await["totalCount"], 0);
}

#[tokio::test]
async fn a_withheld_call_recorded_twice_by_external_id_is_one_log() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number(NUMBER).await;
    let mut call = from(&number, "anonymous");
    call["externalId"] = json!("carrier-withheld-1");

    let first = alice.records_call(call.clone()).await;
    let again = alice.records_call(call).await;

    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["counterpartKind"], "WITHHELD");
    assert_eq!(logs(&alice, json!({})).await["totalCount"], 1);
}

#[tokio::test]
async fn counterpart_kinds_are_private_like_every_other_filter() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let bob = app.signed_up("bob").await;
    let number = alice.creates_number(NUMBER).await;
    alice.records_call(from(&number, "anonymous")).await;

    let bobs = logs(&bob, json!({ "counterpartKind": "WITHHELD" })).await;
    let anonymous = app
        .gql(CALL_LOGS, json!({ "filter": { "counterpartKind": "WITHHELD" } }))
        .await;
    let bobs_record = bob
        .gql(RECORD_CALL, json!({ "input": from(&number, "anonymous") }))
        .await;

    assert_eq!(bobs["totalCount"], 0);
    anonymous.assert_error("UNAUTHENTICATED", None);
    bobs_record.assert_error("NOT_FOUND", None);
    assert_eq!(logs(&alice, json!({})).await["totalCount"], 1);
}

#[tokio::test]
async fn logs_written_before_kinds_existed_read_as_numbers() {
    let app = TestApp::spawn().await;
    let db = Database::connect(&app.database_url).await.unwrap();
    let backend = db.get_database_backend();
    // Adding a column with a default fills every existing row with it, on both
    // databases; read the default from the catalog (a row written here would have
    // to name every other column, which later migrations add to).
    let default = match backend {
        DbBackend::Postgres => {
            "SELECT column_default AS value FROM information_schema.columns \
             WHERE table_name = 'call_logs' AND column_name = 'counterpart_kind'"
        }
        _ => "SELECT dflt_value AS value FROM pragma_table_info('call_logs') WHERE name = 'counterpart_kind'",
    };

    let row = db
        .query_one_raw(Statement::from_string(backend, default))
        .await
        .unwrap()
        .expect("call_logs.counterpart_kind exists");
    let default: String = row.try_get("", "value").unwrap();

    let number = CounterpartKind::Number.to_value();
    assert!(default.starts_with(&format!("'{number}'")), "default {default}");
}
