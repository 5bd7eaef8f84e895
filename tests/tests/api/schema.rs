use std::path::Path;

/// `schema.graphql` must be exactly what the server serves. To update it after changing the
/// schema: `cargo run -p tete-api --bin print-schema > schema.graphql`.
#[test]
fn schema_file_matches_the_served_schema() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema.graphql");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == tete_api::graphql::sdl(),
        "schema.graphql is out of date: run `cargo run -p tete-api --bin print-schema > schema.graphql`"
    );
}
