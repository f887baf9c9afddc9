//! The playground in a real headless Chromium under its Content-Security-Policy: GraphiQL
//! renders, runs a query, hears a subscription over the same-origin WebSocket, and the
//! browser reports no violation. Where Chromium is missing: skipped with a note, but not on CI.

use std::{
    io::{BufRead, BufReader, Write},
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::Once,
    time::Duration,
};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::{
    sync::mpsc,
    time::{Instant, sleep, timeout_at},
};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async, tungstenite::Message};

use switchboard::http::security::PLAYGROUND_POLICY;

use crate::helpers::TestApp;

const QUERY_EDITOR: &str = ".graphiql-query-editor .CodeMirror";
// The Headers tab is open by default (playground.js); the Variables editor beside it is hidden.
const HEADERS_EDITOR: &str = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror";
const RESULT_PANE: &str = ".result-window .CodeMirror";
// With several operations in the editor (the default query has two) the button opens a menu;
// waiting for it to be a plain button waits for GraphiQL to have parsed what was typed.
const RUN_BUTTON: &str = ".graphiql-execute-button:not([aria-haspopup])";

/// Enough for a busy 2-core machine; a healthy run needs a fraction of it.
const PATIENCE: Duration = Duration::from_secs(30);

/// Runs before any of the page's own scripts: every violation lands on `window`.
const RECORD_VIOLATIONS: &str = "window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(
  `${e.effectiveDirective} refused ${e.blockedURI || 'inline code'} at ${e.sourceFile}:${e.lineNumber}`));";

#[tokio::test]
async fn the_playground_runs_a_query_under_its_content_security_policy() {
    let Some(chromium) = Chromium::launch_unless_missing().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let mut page = chromium.opens(&format!("{}/graphql", app.address)).await;
    page.types_into(QUERY_EDITOR, "{ __typename }").await;

    page.clicks(RUN_BUTTON).await;
    let result = page.waits_for_a_result().await;

    assert_eq!(
        page.policy.as_deref(),
        Some(PLAYGROUND_POLICY),
        "the page came with the policy"
    );
    assert!(
        result.contains(r#""__typename": "Query""#),
        "the result pane shows: {result}"
    );
    assert_eq!(page.violations().await, Vec::<String>::new());
}

#[tokio::test]
async fn the_playground_hears_a_subscription_over_its_same_origin_websocket() {
    let Some(chromium) = Chromium::launch_unless_missing().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number("+12015550123").await;
    let mut page = chromium.opens(&format!("{}/graphql", app.address)).await;
    let headers = format!(r#"{{"Authorization": "Bearer {}"}}"#, alice.access_token);
    page.types_into(HEADERS_EDITOR, &headers).await;
    page.types_into(QUERY_EDITOR, "subscription { callLogged { callerNumber } }")
        .await;

    page.clicks(RUN_BUTTON).await;
    // A subscription goes live a moment after it is sent: record calls until the page hears one.
    let deadline = Instant::now() + PATIENCE;
    let mut result = String::new();
    while result.is_empty() && Instant::now() < deadline {
        let call = json!({ "virtualNumberId": number, "direction": "INBOUND",
            "callerNumber": "+14155550100", "calledNumber": "+12015550123", "durationSeconds": 5 });
        alice.records_call(call).await;
        sleep(Duration::from_millis(200)).await;
        result = page.result().await;
    }

    let socket = format!("{}/graphql/ws", app.address.replacen("http", "ws", 1));
    assert!(
        page.websockets.contains(&socket),
        "sockets opened: {:?}",
        page.websockets
    );
    assert!(
        result.contains(r#""callerNumber": "+14155550100""#),
        "the result pane shows: {result:?}; {}",
        page.diagnostics().await
    );
    assert_eq!(page.violations().await, Vec::<String>::new());
}

/// A headless Chromium with a profile of its own; closed, and its profile removed, on drop.
struct Chromium {
    process: Child,
    devtools_url: String,
    _profile: tempfile::TempDir,
}

impl Chromium {
    /// Starts Chromium, or, where it is not installed, says so and returns `None` (never on CI).
    async fn launch_unless_missing() -> Option<Chromium> {
        let Some(binary) = on_path("chromium") else {
            let on_ci = std::env::var("CI").is_ok_and(|value| !matches!(value.as_str(), "" | "0" | "false"));
            assert!(
                !on_ci,
                "chromium is not installed, and on CI the browser tests must run: apt-get install -y chromium"
            );
            // Once, straight to stderr, past the test harness's capture.
            static SAID: Once = Once::new();
            SAID.call_once(|| {
                let _ = std::io::stderr().write_all(
                    b"note: chromium is not installed: the playground browser tests were SKIPPED; \
                  install it with `apt-get install chromium`\n",
                );
            });
            return None;
        };
        let profile = tempfile::tempdir().expect("making a Chromium profile directory");
        let mut process = Command::new(binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1280,900",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting chromium");
        let stderr = process.stderr.take().expect("chromium's stderr");
        let (lines, mut said) = mpsc::unbounded_channel();
        // Reads to the end, so Chromium never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let mut chromium = Chromium {
            process,
            devtools_url: String::new(),
            _profile: profile,
        };
        let (deadline, mut heard) = (Instant::now() + PATIENCE, Vec::new());
        loop {
            match timeout_at(deadline, said.recv()).await {
                Ok(Some(line)) => match line.strip_prefix("DevTools listening on ") {
                    Some(url) => {
                        chromium.devtools_url = url.trim().to_owned();
                        return Some(chromium);
                    }
                    None => heard.push(line),
                },
                Ok(None) => panic!("chromium quit before DevTools listened; it said:\n{}", heard.join("\n")),
                Err(_) => panic!(
                    "chromium opened no DevTools in {PATIENCE:?}; it said:\n{}",
                    heard.join("\n")
                ),
            }
        }
    }

    /// Opens `url` in a new tab, recording CSP violations from the start, once GraphiQL is up.
    async fn opens(self, url: &str) -> Page {
        let (socket, _) = connect_async(self.devtools_url.as_str())
            .await
            .expect("connecting to Chromium's DevTools");
        let mut page = Page {
            socket,
            next_id: 0,
            session: None,
            policy: None,
            websockets: Vec::new(),
            log: Vec::new(),
            _chromium: self,
        };
        let target = page.call("Target.createTarget", json!({ "url": "about:blank" })).await;
        let attached = page
            .call(
                "Target.attachToTarget",
                json!({ "targetId": target["targetId"], "flatten": true }),
            )
            .await;
        page.session = attached["sessionId"].as_str().map(str::to_owned);
        for domain in ["Page.enable", "Runtime.enable", "Log.enable", "Network.enable"] {
            page.call(domain, json!({})).await;
        }
        page.call("Emulation.setFocusEmulationEnabled", json!({ "enabled": true }))
            .await;
        page.call(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": RECORD_VIOLATIONS }),
        )
        .await;
        let navigation = page.call("Page.navigate", json!({ "url": url })).await;
        assert!(navigation.get("errorText").is_none(), "opening {url}: {navigation}");
        page.waits_for(QUERY_EDITOR, "GraphiQL's query editor").await;
        page
    }
}

impl Drop for Chromium {
    /// Asks Chromium to close, so it takes its helper processes and temp files with it;
    /// kills it if it has not gone within five seconds.
    fn drop(&mut self) {
        let _ = ask_to_close(&self.devtools_url);
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while matches!(self.process.try_wait(), Ok(None)) && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// Sends `Browser.close`, blocking for a second at most (this runs in `drop`).
fn ask_to_close(devtools_url: &str) -> Option<()> {
    let host = devtools_url.strip_prefix("ws://")?.split('/').next()?;
    let stream = std::net::TcpStream::connect_timeout(&host.parse().ok()?, Duration::from_secs(1)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
    stream.set_write_timeout(Some(Duration::from_secs(1))).ok()?;
    let (mut devtools, _) = tokio_tungstenite::tungstenite::client(devtools_url, stream).ok()?;
    devtools
        .send(Message::text(r#"{"id": 1, "method": "Browser.close"}"#))
        .ok()
}

fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|directory| directory.join(program))
        .find(|candidate| candidate.is_file())
}

/// One tab, driven over the Chrome DevTools Protocol as a user would: focus, type, click.
struct Page {
    socket: WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>,
    next_id: u64,
    session: Option<String>,
    /// The `Content-Security-Policy` header the page itself came with.
    policy: Option<String>,
    /// The WebSocket URLs the page opened.
    websockets: Vec<String>,
    /// Console messages and uncaught exceptions, for the story a failure tells.
    log: Vec<String>,
    _chromium: Chromium,
}

impl Page {
    async fn call(&mut self, method: &str, params: Value) -> Value {
        self.try_call(method, params)
            .await
            .unwrap_or_else(|error| panic!("DevTools {method} failed: {error}"))
    }

    async fn try_call(&mut self, method: &str, params: Value) -> Result<Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        let mut command = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = &self.session {
            command["sessionId"] = json!(session);
        }
        let sent = self.socket.send(Message::text(command.to_string())).await;
        sent.map_err(|error| format!("sending: {error}"))?;
        let deadline = Instant::now() + PATIENCE;
        loop {
            let message = match timeout_at(deadline, self.socket.next()).await {
                Ok(Some(Ok(Message::Text(text)))) => serde_json::from_str::<Value>(&text).unwrap_or_default(),
                Ok(Some(Ok(_))) => continue,
                Ok(other) => return Err(format!("the DevTools socket closed: {other:?}")),
                Err(_) => return Err(format!("no answer in {PATIENCE:?}")),
            };
            if message["id"] == id {
                return match message.get("error") {
                    Some(error) => Err(error.to_string()),
                    None => Ok(message["result"].clone()),
                };
            }
            let event = &message["params"];
            match message["method"].as_str() {
                Some("Network.responseReceived") if event["type"] == "Document" => {
                    let headers = event["response"]["headers"].as_object().into_iter().flatten();
                    let mut policy = headers.filter(|(name, _)| name.eq_ignore_ascii_case("content-security-policy"));
                    self.policy = policy.next().and_then(|(_, value)| value.as_str()).map(str::to_owned);
                }
                Some("Network.webSocketCreated") => self.websockets.extend(event["url"].as_str().map(str::to_owned)),
                Some("Log.entryAdded") => self.log.extend(event["entry"]["text"].as_str().map(str::to_owned)),
                Some("Runtime.exceptionThrown") => self.log.push(event["exceptionDetails"].to_string()),
                _ => {}
            }
        }
    }

    /// The value of a JavaScript expression (promises awaited), or why there is none.
    async fn evaluate(&mut self, expression: &str) -> Result<Value, String> {
        let params = json!({ "expression": expression, "returnByValue": true, "awaitPromise": true });
        let answer = self.try_call("Runtime.evaluate", params).await?;
        match answer.get("exceptionDetails") {
            Some(exception) => Err(exception.to_string()),
            None => Ok(answer["result"]["value"].clone()),
        }
    }

    /// Waits until `selector` is on the page; a CSP violation fails at once.
    async fn waits_for(&mut self, selector: &str, what: &str) {
        let deadline = Instant::now() + PATIENCE;
        let present = format!("!!document.querySelector({})", json!(selector));
        while self.evaluate(&present).await != Ok(json!(true)) {
            let violations = self.violations().await;
            assert!(
                violations.is_empty(),
                "waiting for {what}: CSP violations: {violations:#?}"
            );
            assert!(
                Instant::now() < deadline,
                "{what} ({selector}) did not appear in {PATIENCE:?}; {}",
                self.diagnostics().await
            );
            sleep(Duration::from_millis(50)).await;
        }
    }

    /// Replaces the text of the CodeMirror editor at `selector` by typing `text` into it.
    async fn types_into(&mut self, selector: &str, text: &str) {
        self.waits_for(selector, "an editor").await;
        let editor = format!("document.querySelector({}).CodeMirror", json!(selector));
        let focus = format!("{{ const editor = {editor}; editor.focus(); editor.execCommand('selectAll'); }}");
        self.evaluate(&focus).await.expect("focusing the editor");
        self.call("Input.insertText", json!({ "text": text })).await;
        let typed = self.evaluate(&format!("{editor}.getValue()")).await;
        assert_eq!(typed, Ok(json!(text)), "typing into {selector}");
    }

    /// Clicks the middle of the element at `selector` with the mouse.
    async fn clicks(&mut self, selector: &str) {
        self.waits_for(selector, "a button").await;
        let middle = format!(
            "(() => {{ const box = document.querySelector({}).getBoundingClientRect();
               return [box.x + box.width / 2, box.y + box.height / 2]; }})()",
            json!(selector)
        );
        let point = self.evaluate(&middle).await.expect("locating the button");
        for kind in ["mousePressed", "mouseReleased"] {
            let event = json!({ "type": kind, "x": point[0], "y": point[1], "button": "left", "clickCount": 1 });
            self.call("Input.dispatchMouseEvent", event).await;
        }
    }

    /// The text of GraphiQL's result pane (empty before the first answer).
    async fn result(&mut self) -> String {
        let text = format!(
            "document.querySelector({})?.CodeMirror.getValue() ?? ''",
            json!(RESULT_PANE)
        );
        let value = self.evaluate(&text).await.unwrap_or_default();
        value.as_str().unwrap_or_default().to_owned()
    }

    async fn waits_for_a_result(&mut self) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let result = self.result().await;
            if !result.is_empty() {
                return result;
            }
            let stuck = Instant::now() >= deadline;
            assert!(!stuck, "no result in {PATIENCE:?}; {}", self.diagnostics().await);
            sleep(Duration::from_millis(50)).await;
        }
    }

    /// What the page's listener heard, and what Chromium logged about the policy.
    async fn violations(&mut self) -> Vec<String> {
        let heard = self.evaluate("window.__violations ?? []").await.unwrap_or_default();
        let heard = heard
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned);
        let logged = self
            .log
            .iter()
            .filter(|line| line.contains("Content Security Policy"))
            .cloned();
        heard.chain(logged).collect()
    }

    async fn diagnostics(&mut self) -> String {
        let violations = self.violations().await;
        format!(
            "CSP violations: {violations:#?}; console and exceptions: {:#?}",
            self.log
        )
    }
}
