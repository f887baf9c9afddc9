//! `callBreakdown` and `callHeatmap`: every key and cell against sums made here
//! from the calls the test recorded, in zones with a half-hour offset and a DST change.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser};

const FRONT_DESK: &str = "+12015550123";
const SALES: &str = "+12015550124";

const BREAKDOWN: &str =
    "query($filter: CallLogFilter, $by: BreakdownKey!, $timeZone: String, $first: Int, $after: String) {
    callBreakdown(filter: $filter, by: $by, timeZone: $timeZone, first: $first, after: $after) {
      totalCount
      edges { cursor node {
        virtualNumber { id phoneNumber } direction status counterpartNumber counterpartKind hourOfDay dayOfWeek
        totalCalls inboundCalls outboundCalls completedCalls missedCalls totalDurationSeconds averageDurationSeconds } }
      pageInfo { hasNextPage endCursor } } }";
const HEATMAP: &str = "query($filter: CallLogFilter, $timeZone: String) {
    callHeatmap(filter: $filter, timeZone: $timeZone) {
      timeZone cells { dayOfWeek hourOfDay totalCalls inboundCalls completedCalls missedCalls totalDurationSeconds } } }";

/// A call as the test records it.
struct Call {
    started_at: &'static str,
    number: &'static str,
    inbound: bool,
    status: &'static str,
    duration: i64,
    /// The other party as sent.
    counterpart: &'static str,
    /// Its kind and stored number, as the COUNTERPART row names it.
    counterpart_key: &'static str,
}

const fn call(
    started_at: &'static str,
    number: &'static str,
    inbound: bool,
    status: &'static str,
    duration: i64,
    counterpart: (&'static str, &'static str),
) -> Call {
    Call {
        started_at,
        number,
        inbound,
        status,
        duration,
        counterpart: counterpart.0,
        counterpart_key: counterpart.1,
    }
}

const ANN: (&str, &str) = ("+1 415 555 0100", "NUMBER:+14155550100");
const BEN: (&str, &str) = ("(415) 555-0101", "NUMBER:+14155550101");
const ANONYMOUS: (&str, &str) = ("anonymous", "WITHHELD:");
const EMERGENCY: (&str, &str) = ("911", "SHORT_CODE:911");

/// Calls around New York's spring change (07:00Z on Sunday 8 March 2026) and
/// its autumn change (06:00Z on Sunday 1 November 2026, when 01:00–02:00 happens
/// twice), and either side of Kolkata's midnight (18:30Z).
const CALLS: [Call; 14] = [
    call("2026-03-06T18:29:00Z", FRONT_DESK, true, "COMPLETED", 120, ANN),
    call("2026-03-06T18:31:00Z", FRONT_DESK, true, "NO_ANSWER", 0, ANN),
    call("2026-03-07T23:50:00Z", FRONT_DESK, false, "COMPLETED", 60, BEN),
    call("2026-03-08T06:30:00Z", FRONT_DESK, true, "BUSY", 0, ANONYMOUS),
    call("2026-03-08T07:30:00Z", FRONT_DESK, true, "COMPLETED", 300, ANONYMOUS),
    call("2026-03-08T12:00:00Z", SALES, false, "FAILED", 0, EMERGENCY),
    call("2026-03-09T03:30:00Z", SALES, true, "COMPLETED", 45, BEN),
    call("2026-03-09T14:15:00Z", SALES, true, "CANCELED", 0, ANN),
    call("2026-06-15T13:00:00Z", FRONT_DESK, false, "COMPLETED", 600, ANN),
    call("2026-06-15T13:59:59Z", SALES, false, "NO_ANSWER", 0, BEN),
    call("2026-11-01T05:30:00Z", FRONT_DESK, true, "COMPLETED", 30, ANN),
    call("2026-11-01T06:30:00Z", FRONT_DESK, true, "COMPLETED", 90, ANN),
    call("2026-11-01T07:00:00Z", SALES, true, "NO_ANSWER", 0, ANONYMOUS),
    call("2026-11-02T04:59:00Z", SALES, false, "COMPLETED", 15, BEN),
];

async fn record(user: &TestUser<'_>, numbers: &BTreeMap<&str, String>, calls: &[Call]) {
    for call in calls {
        let (caller, called) = if call.inbound {
            (call.counterpart, call.number)
        } else {
            (call.number, call.counterpart)
        };
        user.records_call(json!({
            "virtualNumberId": numbers[call.number],
            "direction": if call.inbound { "INBOUND" } else { "OUTBOUND" },
            "status": call.status, "callerNumber": caller, "calledNumber": called,
            "startedAt": call.started_at, "durationSeconds": call.duration }))
            .await;
    }
}

/// Alice's two numbers with `CALLS` on them.
async fn alice_with_calls(app: &TestApp) -> (TestUser<'_>, BTreeMap<&'static str, String>) {
    let alice = app.signed_up("alice").await;
    let mut numbers = BTreeMap::new();
    for number in [FRONT_DESK, SALES] {
        numbers.insert(number, alice.creates_number(number).await);
    }
    record(&alice, &numbers, &CALLS).await;
    (alice, numbers)
}

/// (total, inbound, outbound, completed, missed, duration)
type Figures = (i64, i64, i64, i64, i64, i64);

fn add(figures: &mut Figures, call: &Call) {
    figures.0 += 1;
    figures.1 += i64::from(call.inbound);
    figures.2 += i64::from(!call.inbound);
    figures.3 += i64::from(call.status == "COMPLETED");
    figures.4 += i64::from(call.inbound && ["NO_ANSWER", "BUSY", "CANCELED"].contains(&call.status));
    figures.5 += call.duration;
}

fn figures_of(row: &Value) -> Figures {
    let n = |name: &str| row[name].as_i64().unwrap_or_else(|| panic!("{name} in {row}"));
    (
        n("totalCalls"),
        n("inboundCalls"),
        n("outboundCalls"),
        n("completedCalls"),
        n("missedCalls"),
        n("totalDurationSeconds"),
    )
}

const DAYS: [&str; 7] = [
    "MONDAY",
    "TUESDAY",
    "WEDNESDAY",
    "THURSDAY",
    "FRIDAY",
    "SATURDAY",
    "SUNDAY",
];

fn local(call: &Call, zone: chrono_tz::Tz) -> DateTime<chrono_tz::Tz> {
    call.started_at.parse::<DateTime<Utc>>().unwrap().with_timezone(&zone)
}

/// A call's key under `by`, spelled as `row_key` spells a row's.
fn call_key(call: &Call, by: &str, zone: chrono_tz::Tz) -> String {
    match by {
        "NUMBER" => call.number.to_owned(),
        "DIRECTION" => if call.inbound { "INBOUND" } else { "OUTBOUND" }.to_owned(),
        "STATUS" => call.status.to_owned(),
        "COUNTERPART" => call.counterpart_key.to_owned(),
        "HOUR_OF_DAY" => local(call, zone).hour().to_string(),
        _ => DAYS[local(call, zone).weekday().num_days_from_monday() as usize].to_owned(),
    }
}

fn row_key(row: &Value, by: &str) -> String {
    let text = |name: &str| row[name].as_str().unwrap_or_default().to_owned();
    match by {
        "NUMBER" => row["virtualNumber"]["phoneNumber"].as_str().unwrap().to_owned(),
        "DIRECTION" => text("direction"),
        "STATUS" => text("status"),
        "COUNTERPART" => format!("{}:{}", text("counterpartKind"), text("counterpartNumber")),
        "HOUR_OF_DAY" => row["hourOfDay"].as_i64().unwrap().to_string(),
        _ => text("dayOfWeek"),
    }
}

/// Every row of a breakdown, page by page (`page` rows at a time).
async fn all_rows(user: &TestUser<'_>, variables: Value, page: u64) -> Vec<(String, Value)> {
    let mut rows = Vec::new();
    let mut after = Value::Null;
    loop {
        let mut asked = variables.clone();
        asked["first"] = json!(page);
        asked["after"] = after;
        let response = user.gql(BREAKDOWN, asked).await;
        let connection = response.data("callBreakdown");
        for edge in connection["edges"].as_array().unwrap() {
            rows.push((edge["cursor"].as_str().unwrap().to_owned(), edge["node"].clone()));
        }
        if !connection["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            return rows;
        }
        after = connection["pageInfo"]["endCursor"].clone();
    }
}

const KEYS: [&str; 6] = [
    "NUMBER",
    "DIRECTION",
    "STATUS",
    "COUNTERPART",
    "HOUR_OF_DAY",
    "DAY_OF_WEEK",
];

#[tokio::test]
async fn every_breakdown_key_matches_sums_computed_here_in_kolkata_and_new_york() {
    let app = TestApp::spawn().await;
    let (alice, _) = alice_with_calls(&app).await;

    for zone_name in ["Asia/Kolkata", "America/New_York"] {
        let zone: chrono_tz::Tz = zone_name.parse().unwrap();
        for by in KEYS {
            let rows = all_rows(&alice, json!({ "by": by, "timeZone": zone_name }), 30).await;

            let mut expected: BTreeMap<String, Figures> = BTreeMap::new();
            for call in &CALLS {
                add(expected.entry(call_key(call, by, zone)).or_default(), call);
            }
            let found: BTreeMap<String, Figures> = rows
                .iter()
                .map(|(_, row)| (row_key(row, by), figures_of(row)))
                .collect();
            assert_eq!(found, expected, "{by} in {zone_name}");
            assert_eq!(found.len(), rows.len(), "one row per key: {by} in {zone_name}");
            let totals: Vec<i64> = rows
                .iter()
                .map(|(_, row)| row["totalCalls"].as_i64().unwrap())
                .collect();
            assert!(totals.windows(2).all(|pair| pair[0] >= pair[1]), "{by}: {totals:?}");
        }
    }
}

#[tokio::test]
async fn hours_and_days_are_local_across_dst_changes_and_half_hour_offsets() {
    let app = TestApp::spawn().await;
    let (alice, _) = alice_with_calls(&app).await;
    let hours = |zone: &'static str| {
        let alice = &alice;
        async move {
            let rows = all_rows(alice, json!({ "by": "HOUR_OF_DAY", "timeZone": zone }), 30).await;
            rows.iter()
                .map(|(_, row)| (row["hourOfDay"].as_i64().unwrap(), row["totalCalls"].as_i64().unwrap()))
                .collect::<BTreeMap<i64, i64>>()
        }
    };

    let new_york = hours("America/New_York").await;
    let kolkata = hours("Asia/Kolkata").await;

    // Worked out by hand. New York: 06:30Z on 8 March is 01:30 EST and 07:30Z is
    // 03:30 EDT (02:00–03:00 never happened); on 1 November 05:30Z and 06:30Z are
    // both 01:30 (EDT, then EST again) and 07:00Z is 02:00 EST.
    assert_eq!(new_york.get(&1), Some(&3));
    assert_eq!(new_york.get(&2), Some(&1));
    assert_eq!(new_york.get(&3), Some(&1));
    // Kolkata is +05:30: 18:29Z is 23:59 and 18:31Z is 00:01 the next day.
    assert_eq!(kolkata.get(&23), Some(&1));
    assert_eq!(kolkata.get(&0), Some(&1));
    // 13:00Z and 13:59:59Z on 15 June are 18:30 and 19:29:59 in Kolkata; 14:15Z
    // on 9 March is 19:45.
    assert_eq!(kolkata.get(&18), Some(&1));
    assert_eq!(kolkata.get(&19), Some(&2));
}

#[tokio::test]
async fn the_heatmap_matches_the_grid_computed_here() {
    let app = TestApp::spawn().await;
    let (alice, _) = alice_with_calls(&app).await;

    for zone_name in ["Asia/Kolkata", "America/New_York", "UTC"] {
        let zone: chrono_tz::Tz = zone_name.parse().unwrap();
        let response = alice.gql(HEATMAP, json!({ "timeZone": zone_name })).await;
        let heatmap = response.data("callHeatmap");

        let mut grid = vec![vec![Figures::default(); 24]; 7];
        for call in &CALLS {
            let at = local(call, zone);
            add(
                &mut grid[at.weekday().num_days_from_monday() as usize][at.hour() as usize],
                call,
            );
        }
        let cells = heatmap["cells"].as_array().unwrap();
        assert_eq!(cells.len(), 168);
        assert_eq!(heatmap["timeZone"], zone_name);
        for (index, cell) in cells.iter().enumerate() {
            let (day, hour) = (index / 24, index % 24);
            assert_eq!(cell["dayOfWeek"], DAYS[day], "{zone_name} cell {index}");
            assert_eq!(cell["hourOfDay"], hour, "{zone_name} cell {index}");
            let expected = grid[day][hour];
            let found = (
                cell["totalCalls"].as_i64().unwrap(),
                cell["inboundCalls"].as_i64().unwrap(),
                cell["completedCalls"].as_i64().unwrap(),
                cell["missedCalls"].as_i64().unwrap(),
                cell["totalDurationSeconds"].as_i64().unwrap(),
            );
            assert_eq!(
                found,
                (expected.0, expected.1, expected.3, expected.4, expected.5),
                "{zone_name} {} {hour}:00",
                DAYS[day]
            );
        }
    }
}

#[tokio::test]
async fn breakdowns_and_the_heatmap_apply_the_filter() {
    let app = TestApp::spawn().await;
    let (alice, numbers) = alice_with_calls(&app).await;
    let filter = json!({ "virtualNumberId": numbers[SALES], "startedBefore": "2026-11-01T00:00:00Z" });
    let kept = |call: &&Call| call.number == SALES && call.started_at < "2026-11-01";

    let rows = all_rows(&alice, json!({ "by": "STATUS", "filter": filter }), 30).await;
    let heatmap = alice.gql(HEATMAP, json!({ "filter": filter })).await;

    let mut expected: BTreeMap<String, Figures> = BTreeMap::new();
    for call in CALLS.iter().filter(kept) {
        add(expected.entry(call.status.to_owned()).or_default(), call);
    }
    let found: BTreeMap<String, Figures> = rows
        .iter()
        .map(|(_, row)| (row_key(row, "STATUS"), figures_of(row)))
        .collect();
    assert_eq!(found, expected);
    let heat: i64 = heatmap.data("callHeatmap")["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|cell| cell["totalCalls"].as_i64().unwrap())
        .sum();
    assert_eq!(heat, CALLS.iter().filter(kept).count() as i64);
}

#[tokio::test]
async fn rows_page_largest_first_with_ties_in_one_fixed_order() {
    let app = TestApp::spawn().await;
    let (alice, _) = alice_with_calls(&app).await;

    for by in KEYS {
        let whole = all_rows(&alice, json!({ "by": by, "timeZone": "America/New_York" }), 30).await;
        let paged = all_rows(&alice, json!({ "by": by, "timeZone": "America/New_York" }), 1).await;
        let pairs = all_rows(&alice, json!({ "by": by, "timeZone": "America/New_York" }), 2).await;
        let count = alice
            .gql(
                BREAKDOWN,
                json!({ "by": by, "timeZone": "America/New_York", "first": 0 }),
            )
            .await;

        let keys = |rows: &[(String, Value)]| rows.iter().map(|(_, row)| row_key(row, by)).collect::<Vec<_>>();
        assert_eq!(keys(&paged), keys(&whole), "{by}: one row a page walks the same order");
        assert_eq!(keys(&pairs), keys(&whole), "{by}: two rows a page too");
        assert_eq!(count.data("callBreakdown")["totalCount"], whole.len(), "{by}");
        let totals: Vec<i64> = whole
            .iter()
            .map(|(_, row)| row["totalCalls"].as_i64().unwrap())
            .collect();
        assert!(totals.windows(2).all(|pair| pair[0] >= pair[1]), "{by}: {totals:?}");
    }
    // STATUS has ties (BUSY, CANCELED and FAILED once each) and they come back the same way every time.
    let again = all_rows(&alice, json!({ "by": "STATUS" }), 1).await;
    let once_each: Vec<String> = again
        .iter()
        .filter(|(_, row)| row["totalCalls"] == 1)
        .map(|(_, row)| row_key(row, "STATUS"))
        .collect();
    assert_eq!(once_each.len(), 3);
    let first_time = all_rows(&alice, json!({ "by": "STATUS" }), 30).await;
    assert_eq!(
        once_each,
        first_time
            .iter()
            .filter(|(_, row)| row["totalCalls"] == 1)
            .map(|(_, row)| row_key(row, "STATUS"))
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn released_numbers_stay_in_their_owner_s_reports() {
    let app = TestApp::spawn().await;
    let (alice, numbers) = alice_with_calls(&app).await;
    alice
        .releases_number(&numbers[SALES])
        .await
        .data("releaseVirtualNumber");

    let rows = all_rows(&alice, json!({ "by": "NUMBER" }), 30).await;
    let heatmap = alice.gql(HEATMAP, json!({})).await;

    let sales = rows
        .iter()
        .find(|(_, row)| row["virtualNumber"]["id"] == numbers[SALES].as_str())
        .expect("the released number keeps its row");
    assert_eq!(
        sales.1["totalCalls"],
        CALLS.iter().filter(|call| call.number == SALES).count()
    );
    assert_eq!(sales.1["virtualNumber"]["phoneNumber"], SALES);
    let heat: i64 = heatmap.data("callHeatmap")["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|cell| cell["totalCalls"].as_i64().unwrap())
        .sum();
    assert_eq!(heat, CALLS.len() as i64);
}

#[tokio::test]
async fn another_user_s_calls_are_never_counted() {
    let app = TestApp::spawn().await;
    let (alice, _) = alice_with_calls(&app).await;
    let bob = app.signed_up("bob").await;
    let bobs_number = bob.creates_number("+12015550199").await;
    let numbers = BTreeMap::from([("+12015550199", bobs_number)]);
    let bobs_call = [call("2026-03-06T18:29:00Z", "+12015550199", true, "COMPLETED", 7, ANN)];
    record(&bob, &numbers, &bobs_call).await;

    let alices = all_rows(&alice, json!({ "by": "COUNTERPART" }), 30).await;
    let bobs = all_rows(&bob, json!({ "by": "NUMBER" }), 30).await;
    let bobs_heat = bob.gql(HEATMAP, json!({})).await;
    let alice_filters_bobs_number = all_rows(
        &alice,
        json!({ "by": "NUMBER", "filter": { "virtualNumberId": numbers["+12015550199"] } }),
        100,
    )
    .await;

    let ann = alices
        .iter()
        .find(|(_, row)| row_key(row, "COUNTERPART") == ANN.1)
        .unwrap();
    assert_eq!(
        ann.1["totalCalls"],
        CALLS.iter().filter(|call| call.counterpart_key == ANN.1).count()
    );
    assert_eq!(bobs.len(), 1);
    assert_eq!(bobs[0].1["totalCalls"], 1);
    assert_eq!(bobs[0].1["totalDurationSeconds"], 7);
    let heat: i64 = bobs_heat.data("callHeatmap")["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|cell| cell["totalCalls"].as_i64().unwrap())
        .sum();
    assert_eq!(heat, 1);
    assert!(alice_filters_bobs_number.is_empty());
}

#[tokio::test]
async fn reports_need_a_user_and_refuse_bad_input_on_its_field() {
    let app = TestApp::spawn().await;
    let (alice, _) = alice_with_calls(&app).await;
    let status_cursor = all_rows(&alice, json!({ "by": "STATUS" }), 30).await[0].0.clone();

    let anonymous = app.gql(BREAKDOWN, json!({ "by": "NUMBER" })).await;
    let anonymous_heatmap = app.gql(HEATMAP, json!({})).await;
    let cases = [
        (json!({ "by": "NUMBER", "timeZone": "Mars/Olympus" }), "timeZone"),
        (json!({ "by": "NUMBER", "timeZone": "" }), "timeZone"),
        (json!({ "by": "NUMBER", "first": 101 }), "first"),
        (json!({ "by": "NUMBER", "first": -1 }), "first"),
        (json!({ "by": "NUMBER", "after": "garbage" }), "after"),
        (json!({ "by": "NUMBER", "after": status_cursor }), "after"),
        (
            json!({ "by": "NUMBER", "filter": { "virtualNumberId": "garbage" } }),
            "virtualNumberId",
        ),
        (
            json!({ "by": "NUMBER", "filter": { "startedAfter": "1960-01-01T00:00:00Z" } }),
            "startedAfter",
        ),
        (
            json!({ "by": "NUMBER", "filter": { "startedBefore": "9999-12-31T23:59:59.500Z" } }),
            "startedBefore",
        ),
        (
            json!({ "by": "NUMBER", "filter": { "counterpartNumber": "ACME Corp" } }),
            "counterpartNumber",
        ),
    ];
    let bad_key = alice.gql(BREAKDOWN, json!({ "by": "YEAR" })).await;
    let bad_literal_key = alice
        .gql("{ callBreakdown(by: WEEKLY) { totalCount } }", json!({}))
        .await;
    let bad_filter_enum = alice
        .gql(HEATMAP, json!({ "filter": { "direction": "SIDEWAYS" } }))
        .await;
    let bad_heatmap_zone = alice.gql(HEATMAP, json!({ "timeZone": "Nowhere/Land" })).await;

    anonymous.assert_error("UNAUTHENTICATED", None);
    anonymous_heatmap.assert_error("UNAUTHENTICATED", None);
    for (variables, field) in cases {
        let response = alice.gql(BREAKDOWN, variables.clone()).await;
        response.assert_error("BAD_USER_INPUT", Some(field));
    }
    // An enum value the schema does not have is refused before anything runs.
    bad_key.assert_error("BAD_USER_INPUT", Some("by"));
    assert!(bad_key.error_message().contains("YEAR"), "{}", bad_key.body);
    bad_literal_key.assert_error("BAD_USER_INPUT", Some("by"));
    bad_filter_enum.assert_error("BAD_USER_INPUT", Some("direction"));
    bad_heatmap_zone.assert_error("BAD_USER_INPUT", Some("timeZone"));
}

#[tokio::test]
async fn api_keys_with_read_calls_may_run_reports_and_others_may_not() {
    let app = TestApp::spawn().await;
    let (alice, _) = alice_with_calls(&app).await;
    let reader = alice.creates_api_key(&["READ_CALLS"]).await;
    let recorder = alice.creates_api_key(&["RECORD_CALLS"]).await;
    let query = "{ callBreakdown(by: STATUS) { nodes { status totalCalls } } callHeatmap { cells { totalCalls } } }";

    let allowed = app.gql_as(Some(&reader), query, json!({})).await;
    let refused = app.gql_as(Some(&recorder), query, json!({})).await;

    assert_eq!(allowed.data("callHeatmap")["cells"].as_array().unwrap().len(), 168);
    refused.assert_error("FORBIDDEN", None);
}

#[tokio::test]
async fn staff_reports_cover_every_user_s_calls_as_call_stats_does() {
    let app = TestApp::spawn().await;
    let (_alice, _) = alice_with_calls(&app).await;
    let staff = app.signed_up_staff("ops.lead").await;

    let rows = all_rows(&staff, json!({ "by": "NUMBER" }), 30).await;

    let counted: i64 = rows.iter().map(|(_, row)| row["totalCalls"].as_i64().unwrap()).sum();
    assert_eq!(counted, CALLS.len() as i64);
    assert_eq!(rows.len(), 2);
}
