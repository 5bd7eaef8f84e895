//! Small builders the migrations share.

use sea_orm_migration::prelude::*;

/// A foreign key from `from.from_col` to `to.to_col`.
pub fn fk(
    from: impl IntoIden,
    from_col: impl IntoIden,
    to: impl IntoIden,
    to_col: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from, from_col)
        .to(to, to_col)
        .to_owned()
}

/// A plain (non-unique) index on `columns` of `table`.
pub async fn index<T: IntoIden + Copy + 'static, C: IntoIden + Copy + 'static>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    columns: &[C],
) -> Result<(), DbErr> {
    manager
        .create_index(index_on(name, table, columns).to_owned())
        .await
}

/// A unique index on `columns` of `table`.
pub async fn unique_index<T: IntoIden + Copy + 'static, C: IntoIden + Copy + 'static>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    columns: &[C],
) -> Result<(), DbErr> {
    manager
        .create_index(index_on(name, table, columns).unique().to_owned())
        .await
}

fn index_on<T: IntoIden + Copy + 'static, C: IntoIden + Copy + 'static>(
    name: &str,
    table: T,
    columns: &[C],
) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for column in columns {
        index.col(*column);
    }
    index
}
