//! Who is calling: password hashing, access tokens, refresh-token sessions and the per-request
//! viewer built from them.

pub mod jwt;
pub mod password;
pub mod session;
pub mod viewer;

pub use viewer::Viewer;
