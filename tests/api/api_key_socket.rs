//! API keys over graphql-transport-ws: a key in `connection_init` subscribes
//! within its scopes, and a revoked key's open subscription is closed.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

use crate::helpers::TestApp;

type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

const NUMBER: &str = "+12015550123";

async fn open_with_key(app: &TestApp, key: &str) -> Socket {
    let url = format!("{}/graphql/ws", app.address.replace("http://", "ws://"));
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut socket, _) = connect_async(request).await.expect("opening the websocket");
    let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {key}") } });
    socket.send(Message::text(init.to_string())).await.unwrap();
    let subscribe = json!({ "id": "1", "type": "subscribe",
        "payload": { "query": "subscription { callLogged { id callerNumber } }" } });
    socket.send(Message::text(subscribe.to_string())).await.unwrap();
    socket
}

/// The next message: JSON text, or the close code; `None` after `wait` of quiet.
async fn next(socket: &mut Socket, wait: Duration) -> Option<Result<Value, u16>> {
    loop {
        match tokio::time::timeout(wait, socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => return Some(Ok(serde_json::from_str(&text).unwrap())),
            Ok(Some(Ok(Message::Close(frame)))) => return Some(Err(frame.map_or(0, |frame| frame.code.into()))),
            Ok(Some(Ok(_))) => continue,
            _ => return None,
        }
    }
}

#[tokio::test]
async fn a_read_calls_key_subscribes_a_key_without_it_is_refused_and_revoking_closes_it() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number(NUMBER).await;
    let reader = alice.creates_api_key(&["READ_CALLS"]).await;
    let recorder = alice.creates_api_key(&["RECORD_CALLS"]).await;
    let mut listening = open_with_key(&app, &reader).await;
    let mut refused = open_with_key(&app, &recorder).await;

    assert_eq!(
        next(&mut listening, Duration::from_secs(5)).await.unwrap().unwrap()["type"],
        "connection_ack"
    );
    assert_eq!(
        next(&mut refused, Duration::from_secs(5)).await.unwrap().unwrap()["type"],
        "connection_ack"
    );
    let error = next(&mut refused, Duration::from_secs(5)).await.unwrap().unwrap();
    let mut heard = None;
    for _ in 0..20 {
        alice
            .records_call(json!({ "virtualNumberId": number, "direction": "INBOUND",
                "callerNumber": "+14155550100", "calledNumber": NUMBER, "durationSeconds": 5 }))
            .await;
        if let Some(Ok(event)) = next(&mut listening, Duration::from_millis(250)).await {
            heard = Some(event);
            break;
        }
    }
    let keys = alice.gql("{ apiKeys { nodes { id tokenPrefix } } }", json!({})).await;
    let id = keys.data("apiKeys")["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| reader.starts_with(key["tokenPrefix"].as_str().unwrap()))
        .unwrap()["id"]
        .clone();
    alice
        .gql(
            "mutation($id: ID!) { revokeApiKey(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    let mut closed = None;
    while let Some(message) = next(&mut listening, Duration::from_secs(12)).await {
        if let Err(code) = message {
            closed = Some(code);
            break;
        }
    }

    assert_eq!(error["type"], "error", "{error}");
    assert_eq!(error["payload"][0]["extensions"]["code"], "FORBIDDEN");
    assert!(error["payload"][0]["message"].as_str().unwrap().contains("READ_CALLS"));
    let heard = heard.expect("the READ_CALLS key hears new calls");
    assert_eq!(heard["payload"]["data"]["callLogged"]["callerNumber"], "+14155550100");
    assert_eq!(closed, Some(4403), "a revoked key's subscription closes within seconds");
}
