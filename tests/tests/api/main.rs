//! End-to-end tests: one binary, one module per area, one behaviour per test.

mod access_log;
mod access_matrix;
mod action_items;
mod admin;
mod agenda;
mod api_tokens;
mod check_ins;
mod concurrency;
mod identity;
mod live;
mod meeting_view;
mod meetings;
mod notes;
mod operations;
mod persisted_queries;
mod questions;
mod rate_limits;
mod schema;
mod series;
mod support;
mod tokens;
mod transport;
mod users;
mod webhooks;
mod ws;
