//! `Organization` and the `organization` query.

use async_graphql::{Context, ID, Object};
use entity::{organization, user};

use super::{
    context::ContextExt,
    pagination::{self, Page},
    users::User,
};
use crate::{
    domain::{organizations, users},
    error::AppResult,
    ids::{self, NodeKind},
};

/// A tenant: nothing ever crosses from one organisation to another.
pub struct Organization(pub organization::Model);

#[Object]
impl Organization {
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::Organization, self.0.id)
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Admin: everyone in the organisation, in the order they joined.
    #[graphql(complexity = "pagination::cost(first, child_complexity)")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> AppResult<Page<User>> {
        let viewer = ctx.viewer()?;
        viewer.require_admin()?;
        pagination::paginate(
            &ctx.state()?.store.db,
            users::visible_to(&viewer),
            user::Column::Id,
            |user| user.id,
            first,
            after,
            |user| Ok(User(user)),
        )
        .await
    }
}

#[derive(Default)]
pub struct OrganizationQuery;

#[Object]
impl OrganizationQuery {
    /// The viewer's organisation.
    async fn organization(&self, ctx: &Context<'_>) -> AppResult<Organization> {
        let viewer = ctx.viewer()?;
        let organization =
            organizations::find_visible(&ctx.state()?.store.db, &viewer, viewer.organization_id())
                .await?;
        Ok(Organization(organization))
    }
}
