//! The edges of every rule: sign-in payloads that resolve, figures past 32 bits,
//! races between update and release, non-ASCII search, extreme instants, NUL
//! characters, and direction/status values that the statistics must agree with.

use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use serde_json::{Value, json};

use crate::helpers::{CREATE_NUMBER, LOGIN, MY_NUMBERS, RECORD_CALL, TestApp};

const NUMBER: &str = "+12015550123";
const STATS: &str = "query($filter: CallLogFilter, $groupBy: StatsPeriod) {
    callStats(filter: $filter, groupBy: $groupBy) {
      totalCalls inboundCalls outboundCalls completedCalls missedCalls totalDurationSeconds
      buckets { periodStart totalCalls } } }";

#[tokio::test]
async fn a_sign_in_payload_resolves_the_new_users_own_numbers() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    alice.creates_number(NUMBER).await;
    let payload = "user { username virtualNumbers { totalCount nodes { phoneNumber } } }";

    let login = app
        .gql(
            &format!("mutation($u: String!, $p: String!) {{ login(username: $u, password: $p) {{ {payload} }} }}"),
            json!({ "u": "alice", "p": "alice-password" }),
        )
        .await;
    let refresh = app
        .gql(
            &format!("mutation($t: String!) {{ refresh(refreshToken: $t) {{ {payload} }} }}"),
            json!({ "t": alice.refresh_token }),
        )
        .await;
    let register = app
        .gql(
            &format!("mutation($i: RegisterInput!) {{ register(input: $i) {{ {payload} }} }}"),
            json!({ "i": { "username": "bob", "password": "bob-password" } }),
        )
        .await;

    for (response, field) in [(&login, "login"), (&refresh, "refresh")] {
        let numbers = &response.data(field)["user"]["virtualNumbers"];
        assert_eq!(numbers["totalCount"], 1, "{field}: {}", response.body);
        assert_eq!(numbers["nodes"][0]["phoneNumber"], NUMBER);
    }
    assert_eq!(register.data("register")["user"]["virtualNumbers"]["totalCount"], 0);
}

#[tokio::test]
async fn figures_past_two_to_the_31_are_exact_and_typed_long() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number(NUMBER).await;
    alice
        .records_call(
            json!({ "virtualNumberId": number, "direction": "INBOUND", "callerNumber": "+14155550100",
            "calledNumber": NUMBER, "durationSeconds": 60, "startedAt": "2026-01-01T00:00:00Z" }),
        )
        .await;
    // 25,000 day-long calls: 2,160,000,000 seconds, past i32::MAX. Written straight to
    // the database (the API would take minutes), copying the one real log.
    let db = Database::connect(&app.database_url).await.unwrap();
    let copy = match db.get_database_backend() {
        DbBackend::Postgres => {
            "INSERT INTO call_logs (id, virtual_number_id, owner_id, direction, status, caller_number, \
             called_number, counterpart_number, started_at, duration_seconds, external_id, created_at, seq) \
             SELECT gen_random_uuid(), virtual_number_id, owner_id, direction, status, caller_number, \
             called_number, counterpart_number, started_at, 86400, NULL, created_at, seq + i \
             FROM call_logs, generate_series(1, 25000) AS i"
        }
        _ => {
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 25000) \
             INSERT INTO call_logs (id, virtual_number_id, owner_id, direction, status, caller_number, \
             called_number, counterpart_number, started_at, duration_seconds, external_id, created_at, seq) \
             SELECT randomblob(16), virtual_number_id, owner_id, direction, status, caller_number, \
             called_number, counterpart_number, started_at, 86400, NULL, created_at, seq + i \
             FROM call_logs, n"
        }
    };
    db.execute_raw(Statement::from_string(db.get_database_backend(), copy))
        .await
        .unwrap();
    // Calls loaded past `recordCall` are summed into the rollups as an import would.
    switchboard::calls::rollups::rebuild(&db).await.unwrap();
    let types = "{ __type(name: \"CallStats\") { fields { name type { ofType { name } } } } }";

    let stats = alice.gql(STATS, json!({})).await;
    let schema = alice.gql(types, json!({})).await;

    let stats = stats.data("callStats");
    assert_eq!(stats["totalCalls"], 25_001);
    assert_eq!(stats["totalDurationSeconds"].as_i64(), Some(25_000 * 86_400 + 60));
    let fields = schema.data("__type")["fields"].as_array().unwrap().clone();
    let type_of =
        |name: &str| fields.iter().find(|field| field["name"] == name).unwrap()["type"]["ofType"]["name"].clone();
    assert_eq!(type_of("totalDurationSeconds"), "Long");
    assert_eq!(type_of("totalCalls"), "Long");
}

#[tokio::test]
async fn an_update_racing_a_release_never_revives_the_number() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let db = Database::connect(&app.database_url).await.unwrap();
    let update = "mutation($id: ID!) { updateVirtualNumber(id: $id, input: { isActive: true, friendlyName: \"late\" }) { id isActive } }";
    let release = "mutation($id: ID!) { releaseVirtualNumber(id: $id) }";

    for round in 0..15 {
        let number = alice.creates_number(&format!("+1201555{:04}", 100 + round)).await;
        let (updated, released) = tokio::join!(
            alice.gql(update, json!({ "id": number })),
            alice.gql(release, json!({ "id": number }))
        );

        assert_eq!(released.data("releaseVirtualNumber"), true);
        if updated.body.get("errors").is_some() {
            updated.assert_error("NOT_FOUND", None);
        }
        let rows = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT is_active FROM virtual_numbers WHERE released_at IS NOT NULL",
            ))
            .await
            .unwrap();
        for row in rows {
            let active: bool = row.try_get("", "is_active").unwrap();
            assert!(!active, "round {round}: a released number was made active again");
        }
    }
}

#[tokio::test]
async fn search_ignores_case_in_any_alphabet_on_both_databases() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    for (number, name) in [
        (NUMBER, "Équipe Zürich"),
        ("+12015550124", "ΓΡΑΦΕΙΟ Αθήνα"),
        ("+12015550125", "Sales"),
    ] {
        let created = alice
            .gql(
                CREATE_NUMBER,
                json!({ "input": { "phoneNumber": number, "friendlyName": name } }),
            )
            .await;
        created.data("createVirtualNumber");
    }

    let mut found = Vec::new();
    for search in ["équipe", "ZÜRICH", "γραφειο", "αθήνα", "SALES", "zz"] {
        let response = alice.gql(MY_NUMBERS, json!({ "filter": { "search": search } })).await;
        found.push(response.data("myVirtualNumbers")["totalCount"].as_i64().unwrap());
    }

    assert_eq!(found, vec![1, 1, 1, 1, 1, 0]);
}

#[tokio::test]
async fn instants_outside_1970_to_9999_are_refused_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number(NUMBER).await;
    let call = |started_at: &str| {
        json!({ "input": { "virtualNumberId": number, "direction": "INBOUND", "callerNumber": "+14155550100",
            "calledNumber": NUMBER, "durationSeconds": 0, "status": "BUSY", "startedAt": started_at } })
    };

    let year_one = alice.gql(RECORD_CALL, call("0001-01-01T00:00:00Z")).await;
    let before_1970 = alice.gql(RECORD_CALL, call("1969-12-31T23:59:59Z")).await;
    let epoch = alice.gql(RECORD_CALL, call("1970-01-01T00:00:00Z")).await;
    let early_filter = alice
        .gql(
            STATS,
            json!({ "filter": { "startedAfter": "0001-01-01T00:00:00Z" }, "groupBy": "MONTH" }),
        )
        .await;
    let late_filter = alice
        .gql(
            STATS,
            json!({ "filter": { "startedBefore": "+262000-01-01T00:00:00Z" }, "groupBy": "HOUR" }),
        )
        .await;
    let last_day = alice
        .gql(
            STATS,
            json!({ "filter": { "startedAfter": "9999-12-31T00:00:00Z", "startedBefore": "9999-12-31T23:59:59Z" },
                "groupBy": "HOUR" }),
        )
        .await;
    let everything = alice.gql(STATS, json!({ "groupBy": "MONTH" })).await;

    year_one.assert_error("BAD_USER_INPUT", Some("startedAt"));
    before_1970.assert_error("BAD_USER_INPUT", Some("startedAt"));
    assert_eq!(epoch.data("recordCall")["startedAt"], "1970-01-01T00:00:00+00:00");
    early_filter.assert_error("BAD_USER_INPUT", Some("startedAfter"));
    assert!(late_filter.error_code().is_some(), "{}", late_filter.body);
    assert_eq!(last_day.data("callStats")["buckets"].as_array().unwrap().len(), 24);
    assert_eq!(everything.data("callStats")["totalCalls"], 1);
}

#[tokio::test]
async fn a_nul_character_in_any_string_is_bad_input_on_its_field() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;

    let in_variable = alice
        .gql(
            CREATE_NUMBER,
            json!({ "input": { "phoneNumber": NUMBER, "friendlyName": "a\u{0}b" } }),
        )
        .await;
    let in_literal = alice
        .gql(
            "{ myVirtualNumbers(filter: { search: \"x\\u0000\" }) { totalCount } }",
            json!({}),
        )
        .await;
    let in_login = app
        .gql(LOGIN, json!({ "username": "alice\u{0}", "password": "alice-password" }))
        .await;
    let listed = alice.gql(MY_NUMBERS, json!({})).await;

    in_variable.assert_error("BAD_USER_INPUT", Some("friendlyName"));
    in_literal.assert_error("BAD_USER_INPUT", Some("search"));
    in_login.assert_error("BAD_USER_INPUT", Some("username"));
    assert_eq!(listed.data("myVirtualNumbers")["totalCount"], 0);
}

#[tokio::test]
async fn every_direction_and_status_is_counted_as_the_statistics_define_it() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number(NUMBER).await;
    let statuses = ["COMPLETED", "NO_ANSWER", "BUSY", "FAILED", "CANCELED"];
    let mut expected = [0i64; 6];
    for (index, status) in statuses.iter().enumerate() {
        for inbound in [true, false] {
            let (caller, called) = if inbound {
                ("+14155550100", NUMBER)
            } else {
                (NUMBER, "+14155550100")
            };
            let duration = if *status == "COMPLETED" { 10 + index as i64 } else { 0 };
            let log = alice
                .records_call(
                    json!({ "virtualNumberId": number, "direction": if inbound { "INBOUND" } else { "OUTBOUND" },
                    "status": status, "callerNumber": caller, "calledNumber": called, "durationSeconds": duration }),
                )
                .await;
            assert_eq!(log["status"], *status);
            expected[0] += 1;
            expected[1] += i64::from(inbound);
            expected[2] += i64::from(!inbound);
            expected[3] += i64::from(*status == "COMPLETED");
            expected[4] += i64::from(inbound && ["NO_ANSWER", "BUSY", "CANCELED"].contains(status));
            expected[5] += duration;
        }
    }

    let totals = alice.gql(STATS, json!({})).await;
    let grouped = alice.gql(STATS, json!({ "groupBy": "DAY" })).await;
    let mut by_status = Vec::new();
    for status in statuses {
        let response = alice
            .gql(STATS, json!({ "filter": { "status": status, "direction": "INBOUND" } }))
            .await;
        by_status.push(response.data("callStats")["totalCalls"].as_i64().unwrap());
    }

    for stats in [totals.data("callStats"), grouped.data("callStats")] {
        let figures: Vec<i64> = [
            "totalCalls",
            "inboundCalls",
            "outboundCalls",
            "completedCalls",
            "missedCalls",
            "totalDurationSeconds",
        ]
        .iter()
        .map(|name| stats[*name].as_i64().unwrap())
        .collect();
        assert_eq!(figures, expected.to_vec(), "{stats}");
    }
    assert_eq!(by_status, vec![1; 5]);
}

#[tokio::test]
async fn a_query_over_a_limit_names_the_limit_and_the_figure() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let deep = format!(
        "{{ me {{ {} id {} }} }}",
        "virtualNumbers(first: 1) { nodes { owner { ".repeat(7),
        "} } } ".repeat(7)
    );

    let response = alice.gql(&deep, json!({})).await;

    response.assert_error("QUERY_TOO_COMPLEX", None);
    let extensions = &response.body["errors"][0]["extensions"];
    assert_eq!(extensions["limit"], "depth");
    assert_eq!(extensions["maximum"], 20);
    assert!(extensions["found"].as_u64().unwrap() > 20, "{}", response.body);
    assert_eq!(response.body.get("data").unwrap_or(&Value::Null), &Value::Null);
}
