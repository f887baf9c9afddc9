//! `callStats`: totals and time-zone buckets, checked against sums made here.

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser};

const NUMBER: &str = "+12015550123";
const STATS: &str = "query($filter: CallLogFilter, $groupBy: StatsPeriod, $timeZone: String) {
    callStats(filter: $filter, groupBy: $groupBy, timeZone: $timeZone) {
      totalCalls inboundCalls outboundCalls completedCalls missedCalls totalDurationSeconds averageDurationSeconds timeZone
      buckets { periodStart totalCalls inboundCalls completedCalls missedCalls totalDurationSeconds } } }";

/// (startedAt, inbound, status, duration)
type Call = (&'static str, bool, &'static str, i64);

async fn record_all(user: &TestUser<'_>, number: &str, calls: &[Call]) {
    for (started_at, inbound, status, duration) in calls {
        let (caller, called) = if *inbound {
            ("+14155550100", NUMBER)
        } else {
            (NUMBER, "+14155550100")
        };
        user.records_call(
            json!({ "virtualNumberId": number, "direction": if *inbound { "INBOUND" } else { "OUTBOUND" },
            "status": status, "callerNumber": caller, "calledNumber": called, "startedAt": started_at,
            "durationSeconds": duration }),
        )
        .await;
    }
}

fn figures_of(calls: &[&Call]) -> (usize, usize, usize, usize, i64) {
    let inbound = calls.iter().filter(|c| c.1).count();
    let completed = calls.iter().filter(|c| c.2 == "COMPLETED").count();
    let missed = calls
        .iter()
        .filter(|c| c.1 && ["NO_ANSWER", "BUSY", "CANCELED"].contains(&c.2))
        .count();
    let duration = calls.iter().map(|c| c.3).sum();
    (calls.len(), inbound, completed, missed, duration)
}

const CALLS: [Call; 7] = [
    ("2026-03-06T15:00:00Z", true, "COMPLETED", 120),
    // 02:00 UTC on the 7th is 21:00 on the 6th in New York.
    ("2026-03-07T02:00:00Z", true, "NO_ANSWER", 0),
    ("2026-03-07T16:30:00Z", false, "COMPLETED", 60),
    // New York springs forward at 07:00 UTC on 8 March 2026; the 8th is 23 hours long.
    ("2026-03-08T04:59:00Z", true, "BUSY", 0),
    ("2026-03-08T12:00:00Z", false, "FAILED", 0),
    ("2026-03-09T03:30:00Z", true, "COMPLETED", 300),
    ("2026-04-01T00:00:00Z", true, "CANCELED", 0),
];

#[tokio::test]
async fn totals_match_the_sums_of_the_calls() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number(NUMBER).await;
    record_all(&alice, &number, &CALLS).await;

    let all = alice.gql(STATS, json!({})).await;
    let inbound_march = alice
        .gql(
            STATS,
            json!({ "filter": { "direction": "INBOUND", "startedAfter": "2026-03-01T00:00:00Z",
            "startedBefore": "2026-04-01T00:00:00Z" } }),
        )
        .await;

    let stats = all.data("callStats");
    let (total, inbound, completed, missed, duration) = figures_of(&CALLS.iter().collect::<Vec<_>>());
    assert_eq!(stats["totalCalls"], total);
    assert_eq!(stats["inboundCalls"], inbound);
    assert_eq!(stats["outboundCalls"], total - inbound);
    assert_eq!(stats["completedCalls"], completed);
    assert_eq!(stats["missedCalls"], missed);
    assert_eq!(stats["totalDurationSeconds"], duration);
    assert_eq!(stats["averageDurationSeconds"], duration as f64 / completed as f64);
    assert_eq!(stats["buckets"], json!([]));
    assert_eq!(stats["timeZone"], "UTC");
    let narrowed: Vec<&Call> = CALLS.iter().filter(|c| c.1 && c.0 < "2026-04").collect();
    assert_eq!(inbound_march.data("callStats")["totalCalls"], narrowed.len());
}

#[tokio::test]
async fn days_follow_the_requested_time_zone_across_a_dst_change() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number(NUMBER).await;
    record_all(&alice, &number, &CALLS).await;

    let new_york = alice
        .gql(STATS, json!({ "groupBy": "DAY", "timeZone": "America/New_York" }))
        .await;
    let utc = alice.gql(STATS, json!({ "groupBy": "DAY" })).await;

    let buckets = busy_buckets;
    assert_eq!(buckets(new_york.data("callStats")), expected_new_york());
    assert_eq!(
        buckets(utc.data("callStats")),
        vec![
            ("2026-03-06T00:00:00+00:00".to_owned(), 1),
            ("2026-03-07T00:00:00+00:00".to_owned(), 2),
            ("2026-03-08T00:00:00+00:00".to_owned(), 2),
            ("2026-03-09T00:00:00+00:00".to_owned(), 1),
            ("2026-04-01T00:00:00+00:00".to_owned(), 1),
        ]
    );
}

/// The (periodStart, totalCalls) of the buckets that have calls.
fn busy_buckets(stats: &Value) -> Vec<(String, i64)> {
    stats["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["periodStart"].as_str().unwrap().to_owned(),
                b["totalCalls"].as_i64().unwrap(),
            )
        })
        .filter(|(_, calls)| *calls > 0)
        .collect()
}

/// The New York days of `CALLS`, worked out by hand:
/// 03-06 15:00Z → 10:00 EST on the 6th; 03-07 02:00Z → 21:00 EST on the 6th;
/// 03-07 16:30Z → 11:30 EST on the 7th; 03-08 04:59Z → 23:59 EST on the 7th;
/// 03-08 12:00Z → 08:00 EDT on the 8th; 03-09 03:30Z → 23:30 EDT on the 8th;
/// 04-01 00:00Z → 20:00 EDT on 31 March.
fn expected_new_york() -> Vec<(String, i64)> {
    vec![
        ("2026-03-06T05:00:00+00:00".to_owned(), 2),
        ("2026-03-07T05:00:00+00:00".to_owned(), 2),
        ("2026-03-08T05:00:00+00:00".to_owned(), 2),
        ("2026-03-31T04:00:00+00:00".to_owned(), 1),
    ]
}

#[tokio::test]
async fn weeks_start_on_monday_and_months_on_the_first() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number(NUMBER).await;
    record_all(&alice, &number, &CALLS).await;

    let weeks = alice.gql(STATS, json!({ "groupBy": "WEEK" })).await;
    let months = alice
        .gql(STATS, json!({ "groupBy": "MONTH", "timeZone": "Europe/Paris" }))
        .await;
    let hours = alice
        .gql(
            STATS,
            json!({ "groupBy": "HOUR", "filter": { "startedBefore": "2026-03-07T00:00:00Z" } }),
        )
        .await;

    let starts = busy_buckets;
    let all_weeks: Vec<&str> = weeks.data("callStats")["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["periodStart"].as_str().unwrap())
        .collect();
    assert_eq!(
        all_weeks,
        [
            "2026-03-02T00:00:00+00:00",
            "2026-03-09T00:00:00+00:00",
            "2026-03-16T00:00:00+00:00",
            "2026-03-23T00:00:00+00:00",
            "2026-03-30T00:00:00+00:00"
        ],
        "quiet weeks are listed too, with zeros, so charts have no holes"
    );
    // 2026-03-02 and 2026-03-09 are Mondays; 2026-03-30 too.
    assert_eq!(
        starts(weeks.data("callStats")),
        vec![
            ("2026-03-02T00:00:00+00:00".to_owned(), 5),
            ("2026-03-09T00:00:00+00:00".to_owned(), 1),
            ("2026-03-30T00:00:00+00:00".to_owned(), 1),
        ]
    );
    // Paris is UTC+1 in March, UTC+2 from 29 March: 1 April 00:00Z is 02:00 in Paris, April.
    assert_eq!(
        starts(months.data("callStats")),
        vec![
            ("2026-02-28T23:00:00+00:00".to_owned(), 6),
            ("2026-03-31T22:00:00+00:00".to_owned(), 1)
        ]
    );
    assert_eq!(
        starts(hours.data("callStats")),
        vec![("2026-03-06T15:00:00+00:00".to_owned(), 1)]
    );
}

#[tokio::test]
async fn stats_refuse_unknown_zones_and_anonymous_callers_and_count_only_your_calls() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let bob = app.signed_up("bob").await;
    let number = alice.creates_number(NUMBER).await;
    record_all(&alice, &number, &CALLS).await;

    let bad_zone = alice
        .gql(STATS, json!({ "groupBy": "DAY", "timeZone": "Mars/Olympus" }))
        .await;
    let anonymous = app.gql(STATS, json!({})).await;
    let bobs = bob.gql(STATS, json!({ "groupBy": "DAY" })).await;

    bad_zone.assert_error("BAD_USER_INPUT", Some("timeZone"));
    anonymous.assert_error("UNAUTHENTICATED", None);
    assert_eq!(bobs.data("callStats")["totalCalls"], 0);
    assert_eq!(bobs.data("callStats")["averageDurationSeconds"], 0.0);
    assert_eq!(bobs.data("callStats")["buckets"], json!([]));
}

#[tokio::test]
async fn every_bucket_matches_sums_computed_here_in_several_zones_and_periods() {
    use chrono::{Datelike, TimeZone, Timelike};
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number(NUMBER).await;
    record_all(&alice, &number, &CALLS).await;

    for zone_name in ["UTC", "America/New_York", "Asia/Kolkata", "Australia/Sydney"] {
        let zone: chrono_tz::Tz = zone_name.parse().unwrap();
        for period in ["HOUR", "DAY", "WEEK", "MONTH"] {
            let response = alice
                .gql(STATS, json!({ "groupBy": period, "timeZone": zone_name }))
                .await;
            let stats = response.data("callStats");

            // Each call's period start, worked out with chrono-tz.
            let mut expected: std::collections::BTreeMap<String, (i64, i64, i64, i64)> = Default::default();
            for (started_at, inbound, status, duration) in CALLS {
                let local = chrono::DateTime::parse_from_rfc3339(started_at)
                    .unwrap()
                    .with_timezone(&zone)
                    .naive_local();
                let start = match period {
                    "HOUR" => local.date().and_hms_opt(local.hour(), 0, 0),
                    "DAY" => local.date().and_hms_opt(0, 0, 0),
                    "WEEK" => (local.date() - chrono::Duration::days(local.weekday().num_days_from_monday() as i64))
                        .and_hms_opt(0, 0, 0),
                    _ => local.date().with_day(1).unwrap().and_hms_opt(0, 0, 0),
                }
                .unwrap();
                let instant = zone
                    .from_local_datetime(&start)
                    .earliest()
                    .unwrap()
                    .with_timezone(&chrono::Utc);
                let entry = expected.entry(instant.to_rfc3339()).or_default();
                entry.0 += 1;
                entry.1 += i64::from(inbound);
                entry.2 += i64::from(status == "COMPLETED");
                entry.3 += duration;
            }
            let found: std::collections::BTreeMap<String, (i64, i64, i64, i64)> = stats["buckets"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|b| b["totalCalls"].as_i64().unwrap() > 0)
                .map(|b| {
                    let figures = (
                        b["totalCalls"].as_i64().unwrap(),
                        b["inboundCalls"].as_i64().unwrap(),
                        b["completedCalls"].as_i64().unwrap(),
                        b["totalDurationSeconds"].as_i64().unwrap(),
                    );
                    (b["periodStart"].as_str().unwrap().to_owned(), figures)
                })
                .collect();

            assert_eq!(found, expected, "{period} in {zone_name}");
            let bucket_total: i64 = stats["buckets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| b["totalCalls"].as_i64().unwrap())
                .sum();
            assert_eq!(bucket_total, CALLS.len() as i64, "{period} in {zone_name}");
        }
    }
}
