//! The product's rules as plain async functions over a database connection. Resolvers stay thin
//! and call these; the access rules of a series live in `access`, and every other module reaches
//! series content through it.

pub mod access;
pub mod access_log;
pub mod action_items;
pub mod agenda;
pub mod api_tokens;
pub mod audit;
pub mod calendar;
pub mod check_ins;
pub mod crypto;
pub mod events;
pub mod export;
pub mod idempotency;
pub mod identity;
pub mod insights;
pub mod meetings;
pub mod notes;
pub mod ordering;
pub mod organizations;
pub mod questions;
pub mod series;
pub mod users;
pub mod validate;
pub mod webhooks;
