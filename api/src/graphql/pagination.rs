//! Relay cursor connections over any entity keyed by a time-ordered (v7) UUID: keyset pages in
//! creation order, with `totalCount`.

use async_graphql::{
    OutputType, SimpleObject,
    connection::{Connection, Edge, EmptyFields},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

pub const DEFAULT_PAGE_SIZE: i32 = 20;
pub const MAX_PAGE_SIZE: i32 = 100;

#[derive(SimpleObject)]
pub struct ConnectionTotal {
    /// How many items the whole connection holds (every page).
    pub total_count: u64,
}

pub type Page<T> = Connection<String, T, ConnectionTotal, EmptyFields>;

/// The query-complexity cost of a connection field: its page size times its items' cost.
pub fn cost(first: Option<i32>, child_complexity: usize) -> usize {
    let size = first.unwrap_or(DEFAULT_PAGE_SIZE).clamp(0, MAX_PAGE_SIZE);
    1 + size as usize * child_complexity.max(1)
}

/// One page of `select`, ordered by `id`; `node` turns each row into its GraphQL object.
pub async fn paginate<E, T>(
    conn: &impl ConnectionTrait,
    select: Select<E>,
    id: E::Column,
    key: impl Fn(&E::Model) -> Uuid,
    first: Option<i32>,
    after: Option<String>,
    node: impl Fn(E::Model) -> AppResult<T>,
) -> AppResult<Page<T>>
where
    E: EntityTrait,
    E::Model: Sync,
    T: OutputType,
{
    let first = first.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(0..=MAX_PAGE_SIZE).contains(&first) {
        return Err(AppError::bad_input(format!(
            "first must be between 0 and {MAX_PAGE_SIZE}"
        )));
    }
    let after = after.as_deref().map(decode_cursor).transpose()?;
    let total_count = select.clone().count(conn).await?;
    let mut page = select.order_by_asc(id);
    if let Some(after) = after {
        page = page.filter(id.gt(after));
    }
    let mut rows = page.limit(first as u64 + 1).all(conn).await?;
    let has_next_page = rows.len() > first as usize;
    rows.truncate(first as usize);
    let mut connection = Connection::with_additional_fields(
        after.is_some(),
        has_next_page,
        ConnectionTotal { total_count },
    );
    for row in rows {
        let cursor = encode_cursor(key(&row));
        connection.edges.push(Edge::new(cursor, node(row)?));
    }
    Ok(connection)
}

fn encode_cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

fn decode_cursor(cursor: &str) -> AppResult<Uuid> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| Uuid::from_slice(&bytes).ok())
        .ok_or_else(|| AppError::bad_input("after is not a valid cursor"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let id = Uuid::now_v7();
        assert_eq!(decode_cursor(&encode_cursor(id)).ok(), Some(id));
        assert!(decode_cursor("nope").is_err());
    }

    #[test]
    fn cost_grows_with_page_size_but_is_bounded() {
        assert_eq!(cost(Some(10), 3), 31);
        assert_eq!(cost(Some(10_000), 1), 101);
        assert_eq!(cost(None, 1), 21);
    }
}
