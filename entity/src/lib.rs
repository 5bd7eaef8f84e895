//! SeaORM entities: the database's shape, with no API concerns (GraphQL types live in `api`).

pub mod organization;
pub mod refresh_token;
pub mod user;

pub mod prelude {
    pub use super::organization::Entity as Organization;
    pub use super::refresh_token::Entity as RefreshToken;
    pub use super::user::Entity as User;
}
