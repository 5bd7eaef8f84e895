//! `Organization` and the `organization` query.

use async_graphql::{Context, ID, Object};
use entity::{organization, user};

use chrono::{DateTime, Utc};

use super::{
    audit::AuditEntry,
    context::ContextExt,
    insights::OrganizationInsights,
    pagination::{self, Page},
    users::User,
    webhooks::Webhook,
};
use crate::{
    domain::{audit, insights, organizations, users, webhooks},
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

    /// Admin: how 1:1s are going, over `[from, to]` (default: the 90 days up to now). Counts
    /// and shares only, never any content.
    async fn insights(
        &self,
        ctx: &Context<'_>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> AppResult<OrganizationInsights> {
        let viewer = ctx.viewer()?;
        let insights = insights::compute(&ctx.state()?.store.db, &viewer, from, to).await?;
        Ok(OrganizationInsights(insights))
    }

    /// Admin: the organisation's webhooks.
    async fn webhooks(&self, ctx: &Context<'_>) -> AppResult<Vec<Webhook>> {
        let viewer = ctx.viewer()?;
        let hooks = webhooks::list(&ctx.state()?.store.db, &viewer).await?;
        Ok(hooks.into_iter().map(Webhook).collect())
    }

    /// Admin: sign-ins and admin actions, oldest first.
    #[graphql(complexity = "pagination::cost(first, child_complexity)")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> AppResult<Page<AuditEntry>> {
        let viewer = ctx.viewer()?;
        viewer.require_admin()?;
        pagination::paginate(
            &ctx.state()?.store.db,
            audit::of_organization(&viewer),
            entity::audit_entry::Column::Id,
            |entry| entry.id,
            first,
            after,
            |entry| Ok(AuditEntry(entry)),
        )
        .await
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
