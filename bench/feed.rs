//! The live call feed across instances: how long after `recordCall` returns on
//! one instance an event reaches a subscriber on another (and on the same one),
//! and what an instance's memory grows by for 1,000 idle subscriptions.
//!
//! Two release-built `switchboard serve` processes share a fresh PostgreSQL
//! database; this process is their client over loopback. Figures are reported
//! beside baselines measured in the same run (the `recordCall` round trip, the
//! instance's resident memory before the subscriptions). See bench/README.md:
//!
//! ```sh
//! cargo build --release && cargo run --release --example feed
//! ```

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use futures_util::{SinkExt, StreamExt};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::{
    connect_async,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const DATABASE: &str = "switchboard_feed_bench";
const CALLS: usize = 300;
const IDLE_SUBSCRIPTIONS: usize = 1000;
const FEED: &str = "subscription($after: String) { callLogged(after: $after) { externalId } }";

/// A server process, killed on drop.
struct Server {
    child: Child,
    address: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(database_url: &str, port: u16) -> anyhow::Result<Server> {
        let binary = std::env::current_exe()?
            .parent()
            .and_then(|examples| examples.parent())
            .map(|release| release.join("switchboard"))
            .ok_or_else(|| anyhow::anyhow!("cannot find the switchboard binary"))?;
        anyhow::ensure!(binary.exists(), "build it first: cargo build --release");
        let child = Command::new(binary)
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("SWITCHBOARD_LISTEN", format!("127.0.0.1:{port}"))
            .env("JWT_SECRET", "feed-bench-secret-that-is-at-least-32-bytes")
            .env("WS_MAX_CONNECTIONS_PER_USER", "5000")
            .env("COST_RESTORE_PER_SECOND", "100000")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()?;
        Ok(Server {
            child,
            address: format!("127.0.0.1:{port}"),
        })
    }

    async fn ready(&self, http: &reqwest::Client) -> anyhow::Result<()> {
        for _ in 0..300 {
            if let Ok(response) = http.get(format!("http://{}/readyz", self.address)).send().await
                && response.status().is_success()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("the server on {} never became ready", self.address)
    }

    /// Resident memory in KiB, from /proc.
    fn rss_kib(&self) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| anyhow::anyhow!("no VmRSS"))
    }
}

async fn gql(http: &reqwest::Client, server: &Server, token: Option<&str>, query: &str, variables: Value) -> Value {
    let mut request = http
        .post(format!("http://{}/graphql", server.address))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let body: Value = request.send().await.expect("request").json().await.expect("json");
    assert!(body.get("errors").is_none(), "{body}");
    body["data"].clone()
}

/// Opens a socket with one `callLogged(after:)` subscription; each event's
/// `externalId` and arrival time go to `arrivals`.
async fn subscriber(server: &Server, token: &str, after: &str, arrivals: mpsc::UnboundedSender<(String, Instant)>) {
    let mut request = format!("ws://{}/graphql/ws", server.address)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut socket, _) = connect_async(request).await.expect("websocket");
    let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } });
    socket.send(Message::text(init.to_string())).await.unwrap();
    let subscribe = json!({ "id": "feed", "type": "subscribe",
                            "payload": { "query": FEED, "variables": { "after": after } } });
    socket.send(Message::text(subscribe.to_string())).await.unwrap();
    tokio::spawn(async move {
        while let Some(Ok(message)) = socket.next().await {
            if let Message::Text(text) = message {
                let message: Value = serde_json::from_str(&text).unwrap_or_default();
                if message["type"] == "next" {
                    let label = message["payload"]["data"]["callLogged"]["externalId"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned();
                    if arrivals.send((label, Instant::now())).is_err() {
                        return;
                    }
                }
            }
        }
    });
}

fn percentile(samples: &mut [Duration], fraction: f64) -> Duration {
    samples.sort();
    samples[((samples.len() - 1) as f64 * fraction).round() as usize]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let admin = Database::connect(ADMIN_URL).await?;
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        .await?;
    admin.execute_unprepared(&format!("CREATE DATABASE {DATABASE}")).await?;
    let database_url = format!("postgres://postgres@127.0.0.1:5432/{DATABASE}");
    let recorder = Server::start(&database_url, 18401)?;
    let http = reqwest::Client::new();
    recorder.ready(&http).await?;
    // Started after the first has migrated the database.
    let watcher = Server::start(&database_url, 18402)?;
    watcher.ready(&http).await?;

    let auth = gql(
        &http,
        &recorder,
        None,
        "mutation { register(input: { username: \"feedbench\", password: \"feed-bench-password-1\" }) { accessToken } }",
        json!({}),
    )
    .await;
    let token = auth["register"]["accessToken"].as_str().unwrap().to_owned();
    let number = gql(
        &http,
        &recorder,
        Some(&token),
        "mutation { createVirtualNumber(input: { phoneNumber: \"+12015550123\" }) { id } }",
        json!({}),
    )
    .await["createVirtualNumber"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let record = "mutation($input: RecordCallInput!) { recordCall(input: $input) { cursor } }";
    let call = |label: String| {
        json!({ "input": { "virtualNumberId": number, "direction": "INBOUND", "callerNumber": "+14155550100",
                           "calledNumber": "+12015550123", "durationSeconds": 5, "externalId": label } })
    };
    let anchor = gql(&http, &recorder, Some(&token), record, call("anchor".into())).await["recordCall"]["cursor"]
        .as_str()
        .unwrap()
        .to_owned();

    // Latency: one subscriber on each instance; calls recorded one at a time on the first.
    let (same_tx, mut same_rx) = mpsc::unbounded_channel();
    let (other_tx, mut other_rx) = mpsc::unbounded_channel();
    subscriber(&recorder, &token, &anchor, same_tx).await;
    subscriber(&watcher, &token, &anchor, other_tx).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (mut round_trips, mut same, mut other) = (Vec::new(), Vec::new(), Vec::new());
    let mut last = anchor.clone();
    for index in 0..CALLS {
        let label = format!("call-{index}");
        let sent = Instant::now();
        let recorded = gql(&http, &recorder, Some(&token), record, call(label.clone())).await;
        let returned = Instant::now();
        last = recorded["recordCall"]["cursor"].as_str().unwrap_or(&last).to_owned();
        round_trips.push(returned - sent);
        for (receiver, samples) in [(&mut same_rx, &mut same), (&mut other_rx, &mut other)] {
            let (heard, arrived) = tokio::time::timeout(Duration::from_secs(10), receiver.recv())
                .await?
                .ok_or_else(|| anyhow::anyhow!("a subscriber closed"))?;
            anyhow::ensure!(heard == label, "expected {label}, heard {heard}: out of order");
            // An event may beat the HTTP response home: that counts as no wait.
            samples.push(arrived.saturating_duration_since(returned));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let round_trip = percentile(&mut round_trips, 0.5);
    println!("recordCall round trip (baseline): p50 {:.2} ms", ms(round_trip));
    for (name, samples) in [("same instance", &mut same), ("other instance", &mut other)] {
        let (p50, p99) = (percentile(samples, 0.5), percentile(samples, 0.99));
        println!(
            "{name}: recordCall returned -> event: p50 {:.2} ms, p99 {:.2} ms ({:.2} x / {:.2} x the round trip)",
            ms(p50),
            ms(p99),
            p50.as_secs_f64() / round_trip.as_secs_f64(),
            p99.as_secs_f64() / round_trip.as_secs_f64(),
        );
    }

    // Memory: 1,000 idle subscriptions (one socket each) on the watching instance.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = watcher.rss_kib()?;
    let (idle_tx, mut idle_rx) = mpsc::unbounded_channel();
    for _ in 0..IDLE_SUBSCRIPTIONS {
        // From the last call: nothing to replay, so they sit idle.
        subscriber(&watcher, &token, &last, idle_tx.clone()).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = watcher.rss_kib()?;
    println!(
        "memory: {} KiB before, {} KiB with {IDLE_SUBSCRIPTIONS} idle subscriptions ({:.2} x); {:.1} KiB each",
        before,
        after,
        after as f64 / before as f64,
        (after.saturating_sub(before)) as f64 / IDLE_SUBSCRIPTIONS as f64,
    );
    gql(&http, &recorder, Some(&token), record, call("wake".into())).await;
    let mut woke = 0;
    while woke < IDLE_SUBSCRIPTIONS {
        let Ok(Some(_)) = tokio::time::timeout(Duration::from_secs(10), idle_rx.recv()).await else {
            break;
        };
        woke += 1;
    }
    println!("one more call reached {woke} of the {IDLE_SUBSCRIPTIONS} idle subscribers");
    drop((recorder, watcher));
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        .await?;
    Ok(())
}
