//! The Relay `Node` interface and `node(id:)`, which applies the same access rules as every
//! other path: anything the viewer may not see is `NOT_FOUND`.

use async_graphql::{Context, ID, Interface, Object};

use std::sync::Arc;

use super::{
    action_items::ActionItem, agenda::AgendaItem, api_tokens::ApiToken, check_ins::CheckIn,
    context::ContextExt, meetings::Meeting, notes::Note, organizations::Organization,
    questions::Question, scoped::InSeries, series::OneOnOne, users::User, webhooks::Webhook,
};
use crate::{
    domain::{
        action_items, agenda, api_tokens, check_ins, meetings, notes, organizations, questions,
        series, users, webhooks,
    },
    error::{AppError, AppResult},
    ids::{self, NodeKind},
};

#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID"))]
pub enum Node {
    User(User),
    Organization(Organization),
    OneOnOne(OneOnOne),
    Meeting(Meeting),
    AgendaItem(AgendaItem),
    Note(Note),
    ActionItem(ActionItem),
    CheckIn(CheckIn),
    Question(Question),
    ApiToken(ApiToken),
    Webhook(Webhook),
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object by its global id.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> AppResult<Option<Node>> {
        let viewer = ctx.viewer()?;
        let db = &ctx.state()?.store.db;
        let (kind, uuid) = ids::decode(&id).ok_or(AppError::NotFound)?;
        let node = match kind {
            NodeKind::User => Node::User(User(users::find_visible(db, &viewer, uuid).await?)),
            NodeKind::Organization => Node::Organization(Organization(
                organizations::find_visible(db, &viewer, uuid).await?,
            )),
            NodeKind::OneOnOne => Node::OneOnOne(OneOnOne {
                scope: Arc::new(series::find(db, &viewer, uuid).await?),
            }),
            NodeKind::Meeting => {
                let (model, scope) = meetings::find(db, &viewer, uuid).await?;
                Node::Meeting(Meeting::new(model, Arc::new(scope)))
            }
            NodeKind::AgendaItem => {
                let (model, _, scope) = agenda::find(db, &viewer, uuid).await?;
                Node::AgendaItem(AgendaItem::new(model, Arc::new(scope)))
            }
            NodeKind::Note => {
                let (model, scope) = notes::find(db, &viewer, uuid).await?;
                Node::Note(Note::new(model, Arc::new(scope)))
            }
            NodeKind::ActionItem => {
                let (model, scope) = action_items::find(db, &viewer, uuid).await?;
                Node::ActionItem(ActionItem::new(model, Arc::new(scope)))
            }
            NodeKind::CheckIn => {
                let (model, scope) = check_ins::find(db, &viewer, uuid).await?;
                Node::CheckIn(CheckIn::new(model, Arc::new(scope)))
            }
            // Access-log lines are not nodes: they are read through `viewer.accessLog`.
            NodeKind::AccessEntry => return Err(AppError::NotFound),
            NodeKind::Webhook => Node::Webhook(Webhook(webhooks::find(db, &viewer, uuid).await?)),
            NodeKind::ApiToken => {
                Node::ApiToken(ApiToken(api_tokens::find_own(db, &viewer, uuid).await?))
            }
            NodeKind::Question => {
                Node::Question(Question(questions::find(db, &viewer, uuid).await?))
            }
        };
        Ok(Some(node))
    }
}
