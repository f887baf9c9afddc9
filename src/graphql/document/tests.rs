//! The document measure against the introspection queries clients send and the
//! attacks it must stop.

use std::time::{Duration, Instant};

use async_graphql::parser::parse_query;

use super::*;

/// What GraphiQL 3 and 4 send (graphql-js 16.15 `getIntrospectionQuery` with every option
/// GraphiQL can turn on), reformatted onto fewer lines: same selections, same tokens.
const GRAPHIQL_INTROSPECTION: &str = r#"
    query IntrospectionQuery {
      __schema {
        description
        queryType { name kind }
        mutationType { name kind }
        subscriptionType { name kind }
        types { ...FullType }
        directives {
          name description isRepeatable locations
          args(includeDeprecated: true) { ...InputValue }
        }
      }
    }
    fragment FullType on __Type {
      kind name description specifiedByURL
      fields(includeDeprecated: true) {
        name description
        args(includeDeprecated: true) { ...InputValue }
        type { ...TypeRef }
        isDeprecated deprecationReason
      }
      inputFields(includeDeprecated: true) { ...InputValue }
      interfaces { ...TypeRef }
      enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
      possibleTypes { ...TypeRef }
    }
    fragment InputValue on __InputValue {
      name description type { ...TypeRef } defaultValue isDeprecated deprecationReason
    }
    fragment TypeRef on __Type {
      kind name
      ofType { name kind ofType { name kind ofType { name kind ofType { name kind ofType { name kind
      ofType { name kind ofType { name kind ofType { name kind ofType { name kind } } } } } } } } }
    }
"#;

/// What graphql-codegen sends through `@graphql-tools/url-loader`: `getIntrospectionQuery()`
/// with its defaults (descriptions, nine `ofType`), reformatted the same way.
const CODEGEN_INTROSPECTION: &str = r#"
    query IntrospectionQuery {
      __schema {
        queryType { name kind }
        mutationType { name kind }
        subscriptionType { name kind }
        types { ...FullType }
        directives { name description locations args { ...InputValue } }
      }
    }
    fragment FullType on __Type {
      kind name description
      fields(includeDeprecated: true) {
        name description
        args { ...InputValue }
        type { ...TypeRef }
        isDeprecated deprecationReason
      }
      inputFields { ...InputValue }
      interfaces { ...TypeRef }
      enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
      possibleTypes { ...TypeRef }
    }
    fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
    fragment TypeRef on __Type {
      kind name
      ofType { name kind ofType { name kind ofType { name kind ofType { name kind ofType { name kind
      ofType { name kind ofType { name kind ofType { name kind ofType { name kind } } } } } } } } }
    }
"#;

fn measured(query: &str) -> Result<DocumentMeasure, FragmentCycle> {
    let document = parse_query(query).expect("the test query parses");
    measure(&document, query)
}

fn refusal(query: &str) -> Option<&'static str> {
    let measure = measured(query).expect("no fragment cycle");
    check(&measure, &DocumentLimits::default())
        .err()
        .map(|exceeded| exceeded.limit)
}

/// `query { ...F0 }` and `levels` fragments: each spreads the next twice, the last asks
/// `__typename`, so the query asks it 2^(levels - 1) times.
fn fragment_bomb(levels: usize) -> String {
    let last = levels - 1;
    let mut query = String::from("query { ...F0 }\n");
    for level in 0..last {
        let next = level + 1;
        query += &format!("fragment F{level} on Query {{ ...F{next} ...F{next} }}\n");
    }
    query + &format!("fragment F{last} on Query {{ __typename }}\n")
}

#[test]
fn graphiql_introspection_passes_comfortably() {
    let measure = measured(GRAPHIQL_INTROSPECTION).unwrap();
    println!("GraphiQL introspection: {measure:?}");

    assert_eq!(check(&measure, &DocumentLimits::default()), Ok(()));
    assert_eq!((measure.selections, measure.depth, measure.root_fields), (229, 15, 1));
    assert_eq!((measure.aliases, measure.directives), (0, 0));
    assert!(measure.tokens < DocumentLimits::default().max_tokens / 10);
}

#[test]
fn codegen_introspection_passes_comfortably() {
    let measure = measured(CODEGEN_INTROSPECTION).unwrap();
    println!("graphql-codegen introspection: {measure:?}");

    assert_eq!(check(&measure, &DocumentLimits::default()), Ok(()));
    assert_eq!((measure.selections, measure.depth, measure.root_fields), (220, 15, 1));
    assert!(measure.tokens < DocumentLimits::default().max_tokens / 10);
}

#[test]
fn a_fragment_bomb_is_measured_at_once_and_refused_on_selections() {
    let query = fragment_bomb(31);
    let document = parse_query(&query).unwrap();

    let started = Instant::now();
    let measure = measure(&document, &query).unwrap();
    let took = started.elapsed();

    println!("31-level fragment bomb measured in {took:?}: {measure:?}");
    // 2^30 selections from 60 spreads: only memoised sizes get there without walking them.
    assert_eq!(measure.selections, 1 << 30);
    assert!(took < Duration::from_millis(50), "took {took:?}");
    assert_eq!(
        check(&measure, &DocumentLimits::default()).unwrap_err().limit,
        "selections"
    );
}

#[test]
fn a_fragment_bomb_in_an_operation_that_will_not_run_is_refused_too() {
    let query = fragment_bomb(31).replacen("query {", "query Bomb {", 1) + "query Harmless { __typename }";

    assert_eq!(refusal(&query), Some("selections"));
}

#[test]
fn sizes_saturate_instead_of_overflowing() {
    let measure = measured(&fragment_bomb(70)).unwrap();

    assert_eq!(measure.selections, u64::MAX);
}

#[test]
fn ten_thousand_aliases_are_refused_on_aliases() {
    let aliases: String = (0..10_000).map(|n| format!("a{n}: __typename ")).collect();

    assert_eq!(refusal(&format!("{{ {aliases} }}")), Some("aliases"));
}

#[test]
fn a_thousand_root_fields_are_refused_on_root_fields() {
    let query = format!("{{ {} }}", "__typename ".repeat(1_000));

    assert_eq!(refusal(&query), Some("rootFields"));
}

#[test]
fn a_thousand_directives_are_refused_on_directives() {
    let query = format!("{{ __typename {} }}", "@include(if: true) ".repeat(1_000));

    assert_eq!(refusal(&query), Some("directives"));
}

#[test]
fn a_huge_document_is_refused_on_tokens() {
    let query = format!("{{ numbers(ids: [{}]) {{ id }} }}", "1, ".repeat(30_000));

    assert_eq!(refusal(&query), Some("tokens"));
}

#[test]
fn nesting_past_the_depth_limit_is_refused_on_depth() {
    let query = format!("{{ {} }}", "a { ".repeat(20) + "b" + &" }".repeat(20));

    assert_eq!(measured(&query).unwrap().depth, 21);
    assert_eq!(refusal(&query), Some("depth"));
}

#[test]
fn each_use_of_a_fragment_adds_its_size_again() {
    let query = "{ a { ...F } b { ...F } c { ...F } } fragment F on T { x y: z @skip(if: false) }";

    let measure = measured(query).unwrap();

    assert_eq!(
        (measure.selections, measure.aliases, measure.directives),
        (3 + 3 * 2, 3, 3)
    );
}

#[test]
fn depth_counts_fields_through_fragments_but_not_the_fragments() {
    let query = "{ a { ...F ... on T { b { c } } } } fragment F on T { d { e { f } } }";

    assert_eq!(measured(query).unwrap().depth, 4);
}

#[test]
fn root_fields_are_found_through_fragments_and_inline_fragments() {
    let query = "{ a ...F ... on Query { b ... { c } } d { ...F } } fragment F on Query { e f { g } }";

    let measure = measured(query).unwrap();

    assert_eq!(measure.root_fields, 6); // a, e, f, b, c, d
    assert_eq!(measure.selections, 10); // a, b, c, d, then e, f, g at the root and in d
}

#[test]
fn directives_count_wherever_they_are_used() {
    let query = "query Q($v: Int @a) @b { x @c ...F @d ... @e { y } } fragment F on Query @f { z @g }";

    assert_eq!(measured(query).unwrap().directives, 7);
}

#[test]
fn operations_add_their_sizes_and_keep_the_largest_shape() {
    let query = "query A { a b c } query B { d { e { f } } } mutation C { g: h }";

    let measure = measured(query).unwrap();

    assert_eq!((measure.selections, measure.aliases), (7, 1));
    assert_eq!((measure.root_fields, measure.depth), (3, 3));
}

#[test]
fn a_fragment_spreading_itself_is_a_cycle() {
    let cycle = measured("{ ...F } fragment F on Query { a ...F }").unwrap_err();

    assert_eq!(cycle.fragment, "F");
}

#[test]
fn fragments_spreading_each_other_are_a_cycle_even_inside_fields_and_inline_fragments() {
    let query = "{ ...F } fragment F on Query { a { ...G } } fragment G on T { ... on T { ...F } }";

    assert_eq!(measured(query).unwrap_err().fragment, "F");
}

#[test]
fn a_fragment_used_twice_without_a_cycle_is_not_a_cycle() {
    let query = "{ ...F ...G } fragment F on Query { ...G } fragment G on Query { a }";

    assert_eq!(measured(query).unwrap().selections, 2);
}

#[test]
fn an_unknown_fragment_counts_as_nothing() {
    assert_eq!(measured("{ a ...Missing }").unwrap().selections, 1);
}

#[test]
fn a_long_chain_of_fragments_does_not_overflow_the_stack() {
    let mut query = String::from("{ ...F0 }\n");
    for n in 0..20_000 {
        query += &format!("fragment F{n} on Query {{ a ...F{} }}\n", n + 1);
    }

    let measure = measured(&query).unwrap();

    assert_eq!((measure.selections, measure.depth), (20_000, 1));
}

#[test]
fn limits_are_inclusive_and_the_most_specific_is_named_first() {
    let limits = DocumentLimits::default();
    let at_every_limit = DocumentMeasure {
        selections: limits.max_selections,
        aliases: limits.max_aliases,
        root_fields: limits.max_root_fields,
        directives: limits.max_directives,
        depth: limits.max_depth,
        tokens: limits.max_tokens,
    };
    let over_every_limit = DocumentMeasure {
        selections: limits.max_selections + 1,
        aliases: limits.max_aliases + 1,
        root_fields: limits.max_root_fields + 1,
        directives: limits.max_directives + 1,
        depth: limits.max_depth + 1,
        tokens: limits.max_tokens + 1,
    };

    assert_eq!(check(&at_every_limit, &limits), Ok(()));
    assert_eq!(
        check(&over_every_limit, &limits),
        Err(LimitExceeded {
            limit: "depth",
            maximum: 20,
            found: 21
        })
    );
}

#[test]
fn tokens_count_punctuators_names_numbers_and_strings() {
    assert_eq!(count_tokens("{ a(b: -1.5e+10, c: [1 2]) { ...F ... on T { d } } }"), 24);
    assert_eq!(count_tokens("query($v: [Int!]! = [1]) @skip(if: $v) { a }"), 26);
}

#[test]
fn tokens_ignore_white_space_commas_comments_and_the_byte_order_mark() {
    assert_eq!(count_tokens("\u{FEFF} ,,, \t\r\n# { a { b } }\n{ a }, # trailing"), 3);
    assert_eq!(count_tokens(""), 0);
}

#[test]
fn tokens_inside_strings_do_not_count() {
    assert_eq!(count_tokens(r#"{ a(b: "{ c \" d } é") }"#), 8);
    assert_eq!(count_tokens(r#"{ a(b: """ { "" \""" } """) }"#), 8);
}

#[test]
fn text_that_is_not_graphql_counts_one_token_a_character() {
    assert_eq!(count_tokens("é ~ ."), 3);
    assert_eq!(count_tokens(r#"{ a(b: "unterminated"#), 6);
}

// What async-graphql's parser does with hostile input, which the measure relies on.

#[test]
fn the_parser_refuses_deep_nesting_instead_of_overflowing_the_stack() {
    for levels in [100, 10_000] {
        let query = "{ a ".repeat(levels) + &"}".repeat(levels);

        assert!(parse_query(&query).is_err(), "{levels} levels");
    }
    let query = format!("{{ a(b: {}{}) }}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(parse_query(query).is_err());
}

#[test]
fn the_parser_accepts_65_nested_fields_and_refuses_66() {
    let nested = |levels: usize| "{ a ".repeat(levels) + &"}".repeat(levels);

    assert!(parse_query(nested(65)).is_ok());
    assert!(parse_query(nested(66)).is_err());
}
