//! The command line, run as the real binary against a test database.

use std::{io::Write, process::Stdio};

use serde_json::json;

use crate::helpers::{LOGIN, TestApp};

fn create_user(database_url: &str, args: &[&str], password: &str) -> std::process::Output {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["create-user"])
        .args(args)
        .arg("--password-stdin")
        .env("DATABASE_URL", database_url)
        .env_remove("JWT_SECRET")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running switchboard");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn create_user_makes_a_staff_account_that_can_sign_in() {
    let app = TestApp::spawn().await;

    let output = create_user(&app.database_url, &["ops.admin", "--staff"], "a long staff password");
    let login = app
        .gql(
            LOGIN,
            json!({ "username": "ops.admin", "password": "a long staff password" }),
        )
        .await;
    let token = login.data("login")["accessToken"].as_str().unwrap().to_owned();
    let me = app.gql_as(Some(&token), "{ me { username isStaff } }", json!({})).await;

    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("created staff user ops.admin"));
    assert_eq!(me.data("me")["isStaff"], true);
}

#[tokio::test]
async fn create_user_refuses_bad_input_and_taken_names() {
    let app = TestApp::spawn().await;
    app.signed_up("alice").await;

    let short = create_user(&app.database_url, &["bob"], "short");
    let taken = create_user(&app.database_url, &["ALICE"], "a long password");

    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("password"));
    assert!(!taken.status.success());
    assert!(String::from_utf8_lossy(&taken.stderr).contains("username: that username is taken"));
}

#[test]
fn help_prints_no_secret_taken_from_the_environment() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .arg("--help")
        .env("DATABASE_URL", "postgres://u:hunter2secret@localhost/db")
        .env("JWT_SECRET", "jwt-secret-that-must-stay-private")
        .output()
        .expect("running switchboard");

    let help = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(help.contains("DATABASE_URL"), "{help}");
    assert!(!help.contains("hunter2secret"), "{help}");
    assert!(!help.contains("jwt-secret-that-must-stay-private"), "{help}");
}
