//! Number porting: portability, orders split by country and type, the
//! workflow with every transition checked, reservations, atomic completion,
//! races for one number, privacy, the live timeline and activation on the FOC date.

use std::{
    sync::atomic::{AtomicU32, Ordering},
    time::Duration,
};

use base64::Engine;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, Database, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use switchboard::entity::virtual_numbers;
use uuid::Uuid;

use crate::helpers::{Arrival, GqlResponse, TestApp, TestUser, WsClient};

const ORDER: &str = "id status countryCode numberType phoneNumbers { phoneNumber virtualNumber { id } } \
    accountHolderName accountNumber accountPinSet serviceAddress { street locality region postalCode } \
    authorizedPersonName requestedFocDate confirmedFocDate exceptionReason requirements \
    events(first: 20) { totalCount nodes { kind fromStatus toStatus actorRole comment } }";

fn create_mutation() -> String {
    format!("mutation($input: CreatePortingOrderInput!) {{ createPortingOrder(input: $input) {{ {ORDER} }} }}")
}

fn read_query() -> String {
    format!("query($id: ID!) {{ portingOrder(id: $id) {{ {ORDER} }} }}")
}

const CHECK: &str = "query($numbers: [String!]!, $country: String) { checkPortability(phoneNumbers: $numbers, country: $country) { input phoneNumber countryCode numberType portable issue message } }";
const SUBMIT: &str = "mutation($id: ID!) { submitPortingOrder(id: $id) { id status exceptionReason } }";
const CANCEL: &str = "mutation($id: ID!) { cancelPortingOrder(id: $id, comment: \"changed our minds\") { id status } }";
const START: &str = "mutation($id: ID!) { startPortingOrder(id: $id) { id status } }";
const CONFIRM: &str = "mutation($id: ID!, $date: Date!) { confirmPortingOrderFocDate(id: $id, focDate: $date) { id status confirmedFocDate } }";
const COMPLETE: &str = "mutation($id: ID!) { completePortingOrder(id: $id) { id status exceptionReason } }";
const RAISE: &str = "mutation($id: ID!, $reason: String!) { raisePortingOrderException(id: $id, reason: $reason) { id status exceptionReason } }";
const UPDATE: &str = "mutation($id: ID!, $input: UpdatePortingOrderInput!) { updatePortingOrder(id: $id, input: $input) { id status accountPinSet requirements } }";
const STATUS: &str = "query($id: ID!) { portingOrder(id: $id) { status events(first: 1) { totalCount } } }";
const CREATE_NUMBER: &str =
    "mutation($input: CreateVirtualNumberInput!) { createVirtualNumber(input: $input) { id phoneNumber } }";
const MY_NUMBERS: &str = "{ myVirtualNumbers(first: 100) { totalCount nodes { id phoneNumber portingOrder { id } } } }";
const MY_ORDERS: &str = "{ myPortingOrders(first: 100) { totalCount nodes { id status } } }";

/// Distinct valid US numbers (+1 201 555 0100 and up), one per call, so every
/// order of a test ports different numbers.
fn fresh_number() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(100);
    format!("+1201555{:04}", NEXT.fetch_add(1, Ordering::SeqCst))
}

async fn earliest(user: &TestUser<'_>) -> String {
    let response = user.gql("{ earliestPortingFocDate }", json!({})).await;
    response.data("earliestPortingFocDate").as_str().unwrap().to_owned()
}

fn today() -> String {
    chrono::Utc::now().date_naive().to_string()
}

/// Everything a losing carrier demands, asking for `date`.
fn details(date: &str) -> Value {
    json!({
        "accountHolderName": "Acme Widgets Ltd",
        "accountNumber": "ACC-4471",
        "accountPin": "PIN-93817",
        "serviceAddress": { "street": "1 Main St", "locality": "Newark", "region": "NJ", "postalCode": "07102" },
        "authorizedPersonName": "Ada Lovelace",
        "requestedFocDate": date,
    })
}

async fn create(user: &TestUser<'_>, numbers: &[&str], mut input: Value) -> GqlResponse {
    input["phoneNumbers"] = json!(numbers);
    user.gql(&create_mutation(), json!({ "input": input })).await
}

/// A complete DRAFT order of `numbers` (one country and type); its id.
async fn ready_order(user: &TestUser<'_>, numbers: &[&str]) -> String {
    let date = earliest(user).await;
    let response = create(user, numbers, details(&date)).await;
    let orders = response.data("createPortingOrder").as_array().unwrap();
    assert_eq!(orders.len(), 1, "{}", response.body);
    orders[0]["id"].as_str().unwrap().to_owned()
}

async fn step(user: &TestUser<'_>, query: &str, variables: Value, field: &str) -> GqlResponse {
    let response = user.gql(query, variables).await;
    assert!(response.body.get("errors").is_none(), "{field}: {}", response.body);
    response
}

/// Walks a fresh order of `numbers` to `status` (DRAFT, SUBMITTED, IN_PROCESS,
/// FOC_DATE_CONFIRMED, EXCEPTION, PORTED, CANCELLED); its id.
async fn order_in(owner: &TestUser<'_>, staff: &TestUser<'_>, numbers: &[&str], status: &str) -> String {
    let id = ready_order(owner, numbers).await;
    let vars = json!({ "id": id });
    if status == "DRAFT" {
        return id;
    }
    if status == "CANCELLED" {
        step(owner, CANCEL, vars, "cancel").await;
        return id;
    }
    step(owner, SUBMIT, vars.clone(), "submit").await;
    if status == "SUBMITTED" {
        return id;
    }
    step(staff, START, vars.clone(), "start").await;
    if status == "IN_PROCESS" {
        return id;
    }
    if status == "EXCEPTION" {
        step(staff, RAISE, json!({ "id": id, "reason": "the PIN is wrong" }), "raise").await;
        return id;
    }
    let date = earliest(owner).await;
    step(staff, CONFIRM, json!({ "id": id, "date": date }), "confirm").await;
    if status == "FOC_DATE_CONFIRMED" {
        return id;
    }
    let completed = step(staff, COMPLETE, vars, "complete").await;
    assert_eq!(completed.data("completePortingOrder")["status"], "PORTED");
    id
}

async fn status_of(user: &TestUser<'_>, id: &str) -> (String, u64) {
    let response = user.gql(STATUS, json!({ "id": id })).await;
    let order = response.data("portingOrder");
    (
        order["status"]
            .as_str()
            .unwrap_or_else(|| panic!("{}", response.body))
            .to_owned(),
        order["events"]["totalCount"].as_u64().unwrap(),
    )
}

/// The uuid inside a global id.
fn uuid_of(id: &str) -> Uuid {
    let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(id).unwrap();
    let text = String::from_utf8(text).unwrap();
    text.split_once(':').unwrap().1.parse().unwrap()
}

/// How many unreleased virtual numbers hold `number`, read from the database.
async fn holders(app: &TestApp, number: &str) -> Vec<virtual_numbers::Model> {
    let db = Database::connect(&app.database_url).await.unwrap();
    let rows = virtual_numbers::Entity::find()
        .filter(virtual_numbers::Column::PhoneNumber.eq(number))
        .filter(virtual_numbers::Column::ReleasedAt.is_null())
        .all(&db)
        .await
        .unwrap();
    db.close().await.unwrap();
    rows
}

#[tokio::test]
async fn portability_answers_for_valid_invalid_held_reserved_and_foreign_numbers() {
    let app = TestApp::spawn().await;
    let staff = app.signed_up_staff("ops").await;
    let alice = app.signed_up("alice").await;
    let bob = app.signed_up("bob").await;
    let carol = app.signed_up("carol").await;
    let (held, reserved, drafted_by_bob, drafted_by_carol) =
        (fresh_number(), fresh_number(), fresh_number(), fresh_number());
    alice.creates_number(&held).await;
    order_in(&bob, &staff, &[&reserved], "SUBMITTED").await;
    ready_order(&bob, &[&drafted_by_bob]).await;
    ready_order(&carol, &[&drafted_by_carol]).await;
    let national = format!("({}) {}-{}", &reserved[2..5], &reserved[5..8], "0999");
    let orders_before = carol.gql(MY_ORDERS, json!({})).await;

    let answer = carol
        .gql(
            CHECK,
            json!({ "numbers": [held, reserved, drafted_by_bob, drafted_by_carol, national, "+1 555 0100", "+49 151 23456789", "+44 7400 123456", "+1 800 356 9377"], "country": "US" }),
        )
        .await;
    let anonymous = app.gql(CHECK, json!({ "numbers": [held] })).await;
    let too_many = carol.gql(CHECK, json!({ "numbers": vec!["+12015550100"; 101] })).await;
    let orders_after = carol.gql(MY_ORDERS, json!({})).await;

    let answers = answer.data("checkPortability").as_array().unwrap();
    let issue = |index: usize| answers[index]["issue"].clone();
    assert_eq!(issue(0), "ALREADY_HELD", "{}", answer.body);
    assert_eq!(issue(1), "ALREADY_IN_AN_ORDER");
    // Someone else's draft reserves nothing; one's own draft does.
    assert_eq!(answers[2]["portable"], true);
    assert_eq!(issue(3), "ALREADY_IN_AN_ORDER");
    assert_eq!(answers[4]["portable"], true);
    assert_eq!(answers[4]["phoneNumber"], "+12015550999");
    assert_eq!(answers[4]["countryCode"], "US");
    assert_eq!(answers[4]["numberType"], "FIXED_LINE_OR_MOBILE");
    assert_eq!(issue(5), "INVALID_NUMBER");
    assert_eq!(answers[5]["phoneNumber"], Value::Null);
    assert!(answers[5]["message"].as_str().unwrap().len() > 10);
    assert_eq!(issue(6), "UNSUPPORTED_COUNTRY");
    assert_eq!(answers[6]["countryCode"], "DE");
    assert_eq!(answers[7]["portable"], true);
    assert_eq!(answers[7]["numberType"], "MOBILE");
    assert_eq!(answers[8]["numberType"], "TOLL_FREE");
    assert_eq!(answers[8]["issue"], Value::Null);
    anonymous.assert_error("UNAUTHENTICATED", None);
    too_many.assert_error("BAD_USER_INPUT", Some("phoneNumbers"));
    // No side effects.
    assert_eq!(
        orders_before.data("myPortingOrders"),
        orders_after.data("myPortingOrders")
    );
}

#[tokio::test]
async fn numbers_of_different_countries_and_types_become_separate_orders() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let (first, second) = (fresh_number(), fresh_number());
    let date = earliest(&alice).await;
    let spelled_again = format!("+1 ({}) {} {}", &first[2..5], &first[5..8], &first[8..]);

    let response = create(
        &alice,
        &[
            &first,
            "+44 7400 123456",
            "+1 800 356 9377",
            &second,
            "+44 20 7946 0958",
            &spelled_again,
        ],
        json!({ "requestedFocDate": date }),
    )
    .await;
    let listed = alice.gql(MY_ORDERS, json!({})).await;

    let orders = response.data("createPortingOrder").as_array().unwrap();
    let summary: Vec<(String, String, Vec<String>)> = orders
        .iter()
        .map(|order| {
            (
                order["countryCode"].as_str().unwrap().to_owned(),
                order["numberType"].as_str().unwrap().to_owned(),
                order["phoneNumbers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|number| number["phoneNumber"].as_str().unwrap().to_owned())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "US".into(),
                "FIXED_LINE_OR_MOBILE".into(),
                vec![first.clone(), second.clone()]
            ),
            ("GB".into(), "MOBILE".into(), vec!["+447400123456".into()]),
            ("US".into(), "TOLL_FREE".into(), vec!["+18003569377".into()]),
            ("GB".into(), "FIXED_LINE".into(), vec!["+442079460958".into()]),
        ],
        "{}",
        response.body
    );
    for order in orders {
        assert_eq!(order["status"], "DRAFT");
        assert_eq!(order["requestedFocDate"], date.as_str());
        assert_eq!(order["events"]["nodes"][0]["kind"], "CREATED");
        assert_eq!(order["events"]["nodes"][0]["actorRole"], "OWNER");
    }
    assert_eq!(listed.data("myPortingOrders")["totalCount"], 4);
}

#[tokio::test]
async fn a_bad_order_is_refused_whole_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let bob = app.signed_up("bob").await;
    let held = fresh_number();
    bob.creates_number(&held).await;
    let (a, b) = (fresh_number(), fresh_number());
    let date = earliest(&alice).await;
    let too_soon = today();
    let far = (chrono::Utc::now().date_naive() + chrono::Days::new(400)).to_string();
    let mut with_bad_pin = details(&date);
    with_bad_pin["accountPin"] = json!("12 34");
    let mut with_long_name = details(&date);
    with_long_name["accountHolderName"] = json!("x".repeat(201));
    let mut with_blank_street = details(&date);
    with_blank_street["serviceAddress"]["street"] = json!("  ");

    let cases = [
        (
            create(&alice, &[&a, &b, "+1 555 0100"], json!({})).await,
            "BAD_USER_INPUT",
            "phoneNumbers.2",
        ),
        (
            create(&alice, &[&held, &a], json!({})).await,
            "CONFLICT",
            "phoneNumbers.0",
        ),
        (
            create(&alice, &[&a, "+49 151 23456789"], json!({})).await,
            "BAD_USER_INPUT",
            "phoneNumbers.1",
        ),
        (create(&alice, &[], json!({})).await, "BAD_USER_INPUT", "phoneNumbers"),
        (
            create(&alice, &vec!["+12015550100"; 101], json!({})).await,
            "BAD_USER_INPUT",
            "phoneNumbers",
        ),
        (
            create(&alice, &[&a], json!({ "requestedFocDate": too_soon })).await,
            "BAD_USER_INPUT",
            "requestedFocDate",
        ),
        (
            create(&alice, &[&a], json!({ "requestedFocDate": far })).await,
            "BAD_USER_INPUT",
            "requestedFocDate",
        ),
        (
            create(&alice, &[&a], with_bad_pin).await,
            "BAD_USER_INPUT",
            "accountPin",
        ),
        (
            create(&alice, &[&a], with_long_name).await,
            "BAD_USER_INPUT",
            "accountHolderName",
        ),
        (
            create(&alice, &[&a], with_blank_street).await,
            "BAD_USER_INPUT",
            "serviceAddress.street",
        ),
        (
            create(&alice, &[&a], json!({ "country": "XX" })).await,
            "BAD_USER_INPUT",
            "country",
        ),
    ];
    let for_bob = create(&alice, &[&a], json!({ "ownerId": bob.id })).await;
    let listed = alice.gql(MY_ORDERS, json!({})).await;

    for (response, code, field) in &cases {
        response.assert_error(code, Some(field));
    }
    assert_eq!(cases[1].0.body["errors"][0]["extensions"]["reason"], "ALREADY_HELD");
    assert!(cases[1].0.error_message().contains(&held), "{}", cases[1].0.body);
    for_bob.assert_error("FORBIDDEN", None);
    assert_eq!(listed.data("myPortingOrders")["totalCount"], 0);
}

#[tokio::test]
async fn the_pin_is_never_readable_back() {
    let app = TestApp::spawn().await;
    let staff = app.signed_up_staff("ops").await;
    let alice = app.signed_up("alice").await;
    let id = ready_order(&alice, &[&fresh_number()]).await;

    let read = alice.gql(&read_query(), json!({ "id": id })).await;
    let as_staff = staff.gql(&read_query(), json!({ "id": id })).await;
    let listed = alice.gql(MY_ORDERS, json!({})).await;
    let fields = app
        .gql("{ __type(name: \"PortingOrder\") { fields { name } } }", json!({}))
        .await;
    let cleared = alice
        .gql(UPDATE, json!({ "id": id, "input": { "accountPin": null } }))
        .await;
    let changed = alice
        .gql(UPDATE, json!({ "id": id, "input": { "accountPin": "PIN-55555" } }))
        .await;
    let after = alice.gql(&read_query(), json!({ "id": id })).await;

    assert_eq!(read.data("portingOrder")["accountPinSet"], true);
    for response in [&read, &as_staff, &listed, &after, &cleared, &changed] {
        assert!(!response.body.to_string().contains("93817"), "{}", response.body);
        assert!(!response.body.to_string().contains("55555"), "{}", response.body);
    }
    let names: Vec<&str> = fields.data("__type")["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|field| field["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"accountPinSet"));
    assert!(
        !names
            .iter()
            .any(|name| name.to_lowercase().contains("pin") && *name != "accountPinSet")
    );
    assert_eq!(cleared.data("updatePortingOrder")["accountPinSet"], false);
    assert_eq!(
        cleared.data("updatePortingOrder")["requirements"],
        json!(["ACCOUNT_PIN"])
    );
    assert_eq!(changed.data("updatePortingOrder")["accountPinSet"], true);
    // The timeline names the fields an edit changed, never their values.
    let comments: Vec<&str> = after.data("portingOrder")["events"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|event| event["comment"].as_str())
        .collect();
    assert_eq!(comments, vec!["changed accountPin", "changed accountPin"]);
}

#[tokio::test]
async fn an_order_lists_what_it_lacks_and_cannot_be_submitted_until_complete() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let created = create(&alice, &[&fresh_number()], json!({})).await;
    let order = &created.data("createPortingOrder")[0];
    let id = order["id"].as_str().unwrap();

    let early = alice.gql(SUBMIT, json!({ "id": id })).await;
    let (status_after_refusal, events_after_refusal) = status_of(&alice, id).await;
    let date = earliest(&alice).await;
    let mut partial = details(&date);
    partial.as_object_mut().unwrap().remove("authorizedPersonName");
    let filled = alice.gql(UPDATE, json!({ "id": id, "input": partial })).await;
    let still_early = alice.gql(SUBMIT, json!({ "id": id })).await;
    let completed = alice
        .gql(
            UPDATE,
            json!({ "id": id, "input": { "authorizedPersonName": "Ada Lovelace" } }),
        )
        .await;
    let submitted = alice.gql(SUBMIT, json!({ "id": id })).await;
    let late_edit = alice
        .gql(UPDATE, json!({ "id": id, "input": { "accountNumber": "other" } }))
        .await;

    assert_eq!(
        order["requirements"],
        json!([
            "ACCOUNT_HOLDER_NAME",
            "ACCOUNT_NUMBER",
            "ACCOUNT_PIN",
            "SERVICE_ADDRESS",
            "AUTHORIZED_PERSON_NAME",
            "REQUESTED_FOC_DATE"
        ])
    );
    early.assert_error("BAD_USER_INPUT", Some("id"));
    assert!(early.error_message().contains("accountPin"), "{}", early.body);
    assert_eq!((status_after_refusal.as_str(), events_after_refusal), ("DRAFT", 1));
    assert_eq!(
        filled.data("updatePortingOrder")["requirements"],
        json!(["AUTHORIZED_PERSON_NAME"])
    );
    still_early.assert_error("BAD_USER_INPUT", Some("id"));
    assert_eq!(completed.data("updatePortingOrder")["requirements"], json!([]));
    assert_eq!(submitted.data("submitPortingOrder")["status"], "SUBMITTED");
    late_edit.assert_error("BAD_USER_INPUT", Some("id"));
    assert!(
        late_edit.error_message().contains("the order is SUBMITTED"),
        "{}",
        late_edit.body
    );
}

/// Every action from every status: the legal ones move the order, the others
/// are refused naming the current status, with nothing changed.
#[tokio::test]
async fn every_transition_is_checked() {
    // Some 400 requests from one user: more than the default cost budget allows.
    let app = TestApp::spawn_with(|config| config.cost_bucket_size = 1_000_000).await;
    let staff = app.signed_up_staff("ops").await;
    let alice = app.signed_up("alice").await;
    let statuses = [
        "DRAFT",
        "SUBMITTED",
        "IN_PROCESS",
        "FOC_DATE_CONFIRMED",
        "EXCEPTION",
        "PORTED",
        "CANCELLED",
    ];
    let actions = ["submit", "cancel", "start", "confirm", "complete", "raise"];
    let legal = |status: &str, action: &str| -> Option<&'static str> {
        match (status, action) {
            ("DRAFT" | "EXCEPTION", "submit") => Some("SUBMITTED"),
            ("DRAFT" | "SUBMITTED" | "IN_PROCESS" | "EXCEPTION", "cancel") => Some("CANCELLED"),
            ("SUBMITTED", "start") => Some("IN_PROCESS"),
            ("IN_PROCESS", "confirm") => Some("FOC_DATE_CONFIRMED"),
            ("FOC_DATE_CONFIRMED", "complete") => Some("PORTED"),
            ("IN_PROCESS" | "FOC_DATE_CONFIRMED", "raise") => Some("EXCEPTION"),
            _ => None,
        }
    };
    let date = earliest(&alice).await;
    for status in statuses {
        for action in actions {
            let id = order_in(&alice, &staff, &[&fresh_number()], status).await;
            let (_, events_before) = status_of(&alice, &id).await;
            let (query, actor, field) = match action {
                "submit" => (SUBMIT, &alice, "submitPortingOrder"),
                "cancel" => (CANCEL, &alice, "cancelPortingOrder"),
                "start" => (START, &staff, "startPortingOrder"),
                "confirm" => (CONFIRM, &staff, "confirmPortingOrderFocDate"),
                "complete" => (COMPLETE, &staff, "completePortingOrder"),
                _ => (RAISE, &staff, "raisePortingOrderException"),
            };
            let response = actor
                .gql(
                    query,
                    json!({ "id": id, "date": date, "reason": "wrong account number" }),
                )
                .await;
            let (status_after, events_after) = status_of(&alice, &id).await;
            match legal(status, action) {
                Some(target) => {
                    assert_eq!(response.data(field)["status"], target, "{status} {action}");
                    assert_eq!((status_after.as_str(), events_after), (target, events_before + 1));
                }
                None => {
                    response.assert_error("BAD_USER_INPUT", Some("id"));
                    assert!(
                        response.error_message().starts_with(&format!("the order is {status};")),
                        "{status} {action}: {}",
                        response.body
                    );
                    assert_eq!((status_after.as_str(), events_after), (status, events_before));
                }
            }
        }
    }
    // The carrier's steps are staff's alone, whatever the status.
    let submitted = order_in(&alice, &staff, &[&fresh_number()], "SUBMITTED").await;
    for query in [START, COMPLETE] {
        alice
            .gql(query, json!({ "id": submitted }))
            .await
            .assert_error("FORBIDDEN", None);
    }
    alice
        .gql(RAISE, json!({ "id": submitted, "reason": "x" }))
        .await
        .assert_error("FORBIDDEN", None);
    assert_eq!(status_of(&alice, &submitted).await.0, "SUBMITTED");
}

#[tokio::test]
async fn an_exception_goes_back_to_the_owner_who_fixes_it_and_submits_again() {
    let app = TestApp::spawn().await;
    let staff = app.signed_up_staff("ops").await;
    let alice = app.signed_up("alice").await;
    let bob = app.signed_up("bob").await;
    let number = fresh_number();
    let id = order_in(&alice, &staff, &[&number], "IN_PROCESS").await;

    let blank = staff.gql(RAISE, json!({ "id": id, "reason": "  " })).await;
    let raised = staff
        .gql(
            RAISE,
            json!({ "id": id, "reason": "The losing carrier says the PIN is wrong" }),
        )
        .await;
    let seen = alice.gql(&read_query(), json!({ "id": id })).await;
    let still_reserved = bob.gql(CHECK, json!({ "numbers": [number] })).await;
    let fixed = alice
        .gql(UPDATE, json!({ "id": id, "input": { "accountPin": "4321" } }))
        .await;
    let resubmitted = alice.gql(SUBMIT, json!({ "id": id })).await;
    let after = alice.gql(&read_query(), json!({ "id": id })).await;

    blank.assert_error("BAD_USER_INPUT", Some("reason"));
    assert_eq!(raised.data("raisePortingOrderException")["status"], "EXCEPTION");
    let order = seen.data("portingOrder");
    assert_eq!(order["exceptionReason"], "The losing carrier says the PIN is wrong");
    let last = order["events"]["nodes"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        last,
        json!({ "kind": "STATUS_CHANGED", "fromStatus": "IN_PROCESS", "toStatus": "EXCEPTION", "actorRole": "STAFF", "comment": "The losing carrier says the PIN is wrong" })
    );
    assert_eq!(
        still_reserved.data("checkPortability")[0]["issue"],
        "ALREADY_IN_AN_ORDER"
    );
    assert_eq!(fixed.data("updatePortingOrder")["status"], "EXCEPTION");
    assert_eq!(resubmitted.data("submitPortingOrder")["status"], "SUBMITTED");
    assert_eq!(resubmitted.data("submitPortingOrder")["exceptionReason"], Value::Null);
    let kinds: Vec<String> = after.data("portingOrder")["events"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| format!("{}:{}", event["kind"].as_str().unwrap(), event["toStatus"]))
        .collect();
    assert_eq!(
        kinds,
        vec![
            "CREATED:\"DRAFT\"",
            "STATUS_CHANGED:\"SUBMITTED\"",
            "STATUS_CHANGED:\"IN_PROCESS\"",
            "STATUS_CHANGED:\"EXCEPTION\"",
            "UPDATED:null",
            "STATUS_CHANGED:\"SUBMITTED\"",
        ]
    );
}

#[tokio::test]
async fn a_submitted_order_reserves_its_numbers_until_it_is_cancelled() {
    let app = TestApp::spawn().await;
    let staff = app.signed_up_staff("ops").await;
    let alice = app.signed_up("alice").await;
    let bob = app.signed_up("bob").await;
    let number = fresh_number();
    let id = order_in(&alice, &staff, &[&number], "IN_PROCESS").await;

    let taken_by_bob = bob
        .gql(CREATE_NUMBER, json!({ "input": { "phoneNumber": number } }))
        .await;
    let taken_by_alice = alice
        .gql(CREATE_NUMBER, json!({ "input": { "phoneNumber": number } }))
        .await;
    let staff_for_bob = staff
        .gql(
            CREATE_NUMBER,
            json!({ "input": { "phoneNumber": number, "ownerId": bob.id } }),
        )
        .await;
    let second_order = create(&bob, &[&number], json!({})).await;
    let cancelled = alice.gql(CANCEL, json!({ "id": id })).await;
    let free = bob.gql(CHECK, json!({ "numbers": [number] })).await;
    let taken_after = bob
        .gql(CREATE_NUMBER, json!({ "input": { "phoneNumber": number } }))
        .await;

    for refused in [&taken_by_bob, &taken_by_alice, &staff_for_bob] {
        refused.assert_error("CONFLICT", Some("phoneNumber"));
        assert_eq!(refused.body["errors"][0]["extensions"]["reason"], "ALREADY_IN_AN_ORDER");
    }
    second_order.assert_error("CONFLICT", Some("phoneNumbers.0"));
    assert_eq!(
        second_order.body["errors"][0]["extensions"]["reason"],
        "ALREADY_IN_AN_ORDER"
    );
    assert_eq!(cancelled.data("cancelPortingOrder")["status"], "CANCELLED");
    assert_eq!(free.data("checkPortability")[0]["portable"], true);
    assert_eq!(taken_after.data("createVirtualNumber")["phoneNumber"], number.as_str());
}

#[tokio::test]
async fn completion_makes_every_number_a_virtual_number_of_the_owner() {
    let app = TestApp::spawn().await;
    let staff = app.signed_up_staff("ops").await;
    let alice = app.signed_up("alice").await;
    let numbers = [fresh_number(), fresh_number(), fresh_number()];
    let refs: Vec<&str> = numbers.iter().map(String::as_str).collect();
    let id = order_in(&alice, &staff, &refs, "PORTED").await;

    let mine = alice.gql(MY_NUMBERS, json!({})).await;
    let order = alice.gql(&read_query(), json!({ "id": id })).await;
    let check = alice.gql(CHECK, json!({ "numbers": numbers })).await;
    let cancel = alice.gql(CANCEL, json!({ "id": id })).await;

    let listed = mine.data("myVirtualNumbers");
    assert_eq!(listed["totalCount"], 3);
    let mut held: Vec<&str> = listed["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|number| {
            assert_eq!(number["portingOrder"]["id"], id.as_str());
            number["phoneNumber"].as_str().unwrap()
        })
        .collect();
    held.sort_unstable();
    assert_eq!(held, refs);
    assert_eq!(order.data("portingOrder")["requirements"], json!([]));
    for number in order.data("portingOrder")["phoneNumbers"].as_array().unwrap() {
        assert!(number["virtualNumber"]["id"].is_string(), "{}", order.body);
    }
    for answer in check.data("checkPortability").as_array().unwrap() {
        assert_eq!(answer["issue"], "ALREADY_HELD");
    }
    cancel.assert_error("BAD_USER_INPUT", Some("id"));
}

#[tokio::test]
async fn an_order_whose_number_was_taken_meanwhile_goes_to_exception_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let staff = app.signed_up_staff("ops").await;
    let alice = app.signed_up("alice").await;
    let bob = app.signed_up("bob").await;
    let (kept, taken) = (fresh_number(), fresh_number());
    let id = order_in(&alice, &staff, &[&kept, &taken], "FOC_DATE_CONFIRMED").await;
    // Taken by a path outside the API (an import, say), which the reservation cannot stop.
    let db = Database::connect(&app.database_url).await.unwrap();
    let now = chrono::Utc::now();
    virtual_numbers::ActiveModel {
        id: Set(Uuid::now_v7()),
        owner_id: Set(uuid_of(&bob.id)),
        phone_number: Set(taken.clone()),
        friendly_name: Set(None),
        friendly_name_folded: Set(None),
        country_code: Set(Some("US".into())),
        is_active: Set(true),
        released_at: Set(None),
        porting_order_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&db)
    .await
    .unwrap();
    db.close().await.unwrap();

    let completed = staff.gql(COMPLETE, json!({ "id": id })).await;
    let mine = alice.gql(MY_NUMBERS, json!({})).await;

    let order = completed.data("completePortingOrder");
    assert_eq!(order["status"], "EXCEPTION", "{}", completed.body);
    assert!(order["exceptionReason"].as_str().unwrap().contains(&taken));
    assert_eq!(mine.data("myVirtualNumbers")["totalCount"], 0);
    assert!(holders(&app, &kept).await.is_empty());
    assert_eq!(holders(&app, &taken).await.len(), 1);
}

#[tokio::test]
async fn racing_completions_and_creations_leave_one_holder() {
    let app = TestApp::spawn().await;
    let staff = app.signed_up_staff("ops").await;
    let alice = app.signed_up("alice").await;
    let mut rivals = Vec::new();
    for index in 0..10 {
        rivals.push(app.signed_up(&format!("rival{index}")).await);
    }
    let number = fresh_number();
    let id = order_in(&alice, &staff, &[&number], "FOC_DATE_CONFIRMED").await;

    let completions = (0..10).map(|_| staff.gql(COMPLETE, json!({ "id": id })));
    let creations = rivals
        .iter()
        .map(|rival| rival.gql(CREATE_NUMBER, json!({ "input": { "phoneNumber": number } })));
    let (completed, created) = tokio::join!(
        futures_util::future::join_all(completions),
        futures_util::future::join_all(creations)
    );

    let ported = completed
        .iter()
        .filter(|response| response.body["data"]["completePortingOrder"]["status"] == "PORTED")
        .count();
    assert_eq!(ported, 1, "{:?}", completed.iter().map(|r| &r.body).collect::<Vec<_>>());
    for refused in completed.iter().filter(|response| response.body["errors"].is_array()) {
        refused.assert_error("BAD_USER_INPUT", Some("id"));
    }
    for response in &created {
        response.assert_error("CONFLICT", Some("phoneNumber"));
    }
    let held = holders(&app, &number).await;
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].owner_id, uuid_of(&alice.id));
}

#[tokio::test]
async fn a_submission_racing_creations_never_leaves_a_held_number_reserved() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let mut rivals = Vec::new();
    for index in 0..19 {
        rivals.push(app.signed_up(&format!("rival{index}")).await);
    }
    for _ in 0..3 {
        let number = fresh_number();
        let id = ready_order(&alice, &[&number]).await;

        let creations = rivals
            .iter()
            .map(|rival| rival.gql(CREATE_NUMBER, json!({ "input": { "phoneNumber": number } })));
        let (submitted, created) = tokio::join!(
            alice.gql(SUBMIT, json!({ "id": id })),
            futures_util::future::join_all(creations)
        );

        let winners = created
            .iter()
            .filter(|response| response.body["errors"].is_null())
            .count();
        let held = holders(&app, &number).await.len();
        let (status, _) = status_of(&alice, &id).await;
        assert!(winners <= 1 && held == winners);
        if held == 1 {
            assert_eq!(status, "DRAFT");
            submitted.assert_error("CONFLICT", Some("id"));
        } else {
            assert_eq!(status, "SUBMITTED", "{}", submitted.body);
        }
    }
}

#[tokio::test]
async fn another_users_orders_answer_as_missing() {
    let app = TestApp::spawn().await;
    let staff = app.signed_up_staff("ops").await;
    let alice = app.signed_up("alice").await;
    let bob = app.signed_up("bob").await;
    let id = order_in(&alice, &staff, &[&fresh_number()], "SUBMITTED").await;
    let comment = alice
        .gql(
            "mutation($id: ID!) { commentOnPortingOrder(id: $id, comment: \"hello\") { cursor } }",
            json!({ "id": id }),
        )
        .await;
    let cursor = comment.data("commentOnPortingOrder")["cursor"]
        .as_str()
        .unwrap()
        .to_owned();

    let read = bob.gql(&read_query(), json!({ "id": id })).await;
    let node = bob
        .gql("query($id: ID!) { node(id: $id) { id } }", json!({ "id": id }))
        .await;
    let listed = bob.gql(MY_ORDERS, json!({})).await;
    let everyone = bob.gql("{ portingOrders { totalCount } }", json!({})).await;
    let mutations = [
        bob.gql(SUBMIT, json!({ "id": id })).await,
        bob.gql(CANCEL, json!({ "id": id })).await,
        bob.gql(UPDATE, json!({ "id": id, "input": { "accountNumber": "x" } }))
            .await,
        bob.gql(
            "mutation($id: ID!) { commentOnPortingOrder(id: $id, comment: \"hi\") { id } }",
            json!({ "id": id }),
        )
        .await,
    ];
    let staff_reads = staff.gql(&read_query(), json!({ "id": id })).await;
    let staff_lists = staff
        .gql(
            "query($owner: ID!) { portingOrders(filter: { ownerId: $owner }) { totalCount } }",
            json!({ "owner": alice.id }),
        )
        .await;
    let mut socket = WsClient::acknowledged(&app, Some(&bob.access_token)).await;
    socket
        .subscribe(
            "1",
            "subscription($id: ID) { portingOrderUpdated(portingOrderId: $id) { kind } }",
            json!({ "id": id }),
        )
        .await;
    let one_order = socket.arrival(Duration::from_secs(10)).await;
    socket
        .subscribe(
            "2",
            "subscription($after: String) { portingOrderUpdated(after: $after) { kind } }",
            json!({ "after": cursor }),
        )
        .await;
    // The first subscription's `complete` may come first.
    let resumed = loop {
        match socket.arrival(Duration::from_secs(10)).await {
            Arrival::Message(message) if message["id"] != "2" => continue,
            other => break other,
        }
    };

    assert_eq!(read.data("portingOrder"), &Value::Null);
    assert_eq!(node.data("node"), &Value::Null);
    assert_eq!(listed.data("myPortingOrders")["totalCount"], 0);
    everyone.assert_error("FORBIDDEN", None);
    for response in &mutations {
        response.assert_error("NOT_FOUND", None);
    }
    assert_eq!(staff_reads.data("portingOrder")["status"], "SUBMITTED");
    assert_eq!(staff_lists.data("portingOrders")["totalCount"], 1);
    let Arrival::Message(error) = one_order else {
        panic!("{one_order:?}")
    };
    assert_eq!(error["type"], "next");
    assert_eq!(error["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND");
    let Arrival::Message(error) = resumed else {
        panic!("{resumed:?}")
    };
    assert_eq!(error["payload"]["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(error["payload"]["errors"][0]["extensions"]["field"], "after");
}

const FEED: &str = "subscription($after: String) { portingOrderUpdated(after: $after) { cursor kind fromStatus toStatus actorRole comment order { id status } } }";

#[tokio::test]
async fn the_subscription_receives_each_change_in_order_and_resumes() {
    let app = TestApp::spawn().await;
    let staff = app.signed_up_staff("ops").await;
    let alice = app.signed_up("alice").await;
    let bob = app.signed_up("bob").await;
    let id = ready_order(&alice, &[&fresh_number()]).await;
    let mut owner = WsClient::acknowledged(&app, Some(&alice.access_token)).await;
    owner.subscribe("feed", FEED, json!({})).await;
    let mut watching_staff = WsClient::acknowledged(&app, Some(&staff.access_token)).await;
    watching_staff.subscribe("feed", FEED, json!({})).await;
    let mut stranger = WsClient::acknowledged(&app, Some(&bob.access_token)).await;
    stranger.subscribe("feed", FEED, json!({})).await;
    // Subscriptions are live once the server has read them; give it a moment.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let date = earliest(&alice).await;

    step(&alice, SUBMIT, json!({ "id": id }), "submit").await;
    step(&staff, START, json!({ "id": id }), "start").await;
    alice
        .gql(
            "mutation($id: ID!) { commentOnPortingOrder(id: $id, comment: \"any news?\") { id } }",
            json!({ "id": id }),
        )
        .await;
    step(&staff, CONFIRM, json!({ "id": id, "date": date }), "confirm").await;
    let live = owner.events(4, Duration::from_secs(10)).await;
    let staff_saw = watching_staff.events(4, Duration::from_secs(10)).await;
    owner.close().await;
    step(&staff, COMPLETE, json!({ "id": id }), "complete").await;
    let stranger_saw = stranger.arrival(Duration::from_millis(500)).await;
    let mut resumed = WsClient::acknowledged(&app, Some(&alice.access_token)).await;
    let last_cursor = live[3]["data"]["portingOrderUpdated"]["cursor"].clone();
    resumed.subscribe("again", FEED, json!({ "after": last_cursor })).await;
    let replayed = resumed.events(1, Duration::from_secs(10)).await;
    let nothing_more = resumed.arrival(Duration::from_millis(300)).await;

    let summary = |events: &[Value]| -> Vec<String> {
        events
            .iter()
            .map(|event| {
                let event = &event["data"]["portingOrderUpdated"];
                format!(
                    "{} {}→{} {}",
                    event["kind"].as_str().unwrap(),
                    event["fromStatus"].as_str().unwrap_or("-"),
                    event["toStatus"].as_str().unwrap_or("-"),
                    event["actorRole"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert_eq!(
        summary(&live),
        vec![
            "STATUS_CHANGED DRAFT→SUBMITTED OWNER",
            "STATUS_CHANGED SUBMITTED→IN_PROCESS STAFF",
            "COMMENT -→- OWNER",
            "STATUS_CHANGED IN_PROCESS→FOC_DATE_CONFIRMED STAFF",
        ]
    );
    assert_eq!(summary(&live), summary(&staff_saw));
    assert_eq!(live[2]["data"]["portingOrderUpdated"]["comment"], "any news?");
    assert_eq!(stranger_saw, Arrival::Quiet);
    assert_eq!(
        summary(&replayed),
        vec!["STATUS_CHANGED FOC_DATE_CONFIRMED→PORTED STAFF"]
    );
    assert_eq!(replayed[0]["data"]["portingOrderUpdated"]["order"]["status"], "PORTED");
    assert_eq!(nothing_more, Arrival::Quiet);
}

#[tokio::test]
async fn orders_are_activated_on_their_foc_date() {
    let app = TestApp::spawn_with(|config| {
        config.porting_activation_interval = Duration::from_millis(200);
    })
    .await;
    let staff = app.signed_up_staff("ops").await;
    let alice = app.signed_up("alice").await;
    let (due_number, later_number) = (fresh_number(), fresh_number());
    let due = order_in(&alice, &staff, &[&due_number], "IN_PROCESS").await;
    let later = order_in(&alice, &staff, &[&later_number], "IN_PROCESS").await;
    let tomorrow = (chrono::Utc::now().date_naive() + chrono::Days::new(1)).to_string();
    let yesterday = (chrono::Utc::now().date_naive() - chrono::Days::new(1)).to_string();

    let past = staff.gql(CONFIRM, json!({ "id": due, "date": yesterday })).await;
    step(&staff, CONFIRM, json!({ "id": due, "date": today() }), "confirm today").await;
    step(
        &staff,
        CONFIRM,
        json!({ "id": later, "date": tomorrow }),
        "confirm tomorrow",
    )
    .await;
    let mut status = String::new();
    for _ in 0..50 {
        status = status_of(&alice, &due).await.0;
        if status == "PORTED" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let order = alice.gql(&read_query(), json!({ "id": due })).await;

    past.assert_error("BAD_USER_INPUT", Some("focDate"));
    assert_eq!(status, "PORTED");
    let last = order.data("portingOrder")["events"]["nodes"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["actorRole"], "SYSTEM");
    assert_eq!(holders(&app, &due_number).await.len(), 1);
    assert_eq!(status_of(&alice, &later).await.0, "FOC_DATE_CONFIRMED");
    assert!(holders(&app, &later_number).await.is_empty());
}

#[tokio::test]
async fn staff_steps_are_on_the_audit_log() {
    let app = TestApp::spawn().await;
    let staff = app.signed_up_staff("ops").await;
    let alice = app.signed_up("alice").await;
    let id = order_in(&alice, &staff, &[&fresh_number()], "PORTED").await;

    let log = staff
        .gql(
            "{ auditEvents(first: 50) { nodes { action subjectId actor { username } } } }",
            json!({}),
        )
        .await;

    let mut actions: Vec<String> = log.data("auditEvents")["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["subjectId"] == id.as_str())
        .map(|event| {
            assert_eq!(event["actor"]["username"], "ops");
            event["action"].as_str().unwrap().to_owned()
        })
        .collect();
    actions.sort();
    assert_eq!(
        actions,
        vec![
            "PORTING_ORDER_COMPLETE",
            "PORTING_ORDER_CONFIRM_FOC_DATE",
            "PORTING_ORDER_START"
        ],
        "{}",
        log.body
    );
}

#[tokio::test]
async fn the_command_line_activates_orders_due() {
    let app = TestApp::spawn_with(|config| {
        config.porting_activation_interval = Duration::ZERO;
    })
    .await;
    let staff = app.signed_up_staff("ops").await;
    let alice = app.signed_up("alice").await;
    let id = order_in(&alice, &staff, &[&fresh_number()], "IN_PROCESS").await;
    step(&staff, CONFIRM, json!({ "id": id, "date": today() }), "confirm").await;
    let waiting = status_of(&alice, &id).await.0;

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["porting", "activate-due"])
        .env("DATABASE_URL", &app.database_url)
        .output()
        .unwrap();

    assert_eq!(waiting, "FOC_DATE_CONFIRMED");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("ported 1 orders"));
    assert_eq!(status_of(&alice, &id).await.0, "PORTED");
    let numbers = alice.gql(MY_NUMBERS, json!({})).await;
    assert_eq!(numbers.data("myVirtualNumbers")["totalCount"], 1);
}

#[tokio::test]
async fn open_orders_and_comments_are_bounded() {
    let app = TestApp::spawn_with(|config| config.cost_bucket_size = 1_000_000).await;
    let alice = app.signed_up("alice").await;
    let mut last = String::new();
    for _ in 0..50 {
        last = ready_order(&alice, &[&fresh_number()]).await;
    }
    let comment = "mutation($id: ID!, $text: String!) { commentOnPortingOrder(id: $id, comment: $text) { id } }";

    let one_more = create(&alice, &[&fresh_number()], json!({})).await;
    step(&alice, CANCEL, json!({ "id": last }), "cancel").await;
    let after_cancelling = create(&alice, &[&fresh_number()], json!({})).await;
    for index in 0..200 {
        step(
            &alice,
            comment,
            json!({ "id": last, "text": format!("note {index}") }),
            "comment",
        )
        .await;
    }
    let too_chatty = alice.gql(comment, json!({ "id": last, "text": "one more" })).await;
    let too_long = alice
        .gql(comment, json!({ "id": last, "text": "x".repeat(2001) }))
        .await;

    one_more.assert_error("BAD_USER_INPUT", Some("phoneNumbers"));
    assert!(one_more.error_message().contains("at most 50"), "{}", one_more.body);
    assert_eq!(after_cancelling.data("createPortingOrder")[0]["status"], "DRAFT");
    too_chatty.assert_error("BAD_USER_INPUT", Some("comment"));
    too_long.assert_error("BAD_USER_INPUT", Some("comment"));
}

#[tokio::test]
async fn a_change_on_one_instance_reaches_a_subscriber_on_another() {
    let app = TestApp::spawn().await;
    let other = app.spawn_beside(|_| {}).await;
    let alice = app.signed_up("alice").await;
    let id = ready_order(&alice, &[&fresh_number()]).await;
    let mut socket = WsClient::acknowledged(&other, Some(&alice.access_token)).await;
    socket
        .subscribe(
            "feed",
            "subscription($id: ID) { portingOrderUpdated(portingOrderId: $id) { kind toStatus order { id status } } }",
            json!({ "id": id }),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    step(&alice, SUBMIT, json!({ "id": id }), "submit").await;
    // SQLite has no NOTIFY: the other instance finds it within its 5 s poll.
    let events = socket.events(1, Duration::from_secs(10)).await;

    let event = &events[0]["data"]["portingOrderUpdated"];
    assert_eq!(event["toStatus"], "SUBMITTED");
    assert_eq!(event["order"]["id"], id.as_str());
    assert_eq!(event["order"]["status"], "SUBMITTED");
}

/// A check or an order is priced by the numbers it parses and looks up, so that
/// aliases cannot repeat a hundred numbers' work for the price of one field.
#[tokio::test]
async fn porting_requests_are_priced_by_their_numbers() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let hundred: Vec<String> = (0..100).map(|_| fresh_number()).collect();
    let cost = |response: &GqlResponse| response.body["extensions"]["cost"]["requestedQueryCost"].as_u64();
    let check = "query($numbers: [String!]!) { checkPortability(phoneNumbers: $numbers) { portable } }";
    // As many aliases as a request may have root fields (50).
    let aliased: String = (0..50)
        .map(|n| format!("c{n}: checkPortability(phoneNumbers: $numbers) {{ portable }} "))
        .collect();
    let create_one = "mutation($input: CreatePortingOrderInput!) { createPortingOrder(input: $input) { id } }";

    let one = alice.gql(check, json!({ "numbers": [&hundred[0]] })).await;
    let all = alice.gql(check, json!({ "numbers": hundred })).await;
    let inline = alice
        .gql(
            &format!(
                "{{ checkPortability(phoneNumbers: [\"{}\", \"{}\"]) {{ portable }} }}",
                hundred[0], hundred[1]
            ),
            json!({}),
        )
        .await;
    let flood = alice
        .gql(
            &format!("query($numbers: [String!]!) {{ {aliased} }}"),
            json!({ "numbers": hundred }),
        )
        .await;
    let order = alice
        .gql(create_one, json!({ "input": { "phoneNumbers": &hundred[..3] } }))
        .await;
    let orders = alice.gql(MY_ORDERS, json!({})).await;

    // 2 for the lookups, then per number 1 and what its answer selects (1).
    assert_eq!(cost(&one), Some(2 + 1 + 1), "{}", one.body);
    assert_eq!(cost(&all), Some(2 + 100 + 100), "{}", all.body);
    assert_eq!(cost(&inline), Some(2 + 2 + 2), "{}", inline.body);
    assert_eq!(all.data("checkPortability").as_array().unwrap().len(), 100);
    // Priced at one point a field, these 50 would have parsed and looked up 5,000 numbers.
    flood.assert_error("QUERY_TOO_COMPLEX", None);
    assert_eq!(flood.body["errors"][0]["extensions"]["limit"], "cost");
    assert_eq!(flood.body["errors"][0]["extensions"]["found"], 50 * 202);
    // 10 for the transaction, 1 per number, 1 for `id`.
    assert_eq!(cost(&order), Some(10 + 3 + 1), "{}", order.body);
    assert_eq!(orders.data("myPortingOrders")["totalCount"], 1);
}
