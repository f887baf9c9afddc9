//! A headless Chromium driven over the DevTools protocol, as a person would use a page:
//! focus, type, click, read. Every address but this machine's is unreachable from it, and
//! the page records every request it makes and every Content-Security-Policy violation.

use std::{
    io::{BufRead, BufReader, Write},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::Once,
    time::Duration,
};

use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::{
    sync::mpsc,
    time::{Instant, sleep, timeout_at},
};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async, tungstenite::Message};

use super::{QUERY_EDITOR, RESULT_PANE};

/// Enough for a busy 2-core machine; a healthy run needs a fraction of it.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Runs before any of the page's own scripts: every violation lands on `window`.
const RECORD_VIOLATIONS: &str = "window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(
  `${e.effectiveDirective} refused ${e.blockedURI || 'inline code'} at ${e.sourceFile}:${e.lineNumber}`));";

/// Cuts Chromium off from everything but this machine, as on an offline laptop: no name
/// resolves (but 127.0.0.1, which the test server listens on), and a request to an outside
/// address (an IP literal needs no name) goes to a proxy that is not there.
const OFFLINE: [&str; 3] = [
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=127.0.0.1",
];

/// A headless Chromium with a profile of its own; closed, and its profile removed, on drop.
pub struct Chromium {
    process: Child,
    devtools_url: String,
    _profile: tempfile::TempDir,
}

impl Chromium {
    /// Starts Chromium, or, where it is not installed, says so and returns `None` (never on CI).
    pub async fn launch_unless_missing() -> Option<Chromium> {
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
            .args(OFFLINE)
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
    pub async fn opens(self, url: &str) -> Page {
        let (socket, _) = connect_async(self.devtools_url.as_str())
            .await
            .expect("connecting to Chromium's DevTools");
        let mut page = Page {
            socket,
            next_id: 0,
            session: None,
            policy: None,
            websockets: Vec::new(),
            requests: Vec::new(),
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
pub struct Page {
    socket: WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>,
    next_id: u64,
    session: Option<String>,
    /// The `Content-Security-Policy` header the page itself came with.
    pub policy: Option<String>,
    /// The WebSocket URLs the page opened.
    pub websockets: Vec<String>,
    /// Every URL the page asked for, WebSockets included.
    requests: Vec<String>,
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
                Some("Network.requestWillBeSent") => {
                    self.requests
                        .extend(event["request"]["url"].as_str().map(str::to_owned));
                }
                Some("Network.webSocketCreated") => {
                    self.websockets.extend(event["url"].as_str().map(str::to_owned));
                    self.requests.extend(event["url"].as_str().map(str::to_owned));
                }
                Some("Log.entryAdded") => self.log.extend(event["entry"]["text"].as_str().map(str::to_owned)),
                Some("Runtime.exceptionThrown") => self.log.push(event["exceptionDetails"].to_string()),
                _ => {}
            }
        }
    }

    /// The value of a JavaScript expression (promises awaited), or why there is none.
    pub async fn evaluate(&mut self, expression: &str) -> Result<Value, String> {
        let params = json!({ "expression": expression, "returnByValue": true, "awaitPromise": true });
        let answer = self.try_call("Runtime.evaluate", params).await?;
        match answer.get("exceptionDetails") {
            Some(exception) => Err(exception.to_string()),
            None => Ok(answer["result"]["value"].clone()),
        }
    }

    /// Waits until `selector` is on the page; a CSP violation fails at once.
    pub async fn waits_for(&mut self, selector: &str, what: &str) {
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
    pub async fn types_into(&mut self, selector: &str, text: &str) {
        self.waits_for(selector, "an editor").await;
        let editor = format!("document.querySelector({}).CodeMirror", json!(selector));
        let focus = format!("{{ const editor = {editor}; editor.focus(); editor.execCommand('selectAll'); }}");
        self.evaluate(&focus).await.expect("focusing the editor");
        self.call("Input.insertText", json!({ "text": text })).await;
        let typed = self.evaluate(&format!("{editor}.getValue()")).await;
        assert_eq!(typed, Ok(json!(text)), "typing into {selector}");
    }

    /// Clicks the middle of the element at `selector` with the mouse.
    pub async fn clicks(&mut self, selector: &str) {
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
    pub async fn result(&mut self) -> String {
        let text = format!(
            "document.querySelector({})?.CodeMirror.getValue() ?? ''",
            json!(RESULT_PANE)
        );
        let value = self.evaluate(&text).await.unwrap_or_default();
        value.as_str().unwrap_or_default().to_owned()
    }

    pub async fn waits_for_a_result(&mut self) -> String {
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
    pub async fn violations(&mut self) -> Vec<String> {
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

    /// Replaces the value of the form field at `selector` by typing `text` into it.
    pub async fn fills(&mut self, selector: &str, text: &str) {
        self.waits_for(selector, "a form field").await;
        let field = format!("document.querySelector({})", json!(selector));
        let focus = format!("{{ const field = {field}; field.focus(); field.select(); }}");
        self.evaluate(&focus).await.expect("focusing the field");
        self.call("Input.insertText", json!({ "text": text })).await;
        let typed = self.evaluate(&format!("{field}.value")).await;
        assert_eq!(typed, Ok(json!(text)), "typing into {selector}");
    }

    /// The text a person sees in the element at `selector` (empty when there is none).
    pub async fn text_of(&mut self, selector: &str) -> String {
        let text = format!("document.querySelector({})?.innerText ?? ''", json!(selector));
        let value = self.evaluate(&text).await.unwrap_or_default();
        value.as_str().unwrap_or_default().to_owned()
    }

    /// Waits until the element at `selector` shows `expected` (in a visible element).
    pub async fn waits_for_text(&mut self, selector: &str, expected: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let text = self.text_of(selector).await;
            if text.contains(expected) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "{selector} showed {text:?}, not {expected:?}, for {PATIENCE:?}; {}",
                self.diagnostics().await
            );
            sleep(Duration::from_millis(50)).await;
        }
    }

    /// The text of the CodeMirror editor at `selector`.
    pub async fn editor_text(&mut self, selector: &str) -> String {
        let text = format!("document.querySelector({}).CodeMirror.getValue()", json!(selector));
        let value = self.evaluate(&text).await.expect("reading an editor");
        value.as_str().unwrap_or_default().to_owned()
    }

    /// Every URL the page asked for that is not on `origin` (nor a `data:` URL).
    pub fn requests_beyond(&self, origin: &str) -> Vec<String> {
        let page_origin = format!("{origin}/");
        let socket_origin = page_origin.replacen("http", "ws", 1);
        let own = [page_origin.as_str(), socket_origin.as_str(), "data:", "about:"];
        let outside = |url: &&String| !own.iter().any(|prefix| url.starts_with(prefix));
        self.requests.iter().filter(outside).cloned().collect()
    }

    /// Saves what the tab shows as a PNG at `path`.
    pub async fn saves_a_screenshot(&mut self, path: &Path) {
        let shot = self.call("Page.captureScreenshot", json!({ "format": "png" })).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap_or_default())
            .expect("a base64 screenshot");
        if let Some(directory) = path.parent() {
            std::fs::create_dir_all(directory).expect("making the screenshot's directory");
        }
        std::fs::write(path, png).unwrap_or_else(|error| panic!("saving {}: {error}", path.display()));
    }

    pub async fn diagnostics(&mut self) -> String {
        let violations = self.violations().await;
        format!(
            "CSP violations: {violations:#?}; console and exceptions: {:#?}",
            self.log
        )
    }
}
