//! Tête-à-tête: the GraphQL backend for regular 1:1 meetings.
//!
//! [`Application`] builds the whole server from a [`Config`]; the `tete` binary, the end-to-end
//! tests and the benchmark all start it the same way.

pub mod admission;
pub mod auth;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod graphql;
pub mod http;
pub mod ids;
pub mod memo;
pub mod metrics;
pub mod outbound;
pub mod rate_limit;
pub mod realtime;
pub mod secrets;
pub mod startup;
pub mod state;
pub mod telemetry;

pub use config::Config;
pub use startup::{Application, StartupError, serve, shutdown_signal};
