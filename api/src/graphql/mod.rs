//! The GraphQL schema: one resolver struct per domain, merged at the root.

pub mod context;
pub mod identity;
pub mod loaders;
pub mod node;
pub mod organizations;
pub mod pagination;
pub mod users;

use async_graphql::{EmptySubscription, MergedObject, Schema};

use crate::{auth::Viewer, state::AppState};

#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    node::NodeQuery,
    users::UserQuery,
    organizations::OrganizationQuery,
);

#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(identity::IdentityMutation, users::UserMutation);

pub type AppSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Builds the schema with its limits. Connecting and migrating happen before, at start-up.
pub fn build_schema(state: AppState) -> AppSchema {
    let limits = &state.config;
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
    .limit_depth(limits.max_depth)
    .limit_complexity(limits.max_complexity)
    .limit_directives(limits.max_directives)
    .limit_recursive_depth(limits.max_depth * 2)
    .data(state.clone())
    .finish()
}

/// The schema without any state, for printing the SDL.
pub fn sdl() -> String {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
    .finish()
    .sdl()
}

/// Per-request data: the viewer and fresh DataLoaders.
pub fn request_data(
    request: async_graphql::Request,
    state: &AppState,
    viewer: Option<Viewer>,
) -> async_graphql::Request {
    request
        .data(context::RequestViewer::new(viewer))
        .data(loaders::Loaders::new(&state.db))
}
