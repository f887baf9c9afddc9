//! `callStats` from the rollups against `callStats` from every call: two
//! instances on one database, one reading `call_rollups`, the other
//! (`STATS_FROM_ROLLUPS=false`) scanning `call_logs`, asked the same random
//! questions about random calls, must answer exactly alike.

use chrono::{DateTime, TimeDelta, Utc};
use migration::{Migrator, MigratorTrait};
use rand::{Rng, SeedableRng, rngs::StdRng};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser};

const STATS: &str = "query($filter: CallLogFilter, $groupBy: StatsPeriod, $timeZone: String) {
    callStats(filter: $filter, groupBy: $groupBy, timeZone: $timeZone) {
      totalCalls inboundCalls outboundCalls completedCalls missedCalls totalDurationSeconds averageDurationSeconds timeZone
      buckets { periodStart totalCalls inboundCalls outboundCalls completedCalls missedCalls totalDurationSeconds } } }";

const BREAKDOWN: &str = "query($filter: CallLogFilter, $by: BreakdownKey!, $timeZone: String) {
    callBreakdown(filter: $filter, by: $by, timeZone: $timeZone, first: 100) {
      totalCount nodes { virtualNumber { id } hourOfDay dayOfWeek direction status
        totalCalls inboundCalls outboundCalls completedCalls missedCalls totalDurationSeconds } } }";

const HEATMAP: &str = "query($filter: CallLogFilter, $timeZone: String) {
    callHeatmap(filter: $filter, timeZone: $timeZone) {
      cells { dayOfWeek hourOfDay totalCalls inboundCalls outboundCalls completedCalls missedCalls totalDurationSeconds } } }";

/// Zones with whole-hour, half-hour and 45-minute offsets, DST in either
/// hemisphere, and Lord Howe's half-hour DST shift.
const ZONES: [&str; 8] = [
    "UTC",
    "America/New_York",
    "Europe/London",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "Australia/Lord_Howe",
    "America/St_Johns",
];

/// Windows around DST changes: the US spring forward (2026-03-08) and the
/// EU and US fall back (2026-10-25, 2026-11-01).
fn random_instant(rng: &mut StdRng) -> DateTime<Utc> {
    let windows = [("2026-03-05T00:00:00Z", 8), ("2026-10-23T00:00:00Z", 12)];
    let (start, days) = windows[rng.random_range(0..windows.len())];
    let start: DateTime<Utc> = start.parse().unwrap();
    let quarters = rng.random_range(0..days * 96);
    let on_boundary = rng.random_bool(0.3);
    let offset = if on_boundary {
        TimeDelta::zero()
    } else {
        TimeDelta::microseconds(rng.random_range(0..900_000_000))
    };
    start + TimeDelta::minutes(15 * quarters) + offset
}

fn text(instant: DateTime<Utc>) -> String {
    instant.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

async fn record_random_calls(rng: &mut StdRng, user: &TestUser<'_>, numbers: &[(String, String)], count: usize) {
    let counterparts = ["+14155550100", "+14155550101", "anonymous", "911", "+1 555 0100"];
    let statuses = ["COMPLETED", "NO_ANSWER", "BUSY", "FAILED", "CANCELED"];
    for _ in 0..count {
        let (id, own) = &numbers[rng.random_range(0..numbers.len())];
        let inbound = rng.random_bool(0.6);
        let mut other = counterparts[rng.random_range(0..counterparts.len())];
        if !inbound && other == "anonymous" {
            other = "+14155550100";
        }
        let status = statuses[rng.random_range(0..statuses.len())];
        let duration = if status == "COMPLETED" {
            rng.random_range(0..4_000)
        } else {
            0
        };
        let (caller, called) = if inbound {
            (other, own.as_str())
        } else {
            (own.as_str(), other)
        };
        let response = user
            .gql(
                "mutation($input: RecordCallInput!) { recordCall(input: $input) { id } }",
                json!({ "input": {
                    "virtualNumberId": id, "direction": if inbound { "INBOUND" } else { "OUTBOUND" },
                    "status": status, "callerNumber": caller, "calledNumber": called,
                    "startedAt": text(random_instant(rng)), "durationSeconds": duration,
                } }),
            )
            .await;
        assert!(response.body["errors"].is_null(), "{}", response.body);
    }
}

fn random_filter(rng: &mut StdRng, numbers: &[(String, String)]) -> Value {
    let mut filter = serde_json::Map::new();
    if rng.random_bool(0.3) {
        filter.insert(
            "virtualNumberId".into(),
            json!(numbers[rng.random_range(0..numbers.len())].0),
        );
    }
    if rng.random_bool(0.3) {
        filter.insert(
            "direction".into(),
            json!(["INBOUND", "OUTBOUND"][rng.random_range(0..2)]),
        );
    }
    if rng.random_bool(0.2) {
        filter.insert(
            "status".into(),
            json!(["COMPLETED", "NO_ANSWER", "BUSY"][rng.random_range(0..3)]),
        );
    }
    if rng.random_bool(0.2) {
        filter.insert(
            "counterpartKind".into(),
            json!(["NUMBER", "WITHHELD", "SHORT_CODE", "UNVERIFIABLE"][rng.random_range(0..4)]),
        );
    }
    if rng.random_bool(0.1) {
        filter.insert("counterpartNumber".into(), json!("+14155550100"));
    }
    let (a, b) = (random_instant(rng), random_instant(rng));
    let (low, high) = if a <= b { (a, b) } else { (b, a) };
    if rng.random_bool(0.5) {
        filter.insert("startedAfter".into(), json!(text(low)));
    }
    if rng.random_bool(0.5) {
        filter.insert("startedBefore".into(), json!(text(high)));
    }
    Value::Object(filter)
}

/// Two instances on one database: one reading the rollups, the other every
/// call (`STATS_FROM_ROLLUPS=false`), neither throttling the questions.
async fn reading_rollups_and_reading_calls() -> (TestApp, TestApp) {
    let app = TestApp::spawn_with(|config| config.cost_bucket_size = 1_000_000).await;
    let scan = app
        .spawn_beside(|config| {
            config.stats_from_rollups = false;
            config.cost_bucket_size = 1_000_000;
        })
        .await;
    (app, scan)
}

#[tokio::test]
async fn rollup_statistics_equal_a_scan_of_every_call() {
    let seed: u64 = std::env::var("ROLLUP_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    println!("ROLLUP_SEED={seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let (app, scan) = reading_rollups_and_reading_calls().await;
    let staff = app.signed_up_staff("ops").await;
    let alice = app.signed_up("alice").await;
    let bob = app.signed_up("bob").await;
    let mut alices = Vec::new();
    for number in ["+12015550123", "+12015550124"] {
        alices.push((alice.creates_number(number).await, number.to_owned()));
    }
    let bobs = vec![(bob.creates_number("+12015550125").await, "+12015550125".to_owned())];
    record_random_calls(&mut rng, &alice, &alices, 160).await;
    record_random_calls(&mut rng, &bob, &bobs, 40).await;

    let mut compared = 0;
    for round in 0..80 {
        let (user, numbers) = match round % 4 {
            0 => (&staff, &alices),
            1 => (&bob, &bobs),
            _ => (&alice, &alices),
        };
        let filter = random_filter(&mut rng, numbers);
        let group_by =
            [Value::Null, json!("HOUR"), json!("DAY"), json!("WEEK"), json!("MONTH")][rng.random_range(0..5)].clone();
        let zone = ZONES[rng.random_range(0..ZONES.len())];
        let variables = json!({ "filter": filter, "groupBy": group_by, "timeZone": zone });

        let from_rollups = app.gql_as(Some(&user.access_token), STATS, variables.clone()).await;
        let from_calls = scan.gql_as(Some(&user.access_token), STATS, variables.clone()).await;

        if from_calls.body["errors"].is_array() {
            // Too many periods, say: refused alike.
            assert_eq!(from_rollups.body["errors"], from_calls.body["errors"], "{variables}");
            continue;
        }
        assert_eq!(
            from_rollups.data("callStats"),
            from_calls.data("callStats"),
            "seed {seed}, round {round}, {variables}"
        );
        compared += from_calls.data("callStats")["totalCalls"].as_u64().unwrap();

        // So do counts: a list's totalCount, and each number's in one batch.
        let counts = "query($filter: CallLogFilter) { callLogs(first: 1, filter: $filter) { totalCount }
            myVirtualNumbers { nodes { callLogs(first: 1, filter: $filter) { totalCount } } } }";
        let mut number_filter = variables["filter"].clone();
        number_filter.as_object_mut().unwrap().remove("virtualNumberId");
        // Every call too, which the lifetime totals answer.
        for filter in [variables["filter"].clone(), number_filter, json!({})] {
            let question = json!({ "filter": filter });
            let from_rollups = app.gql_as(Some(&user.access_token), counts, question.clone()).await;
            let from_calls = scan.gql_as(Some(&user.access_token), counts, question.clone()).await;
            assert!(from_calls.body["errors"].is_null(), "{}", from_calls.body);
            assert_eq!(
                from_rollups.body["data"], from_calls.body["data"],
                "seed {seed}, round {round}, {question}"
            );
        }

        // Breakdowns and the heatmap read the same rollups.
        let by = ["NUMBER", "HOUR_OF_DAY", "DAY_OF_WEEK", "DIRECTION"][rng.random_range(0..4)];
        let variables = json!({ "filter": variables["filter"], "by": by, "timeZone": zone });
        for (query, field) in [(BREAKDOWN, "callBreakdown"), (HEATMAP, "callHeatmap")] {
            let from_rollups = app.gql_as(Some(&user.access_token), query, variables.clone()).await;
            let from_calls = scan.gql_as(Some(&user.access_token), query, variables.clone()).await;
            assert!(from_calls.body["errors"].is_null(), "{}", from_calls.body);
            assert_eq!(
                from_rollups.data(field),
                from_calls.data(field),
                "seed {seed}, round {round}, {field} {variables}"
            );
        }
    }
    // The questions found calls, not only empty answers.
    assert!(compared > 500, "{compared}");
}

#[tokio::test]
async fn rebuilding_the_rollups_gives_the_same_answers() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let numbers = vec![(alice.creates_number("+12015550123").await, "+12015550123".to_owned())];
    let mut rng = StdRng::seed_from_u64(7);
    record_random_calls(&mut rng, &alice, &numbers, 60).await;
    let question = json!({ "groupBy": "DAY", "timeZone": "Asia/Kolkata" });
    let before = alice.gql(STATS, question.clone()).await;

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["rollups", "rebuild"])
        .env("DATABASE_URL", &app.database_url)
        .output()
        .unwrap();
    let after = alice.gql(STATS, question).await;

    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("rebuilt"));
    assert_eq!(before.data("callStats"), after.data("callStats"));
    assert_eq!(after.data("callStats")["totalCalls"], 60);
}

/// The rollup tables' columns in order, each with whether it is a stored
/// generated column (`Some(true)`), a virtual one (`Some(false)`) or a plain one.
async fn rollup_columns(db: &DatabaseConnection, table: &str) -> Vec<(String, Option<bool>)> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => format!(
            "SELECT column_name AS name, CASE WHEN is_generated = 'ALWAYS' THEN 3 ELSE 0 END AS hidden \
             FROM information_schema.columns WHERE table_name = '{table}' ORDER BY ordinal_position"
        ),
        _ => format!("SELECT name, hidden FROM pragma_table_xinfo('{table}') ORDER BY cid"),
    };
    db.query_all_raw(Statement::from_string(backend, sql))
        .await
        .unwrap()
        .into_iter()
        .map(|row| {
            let name: String = row.try_get("", "name").unwrap();
            let hidden: i32 = row.try_get("", "hidden").unwrap();
            (name, if hidden == 0 { None } else { Some(hidden == 3) })
        })
        .collect()
}

/// Every call and all talk time in `call_number_rollups`, from its totals.
async fn quarter_hour_sums(db: &DatabaseConnection) -> (i64, i64) {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT CAST(SUM(t_calls) AS BIGINT) AS calls, CAST(SUM(t_duration) AS BIGINT) AS talk \
             FROM call_number_rollups",
        ))
        .await
        .unwrap()
        .unwrap();
    (row.try_get("", "calls").unwrap(), row.try_get("", "talk").unwrap())
}

#[tokio::test]
async fn thousands_of_periods_in_a_half_hour_zone_are_summed_alike() {
    let (app, scan) = reading_rollups_and_reading_calls().await;
    let alice = app.signed_up("alice").await;
    let numbers = vec![(alice.creates_number("+12015550123").await, "+12015550123".to_owned())];
    let mut rng = StdRng::seed_from_u64(5);
    record_random_calls(&mut rng, &alice, &numbers, 20).await;
    // Nearly 5,000 local days in Kolkata (+05:30), each read as a range of
    // whole hours and two of quarter hours: more values than SQLite binds in
    // one statement (32,766), were they all sent at once.
    let variables = json!({
        "filter": { "startedAfter": "2013-03-20T00:00:00Z", "startedBefore": "2026-11-20T00:00:00Z" },
        "groupBy": "DAY", "timeZone": "Asia/Kolkata",
    });

    let from_rollups = alice.gql(STATS, variables.clone()).await;
    let from_calls = scan.gql_as(Some(&alice.access_token), STATS, variables).await;

    assert!(from_rollups.body["errors"].is_null(), "{}", from_rollups.body);
    assert_eq!(from_rollups.data("callStats"), from_calls.data("callStats"));
    let buckets = from_rollups.data("callStats")["buckets"].as_array().unwrap().len();
    assert!((4_990..5_000).contains(&buckets), "{buckets}");
    assert_eq!(from_rollups.data("callStats")["totalCalls"], 20);
}

#[tokio::test]
async fn the_rollups_keep_their_figures_through_their_last_migrations_undone_and_redone() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let numbers = vec![(alice.creates_number("+12015550123").await, "+12015550123".to_owned())];
    let mut rng = StdRng::seed_from_u64(11);
    record_random_calls(&mut rng, &alice, &numbers, 40).await;
    let questions = [
        json!({ "groupBy": "DAY", "timeZone": "America/St_Johns" }),
        json!({ "filter": { "virtualNumberId": numbers[0].0 }, "groupBy": "WEEK", "timeZone": "Asia/Kathmandu" }),
    ];
    let mut before = Vec::new();
    for question in &questions {
        before.push(alice.gql(STATS, question.clone()).await.data("callStats").clone());
    }
    let db = Database::connect(&app.database_url).await.unwrap();
    let stored_first = rollup_columns(&db, "call_rollups").await;
    let sums_before = quarter_hour_sums(&db).await;

    let hourly = rollup_columns(&db, "call_hour_rollups").await;
    let number_hourly = rollup_columns(&db, "call_number_hour_rollups").await;

    // 000024 undone: no hourly tables. Then 000023: the totals last.
    Migrator::down(&db, Some(1)).await.unwrap();
    let without_hours = rollup_columns(&db, "call_hour_rollups").await;
    Migrator::down(&db, Some(1)).await.unwrap();
    let undone = rollup_columns(&db, "call_number_rollups").await;
    // The server reads the hourly tables, gone now: the figures are read directly.
    let sums_undone = quarter_hour_sums(&db).await;
    // Redone: the hourly tables are summed from the quarter hours.
    Migrator::up(&db, None).await.unwrap();
    let redone = rollup_columns(&db, "call_number_rollups").await;
    let mut after = Vec::new();
    for question in &questions {
        after.push(alice.gql(STATS, question.clone()).await.data("callStats").clone());
    }

    // Keys first, then the six totals, stored, then the fine columns.
    let names: Vec<&str> = stored_first.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names[..8],
        [
            "owner_id",
            "bucket_start",
            "t_calls",
            "t_inbound",
            "t_outbound",
            "t_completed",
            "t_missed",
            "t_duration"
        ]
    );
    assert!(
        stored_first[2..8].iter().all(|(_, stored)| *stored == Some(true)),
        "{stored_first:?}"
    );
    assert!(stored_first[8..].iter().all(|(_, stored)| stored.is_none()));
    // The hourly tables are laid out alike.
    assert_eq!(hourly, stored_first);
    assert_eq!(number_hourly, redone);
    assert!(without_hours.is_empty(), "{without_hours:?}");
    assert_eq!(redone[3].0, "t_calls");
    assert!(
        redone[3..9].iter().all(|(_, stored)| *stored == Some(true)),
        "{redone:?}"
    );
    // Undone: the totals last, virtual on SQLite (migration 000021's layout).
    let virtual_on_sqlite = Some(db.get_database_backend() == DbBackend::Postgres);
    assert_eq!(undone[undone.len() - 6].0, "t_calls");
    assert!(
        undone[undone.len() - 6..]
            .iter()
            .all(|(_, stored)| *stored == virtual_on_sqlite),
        "{undone:?}"
    );
    assert_eq!(sums_before, sums_undone);
    assert_eq!(sums_before.0, 40);
    assert_eq!(before, after);
    assert_eq!(after[0]["totalCalls"], 40);
}

#[tokio::test]
async fn statistics_are_planned_for_their_parameters_and_pages_keep_their_plans() {
    use switchboard::db::{Planning, analytics, connect};
    let app = TestApp::spawn().await;
    let main = connect(&app.database_url, 2, Planning::Cached).await.unwrap();
    let stats = analytics(&app.database_url, 2, &main).await.unwrap();
    let backend = main.get_database_backend();
    if backend != DbBackend::Postgres {
        eprintln!("note: plan_cache_mode is PostgreSQL's; this test was SKIPPED on SQLite");
        return;
    }
    let mode = |db: DatabaseConnection| async move {
        let row = db
            .query_one_raw(Statement::from_string(
                backend,
                "SELECT current_setting('plan_cache_mode') AS mode",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<String>("", "mode").unwrap()
    };

    assert_eq!(mode(main).await, "auto");
    assert_eq!(mode(stats).await, "force_custom_plan");
}
