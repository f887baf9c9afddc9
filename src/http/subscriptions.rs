//! `GET /graphql/ws`: the graphql-transport-ws protocol (the `graphql-ws`
//! package's PROTOCOL.md) to the letter, written here because async-graphql's
//! stock handler closes with the wrong codes. The access token comes in
//! `connection_init`'s payload as `{"authorization": "Bearer …"}` (an access
//! token or an API key). Close codes:
//! 4400 invalid message, 4401 subscribe before the acknowledgement, 4403 a
//! refused `connection_init` or an authority that ended (token expired, session
//! ended, user deactivated), 4408 no `connection_init` in time, 4409 a
//! duplicate subscription id, 4429 a second `connection_init`.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_graphql::Variables;
use axum::{
    extract::{
        ConnectInfo, State, WebSocketUpgrade,
        ws::{CloseFrame, Message, Utf8Bytes, WebSocket},
    },
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::{
    sync::{Notify, Semaphore, mpsc},
    task::JoinHandle,
};
use uuid::Uuid;

use super::{
    HttpState,
    client::client_address,
    graphql::{Credential, bearer_viewer, label, user_agent},
    metrics::Metrics,
};
use crate::{
    auth::{ClientAddress, UserAgent, Viewer},
    error::AppError,
};

/// The only subprotocol spoken.
pub const PROTOCOL: &str = "graphql-transport-ws";
/// How often an open connection's authority is checked again.
const AUTHORITY_CHECK: Duration = Duration::from_secs(5);

/// Bounds on WebSocket connections (settings `WS_*`).
#[derive(Debug, Clone, Copy)]
pub struct SocketLimits {
    /// Connections on this instance.
    pub total: usize,
    /// Connections of one user on this instance.
    pub per_user: usize,
    /// Operations one connection runs at once.
    pub operations: usize,
    /// How long a client has to send `connection_init`.
    pub init_timeout: Duration,
}

/// The connections open on this instance.
pub struct Sockets {
    limits: SocketLimits,
    total: Arc<Semaphore>,
    per_user: Mutex<HashMap<Uuid, usize>>,
}

impl Sockets {
    pub fn new(limits: SocketLimits) -> Self {
        Sockets {
            limits,
            total: Arc::new(Semaphore::new(limits.total)),
            per_user: Mutex::default(),
        }
    }

    /// Counts one more connection of `user`, unless they hold the most allowed.
    fn join(&self, user: Uuid) -> bool {
        let mut per_user = self.per_user.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = per_user.entry(user).or_insert(0);
        if *count >= self.limits.per_user {
            return false;
        }
        *count += 1;
        true
    }

    fn leave(&self, user: Uuid) {
        let mut per_user = self.per_user.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = per_user.get_mut(&user) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                per_user.remove(&user);
            }
        }
    }
}
/// Read and write buffers of each WebSocket (see `ws`).
const SOCKET_BUFFER_BYTES: usize = 8 * 1024;
/// Largest message accepted, as for HTTP bodies.
const MAX_MESSAGE_BYTES: usize = 1024 * 1024;
/// Messages waiting for a client before the next one must wait for room.
const OUTGOING_BUFFER: usize = 256;
/// How long a message may wait for room before its client is closed as too slow.
const SLOW_CLIENT_GRACE: std::time::Duration = std::time::Duration::from_secs(5);
/// How long a closing connection may take to say goodbye before it is dropped.
const FAREWELL: std::time::Duration = std::time::Duration::from_secs(2);

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientMessage {
    ConnectionInit {
        #[serde(default)]
        payload: Option<Value>,
    },
    Ping {
        #[serde(default)]
        payload: Option<Value>,
    },
    Pong {
        #[serde(default)]
        #[allow(dead_code)]
        payload: Option<Value>,
    },
    Subscribe {
        id: String,
        payload: SubscribePayload,
    },
    Complete {
        id: String,
    },
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SubscribePayload {
    #[serde(default)]
    query: String,
    #[serde(default)]
    variables: Option<Value>,
    #[serde(default)]
    operation_name: Option<String>,
    #[serde(default)]
    extensions: Option<Value>,
}

/// What the writer sends: a message, or the close that ends the connection.
enum Outgoing {
    Json(Value),
    Close(u16, &'static str),
}

pub async fn ws(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let address = client_address(peer, &headers, &state.trusted_proxies);
    let agent = user_agent(&headers);
    let Ok(permit) = state.sockets.total.clone().try_acquire_owned() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "5")],
            "this instance holds as many WebSocket connections as it may; retry shortly",
        )
            .into_response();
    };
    upgrade
        .protocols([PROTOCOL])
        .max_message_size(MAX_MESSAGE_BYTES)
        // tungstenite's defaults (128 KiB each way) cost an idle subscriber ~165 KiB;
        // feed events are small, and a larger message still arrives whole.
        .read_buffer_size(SOCKET_BUFFER_BYTES)
        .write_buffer_size(SOCKET_BUFFER_BYTES)
        .on_upgrade(move |socket| async move {
            state.metrics.sockets.inc();
            let metrics = state.metrics.clone();
            Connection::new(state, address, agent).serve(socket).await;
            metrics.sockets.dec();
            drop(permit);
        })
}

/// One client's connection.
struct Connection {
    state: HttpState,
    address: ClientAddress,
    agent: UserAgent,
    /// Set by an accepted `connection_init`.
    acknowledged: Option<Option<(Viewer, Credential)>>,
    operations: HashMap<String, JoinHandle<()>>,
    /// Raised by an operation whose client has taken nothing for `SLOW_CLIENT_GRACE`.
    too_slow: Arc<Notify>,
}

impl Connection {
    fn new(state: HttpState, address: ClientAddress, agent: UserAgent) -> Self {
        Connection {
            state,
            address,
            agent,
            acknowledged: None,
            operations: HashMap::new(),
            too_slow: Arc::new(Notify::new()),
        }
    }

    async fn serve(mut self, socket: WebSocket) {
        let (mut sink, mut incoming) = socket.split();
        let (outgoing, mut to_send) = mpsc::channel::<Outgoing>(OUTGOING_BUFFER);
        let writer = tokio::spawn(async move {
            while let Some(message) = to_send.recv().await {
                let sent = match message {
                    Outgoing::Json(value) => sink.send(Message::Text(value.to_string().into())).await,
                    Outgoing::Close(code, reason) => {
                        let frame = CloseFrame {
                            code,
                            reason: Utf8Bytes::from_static(reason),
                        };
                        let _ = sink.send(Message::Close(Some(frame))).await;
                        break;
                    }
                };
                if sent.is_err() {
                    break;
                }
            }
            let _ = sink.close().await;
        });
        let writer_abort = writer.abort_handle();
        let init_deadline = tokio::time::sleep(self.state.sockets.limits.init_timeout);
        tokio::pin!(init_deadline);
        let mut authority = tokio::time::interval(AUTHORITY_CHECK);
        authority.tick().await;
        let mut shutting_down = self.state.shutting_down.subscribe();
        let close = loop {
            tokio::select! {
                // Going Away: graphql-ws clients reconnect (to another instance) and resume.
                () = async { let _ = shutting_down.wait_for(|down| *down).await; } => {
                    break Some((1001, "The server is shutting down; reconnect"));
                }
                () = self.too_slow.notified() => {
                    break Some((4499, "Too slow: messages were piling up"));
                }
                () = &mut init_deadline, if self.acknowledged.is_none() => {
                    break Some((4408, "Connection initialisation timeout"));
                }
                _ = authority.tick(), if self.acknowledged.is_some() => {
                    if !self.still_authorised().await {
                        break Some((4403, "Forbidden"));
                    }
                }
                message = incoming.next() => {
                    let text = match message {
                        Some(Ok(Message::Text(text))) => text,
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                        Some(Ok(Message::Binary(_))) => break Some((4400, "Binary messages are not part of the protocol")),
                        Some(Ok(Message::Close(_))) | None => break None,
                        Some(Err(_)) => break Some((1009, "Message too big or malformed")),
                    };
                    match self.handle(&text, &outgoing).await {
                        Ok(()) => {}
                        Err(close) => break Some(close),
                    }
                }
            }
        };
        for (id, operation) in self.operations.drain() {
            let running = !operation.is_finished();
            operation.abort();
            // Authority ended: complete what was running, then close with 4403.
            if running && matches!(close, Some((4403, _))) {
                let _ = outgoing.try_send(Outgoing::Json(json!({ "type": "complete", "id": id })));
            }
        }
        if let Some(Some((viewer, _))) = self.acknowledged {
            self.state.sockets.leave(viewer.user_id);
        }
        // A writer stuck on a client that reads nothing is given up on: the
        // connection is dropped, close frame or not.
        let farewell = async {
            if let Some((code, reason)) = close {
                let _ = outgoing.send(Outgoing::Close(code, reason)).await;
            }
            drop(outgoing);
            writer.await
        };
        let _ = tokio::time::timeout(FAREWELL, farewell).await;
        writer_abort.abort();
    }

    /// Whether the viewer of this connection still stands (token unexpired, user
    /// active, session live; or API key live and its owner active), checked every few seconds.
    async fn still_authorised(&self) -> bool {
        let standing = match &self.acknowledged {
            Some(Some((_, Credential::Token(claims)))) => {
                if claims.expires_at <= chrono::Utc::now().timestamp() {
                    return false;
                }
                self.state.services.authority.viewer(claims).await
            }
            Some(Some((_, Credential::ApiKey(digest)))) => self.state.services.authority.key_viewer(*digest).await,
            _ => return true,
        };
        match standing {
            Ok(_) => true,
            // The database could not say (it is down or busy): the feed goes on and
            // the next check asks again, rather than cutting every subscriber off.
            Err(AppError::Internal(cause)) => {
                tracing::warn!(error = ?cause, "could not check a WebSocket client's standing; will retry");
                true
            }
            Err(_) => false,
        }
    }

    /// Handles one text message; an error is the close it calls for.
    async fn handle(&mut self, text: &str, outgoing: &mpsc::Sender<Outgoing>) -> Result<(), (u16, &'static str)> {
        let message: ClientMessage =
            serde_json::from_str(text).map_err(|_| (4400, "Invalid message: not a graphql-transport-ws message"))?;
        match message {
            ClientMessage::ConnectionInit { payload } => {
                if self.acknowledged.is_some() {
                    return Err((4429, "Too many initialisation requests"));
                }
                let viewer = self.authenticate(payload.as_ref()).await.map_err(|error| match error {
                    // Not the client's fault: 1011 lets graphql-ws retry, where 4403 would end it.
                    AppError::Internal(cause) => {
                        tracing::error!(error = ?cause, "reading a WebSocket client's credential");
                        (1011, "Internal error")
                    }
                    _ => (4403, "Forbidden"),
                })?;
                if let Some((viewer, _)) = viewer
                    && !self.state.sockets.join(viewer.user_id)
                {
                    return Err((1008, "Too many connections for this user"));
                }
                self.acknowledged = Some(viewer);
                send(outgoing, json!({ "type": "connection_ack" })).await
            }
            ClientMessage::Ping { payload } => {
                let mut pong = json!({ "type": "pong" });
                if let Some(payload) = payload {
                    pong["payload"] = payload;
                }
                send(outgoing, pong).await
            }
            ClientMessage::Pong { .. } => Ok(()),
            ClientMessage::Subscribe { id, payload } => {
                let Some(viewer) = self.acknowledged else {
                    return Err((4401, "Unauthorized"));
                };
                self.operations.retain(|_, operation| !operation.is_finished());
                if self.operations.contains_key(&id) {
                    return Err((4409, "Subscriber for this id already exists"));
                }
                let most = self.state.sockets.limits.operations;
                if self.operations.len() >= most {
                    let error = async_graphql::Error::from(AppError::bad_input(
                        "subscribe",
                        format!("a connection may run at most {most} operations at once"),
                    ));
                    let errors = serde_json::to_value(vec![error.into_server_error(async_graphql::Pos::default())])
                        .unwrap_or_default();
                    return send(outgoing, json!({ "type": "error", "id": id, "payload": errors })).await;
                }
                let operation = self.run(id.clone(), payload, viewer.map(|(viewer, _)| viewer), outgoing.clone());
                self.operations.insert(id, operation);
                Ok(())
            }
            ClientMessage::Complete { id } => {
                if let Some(operation) = self.operations.remove(&id) {
                    operation.abort();
                }
                Ok(())
            }
        }
    }

    /// The viewer a `connection_init` payload names: none without a token; a bad one is refused.
    async fn authenticate(&self, payload: Option<&Value>) -> Result<Option<(Viewer, Credential)>, AppError> {
        let Some(value) = payload.and_then(authorization) else {
            return Ok(None);
        };
        bearer_viewer(Some(value), &self.state).await.map(Some)
    }

    /// Runs one operation, sending its results as `next` (or `error` when it never
    /// ran) and then `complete`.
    fn run(
        &self,
        id: String,
        payload: SubscribePayload,
        viewer: Option<Viewer>,
        outgoing: mpsc::Sender<Outgoing>,
    ) -> JoinHandle<()> {
        let mut request = async_graphql::Request::new(payload.query);
        if let Some(variables) = payload.variables {
            request = request.variables(Variables::from_json(variables));
        }
        if let Some(name) = payload.operation_name {
            request = request.operation_name(name);
        }
        if let Some(Value::Object(extensions)) = payload.extensions {
            for (name, value) in extensions {
                if let Ok(value) = async_graphql::Value::from_json(value) {
                    request.extensions.insert(name, value);
                }
            }
        }
        request.data = self
            .state
            .services
            .request_data(viewer, self.address, self.agent.clone());
        // Persisted and trusted documents hold over the socket as over HTTP.
        let mut results = match self.state.persisted.resolve(&mut request) {
            Ok(()) => self.state.schema.execute_stream(request),
            Err(error) => {
                let mut error = async_graphql::Error::from(error).into_server_error(async_graphql::Pos::default());
                error.locations.clear();
                futures_util::stream::once(async move { async_graphql::Response::from_errors(vec![error]) }).boxed()
            }
        };
        let metrics = self.state.metrics.clone();
        let too_slow = self.too_slow.clone();
        tokio::spawn(async move {
            metrics.subscriptions.inc();
            // Counted down however the task ends (finished, completed by the client, aborted).
            let _running = Running(metrics.clone());
            while let Some(mut response) = results.next().await {
                response.errors.iter_mut().for_each(label);
                let never_ran = response.data == async_graphql::Value::Null
                    && !response.errors.is_empty()
                    && response.errors.iter().all(|error| error.path.is_empty());
                let message = if never_ran {
                    json!({ "type": "error", "id": id, "payload": response.errors })
                } else {
                    json!({ "type": "next", "id": id, "payload": response })
                };
                // A burst (a replay) waits for the client; a client that takes nothing for
                // a while is closed rather than buffered for (it resumes with `after`).
                match tokio::time::timeout(SLOW_CLIENT_GRACE, outgoing.send(Outgoing::Json(message))).await {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => return, // the connection is closing
                    Err(_) => {
                        metrics.subscribers_dropped.inc();
                        too_slow.notify_one();
                        return;
                    }
                }
                metrics.events_delivered.inc();
                if never_ran {
                    return;
                }
            }
            let _ = outgoing
                .send(Outgoing::Json(json!({ "type": "complete", "id": id })))
                .await;
        })
    }
}

/// Counts a running operation down when dropped.
struct Running(Arc<Metrics>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.subscriptions.dec();
    }
}

async fn send(outgoing: &mpsc::Sender<Outgoing>, message: Value) -> Result<(), (u16, &'static str)> {
    outgoing
        .send(Outgoing::Json(message))
        .await
        .map_err(|_| (1011, "The connection is closing"))
}

/// `authorization` (any case) at the top of the payload, or inside `headers`.
fn authorization(payload: &Value) -> Option<&str> {
    find_authorization(payload).or_else(|| find_authorization(payload.get("headers")?))
}

fn find_authorization(object: &Value) -> Option<&str> {
    let (_, value) = object
        .as_object()?
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case("authorization"))?;
    value.as_str()
}
