//! SeaORM entities: the database's shape, with no API concerns (GraphQL types live in `api`).

pub mod access_entry;
pub mod action_item;
pub mod agenda_item;
pub mod api_token;
pub mod audit_entry;
pub mod check_in;
pub mod client_mutation;
pub mod enums;
pub mod meeting;
pub mod meeting_event;
pub mod note;
pub mod one_on_one;
pub mod organization;
pub mod question;
pub mod refresh_token;
pub mod user;
pub mod webhook;
pub mod webhook_delivery;
