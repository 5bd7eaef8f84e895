//! The GraphQL schema: one resolver struct per domain, merged at the root.

pub mod access_log;
pub mod action_items;
pub mod agenda;
pub mod api_tokens;
pub mod audit;
pub mod check_ins;
pub mod context;
pub mod enums;
pub mod identity;
pub mod insights;
pub mod live;
pub mod loaders;
pub mod meetings;
pub mod node;
pub mod notes;
pub mod organizations;
pub mod pagination;
pub mod questions;
pub mod scoped;
pub mod series;
pub mod users;
pub mod webhooks;

use std::sync::Arc;

use async_graphql::{MergedObject, Schema};

use crate::{auth::Viewer, state::AppState};

#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    node::NodeQuery,
    users::UserQuery,
    organizations::OrganizationQuery,
    questions::QuestionQuery,
);

/// Mutations about people and the organisation.
#[derive(MergedObject, Default)]
pub struct PeopleMutation(
    identity::IdentityMutation,
    users::UserMutation,
    questions::QuestionMutation,
    api_tokens::ApiTokenMutation,
    identity::ExportMutation,
    webhooks::WebhookMutation,
);

/// Mutations inside a 1:1 series.
#[derive(MergedObject, Default)]
pub struct SeriesContentMutation(
    series::SeriesMutation,
    meetings::MeetingMutation,
    agenda::AgendaMutation,
    notes::NoteMutation,
    action_items::ActionItemMutation,
    check_ins::CheckInMutation,
);

// Merged in two levels: one flat merge of every part exceeds the compiler's recursion limit.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(PeopleMutation, SeriesContentMutation);

pub type AppSchema = Schema<QueryRoot, MutationRoot, live::SubscriptionRoot>;

/// Builds the schema with its limits. Connecting and migrating happen before, at start-up.
pub fn build_schema(state: AppState) -> AppSchema {
    let limits = &state.config;
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        live::SubscriptionRoot::default(),
    )
    .limit_depth(limits.max_depth)
    .limit_complexity(limits.max_complexity)
    .limit_directives(limits.max_directives)
    .limit_recursive_depth(limits.max_depth * 2)
    // "Did you mean …" would map the schema for someone probing it with typos.
    .disable_suggestions()
    .data(state.clone())
    .finish()
}

/// The schema without any state, for printing the SDL.
pub fn sdl() -> String {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        live::SubscriptionRoot::default(),
    )
    .finish()
    .sdl()
}

/// Per-operation data: the viewer, the client's address and the operation's DataLoaders.
pub fn request_data(
    request: async_graphql::Request,
    viewer: Option<Arc<Viewer>>,
    address: String,
    loaders: loaders::Loaders,
) -> async_graphql::Request {
    request
        .data(context::ClientAddress(Some(address)))
        .data(loaders)
        .data(context::RequestViewer::new(viewer))
}
