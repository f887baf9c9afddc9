//! What an API key may touch, checked field by field. The schema's assembly
//! supplies the rules (`KeyRules`: which scopes each field needs); this module
//! applies them to every field of the document before anything runs, so a
//! refused request runs nothing and writes nothing. A field the rules do not
//! know is refused: deny by default. (Only `node` returns an interface; its
//! resolver applies the same rules once the object's type is known.)

use std::collections::HashSet;

use async_graphql::{
    parser::types::{DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet},
    registry::{MetaTypeName, Registry},
};

use crate::{
    auth::{Scope, Scopes},
    error::AppError,
};

/// Where a field sits: the root field it is under (itself, for a root field), the
/// type it is a field of, its name, and whether it returns a scalar or an enum.
#[derive(Debug, Clone, Copy)]
pub struct FieldPlace<'a> {
    pub root: &'a str,
    pub parent: &'a str,
    pub field: &'a str,
    pub leaf: bool,
}

/// What a key needs for one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAccess {
    /// Any key may.
    Open,
    /// Keys holding every one of these scopes may.
    Needs(&'static [Scope]),
    /// No key may; the message says why.
    Refused(&'static str),
}

/// The rules: what a key needs for a field at a place.
pub type KeyRules = fn(&FieldPlace<'_>) -> KeyAccess;

/// Checks one field against the rules for a key holding `scopes`.
pub fn check_field(rules: KeyRules, scopes: Scopes, place: &FieldPlace<'_>) -> Result<(), AppError> {
    match rules(place) {
        KeyAccess::Open => Ok(()),
        KeyAccess::Needs(needed) => match needed.iter().find(|scope| !scopes.contains(**scope)) {
            Some(missing) => Err(AppError::Forbidden(missing.missing())),
            None => Ok(()),
        },
        KeyAccess::Refused(message) => Err(AppError::Forbidden(message)),
    }
}

/// Whether `type_name` (as a field's type is written: `[CallLog!]!`) is a scalar or an enum.
pub fn is_leaf(registry: &Registry, type_name: &str) -> bool {
    registry
        .types
        .get(MetaTypeName::concrete_typename(type_name))
        .is_some_and(|meta| meta.is_leaf())
}

/// Checks every field the operation to run selects (fragments followed, each once
/// per root field). What the registry does not know is left for validation to report.
pub fn check_document(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    registry: &Registry,
    rules: KeyRules,
    scopes: Scopes,
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
        OperationType::Query => Some(registry.query_type.as_str()),
        OperationType::Mutation => registry.mutation_type.as_deref(),
        OperationType::Subscription => registry.subscription_type.as_deref(),
    };
    let Some(root_type) = root_type else {
        return Ok(());
    };
    let mut walk = Walk {
        document,
        registry,
        rules,
        scopes,
        fragments_seen: HashSet::new(),
    };
    walk.selections(&operation.node.selection_set.node, root_type, None)
}

struct Walk<'a> {
    document: &'a ExecutableDocument,
    registry: &'a Registry,
    rules: KeyRules,
    scopes: Scopes,
    /// (fragment, root field) pairs already checked.
    fragments_seen: HashSet<(&'a str, &'a str)>,
}

impl<'a> Walk<'a> {
    fn selections(&mut self, set: &'a SelectionSet, parent: &'a str, root: Option<&'a str>) -> Result<(), AppError> {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let name = field.node.name.node.as_str();
                    if name.starts_with("__") {
                        continue; // introspection answers what the schema file already says
                    }
                    let Some(meta) = self
                        .registry
                        .types
                        .get(parent)
                        .and_then(|meta| meta.field_by_name(name))
                    else {
                        continue;
                    };
                    let root = root.unwrap_or(name);
                    let place = FieldPlace {
                        root,
                        parent,
                        field: name,
                        leaf: is_leaf(self.registry, &meta.ty),
                    };
                    check_field(self.rules, self.scopes, &place)?;
                    let child = MetaTypeName::concrete_typename(&meta.ty);
                    self.selections(&field.node.selection_set.node, child, Some(root))?;
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    let Some(fragment) = self.document.fragments.get(name) else {
                        continue;
                    };
                    // A fragment spread at the root belongs to each root field it holds.
                    let seen_under = root.unwrap_or("");
                    if !self.fragments_seen.insert((name, seen_under)) {
                        continue;
                    }
                    let on = fragment.node.type_condition.node.on.node.as_str();
                    self.selections(&fragment.node.selection_set.node, on, root)?;
                }
                Selection::InlineFragment(fragment) => {
                    let on = fragment
                        .node
                        .type_condition
                        .as_ref()
                        .map_or(parent, |condition| condition.node.on.node.as_str());
                    self.selections(&fragment.node.selection_set.node, on, root)?;
                }
            }
        }
        Ok(())
    }
}
