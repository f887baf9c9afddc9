//! Access tokens at the HTTP edge: missing, malformed, forged and expired ones.

use base64::Engine;
use serde_json::json;

use crate::helpers::{TEST_SECRET, TestApp};

const ME: &str = "{ me { username } }";

fn b64(value: &serde_json::Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
}

fn claims(sub: &str, exp_offset: i64) -> serde_json::Value {
    let now = chrono::Utc::now().timestamp();
    json!({ "sub": sub, "exp": now + exp_offset, "iat": now, "iss": "switchboard", "aud": "switchboard-api",
            "jti": uuid::Uuid::now_v7(), "staff": true })
}

fn signed(claims: &serde_json::Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// The `sub` of a real token, read back out of its payload.
fn subject_of(token: &str) -> String {
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    value["sub"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_real_token_is_accepted() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;

    let response = app
        .gql_with_authorization(&format!("Bearer {}", alice.access_token), ME)
        .await;

    assert_eq!(response.status, 200);
    assert_eq!(response.data("me")["username"], "alice");
}

#[tokio::test]
async fn bad_tokens_are_refused_with_401_not_treated_as_anonymous() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let sub = subject_of(&alice.access_token);
    let unsigned = format!(
        "{}.{}.",
        b64(&json!({ "alg": "none", "typ": "JWT" })),
        b64(&claims(&sub, 600))
    );
    let cases = [
        ("malformed", "Bearer not.a.jwt".to_owned()),
        ("wrong scheme", format!("Basic {}", alice.access_token)),
        ("alg none", format!("Bearer {unsigned}")),
        (
            "wrong key",
            format!(
                "Bearer {}",
                signed(&claims(&sub, 600), "another-secret-of-at-least-32-bytes!!")
            ),
        ),
        (
            "expired",
            format!("Bearer {}", signed(&claims(&sub, -3600), TEST_SECRET)),
        ),
        (
            "wrong audience",
            format!(
                "Bearer {}",
                signed(
                    &{
                        let mut c = claims(&sub, 600);
                        c["aud"] = json!("elsewhere");
                        c
                    },
                    TEST_SECRET
                )
            ),
        ),
        ("tampered", format!("Bearer {}x", alice.access_token)),
    ];

    for (case, authorization) in cases {
        let response = app.gql_with_authorization(&authorization, ME).await;
        assert_eq!(response.status, 401, "{case}: {}", response.body);
        assert_eq!(response.error_code(), Some("UNAUTHENTICATED"), "{case}");
    }
}

#[tokio::test]
async fn a_token_for_a_user_that_does_not_exist_gets_nothing() {
    let app = TestApp::spawn().await;
    let ghost = signed(&claims(&uuid::Uuid::now_v7().to_string(), 600), TEST_SECRET);

    let response = app.gql_with_authorization(&format!("Bearer {ghost}"), ME).await;

    response.assert_error("UNAUTHENTICATED", None);
}
