//! A graphql-transport-ws client for tests: connect, acknowledge, subscribe, read.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

use super::TestApp;

pub struct WsClient {
    socket: WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>,
}

/// What arrived: a JSON message, the server's close code, or nothing in time.
#[derive(Debug, PartialEq)]
pub enum Arrival {
    Message(Value),
    Closed(u16),
    Quiet,
}

impl WsClient {
    /// Opens a socket speaking graphql-transport-ws; nothing is sent yet.
    pub async fn connect(app: &TestApp) -> WsClient {
        let url = format!("{}/graphql/ws", app.address.replace("http://", "ws://"));
        let mut request = url.into_client_request().unwrap();
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let (socket, _) = connect_async(request).await.expect("opening the websocket");
        WsClient { socket }
    }

    /// Connects and is acknowledged with `token` (none: anonymous).
    pub async fn acknowledged(app: &TestApp, token: Option<&str>) -> WsClient {
        let mut client = Self::connect(app).await;
        let payload = token.map_or(json!({}), |token| json!({ "authorization": format!("Bearer {token}") }));
        client
            .send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        match client.arrival(Duration::from_secs(10)).await {
            Arrival::Message(message) if message["type"] == "connection_ack" => client,
            other => panic!("expected connection_ack, got {other:?}"),
        }
    }

    pub async fn send(&mut self, message: Value) {
        self.socket.send(Message::text(message.to_string())).await.unwrap();
    }

    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } }))
            .await;
    }

    /// The next message, close, or `Quiet` after `wait`.
    pub async fn arrival(&mut self, wait: Duration) -> Arrival {
        loop {
            match tokio::time::timeout(wait, self.socket.next()).await {
                Ok(Some(Ok(Message::Text(text)))) => return Arrival::Message(serde_json::from_str(&text).unwrap()),
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return Arrival::Closed(frame.map_or(1005, |frame| frame.code.into()));
                }
                Ok(Some(Ok(_))) => continue,
                Ok(None | Some(Err(_))) => return Arrival::Closed(1006),
                Err(_) => return Arrival::Quiet,
            }
        }
    }

    /// The payloads of the next `count` `next` messages, in order; panics on
    /// anything else or if they do not all arrive within `wait` each.
    pub async fn events(&mut self, count: usize, wait: Duration) -> Vec<Value> {
        let mut events = Vec::with_capacity(count);
        while events.len() < count {
            match self.arrival(wait).await {
                Arrival::Message(message) if message["type"] == "next" => events.push(message["payload"].clone()),
                other => panic!("expected event {} of {count}, got {other:?}", events.len() + 1),
            }
        }
        events
    }

    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}
