//! Phone numbers exactly as libphonenumber reads them (issue 14): hints that never
//! change a `+` number, international prefixes by region, `tel:` URIs, refused
//! extensions and letters, type and display formats, and `numbers check`.

use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

use crate::helpers::{CREATE_NUMBER, GqlResponse, MY_NUMBERS, TestApp, TestUser};

const DISPLAY: &str = "query($id: ID!) { virtualNumber(id: $id) {
    numberType national: formatted(style: NATIONAL) international: formatted
    e164: formatted(style: E164) uri: formatted(style: RFC3966) unstyled: formatted(style: null) } }";

async fn create(user: &TestUser<'_>, input: Value) -> GqlResponse {
    user.gql(CREATE_NUMBER, json!({ "input": input })).await
}

#[tokio::test]
async fn a_country_hint_never_changes_a_number_that_has_its_own_country_code() {
    let app = TestApp::spawn_with(|config| config.default_region = Some("US".into())).await;
    let alice = app.signed_up("alice").await;

    let by_default = create(&alice, json!({ "phoneNumber": "+49 151 23456789" })).await;
    let hinted = create(&alice, json!({ "phoneNumber": "+60 154-601 2345", "country": "GB" })).await;
    let uri = create(
        &alice,
        json!({ "phoneNumber": "tel:+44-20-7946-0958", "country": "US" }),
    )
    .await;

    assert_eq!(by_default.data("createVirtualNumber")["phoneNumber"], "+4915123456789");
    assert_eq!(by_default.data("createVirtualNumber")["countryCode"], "DE");
    assert_eq!(hinted.data("createVirtualNumber")["phoneNumber"], "+601546012345");
    assert_eq!(hinted.data("createVirtualNumber")["countryCode"], "MY");
    assert_eq!(uri.data("createVirtualNumber")["phoneNumber"], "+442079460958");
}

#[tokio::test]
async fn international_prefixes_are_read_as_the_hinted_region_dials_them() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let cases = [
        ("011 49 151 23456789", "US", "+4915123456789"),
        ("0011 44 20 7946 0958", "AU", "+442079460958"),
        ("0015 33 1 42 68 53 00", "BR", "+33142685300"),
        ("001 1 201 555 0123", "KR", "+12015550123"),
        ("00 61 2 9374 4000", "FR", "+61293744000"),
    ];

    for (spelling, country, e164) in cases {
        let response = create(&alice, json!({ "phoneNumber": spelling, "country": country })).await;
        assert_eq!(
            response.data("createVirtualNumber")["phoneNumber"],
            e164,
            "{spelling} from {country}"
        );
    }
    // 00 is not how the US dials abroad: from there, 0044… is no number.
    let us_zero_zero = create(&alice, json!({ "phoneNumber": "0044 20 7946 0959", "country": "US" })).await;
    us_zero_zero.assert_error("BAD_USER_INPUT", Some("phoneNumber"));
}

#[tokio::test]
async fn numbers_the_old_library_misread_are_stored_as_libphonenumber_reads_them() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;

    let accepted: Vec<_> = futures_util::future::join_all(
        ["+78001234567", "+3758011234567", "+37080012345", "+39 02 1234 5678"]
            .map(|number| create(&alice, json!({ "phoneNumber": number }))),
    )
    .await;
    let refused: Vec<_> = futures_util::future::join_all(
        ["+4990012345670", "+5988001234123456"].map(|number| create(&alice, json!({ "phoneNumber": number }))),
    )
    .await;

    let stored: Vec<_> = accepted
        .iter()
        .map(|response| response.data("createVirtualNumber")["phoneNumber"].clone())
        .collect();
    assert_eq!(
        stored,
        ["+78001234567", "+3758011234567", "+37080012345", "+390212345678"]
    );
    assert_eq!(accepted[3].data("createVirtualNumber")["countryCode"], "IT");
    for response in refused {
        response.assert_error("BAD_USER_INPUT", Some("phoneNumber"));
        assert!(
            response.error_message().contains("not a valid phone number"),
            "{}",
            response.body
        );
    }
}

#[tokio::test]
async fn tel_uris_are_accepted() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;

    let global = create(&alice, json!({ "phoneNumber": "tel:+1-201-555-0123" })).await;
    let local = create(&alice, json!({ "phoneNumber": "tel:7946-0958;phone-context=+44-20" })).await;

    assert_eq!(global.data("createVirtualNumber")["phoneNumber"], "+12015550123");
    assert_eq!(local.data("createVirtualNumber")["phoneNumber"], "+442079460958");
    assert_eq!(local.data("createVirtualNumber")["countryCode"], "GB");
}

#[tokio::test]
async fn extensions_and_letters_are_refused_with_a_message_saying_why() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;

    for spelling in [
        "+1 201 555 0123 x45",
        "+1 201 555 0123 ext. 45",
        "+1 201 555 0123;ext=45",
        "tel:+1-201-555-0123;ext=45",
    ] {
        let response = create(&alice, json!({ "phoneNumber": spelling })).await;
        response.assert_error("BAD_USER_INPUT", Some("phoneNumber"));
        assert!(response.error_message().contains("no extension"), "{}", response.body);
    }
    let vanity = create(&alice, json!({ "phoneNumber": "1-800-FLOWERS", "country": "US" })).await;
    vanity.assert_error("BAD_USER_INPUT", Some("phoneNumber"));
    assert!(vanity.error_message().contains("vanity"), "{}", vanity.body);
    assert!(vanity.error_message().contains("1-800-3569377"), "{}", vanity.body);
    let listed = alice.gql(MY_NUMBERS, json!({})).await;
    assert_eq!(listed.data("myVirtualNumbers")["totalCount"], 0);
}

#[tokio::test]
async fn a_number_shows_its_type_and_display_formats() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let bob = app.signed_up("bob").await;
    let london = alice.creates_number("+44 20 7946 0958").await;
    let mobile = alice.creates_number("+44 7400 123456").await;
    let toll_free = alice.creates_number("+1 800 356 9377").await;

    let shown = alice.gql(DISPLAY, json!({ "id": london })).await;
    let mobile = alice.gql(DISPLAY, json!({ "id": mobile })).await;
    let toll_free = alice.gql(DISPLAY, json!({ "id": toll_free })).await;
    let bad_style = alice
        .gql(
            "query($id: ID!) { virtualNumber(id: $id) { formatted(style: LOCAL) } }",
            json!({ "id": london }),
        )
        .await;
    let someone_else = bob.gql(DISPLAY, json!({ "id": london })).await;
    let anonymous = app.gql(DISPLAY, json!({ "id": london })).await;

    assert_eq!(
        shown.data("virtualNumber"),
        &json!({
            "numberType": "FIXED_LINE",
            "national": "020 7946 0958",
            "international": "+44 20 7946 0958",
            "e164": "+442079460958",
            "uri": "tel:+44-20-7946-0958",
            "unstyled": "+44 20 7946 0958",
        })
    );
    assert_eq!(mobile.data("virtualNumber")["numberType"], "MOBILE");
    assert_eq!(toll_free.data("virtualNumber")["numberType"], "TOLL_FREE");
    assert!(bad_style.error_code().is_some(), "{}", bad_style.body);
    assert_eq!(someone_else.data("virtualNumber"), &Value::Null);
    anonymous.assert_error("UNAUTHENTICATED", None);
}

#[tokio::test]
async fn twenty_concurrent_creations_of_one_number_in_different_spellings_give_one_winner() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let bob = app.signed_up("bob").await;
    let spellings = [
        json!({ "phoneNumber": "+12015550123" }),
        json!({ "phoneNumber": "+1 (201) 555-0123" }),
        json!({ "phoneNumber": "tel:+1-201-555-0123" }),
        json!({ "phoneNumber": "001 201 555 0123" }),
        json!({ "phoneNumber": "+1.201.555.0123" }),
        json!({ "phoneNumber": "(201) 555-0123", "country": "US" }),
        json!({ "phoneNumber": "1 201 555 0123", "country": "US" }),
        json!({ "phoneNumber": "010 1 201 555 0123", "country": "JP" }),
        json!({ "phoneNumber": "0011 1 201 555 0123", "country": "AU" }),
        json!({ "phoneNumber": "tel:201-555-0123;phone-context=+1" }),
    ];

    let attempts = (0..20).map(|i| {
        let user = if i % 2 == 0 { &alice } else { &bob };
        create(user, spellings[i % spellings.len()].clone())
    });
    let responses = futures_util::future::join_all(attempts).await;

    let winners = responses.iter().filter(|r| r.error_code().is_none()).count();
    let conflicts = responses.iter().filter(|r| r.error_code() == Some("CONFLICT")).count();
    assert_eq!((winners, conflicts), (1, 19), "{responses:#?}");
    let alices = alice.gql(MY_NUMBERS, json!({})).await;
    let bobs = bob.gql(MY_NUMBERS, json!({})).await;
    let total = alices.data("myVirtualNumbers")["totalCount"].as_i64().unwrap()
        + bobs.data("myVirtualNumbers")["totalCount"].as_i64().unwrap();
    assert_eq!(total, 1);
}

/// Runs `switchboard numbers check` against the test database.
fn numbers_check(database_url: &str, fix: bool) -> (bool, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"));
    command.args(["numbers", "check"]).env("DATABASE_URL", database_url);
    if fix {
        command.arg("--fix");
    }
    let output = command.output().expect("running switchboard");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// Writes what an older build might have stored, behind the API's back.
async fn store_directly(database_url: &str, sql: &str) {
    let db = Database::connect(database_url).await.expect("connecting");
    db.execute_unprepared(sql).await.expect("writing a row");
    db.close().await.expect("closing");
}

#[tokio::test]
async fn numbers_check_reports_rows_the_rules_read_differently_and_fix_repairs_the_unambiguous_ones() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let milan = alice.creates_number("+39 02 1234 5678").await;
    let spaced = alice.creates_number("+1 201 555 0199").await;
    let invalid = alice.creates_number("+49 30 901820").await;
    alice.creates_number("+12015550123").await;
    let twin = alice.creates_number("+12015550124").await;
    let url = &app.database_url;
    // The old crate stored Italian numbers without a country, and numbers it misread.
    store_directly(
        url,
        "UPDATE virtual_numbers SET country_code = NULL WHERE phone_number = '+390212345678'",
    )
    .await;
    store_directly(
        url,
        "UPDATE virtual_numbers SET phone_number = '+1 201 555 0199' WHERE phone_number = '+12015550199'",
    )
    .await;
    store_directly(
        url,
        "UPDATE virtual_numbers SET phone_number = '+4990012345670' WHERE phone_number = '+4930901820'",
    )
    .await;
    store_directly(
        url,
        "UPDATE virtual_numbers SET phone_number = '+1 201 555 0123' WHERE phone_number = '+12015550124'",
    )
    .await;
    store_directly(
        url,
        "UPDATE users SET contact_number = '+44 20 7946 0958' WHERE username = 'alice'",
    )
    .await;

    let (clean_before, report) = numbers_check(url, false);
    let (clean_after_fix, fixed) = numbers_check(url, true);
    let (clean_after, recheck) = numbers_check(url, false);

    assert!(!clean_before, "{report}");
    assert!(
        report.contains("checked 5 virtual numbers and 1 contact numbers: 5 read differently"),
        "{report}"
    );
    assert!(
        report.contains("+390212345678 (country none): now reads as +390212345678 (country IT)"),
        "{report}"
    );
    assert!(
        report.contains("+4990012345670 (country DE): `+4990012345670` is not a valid phone number"),
        "{report}"
    );
    assert!(!clean_after_fix, "{fixed}");
    assert!(fixed.contains("3 fixed, 2 left"), "{fixed}");
    assert!(fixed.contains("already holds +12015550123"), "{fixed}");
    assert!(recheck.contains("2 read differently, 0 fixed, 2 left"), "{recheck}");
    assert!(!clean_after);
    let milan = alice.gql(DISPLAY_STORED, json!({ "id": milan })).await;
    let spaced = alice.gql(DISPLAY_STORED, json!({ "id": spaced })).await;
    let invalid = alice.gql(DISPLAY_STORED, json!({ "id": invalid })).await;
    let twin = alice.gql(DISPLAY_STORED, json!({ "id": twin })).await;
    let me = alice.gql("{ me { contactNumber } }", json!({})).await;
    assert_eq!(milan.data("virtualNumber")["countryCode"], "IT");
    assert_eq!(spaced.data("virtualNumber")["phoneNumber"], "+12015550199");
    assert_eq!(invalid.data("virtualNumber")["phoneNumber"], "+4990012345670");
    assert_eq!(invalid.data("virtualNumber")["numberType"], "UNKNOWN");
    assert_eq!(twin.data("virtualNumber")["phoneNumber"], "+1 201 555 0123");
    assert_eq!(me.data("me")["contactNumber"], "+442079460958");
}

const DISPLAY_STORED: &str =
    "query($id: ID!) { virtualNumber(id: $id) { phoneNumber countryCode numberType formatted } }";

#[tokio::test]
async fn numbers_check_passes_a_database_with_nothing_to_repair() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    alice.creates_number("+44 20 7946 0958").await;

    let (clean, report) = numbers_check(&app.database_url, false);

    assert!(clean, "{report}");
    assert!(
        report.contains("checked 1 virtual numbers and 0 contact numbers: 0 read differently"),
        "{report}"
    );
}
