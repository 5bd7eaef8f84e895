//! End-to-end tests: one binary, one module per area, one behaviour per test.

mod identity;
mod operations;
mod schema;
mod tokens;
mod transport;
mod users;
