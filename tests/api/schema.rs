//! The checked-in `schema.graphql` is exactly what the server exports.

#[test]
fn schema_graphql_is_current() {
    let exported = switchboard::graphql::sdl();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema.graphql");
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();

    assert!(
        checked_in == exported,
        "schema.graphql is stale: run `cargo run -- export-schema > schema.graphql` and commit it"
    );
}
