//! `GET /graphql/ws`: subscriptions over graphql-transport-ws (and the older
//! graphql-ws). The access token comes in `connection_init`'s payload as
//! `{"authorization": "Bearer …"}`; a bad token refuses the connection.

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, State, WebSocketUpgrade},
    http::HeaderMap,
    response::Response,
};
use serde_json::Value;

use super::{
    HttpState,
    client::client_address,
    graphql::{bearer_viewer, user_agent},
};

pub async fn ws(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let address = client_address(peer, &headers, &state.trusted_proxies);
    let agent = user_agent(&headers);
    upgrade.protocols(ALL_WEBSOCKET_PROTOCOLS).on_upgrade(move |socket| {
        let schema = state.schema.clone();
        GraphQLWebSocket::new(socket, schema, protocol)
            .on_connection_init(move |payload| async move {
                let viewer = match authorization(&payload) {
                    Some(value) => Some(
                        bearer_viewer(Some(value), &state)
                            .await
                            .map_err(async_graphql::Error::from)?,
                    ),
                    None => None,
                };
                Ok(state.services.request_data(viewer, address, agent))
            })
            .serve()
    })
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
