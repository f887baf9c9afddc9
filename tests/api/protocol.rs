//! graphql-transport-ws to the letter: every close code the protocol defines,
//! ping and pong, `complete` from the client, and a subscription that ends with
//! 4403 when its authority does.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

use crate::helpers::TestApp;

type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

const WATCH: &str = "subscription { callLogged { id } }";

async fn connect(app: &TestApp) -> Socket {
    let url = format!("{}/graphql/ws", app.address.replace("http://", "ws://"));
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    connect_async(request).await.expect("opening the websocket").0
}

async fn send(socket: &mut Socket, message: Value) {
    socket.send(Message::text(message.to_string())).await.unwrap();
}

/// The next message: `Ok(json)`, or `Err(close code)` when the server closed.
async fn receive(socket: &mut Socket) -> Result<Value, u16> {
    loop {
        // Authority is re-read within 10 s by design (5 s cache, 5 s checks); the
        // margin is for a loaded CI machine.
        match tokio::time::timeout(Duration::from_secs(15), socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => return Ok(serde_json::from_str(&text).unwrap()),
            Ok(Some(Ok(Message::Close(frame)))) => return Err(frame.map_or(1005, |frame| frame.code.into())),
            Ok(Some(Ok(_))) => continue,
            Ok(None | Some(Err(_))) => return Err(1006),
            Err(_) => panic!("nothing arrived within 15 s"),
        }
    }
}

async fn acknowledged(app: &TestApp, token: Option<&str>) -> Socket {
    let mut socket = connect(app).await;
    let payload = token.map_or(json!({}), |token| json!({ "authorization": format!("Bearer {token}") }));
    send(&mut socket, json!({ "type": "connection_init", "payload": payload })).await;
    assert_eq!(receive(&mut socket).await.unwrap()["type"], "connection_ack");
    socket
}

#[tokio::test]
async fn each_protocol_violation_closes_with_its_code() {
    let app = TestApp::spawn().await;

    let mut silent = connect(&app).await;
    let mut early = connect(&app).await;
    send(
        &mut early,
        json!({ "type": "subscribe", "id": "1", "payload": { "query": WATCH } }),
    )
    .await;
    let mut forged = connect(&app).await;
    send(
        &mut forged,
        json!({ "type": "connection_init", "payload": { "authorization": "Bearer forged" } }),
    )
    .await;
    let mut twice = acknowledged(&app, None).await;
    send(&mut twice, json!({ "type": "connection_init" })).await;
    let mut garbage = acknowledged(&app, None).await;
    send(&mut garbage, json!({ "type": "dance" })).await;
    let mut duplicate = acknowledged(&app, None).await;
    let alice = app.signed_up("alice").await;
    let mut watching = acknowledged(&app, Some(&alice.access_token)).await;
    send(
        &mut watching,
        json!({ "type": "subscribe", "id": "a", "payload": { "query": WATCH } }),
    )
    .await;
    send(
        &mut watching,
        json!({ "type": "subscribe", "id": "a", "payload": { "query": WATCH } }),
    )
    .await;
    send(
        &mut duplicate,
        json!({ "type": "subscribe", "id": "1", "payload": { "query": "{ __typename }" } }),
    )
    .await;

    assert_eq!(receive(&mut silent).await, Err(4408));
    assert_eq!(receive(&mut early).await, Err(4401));
    assert_eq!(receive(&mut forged).await, Err(4403));
    assert_eq!(receive(&mut twice).await, Err(4429));
    assert_eq!(receive(&mut garbage).await, Err(4400));
    assert_eq!(receive(&mut watching).await, Err(4409));
    // A query over the socket answers once and completes, freeing its id.
    assert_eq!(
        receive(&mut duplicate).await.unwrap()["payload"]["data"]["__typename"],
        "Query"
    );
    assert_eq!(
        receive(&mut duplicate).await.unwrap(),
        json!({ "type": "complete", "id": "1" })
    );
}

#[tokio::test]
async fn pings_are_answered_and_a_client_may_complete_its_subscription() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let mut socket = acknowledged(&app, Some(&alice.access_token)).await;

    send(&mut socket, json!({ "type": "ping", "payload": { "at": 1 } })).await;
    let pong = receive(&mut socket).await.unwrap();
    send(
        &mut socket,
        json!({ "type": "subscribe", "id": "w", "payload": { "query": WATCH } }),
    )
    .await;
    send(&mut socket, json!({ "type": "complete", "id": "w" })).await;
    // The id is free again once completed.
    send(
        &mut socket,
        json!({ "type": "subscribe", "id": "w", "payload": { "query": "{ __typename }" } }),
    )
    .await;
    let answer = receive(&mut socket).await.unwrap();

    assert_eq!(pong, json!({ "type": "pong", "payload": { "at": 1 } }));
    assert_eq!(answer["type"], "next", "{answer}");
    assert_eq!(answer["id"], "w");
}

#[tokio::test]
async fn a_document_that_never_runs_gets_an_error_message_not_a_close() {
    let app = TestApp::spawn().await;
    let mut socket = acknowledged(&app, None).await;

    send(
        &mut socket,
        json!({ "type": "subscribe", "id": "x", "payload": { "query": "subscription { nothing }" } }),
    )
    .await;
    let error = receive(&mut socket).await.unwrap();
    send(&mut socket, json!({ "type": "ping" })).await;

    assert_eq!(error["type"], "error");
    assert_eq!(error["id"], "x");
    assert_eq!(error["payload"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(receive(&mut socket).await.unwrap()["type"], "pong");
}

#[tokio::test]
async fn a_subscription_ends_with_4403_when_its_token_expires() {
    let app = TestApp::spawn_with(|config| config.access_token_ttl = Duration::from_secs(2)).await;
    let alice = app.signed_up("alice").await;
    let mut socket = acknowledged(&app, Some(&alice.access_token)).await;
    send(
        &mut socket,
        json!({ "type": "subscribe", "id": "w", "payload": { "query": WATCH } }),
    )
    .await;

    let completed = receive(&mut socket).await;
    let closed = receive(&mut socket).await;

    assert_eq!(completed, Ok(json!({ "type": "complete", "id": "w" })));
    assert_eq!(closed, Err(4403));
}

#[tokio::test]
async fn a_subscription_ends_with_4403_when_its_session_ends() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let mut socket = acknowledged(&app, Some(&alice.access_token)).await;
    send(
        &mut socket,
        json!({ "type": "subscribe", "id": "w", "payload": { "query": WATCH } }),
    )
    .await;

    app.gql(
        "mutation($t: String!) { logout(refreshToken: $t) }",
        json!({ "t": alice.refresh_token }),
    )
    .await;
    let completed = receive(&mut socket).await;
    let closed = receive(&mut socket).await;

    assert_eq!(completed, Ok(json!({ "type": "complete", "id": "w" })));
    assert_eq!(closed, Err(4403));
}

#[tokio::test]
async fn connections_per_user_and_operations_per_connection_are_bounded() {
    let app = TestApp::spawn_with(|config| {
        config.ws_max_connections_per_user = 1;
        config.ws_max_operations = 1;
        config.ws_init_timeout = Duration::from_millis(500);
    })
    .await;
    let alice = app.signed_up("alice").await;
    let init =
        json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {}", alice.access_token) } });

    let mut first = acknowledged(&app, Some(&alice.access_token)).await;
    let mut second = connect(&app).await;
    send(&mut second, init).await;
    let second_closed = receive(&mut second).await;
    send(
        &mut first,
        json!({ "type": "subscribe", "id": "a", "payload": { "query": WATCH } }),
    )
    .await;
    send(
        &mut first,
        json!({ "type": "subscribe", "id": "b", "payload": { "query": WATCH } }),
    )
    .await;
    let over = receive(&mut first).await.unwrap();
    let mut slow_to_init = connect(&app).await;
    let metrics = app.metrics().await;

    assert_eq!(second_closed, Err(1008));
    assert_eq!(over["type"], "error", "{over}");
    assert_eq!(over["id"], "b");
    assert_eq!(receive(&mut slow_to_init).await, Err(4408));
    assert!(metrics.contains("switchboard_websocket_connections"), "{metrics}");
    assert!(metrics.contains("switchboard_websocket_operations 1"), "{metrics}");
}

#[tokio::test]
async fn an_instance_full_of_connections_refuses_more_with_503() {
    let app = TestApp::spawn_with(|config| config.ws_max_connections = 2).await;
    let _first = acknowledged(&app, None).await;
    let _second = acknowledged(&app, None).await;
    let url = format!("{}/graphql/ws", app.address.replace("http://", "ws://"));
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );

    let refused = connect_async(request).await;

    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 503),
        other => panic!("expected a 503, got {other:?}"),
    }
}
