//! A closed-loop load generator: a fixed number of HTTP/1.1 keep-alive
//! connections, each sending its next request as soon as the last answered,
//! for a fixed time. A response counts only when its status is 200, its body
//! has no `errors`, and its `data` is the expected one (`--expect FILE`: equal
//! to the JSON in FILE) or has a non-null field (`--expect-field NAME`).
//! One thread, so it takes at most one core from what it measures.
//!
//! ```text
//! loadgen run --url http://127.0.0.1:8000/graphql --body-file q.json [--token T]
//!             [--concurrency 32] [--duration 10] [--expect FILE | --expect-field NAME]
//! loadgen idle --url ... --body-file q.json --connections 1000 --hold 10
//! ```
//! In a body, `{n}` becomes a number unique to the request (six digits), for
//! mutations that must not repeat (a new phone number each time). `run` prints
//! one JSON line: ok, bad, rps, p50_ms, p99_ms, first_error. Requests still
//! running at the deadline are dropped and not counted.

use std::{
    cell::{Cell, RefCell},
    net::SocketAddr,
    rc::Rc,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, client::conn::http1, header};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;

struct Target {
    address: SocketAddr,
    host: String,
    path: String,
    token: Option<String>,
    body: String,
}

enum Expect {
    Data(Value),
    Field(String),
    Nothing,
}

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|arg| arg == name)
        .and_then(|at| args.get(at + 1).cloned())
}

async fn target(args: &[String]) -> anyhow::Result<Target> {
    let url = flag(args, "--url").context("--url")?;
    let rest = url.strip_prefix("http://").context("an http:// url")?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let body = std::fs::read_to_string(flag(args, "--body-file").context("--body-file")?)?;
    Ok(Target {
        address: tokio::net::lookup_host(host)
            .await?
            .next()
            .context("resolving the host")?,
        host: host.to_owned(),
        path: format!("/{path}"),
        token: flag(args, "--token"),
        body,
    })
}

fn request(target: &Target, serial: u64) -> Request<Full<Bytes>> {
    let body = if target.body.contains("{n}") {
        target.body.replace("{n}", &format!("{:06}", serial % 1_000_000))
    } else {
        target.body.clone()
    };
    let mut builder = Request::post(&target.path)
        .header(header::HOST, &target.host)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = &target.token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    builder.body(Full::new(Bytes::from(body))).expect("a request")
}

type Sender = http1::SendRequest<Full<Bytes>>;

async fn connect(address: SocketAddr) -> anyhow::Result<Sender> {
    let stream = TcpStream::connect(address).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::task::spawn_local(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

/// Why a response did not count, or `None` when it did.
fn judge(status: u16, body: &[u8], expect: &Expect) -> Option<String> {
    let short = || String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
    if status != 200 {
        return Some(format!("status {status}: {}", short()));
    }
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return Some(format!("not JSON: {}", short()));
    };
    if value.get("errors").is_some() {
        return Some(format!("errors: {}", short()));
    }
    let data = value.get("data").unwrap_or(&Value::Null);
    let good = match expect {
        Expect::Data(expected) => data == expected,
        Expect::Field(name) => data.get(name).is_some_and(|field| !field.is_null()),
        Expect::Nothing => !data.is_null(),
    };
    (!good).then(|| format!("unexpected data: {}", short()))
}

async fn run(args: Vec<String>) -> anyhow::Result<()> {
    let target = Rc::new(target(&args).await?);
    let concurrency: usize = flag(&args, "--concurrency").map_or(Ok(32), |v| v.parse())?;
    let duration = Duration::from_secs_f64(flag(&args, "--duration").map_or(Ok(10.0), |v| v.parse())?);
    let expect = Rc::new(match (flag(&args, "--expect"), flag(&args, "--expect-field")) {
        (Some(file), _) => {
            let value: Value = serde_json::from_str(&std::fs::read_to_string(file)?)?;
            Expect::Data(value.get("data").cloned().unwrap_or(value))
        }
        (None, Some(field)) => Expect::Field(field),
        (None, None) => Expect::Nothing,
    });
    let serial = Rc::new(Cell::new(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_micros() as u64,
    ));
    let latencies = Rc::new(RefCell::new(Vec::<u32>::with_capacity(1 << 16)));
    let bad = Rc::new(Cell::new(0u64));
    let first_error = Rc::new(RefCell::new(None::<String>));
    let started = Instant::now();
    let deadline = started + duration;
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (target, expect, serial, latencies, bad, first_error) = (
            target.clone(),
            expect.clone(),
            serial.clone(),
            latencies.clone(),
            bad.clone(),
            first_error.clone(),
        );
        workers.push(tokio::task::spawn_local(async move {
            let mut sender: Option<Sender> = None;
            while Instant::now() < deadline {
                let mut live = match sender.take() {
                    Some(live) => live,
                    None => match connect(target.address).await {
                        Ok(live) => live,
                        Err(error) => {
                            bad.set(bad.get() + 1);
                            first_error.borrow_mut().get_or_insert(format!("connect: {error}"));
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            continue;
                        }
                    },
                };
                if live.ready().await.is_err() {
                    continue;
                }
                let n = serial.get();
                serial.set(n + 1);
                let sent = Instant::now();
                let exchange = async {
                    match live.send_request(request(&target, n)).await {
                        Ok(response) => {
                            let status = response.status().as_u16();
                            match response.into_body().collect().await {
                                Ok(body) => judge(status, &body.to_bytes(), &expect),
                                Err(error) => Some(format!("body: {error}")),
                            }
                        }
                        Err(error) => Some(format!("send: {error}")),
                    }
                };
                // A request still running at the deadline is dropped, not
                // waited for (nor counted): the run takes its time and no more.
                let Ok(verdict) = tokio::time::timeout_at(deadline.into(), exchange).await else {
                    break;
                };
                let took = sent.elapsed();
                match verdict {
                    None if Instant::now() <= deadline => latencies
                        .borrow_mut()
                        .push(took.as_micros().min(u32::MAX as u128) as u32),
                    None => {}
                    Some(why) => {
                        bad.set(bad.get() + 1);
                        first_error.borrow_mut().get_or_insert(why);
                    }
                }
                if !live.is_closed() {
                    sender = Some(live);
                }
            }
        }));
    }
    for worker in workers {
        worker.await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut latencies = latencies.borrow().clone();
    latencies.sort_unstable();
    let percentile = |p: f64| {
        if latencies.is_empty() {
            return 0.0;
        }
        let index = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[index] as f64 / 1000.0
    };
    let report = serde_json::json!({
        "ok": latencies.len(),
        "bad": bad.get(),
        "rps": latencies.len() as f64 / duration.as_secs_f64().min(elapsed),
        "p50_ms": percentile(0.50),
        "p99_ms": percentile(0.99),
        "first_error": first_error.borrow().clone(),
    });
    println!("{report}");
    Ok(())
}

/// Opens `--connections` keep-alive connections, sends one request on each,
/// says `ready` on stdout and holds them all open for `--hold` seconds.
async fn idle(args: Vec<String>) -> anyhow::Result<()> {
    let target = target(&args).await?;
    let connections: usize = flag(&args, "--connections").map_or(Ok(1000), |v| v.parse())?;
    let hold = Duration::from_secs_f64(flag(&args, "--hold").map_or(Ok(10.0), |v| v.parse())?);
    let mut open = Vec::with_capacity(connections);
    let mut answered = 0;
    for n in 0..connections {
        let mut sender = connect(target.address).await?;
        sender.ready().await?;
        let response = sender.send_request(request(&target, n as u64)).await?;
        if response.status() == 200 {
            answered += 1;
        }
        let _ = response.into_body().collect().await;
        open.push(sender);
    }
    println!("ready {answered}/{connections}");
    tokio::time::sleep(hold).await;
    drop(open);
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let local = tokio::task::LocalSet::new();
    match args.first().map(String::as_str) {
        Some("run") => local.block_on(&runtime, run(args)),
        Some("idle") => local.block_on(&runtime, idle(args)),
        _ => anyhow::bail!("usage: loadgen run|idle --url URL --body-file FILE ..."),
    }
}
