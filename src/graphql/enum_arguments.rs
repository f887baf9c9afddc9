//! Enum values a schema does not have, refused before async-graphql validates
//! the document, so that the error names its input field (`extensions.field`:
//! the argument, or the input object's field) as every other input error does.
//! async-graphql's own validation reports the same mistake without a field.

use std::collections::HashSet;

use async_graphql::{
    Name, Value, Variables,
    parser::types::{DocumentOperations, ExecutableDocument, Selection, SelectionSet},
    registry::{MetaType, MetaTypeName, Registry},
};

use crate::error::AppError;

/// Input objects nested deeper than this are left to validation (none of ours is).
const MAX_INPUT_DEPTH: usize = 16;

/// The first enum argument (or input field) of the operation to run whose value
/// is no value of its enum, as `BAD_USER_INPUT` on that argument or field.
/// Variables are read with their values; what the registry does not know is
/// left for validation to report.
pub fn check_document(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
    registry: &Registry,
) -> Result<(), AppError> {
    let operation = match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), _) => Some(operation),
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name),
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => operations.values().next(),
        _ => None,
    };
    let Some(operation) = operation else {
        return Ok(());
    };
    let root_type = match operation.node.ty {
        async_graphql::parser::types::OperationType::Query => Some(registry.query_type.as_str()),
        async_graphql::parser::types::OperationType::Mutation => registry.mutation_type.as_deref(),
        async_graphql::parser::types::OperationType::Subscription => registry.subscription_type.as_deref(),
    };
    let Some(root_type) = root_type else {
        return Ok(());
    };
    let mut walk = Walk {
        document,
        registry,
        variables,
        fragments_seen: HashSet::new(),
    };
    walk.selections(&operation.node.selection_set.node, root_type)
}

struct Walk<'a> {
    document: &'a ExecutableDocument,
    registry: &'a Registry,
    variables: &'a Variables,
    fragments_seen: HashSet<&'a str>,
}

impl<'a> Walk<'a> {
    fn selections(&mut self, set: &'a SelectionSet, parent: &'a str) -> Result<(), AppError> {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let Some(meta) = self
                        .registry
                        .types
                        .get(parent)
                        .and_then(|meta| meta.field_by_name(field.node.name.node.as_str()))
                    else {
                        continue;
                    };
                    for (name, value) in &field.node.arguments {
                        let Some(argument) = meta.args.get(name.node.as_str()) else {
                            continue;
                        };
                        let variables = self.variables;
                        let Ok(value) = value
                            .node
                            .clone()
                            .into_const_with(|variable: Name| variables.get(&variable).cloned().ok_or(()))
                        else {
                            continue;
                        };
                        check_value(self.registry, &value, &argument.ty, &argument.name, 0)?;
                    }
                    let child = MetaTypeName::concrete_typename(&meta.ty);
                    self.selections(&field.node.selection_set.node, child)?;
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    let Some(fragment) = self.document.fragments.get(name) else {
                        continue;
                    };
                    if !self.fragments_seen.insert(name) {
                        continue;
                    }
                    let on = fragment.node.type_condition.node.on.node.as_str();
                    self.selections(&fragment.node.selection_set.node, on)?;
                }
                Selection::InlineFragment(fragment) => {
                    let on = fragment
                        .node
                        .type_condition
                        .as_ref()
                        .map_or(parent, |condition| condition.node.on.node.as_str());
                    self.selections(&fragment.node.selection_set.node, on)?;
                }
            }
        }
        Ok(())
    }
}

/// Checks `value` against the type `ty` (as the registry spells it: `Key!`, `[Key]`).
fn check_value(registry: &Registry, value: &Value, ty: &str, field: &str, depth: usize) -> Result<(), AppError> {
    if depth > MAX_INPUT_DEPTH {
        return Ok(());
    }
    match MetaTypeName::create(ty) {
        MetaTypeName::NonNull(inner) => return check_value(registry, value, inner, field, depth),
        MetaTypeName::List(inner) => {
            if let Value::List(items) = value {
                for item in items {
                    check_value(registry, item, inner, field, depth + 1)?;
                }
                return Ok(());
            }
            // A single value where a list goes stands for a list of one.
            return check_value(registry, value, inner, field, depth + 1);
        }
        MetaTypeName::Named(_) => {}
    }
    match (registry.types.get(ty), value) {
        (Some(MetaType::Enum { name, enum_values, .. }), Value::Enum(_) | Value::String(_)) => {
            let given = match value {
                Value::Enum(given) => given.as_str(),
                Value::String(given) => given.as_str(),
                _ => return Ok(()),
            };
            if enum_values.contains_key(given) {
                return Ok(());
            }
            let names: Vec<&str> = enum_values.keys().map(String::as_str).collect();
            let given: String = given.chars().take(64).collect();
            Err(AppError::bad_input(
                field.to_owned(),
                format!("`{given}` is not a {name}: use one of {}", names.join(", ")),
            ))
        }
        (Some(MetaType::InputObject { input_fields, .. }), Value::Object(fields)) => {
            for (name, value) in fields {
                if let Some(input) = input_fields.get(name.as_str()) {
                    check_value(registry, value, &input.ty, &input.name, depth + 1)?;
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}
