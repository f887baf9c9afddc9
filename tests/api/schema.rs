//! The checked-in `schema.graphql` is exactly what the server exports.

#[test]
fn schema_graphql_is_current() {
    let exported = switchboard::schema::sdl();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema.graphql");
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();

    assert!(
        checked_in == exported,
        "schema.graphql is stale: run `cargo run -- export-schema > schema.graphql` and commit it"
    );
}

/// A schema change needs a CHANGELOG.md entry: the newest entry names the
/// SHA-256 of the schema it describes.
#[test]
fn the_changelog_describes_the_current_schema() {
    use sha2::{Digest, Sha256};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let schema = std::fs::read_to_string(root.join("schema.graphql")).unwrap_or_default();
    let changelog = std::fs::read_to_string(root.join("CHANGELOG.md")).unwrap_or_default();
    let current = hex::encode(Sha256::digest(schema.as_bytes()));
    let newest = changelog
        .lines()
        .find_map(|line| line.trim().strip_prefix("<!-- schema sha256: ")?.strip_suffix(" -->"));

    assert_eq!(
        newest,
        Some(current.as_str()),
        "schema.graphql changed since CHANGELOG.md's newest entry: describe the change there \
         (added, deprecated, removed, changed nullability) and end the entry with \
         `<!-- schema sha256: {current} -->`"
    );
}

/// The introspection query GraphiQL 3 and graphql-js 16 send (TypeRef nine `ofType`s deep).
const INTROSPECTION: &str = r#"
query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } }
}
"#;

#[tokio::test]
async fn the_playground_and_code_generators_can_introspect_the_schema() {
    let app = crate::helpers::TestApp::spawn().await;

    let response = app.gql(INTROSPECTION, serde_json::json!({})).await;

    let schema = response.data("__schema");
    assert_eq!(schema["queryType"]["name"], "Query");
    assert_eq!(schema["subscriptionType"]["name"], "Subscription");
    assert!(
        schema["types"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "CallLogConnection")
    );
}
