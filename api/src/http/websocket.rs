//! The WebSocket side of `/graphql` (`graphql-transport-ws`, and legacy `graphql-ws`). The
//! `connection_init` payload carries `{"authorization": "Bearer …"}`, checked like the HTTP header.

use async_graphql::{Data, http::ALL_WEBSOCKET_PROTOCOLS};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::{
    extract::{FromRequestParts, ws::WebSocketUpgrade},
    http::{HeaderMap, header, request::Parts},
    response::{IntoResponse, Response},
};

use super::HttpState;
use crate::{auth::viewer, error::AppError, graphql};

/// Largest WebSocket message accepted (the library default is 64 MiB).
const MAX_MESSAGE_BYTES: usize = 64 * 1024;

pub fn is_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.eq_ignore_ascii_case("websocket"))
}

pub async fn upgrade(http: HttpState, parts: &mut Parts) -> Response {
    let protocol = match GraphQLProtocol::from_request_parts(parts, &()).await {
        Ok(protocol) => protocol,
        Err(rejection) => return rejection.into_response(),
    };
    let upgrade = match WebSocketUpgrade::from_request_parts(parts, &()).await {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    upgrade
        .max_message_size(MAX_MESSAGE_BYTES)
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            let state = http.state.clone();
            GraphQLWebSocket::new(socket, http.schema.clone(), protocol)
                .on_connection_init(move |payload| async move {
                    let authorization = payload
                        .get("authorization")
                        .or_else(|| payload.get("Authorization"))
                        .and_then(|value| value.as_str());
                    let viewer =
                        viewer::authenticate(&state.store.db, &state.token_keys, authorization)
                            .await?
                            .ok_or(AppError::Unauthenticated)?;
                    let mut data = Data::default();
                    data.insert(graphql::context::RequestViewer::new(Some(viewer.into())));
                    Ok(data)
                })
                .serve()
        })
}
