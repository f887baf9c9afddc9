//! The calculated cost of a document, before it runs: every field costs what the
//! schema's `CostModel` says (at least 1), and the children a field repeats (the
//! items of a page, the buckets of a report) cost their own cost times how many
//! there can be. Walked over the expanded document, which the document measure
//! has already bounded, with fragment costs memoised.

use std::collections::HashMap;

use async_graphql::{
    Name, Positioned, Value, Variables,
    parser::types::{ExecutableDocument, Field, Selection, SelectionSet},
};

/// What one field costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldCost {
    /// The field's own work (1 for a plain field).
    pub own: u64,
    /// How many times the children named in `repeated` run (a page's size).
    pub repeat: u64,
    /// The children that run `repeat` times (`edges`, `nodes`, `buckets`); the
    /// others (`totalCount`, `pageInfo`) run once. [`FieldCost::EVERY_CHILD`]
    /// repeats them all (a field returning a plain list).
    pub repeated: &'static [&'static str],
}

impl FieldCost {
    pub const PLAIN: FieldCost = FieldCost {
        own: 1,
        repeat: 1,
        repeated: &[],
    };

    /// `repeated` for a field returning a list: each item's selection runs `repeat` times.
    pub const EVERY_CHILD: &'static [&'static str] = &["*"];
}

/// The field's arguments, variables substituted (an unresolvable one is absent).
pub struct Arguments<'a> {
    field: &'a Field,
    variables: &'a Variables,
}

impl Arguments<'_> {
    pub fn get(&self, name: &str) -> Option<Value> {
        let (_, value) = self
            .field
            .arguments
            .iter()
            .find(|(argument, _)| argument.node.as_str() == name)?;
        value
            .node
            .clone()
            .into_const_with(|variable: Name| self.variables.get(&variable).cloned().ok_or(()))
            .ok()
    }

    /// An integer argument, if given as one.
    pub fn integer(&self, name: &str) -> Option<i64> {
        match self.get(name)? {
            Value::Number(number) => number.as_i64(),
            _ => None,
        }
    }
}

/// What each field costs: the schema's assembly knows its fields; this module
/// knows only how to add them up.
pub type CostModel = fn(name: &str, arguments: &Arguments<'_>) -> FieldCost;

/// The cost of the operation `operation_name` picks (all of them if it names none).
pub fn document_cost(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
    model: CostModel,
) -> u64 {
    let mut walker = Walker {
        document,
        variables,
        model,
        fragments: HashMap::new(),
    };
    document
        .operations
        .iter()
        .filter(|(name, _)| operation_name.is_none() || name.map(Name::as_str) == operation_name)
        .map(|(_, operation)| walker.set_cost(&operation.node.selection_set, 0))
        .fold(0, u64::saturating_add)
}

struct Walker<'a> {
    document: &'a ExecutableDocument,
    variables: &'a Variables,
    model: CostModel,
    /// Fragment costs by name and the repetition they were spread under.
    fragments: HashMap<(&'a str, Repetition), u64>,
}

/// The children of the enclosing field that repeat, and how often: it reaches
/// through fragments spread at that level, so a page's `nodes` cost the same
/// whether written in place or inside a fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Repetition {
    times: u64,
    fields: &'static [&'static str],
}

const NONE: Repetition = Repetition { times: 1, fields: &[] };

/// Far deeper than the depth limit lets any document go; a guard against cycles.
const MAX_NESTING: usize = 64;

impl<'a> Walker<'a> {
    fn set_cost(&mut self, set: &'a Positioned<SelectionSet>, nesting: usize) -> u64 {
        self.repeated_set_cost(set, NONE, nesting)
    }

    fn repeated_set_cost(&mut self, set: &'a Positioned<SelectionSet>, repetition: Repetition, nesting: usize) -> u64 {
        if nesting > MAX_NESTING {
            return u64::MAX;
        }
        let mut total: u64 = 0;
        for selection in &set.node.items {
            let cost = match &selection.node {
                Selection::Field(field) => {
                    let cost = self.field_cost(&field.node, nesting + 1);
                    if repetition.fields.contains(&field.node.name.node.as_str())
                        || repetition.fields == FieldCost::EVERY_CHILD
                    {
                        cost.saturating_mul(repetition.times)
                    } else {
                        cost
                    }
                }
                Selection::InlineFragment(fragment) => {
                    self.repeated_set_cost(&fragment.node.selection_set, repetition, nesting + 1)
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    if let Some(cost) = self.fragments.get(&(name, repetition)) {
                        *cost
                    } else {
                        let cost = match self.document.fragments.get(&spread.node.fragment_name.node) {
                            Some(fragment) => {
                                self.repeated_set_cost(&fragment.node.selection_set, repetition, nesting + 1)
                            }
                            None => 0,
                        };
                        self.fragments.insert((name, repetition), cost);
                        cost
                    }
                }
            };
            total = total.saturating_add(cost);
        }
        total
    }

    fn field_cost(&mut self, field: &'a Field, nesting: usize) -> u64 {
        let arguments = Arguments {
            field,
            variables: self.variables,
        };
        let cost = (self.model)(field.name.node.as_str(), &arguments);
        let repetition = Repetition {
            times: cost.repeat,
            fields: cost.repeated,
        };
        cost.own
            .max(1)
            .saturating_add(self.repeated_set_cost(&field.selection_set, repetition, nesting))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(name: &str, arguments: &Arguments<'_>) -> FieldCost {
        match name {
            "page" => FieldCost {
                own: 1,
                repeat: arguments
                    .integer("first")
                    .map_or(20, |first| first.clamp(0, 100) as u64),
                repeated: &["nodes"],
            },
            "count" => FieldCost {
                own: 10,
                ..FieldCost::PLAIN
            },
            _ => FieldCost::PLAIN,
        }
    }

    fn cost(query: &str, variables: serde_json::Value) -> u64 {
        let document = async_graphql::parser::parse_query(query).unwrap();
        let variables = Variables::from_json(variables);
        document_cost(&document, None, &variables, model)
    }

    #[test]
    fn pages_multiply_their_items_and_fragments_cannot_hide_them() {
        let plain = cost("{ page(first: 10) { count nodes { a b } } }", serde_json::json!({}));
        let through_fragment = cost(
            "{ page(first: $n) { count ...Items } } fragment Items on Page { ... on Page { nodes { a b } } }",
            serde_json::json!({ "n": 10 }),
        );
        let empty_page = cost("{ page(first: 0) { count nodes { a b } } }", serde_json::json!({}));
        let default_page = cost("{ page { nodes { a } } }", serde_json::json!({}));

        assert_eq!(plain, 1 + 10 + 10 * (1 + 2));
        assert_eq!(through_fragment, plain);
        assert_eq!(empty_page, 1 + 10);
        assert_eq!(default_page, 1 + 20 * 2);
    }

    #[test]
    fn nested_pages_multiply_and_saturate_rather_than_wrap() {
        let nested = cost(
            "{ page(first: 100) { nodes { page(first: 100) { nodes { a } } } } }",
            serde_json::json!({}),
        );
        let bomb = format!(
            "{{ ...F0 }} {} fragment F40 on Q {{ page(first: 100) {{ nodes {{ a }} }} }}",
            (0..40)
                .map(|n| format!("fragment F{n} on Q {{ ...F{m} ...F{m} }}", m = n + 1))
                .collect::<String>()
        );

        assert_eq!(nested, 1 + 100 * (1 + 1 + 100 * 2));
        assert_eq!(cost(&bomb, serde_json::json!({})), (1u64 << 40) * (1 + 100 * 2));
    }
}
