//! `User`, the `viewer` query and the admin mutations on users and reporting lines.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::user;

use std::sync::Arc;

use super::{
    access_log::AccessEntry,
    api_tokens::ApiToken,
    context::ContextExt,
    pagination::{self, Page},
    series::OneOnOne,
};
use crate::{
    domain::{
        access::SeriesScope,
        access_log, api_tokens, calendar, series,
        users::{self, NewUser},
    },
    error::AppResult,
    ids::{self, NodeKind},
};

/// A person in an organisation.
pub struct User(pub user::Model);

/// A user's role in their organisation.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum OrgRole {
    Admin,
    Member,
}

impl From<user::Role> for OrgRole {
    fn from(role: user::Role) -> Self {
        match role {
            user::Role::Admin => Self::Admin,
            user::Role::Member => Self::Member,
        }
    }
}

impl From<OrgRole> for user::Role {
    fn from(role: OrgRole) -> Self {
        match role {
            OrgRole::Admin => Self::Admin,
            OrgRole::Member => Self::Member,
        }
    }
}

impl User {
    /// The viewer, when this user is the viewer: fields for the viewer alone use it.
    fn require_viewer_self(&self, ctx: &Context<'_>) -> AppResult<Arc<crate::auth::Viewer>> {
        let viewer = ctx.viewer()?;
        if viewer.id() == self.0.id {
            Ok(viewer)
        } else {
            Err(crate::error::AppError::Forbidden)
        }
    }
}

#[Object]
impl User {
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::User, self.0.id)
    }

    async fn display_name(&self) -> &str {
        &self.0.display_name
    }

    async fn email(&self) -> &str {
        &self.0.email
    }

    async fn role(&self) -> OrgRole {
        self.0.role.into()
    }

    /// IANA time zone name.
    async fn time_zone(&self) -> &str {
        &self.0.time_zone
    }

    /// When an admin deactivated this user; null while active.
    async fn deactivated_at(&self) -> Option<DateTime<Utc>> {
        self.0.deactivated_at
    }

    /// The user's current manager, when the viewer may see them.
    async fn manager(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        let Some(manager_id) = self.0.manager_id else {
            return Ok(None);
        };
        let viewer = ctx.viewer()?;
        let manager = ctx.loaders()?.user(manager_id).await?;
        Ok(manager
            .filter(|manager| users::can_see(&viewer, manager))
            .map(User))
    }

    /// The user's direct reports that the viewer may see.
    #[graphql(complexity = "pagination::cost(None, child_complexity)")]
    async fn reports(&self, ctx: &Context<'_>) -> AppResult<Vec<User>> {
        let viewer = ctx.viewer()?;
        let reports = ctx
            .loaders()?
            .reports_by_manager
            .load_one(self.0.id)
            .await?
            .unwrap_or_default();
        Ok(reports
            .into_iter()
            .filter(|report| users::can_see(&viewer, report))
            .map(User)
            .collect())
    }

    /// The viewer's personal calendar feed (`FORBIDDEN` on anyone else): an unguessable URL
    /// serving their meetings as iCalendar, for any calendar app. Meeting times, format,
    /// location and who with; never agenda or notes.
    async fn calendar_feed_url(&self, ctx: &Context<'_>) -> AppResult<String> {
        let viewer = self.require_viewer_self(ctx)?;
        let state = ctx.state()?;
        calendar::feed_url(&state.store.db, &state.data_key, &viewer, &state.public_url).await
    }

    /// The viewer's own API tokens (`FORBIDDEN` on anyone else).
    async fn api_tokens(&self, ctx: &Context<'_>) -> AppResult<Vec<ApiToken>> {
        let viewer = self.require_viewer_self(ctx)?;
        let tokens = api_tokens::list(&ctx.state()?.store.db, &viewer).await?;
        Ok(tokens.into_iter().map(ApiToken).collect())
    }

    /// The viewer's access log (`FORBIDDEN` on anyone else): every read of their 1:1 content
    /// through an API token or an export, and every admin view of their series, oldest first.
    #[graphql(complexity = "pagination::cost(first, child_complexity)")]
    async fn access_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> AppResult<Page<AccessEntry>> {
        let viewer = self.require_viewer_self(ctx)?;
        pagination::paginate(
            &ctx.state()?.store.db,
            access_log::visible_to(&viewer),
            entity::access_entry::Column::Id,
            |entry| entry.id,
            first,
            after,
            |entry| Ok(AccessEntry(entry)),
        )
        .await
    }

    /// This user's 1:1 series that the viewer may see; archived ones only when asked.
    #[graphql(complexity = "pagination::cost(first, child_complexity)")]
    async fn one_on_ones(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        include_archived: Option<bool>,
    ) -> AppResult<Page<OneOnOne>> {
        let viewer = ctx.viewer()?;
        let select = series::of_user(&viewer, self.0.id, include_archived.unwrap_or(false));
        pagination::paginate(
            &ctx.state()?.store.db,
            select,
            entity::one_on_one::Column::Id,
            |series| series.id,
            first,
            after,
            |series| {
                Ok(OneOnOne {
                    scope: Arc::new(SeriesScope::new(&viewer, series)?),
                })
            },
        )
        .await
    }
}

#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    /// The signed-in user.
    async fn viewer(&self, ctx: &Context<'_>) -> AppResult<User> {
        Ok(User(ctx.viewer()?.user.clone()))
    }
}

#[derive(InputObject)]
pub struct RotateCalendarFeedInput {
    /// Reserved.
    pub client_mutation_id: Option<String>,
}

#[derive(SimpleObject)]
pub struct RotateCalendarFeedPayload {
    /// The new feed URL; the old one answers 404 from now on.
    pub calendar_feed_url: String,
}

#[derive(InputObject)]
pub struct CreateUserInput {
    pub email: String,
    pub display_name: String,
    /// At least 10 characters.
    pub password: String,
    /// Defaults to `MEMBER`.
    pub role: Option<OrgRole>,
    /// Starts a reporting line to this user.
    pub manager_id: Option<ID>,
    /// Makes a retried request return the first result instead of creating a second user.
    pub client_mutation_id: Option<String>,
}

#[derive(SimpleObject)]
pub struct CreateUserPayload {
    pub user: User,
    pub client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub struct SetManagerInput {
    pub user_id: ID,
    /// The new manager; null ends the reporting line.
    pub manager_id: Option<ID>,
}

#[derive(SimpleObject)]
pub struct SetManagerPayload {
    pub user: User,
    /// The new reporting line's series; null when the line ended.
    pub one_on_one: Option<OneOnOne>,
}

#[derive(InputObject)]
pub struct DeactivateUserInput {
    pub user_id: ID,
}

#[derive(SimpleObject)]
pub struct DeactivateUserPayload {
    pub user: User,
}

#[derive(Default)]
pub struct UserMutation;

#[Object]
impl UserMutation {
    /// Replaces your calendar-feed URL (if it leaked); the old one stops working.
    async fn rotate_calendar_feed(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            name = "input",
            default_with = "RotateCalendarFeedInput { client_mutation_id: None }"
        )]
        _input: RotateCalendarFeedInput,
    ) -> AppResult<RotateCalendarFeedPayload> {
        let viewer = ctx.viewer()?;
        let state = ctx.state()?;
        let url =
            calendar::rotate(&state.store.db, &state.data_key, &viewer, &state.public_url).await?;
        Ok(RotateCalendarFeedPayload {
            calendar_feed_url: url,
        })
    }

    /// Admin: adds a user to the organisation.
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        input: CreateUserInput,
    ) -> AppResult<CreateUserPayload> {
        let viewer = ctx.viewer()?;
        let manager_id = ids::decode_optional(NodeKind::User, input.manager_id.as_ref())?;
        let store = &ctx.state()?.store;
        let id = users::create(
            store,
            &viewer,
            NewUser {
                organization_id: viewer.organization_id(),
                email: input.email,
                display_name: input.display_name,
                password: input.password,
                role: input.role.unwrap_or(OrgRole::Member).into(),
                manager_id,
            },
            input.client_mutation_id.as_deref(),
        )
        .await?;
        Ok(CreateUserPayload {
            user: User(users::find_visible(&store.db, &viewer, id).await?),
            client_mutation_id: input.client_mutation_id,
        })
    }

    /// Admin: starts, changes or (with a null `managerId`) ends a reporting line.
    async fn set_manager(
        &self,
        ctx: &Context<'_>,
        input: SetManagerInput,
    ) -> AppResult<SetManagerPayload> {
        let viewer = ctx.viewer()?;
        let user_id = ids::decode_as(NodeKind::User, &input.user_id)?;
        let manager_id = ids::decode_optional(NodeKind::User, input.manager_id.as_ref())?;
        let (user, series) =
            users::set_manager(&ctx.state()?.store.db, &viewer, user_id, manager_id).await?;
        let one_on_one = series
            .map(|series| SeriesScope::new(&viewer, series))
            .transpose()?
            .map(|scope| OneOnOne {
                scope: Arc::new(scope),
            });
        Ok(SetManagerPayload {
            user: User(user),
            one_on_one,
        })
    }

    /// Admin: deactivates a user; their sessions and tokens stop working at once.
    async fn deactivate_user(
        &self,
        ctx: &Context<'_>,
        input: DeactivateUserInput,
    ) -> AppResult<DeactivateUserPayload> {
        let viewer = ctx.viewer()?;
        let user_id = ids::decode_as(NodeKind::User, &input.user_id)?;
        let user = users::deactivate(&ctx.state()?.store, &viewer, user_id).await?;
        Ok(DeactivateUserPayload { user: User(user) })
    }
}
