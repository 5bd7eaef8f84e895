//! Relay global ids: opaque strings that carry the object's type, so an id of one type given
//! where another is expected is `NOT_FOUND`, never a different object.

use async_graphql::ID;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use uuid::Uuid;

use crate::error::AppError;

/// The object kinds that have global ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    User,
    Organization,
    OneOnOne,
    Meeting,
    AgendaItem,
    Note,
    ActionItem,
    CheckIn,
    Question,
    ApiToken,
    AccessEntry,
    Webhook,
}

impl NodeKind {
    const ALL: [NodeKind; 12] = [
        NodeKind::User,
        NodeKind::Organization,
        NodeKind::OneOnOne,
        NodeKind::Meeting,
        NodeKind::AgendaItem,
        NodeKind::Note,
        NodeKind::ActionItem,
        NodeKind::CheckIn,
        NodeKind::Question,
        NodeKind::ApiToken,
        NodeKind::AccessEntry,
        NodeKind::Webhook,
    ];

    fn tag(self) -> &'static str {
        match self {
            NodeKind::User => "User",
            NodeKind::Organization => "Organization",
            NodeKind::OneOnOne => "OneOnOne",
            NodeKind::Meeting => "Meeting",
            NodeKind::AgendaItem => "AgendaItem",
            NodeKind::Note => "Note",
            NodeKind::ActionItem => "ActionItem",
            NodeKind::CheckIn => "CheckIn",
            NodeKind::Question => "Question",
            NodeKind::ApiToken => "ApiToken",
            NodeKind::AccessEntry => "AccessEntry",
            NodeKind::Webhook => "Webhook",
        }
    }
}

pub fn encode(kind: NodeKind, id: Uuid) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{}", kind.tag(), id.simple())))
}

/// Reads any global id; `None` for anything malformed.
pub fn decode(id: &str) -> Option<(NodeKind, Uuid)> {
    let raw = URL_SAFE_NO_PAD.decode(id).ok()?;
    let text = std::str::from_utf8(&raw).ok()?;
    let (tag, uuid) = text.split_once(':')?;
    let kind = NodeKind::ALL.into_iter().find(|kind| kind.tag() == tag)?;
    Some((kind, Uuid::try_parse(uuid).ok()?))
}

/// Reads a global id that must be of `kind`; anything else is `NOT_FOUND`.
pub fn decode_as(kind: NodeKind, id: &ID) -> Result<Uuid, AppError> {
    match decode(id) {
        Some((found, uuid)) if found == kind => Ok(uuid),
        _ => Err(AppError::NotFound),
    }
}

/// Reads an optional global id that must be of `kind` when given.
pub fn decode_optional(kind: NodeKind, id: Option<&ID>) -> Result<Option<Uuid>, AppError> {
    id.map(|id| decode_as(kind, id)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_keeps_the_kind() {
        let uuid = Uuid::now_v7();
        let id = encode(NodeKind::User, uuid);
        assert_eq!(decode(&id), Some((NodeKind::User, uuid)));
        assert_eq!(decode_as(NodeKind::User, &id).ok(), Some(uuid));
        assert!(matches!(
            decode_as(NodeKind::Organization, &id),
            Err(AppError::NotFound)
        ));
    }

    #[test]
    fn garbage_is_not_an_id() {
        assert_eq!(decode("not base64!"), None);
        assert_eq!(decode(&URL_SAFE_NO_PAD.encode("User:nope")), None);
        assert_eq!(decode(&URL_SAFE_NO_PAD.encode("Spaceship:0")), None);
    }
}
