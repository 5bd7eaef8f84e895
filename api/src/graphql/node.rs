//! The Relay `Node` interface and `node(id:)`, which applies the same access rules as every
//! other path: anything the viewer may not see is `NOT_FOUND`.

use async_graphql::{Context, ID, Interface, Object};

use super::{context::ContextExt, organizations::Organization, users::User};
use crate::{
    domain::{organizations, users},
    error::{AppError, AppResult},
    ids::{self, NodeKind},
};

#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID"))]
pub enum Node {
    User(User),
    Organization(Organization),
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object by its global id.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> AppResult<Option<Node>> {
        let viewer = ctx.viewer()?;
        let db = &ctx.state()?.db;
        let (kind, uuid) = ids::decode(&id).ok_or(AppError::NotFound)?;
        let node = match kind {
            NodeKind::User => Node::User(User(users::find_visible(db, &viewer, uuid).await?)),
            NodeKind::Organization => Node::Organization(Organization(
                organizations::find_visible(db, &viewer, uuid).await?,
            )),
        };
        Ok(Some(node))
    }
}
