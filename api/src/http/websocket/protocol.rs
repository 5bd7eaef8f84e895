//! The two WebSocket subprotocols GraphQL clients speak, as messages in and out:
//! `graphql-transport-ws` (the graphql-ws library, what clients use today) and the legacy
//! `graphql-ws` of subscriptions-transport-ws. Both carry the same operations; they differ in
//! message names and in how a connection is refused.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::http::pipeline::Incoming;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    TransportWs,
    Legacy,
}

/// What a client may send, in either protocol.
#[derive(Debug)]
pub enum ClientMessage {
    ConnectionInit(Option<Value>),
    /// `subscribe`, or `start` in the legacy protocol: any operation, not only subscriptions.
    Subscribe {
        id: String,
        operation: Incoming,
    },
    /// `complete`, or `stop` in the legacy protocol: the client is done with `id`.
    Complete {
        id: String,
    },
    Ping(Option<Value>),
    Pong,
    /// The legacy `connection_terminate`.
    Terminate,
}

/// The raw shape of a client message, before its type is known.
#[derive(Deserialize)]
struct Raw {
    #[serde(rename = "type")]
    kind: String,
    id: Option<String>,
    payload: Option<Value>,
}

/// The operation inside `subscribe`/`start`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawOperation {
    query: Option<String>,
    operation_name: Option<String>,
    variables: Option<Value>,
    extensions: Option<Value>,
}

impl Protocol {
    /// The subprotocol of this name.
    pub fn named(name: &str) -> Option<Self> {
        match name {
            "graphql-transport-ws" => Some(Self::TransportWs),
            "graphql-ws" => Some(Self::Legacy),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::TransportWs => "graphql-transport-ws",
            Self::Legacy => "graphql-ws",
        }
    }

    /// A client message, or why it is not one (the reason closes the connection with 4400).
    pub fn parse(self, text: &str) -> Result<ClientMessage, String> {
        let raw: Raw = serde_json::from_str(text)
            .map_err(|_| "messages must be JSON objects with a string `type`".to_owned())?;
        let id = |raw: Raw| match raw.id {
            Some(id) if !id.is_empty() => Ok(id),
            _ => Err(format!("a `{}` message needs an `id`", raw.kind)),
        };
        match (self, raw.kind.as_str()) {
            (_, "connection_init") => Ok(ClientMessage::ConnectionInit(raw.payload)),
            (Self::TransportWs, "subscribe") | (Self::Legacy, "start") => {
                let payload = raw.payload.clone().unwrap_or(Value::Null);
                let operation = RawOperation::deserialize(payload)
                    .map_err(|_| format!("the `{}` payload must be a GraphQL request", raw.kind))?;
                Ok(ClientMessage::Subscribe {
                    id: id(raw)?,
                    operation: Incoming {
                        query: operation.query,
                        operation_name: operation.operation_name,
                        variables: operation.variables,
                        extensions: operation.extensions,
                    },
                })
            }
            (Self::TransportWs, "complete") | (Self::Legacy, "stop") => {
                Ok(ClientMessage::Complete { id: id(raw)? })
            }
            (Self::TransportWs, "ping") => Ok(ClientMessage::Ping(raw.payload)),
            (Self::TransportWs, "pong") => Ok(ClientMessage::Pong),
            (Self::Legacy, "connection_terminate") => Ok(ClientMessage::Terminate),
            (_, other) => Err(format!("unknown message type `{other}`")),
        }
    }

    pub fn ack(self) -> String {
        json!({ "type": "connection_ack" }).to_string()
    }

    /// The legacy protocol's refusal of `connection_init`, sent before the close.
    pub fn connection_error(self, message: &str) -> Option<String> {
        match self {
            Self::TransportWs => None,
            Self::Legacy => Some(
                json!({ "type": "connection_error", "payload": { "message": message } })
                    .to_string(),
            ),
        }
    }

    /// The legacy protocol's keep-alive (its clients do not all see WebSocket pings).
    pub fn keep_alive(self) -> Option<String> {
        match self {
            Self::TransportWs => None,
            Self::Legacy => Some(json!({ "type": "ka" }).to_string()),
        }
    }

    pub fn pong(self, payload: Option<Value>) -> String {
        match payload {
            Some(payload) => json!({ "type": "pong", "payload": payload }),
            None => json!({ "type": "pong" }),
        }
        .to_string()
    }

    /// One result of operation `id`; `payload` is the serialised GraphQL response.
    pub fn next(self, id: &str, payload: &str) -> String {
        let kind = match self {
            Self::TransportWs => "next",
            Self::Legacy => "data",
        };
        // The payload is spliced in as it was serialised, keeping its fields in query order.
        format!(
            r#"{{"type":"{kind}","id":{},"payload":{payload}}}"#,
            Value::from(id)
        )
    }

    /// Operation `id` was refused before it ran; `errors` is a JSON array of GraphQL errors.
    pub fn error(self, id: &str, errors: &str) -> String {
        format!(
            r#"{{"type":"error","id":{},"payload":{errors}}}"#,
            Value::from(id)
        )
    }

    pub fn complete(self, id: &str) -> String {
        json!({ "type": "complete", "id": id }).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_protocols_names_for_the_same_messages() {
        let subscribe = r#"{"type":"subscribe","id":"1","payload":{"query":"{ viewer { id } }"}}"#;
        let Ok(ClientMessage::Subscribe { id, operation }) = Protocol::TransportWs.parse(subscribe)
        else {
            panic!("a subscribe message");
        };
        assert_eq!(id, "1");
        assert_eq!(operation.query.as_deref(), Some("{ viewer { id } }"));
        let start = subscribe.replace("subscribe", "start");
        assert!(matches!(
            Protocol::Legacy.parse(&start),
            Ok(ClientMessage::Subscribe { .. })
        ));
        assert!(Protocol::TransportWs.parse(&start).is_err());
        assert!(matches!(
            Protocol::Legacy.parse(r#"{"type":"stop","id":"1"}"#),
            Ok(ClientMessage::Complete { .. })
        ));
    }

    #[test]
    fn refuses_what_is_not_a_message() {
        for bad in [
            "not json",
            "[]",
            r#"{"id":"1"}"#,
            r#"{"type":"subscribe","payload":{"query":"{ a }"}}"#,
            r#"{"type":"subscribe","id":"","payload":{}}"#,
            r#"{"type":"subscribe","id":"1","payload":"{ a }"}"#,
            r#"{"type":"launch","id":"1"}"#,
        ] {
            assert!(Protocol::TransportWs.parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn results_keep_their_payload_as_serialised() {
        assert_eq!(
            Protocol::TransportWs.next("a\"b", r#"{"data":{"z":1,"a":2}}"#),
            r#"{"type":"next","id":"a\"b","payload":{"data":{"z":1,"a":2}}}"#
        );
        assert_eq!(
            Protocol::Legacy.next("1", "{}"),
            r#"{"type":"data","id":"1","payload":{}}"#
        );
    }
}
