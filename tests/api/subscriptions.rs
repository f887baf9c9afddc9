//! `callLogged` over graphql-transport-ws, authenticated in `connection_init`.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

use crate::helpers::{TestApp, TestUser};

type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

const NUMBER: &str = "+12015550123";

async fn open(app: &TestApp, init: Value) -> Socket {
    let url = format!("{}/graphql/ws", app.address.replace("http://", "ws://"));
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut socket, _) = connect_async(request).await.expect("opening the websocket");
    socket
        .send(Message::text(
            json!({ "type": "connection_init", "payload": init }).to_string(),
        ))
        .await
        .unwrap();
    socket
}

/// The next JSON message, or `None` if the socket closed or stayed quiet for `wait`.
async fn next(socket: &mut Socket, wait: Duration) -> Option<Value> {
    loop {
        match tokio::time::timeout(wait, socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => return serde_json::from_str(&text).ok(),
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            _ => return None,
        }
    }
}

async fn subscribe(socket: &mut Socket, variables: Value) {
    let query =
        "subscription($id: ID) { callLogged(virtualNumberId: $id) { id callerNumber virtualNumber { phoneNumber } } }";
    let message = json!({ "id": "1", "type": "subscribe", "payload": { "query": query, "variables": variables } });
    socket.send(Message::text(message.to_string())).await.unwrap();
}

/// Records probe calls until the subscription on `socket` hears one (a subscription
/// goes live a moment after `subscribe` is sent; the protocol does not say when).
async fn until_live(user: &TestUser<'_>, number: &str, own: &str, socket: &mut Socket) {
    for _ in 0..20 {
        user.records_call(inbound(number, own)).await;
        if let Some(event) = next(socket, Duration::from_millis(250)).await {
            assert_eq!(event["type"], "next", "{event}");
            // Drain probes that were already on their way.
            while next(socket, Duration::from_millis(100)).await.is_some() {}
            return;
        }
    }
    panic!("the subscription never went live");
}

fn inbound(number: &str, called: &str) -> Value {
    json!({ "virtualNumberId": number, "direction": "INBOUND", "callerNumber": "+14155550100",
            "calledNumber": called, "durationSeconds": 5 })
}

#[tokio::test]
async fn subscribers_hear_their_own_new_calls_and_only_theirs() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let bob = app.signed_up("bob").await;
    let alices_number = alice.creates_number(NUMBER).await;
    let bobs_number = bob.creates_number("+12015550124").await;
    let mut alices_socket = open(
        &app,
        json!({ "authorization": format!("Bearer {}", alice.access_token) }),
    )
    .await;
    let mut bobs_socket = open(&app, json!({ "Authorization": format!("Bearer {}", bob.access_token) })).await;
    assert_eq!(
        next(&mut alices_socket, Duration::from_secs(5)).await.unwrap()["type"],
        "connection_ack"
    );
    assert_eq!(
        next(&mut bobs_socket, Duration::from_secs(5)).await.unwrap()["type"],
        "connection_ack"
    );
    subscribe(&mut alices_socket, json!({ "id": alices_number })).await;
    subscribe(&mut bobs_socket, json!({})).await;
    until_live(&alice, &alices_number, NUMBER, &mut alices_socket).await;
    until_live(&bob, &bobs_number, "+12015550124", &mut bobs_socket).await;

    let alices_call = alice.records_call(inbound(&alices_number, NUMBER)).await;
    let bobs_call = bob.records_call(inbound(&bobs_number, "+12015550124")).await;
    let heard_by_alice = next(&mut alices_socket, Duration::from_secs(5))
        .await
        .expect("alice hears her call");
    let heard_by_bob = next(&mut bobs_socket, Duration::from_secs(5))
        .await
        .expect("bob hears his call");

    assert_eq!(heard_by_alice["type"], "next");
    assert_eq!(heard_by_alice["payload"]["data"]["callLogged"]["id"], alices_call["id"]);
    assert_eq!(
        heard_by_alice["payload"]["data"]["callLogged"]["virtualNumber"]["phoneNumber"],
        NUMBER
    );
    assert_eq!(
        heard_by_bob["payload"]["data"]["callLogged"]["id"], bobs_call["id"],
        "bob hears nothing of alice's call"
    );
    assert!(
        next(&mut alices_socket, Duration::from_millis(300)).await.is_none(),
        "alice hears nothing of bob's"
    );
}

#[tokio::test]
async fn a_bad_token_is_refused_and_anonymous_subscribers_are_unauthenticated() {
    let app = TestApp::spawn().await;

    let mut forged = open(&app, json!({ "authorization": "Bearer not-a-token" })).await;
    let mut anonymous = open(&app, json!({})).await;
    let refused = next(&mut forged, Duration::from_secs(5)).await;
    assert_eq!(
        next(&mut anonymous, Duration::from_secs(5)).await.unwrap()["type"],
        "connection_ack"
    );
    subscribe(&mut anonymous, json!({})).await;
    let error = next(&mut anonymous, Duration::from_secs(5)).await.unwrap();

    assert!(refused.is_none(), "the connection closes without an ack: {refused:?}");
    // A resolver error arrives as the stream's only result, then the stream completes.
    assert_eq!(error["type"], "next");
    assert_eq!(error["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
}

#[tokio::test]
async fn someone_elses_number_cannot_be_watched() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let bob = app.signed_up("bob").await;
    let alices_number = alice.creates_number(NUMBER).await;
    let mut socket = open(&app, json!({ "authorization": format!("Bearer {}", bob.access_token) })).await;
    next(&mut socket, Duration::from_secs(5)).await;

    subscribe(&mut socket, json!({ "id": alices_number })).await;
    let error = next(&mut socket, Duration::from_secs(5)).await.unwrap();

    assert_eq!(error["type"], "next");
    assert_eq!(error["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND");
}

#[tokio::test]
async fn a_subscription_with_more_than_one_root_field_is_refused_before_it_starts() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let number = alice.creates_number(NUMBER).await;
    let mut socket = open(
        &app,
        json!({ "authorization": format!("Bearer {}", alice.access_token) }),
    )
    .await;
    assert_eq!(
        next(&mut socket, Duration::from_secs(5)).await.unwrap()["type"],
        "connection_ack"
    );

    // Fifty aliases were fifty streams; GraphQL allows one root field a subscription.
    let aliases: String = (0..50).map(|index| format!("a{index}: callLogged {{ id }} ")).collect();
    for (id, query) in [
        ("aliases", format!("subscription {{ {aliases} }}")),
        (
            "fragment",
            "subscription Feed { callLogged { id } ...Twice } fragment Twice on Subscription { again: callLogged { id } }"
                .to_owned(),
        ),
    ] {
        let message = json!({ "id": id, "type": "subscribe", "payload": { "query": query } });
        socket.send(Message::text(message.to_string())).await.unwrap();
        let refused = next(&mut socket, Duration::from_secs(5)).await.unwrap();
        assert_eq!(refused["type"], "error", "{refused}");
        assert_eq!(refused["id"], id);
        assert_eq!(refused["payload"][0]["extensions"]["code"], "BAD_USER_INPUT", "{refused}");
        assert!(
            refused["payload"][0]["message"]
                .as_str()
                .unwrap()
                .contains("exactly one root field"),
            "{refused}"
        );
    }

    // The socket still serves a subscription of one field.
    subscribe(&mut socket, json!({ "id": number })).await;
    until_live(&alice, &number, NUMBER, &mut socket).await;
}
