//! The product's rules as plain async functions over a database connection. Resolvers stay thin
//! and call these; every access rule for a kind of object lives in that object's module.

pub mod identity;
pub mod organizations;
pub mod users;
