//! Measures a parsed document before async-graphql validates it, in one linear pass (each
//! fragment sized once), and checks the measure against limits. Producing the coded error
//! and hooking into the request belong to the caller.

use std::collections::HashMap;

use async_graphql::{
    Pos,
    parser::types::{ExecutableDocument, OperationDefinition, Selection, SelectionSet},
};

/// What a document asks for once every fragment is expanded, counted without expanding them.
///
/// Sizes (`selections`, `aliases`, `directives`, `tokens`) add up over every operation in the
/// document; shapes (`root_fields`, `depth`) are the largest of any one operation. Every
/// operation counts, not only the one `operationName` picks, because async-graphql's own
/// checks and validation expand the fragments of all of them before anything runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DocumentMeasure {
    /// Field selections, each use of a fragment counting its fields again.
    pub selections: u64,
    /// Fields with an alias, expanded the same way.
    pub aliases: u64,
    /// Fields at the top of one operation, found through fragments too.
    pub root_fields: u64,
    /// Directive uses anywhere (operations, variables, fields, fragments), expanded.
    pub directives: u64,
    /// Deepest field nesting, as async-graphql's `limit_depth` counts it: `{ a { b } }` is 2.
    pub depth: u64,
    /// Lexical tokens of the query text, see [`count_tokens`].
    pub tokens: u64,
}

/// A fragment that spreads itself, directly or through others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FragmentCycle {
    /// The fragment spread a second time while it was being expanded.
    pub fragment: String,
    /// Where that spread is.
    pub pos: Pos,
}

/// The most a document may ask for; see [`DocumentLimits::default`] for the reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentLimits {
    pub max_selections: u64,
    pub max_aliases: u64,
    pub max_root_fields: u64,
    pub max_directives: u64,
    pub max_depth: u64,
    pub max_tokens: u64,
}

impl Default for DocumentLimits {
    /// GraphiQL's and graphql-codegen's introspection queries measure at most 229 selections,
    /// one root field, depth 15 and 183 tokens, without aliases or directives: each limit
    /// leaves a person exploring the schema far below it while stopping fan-out tricks.
    /// The depth matches the schema's `limit_depth`.
    fn default() -> Self {
        Self {
            max_selections: 10_000,
            max_aliases: 200,
            max_root_fields: 50,
            max_directives: 100,
            max_depth: 20,
            max_tokens: 20_000,
        }
    }
}

/// The first limit a document went over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitExceeded {
    /// Which limit, as a client reads it: `depth`, `selections`, `aliases`, `directives`,
    /// `rootFields` or `tokens`.
    pub limit: &'static str,
    pub maximum: u64,
    pub found: u64,
}

/// Measures `document`, parsed from `query`, without expanding any fragment twice.
///
/// A spread of an unknown fragment counts as empty: async-graphql reports it, with its
/// position, during validation.
///
/// Measure before async-graphql's own checks see the document, for example in an extension's
/// `prepare_request` through `Request::parsed_query` (which keeps the parse for execution):
/// its recursion-depth check expands fragments without memoising, right after parsing and
/// before a `parse_query` extension hook gets the document back.
pub fn measure(document: &ExecutableDocument, query: &str) -> Result<DocumentMeasure, FragmentCycle> {
    let mut fragments = FragmentSizes::new(document);
    let mut measure = DocumentMeasure {
        tokens: count_tokens(query),
        ..DocumentMeasure::default()
    };
    for (_, operation) in document.operations.iter() {
        let size = fragments.operation_size(&operation.node)?;
        measure.selections = measure.selections.saturating_add(size.selections);
        measure.aliases = measure.aliases.saturating_add(size.aliases);
        measure.directives = measure.directives.saturating_add(size.directives);
        measure.root_fields = measure.root_fields.max(size.top_fields);
        measure.depth = measure.depth.max(size.depth);
    }
    Ok(measure)
}

/// Refuses a measure over any limit, naming the most telling one when several are over:
/// the expanded shape and size (depth, selections) first, since a fragment bomb inflates
/// every count; then the constructs a client can repeat (aliases, directives, root fields);
/// the raw length (tokens) last, since every trick also grows it. Limits are inclusive.
pub fn check(measure: &DocumentMeasure, limits: &DocumentLimits) -> Result<(), LimitExceeded> {
    let checks = [
        ("depth", limits.max_depth, measure.depth),
        ("selections", limits.max_selections, measure.selections),
        ("aliases", limits.max_aliases, measure.aliases),
        ("directives", limits.max_directives, measure.directives),
        ("rootFields", limits.max_root_fields, measure.root_fields),
        ("tokens", limits.max_tokens, measure.tokens),
    ];
    match checks.into_iter().find(|(_, maximum, found)| found > maximum) {
        Some((limit, maximum, found)) => Err(LimitExceeded { limit, maximum, found }),
        None => Ok(()),
    }
}

/// What one selection set holds once expanded.
#[derive(Debug, Clone, Copy, Default)]
struct Size {
    selections: u64,
    aliases: u64,
    directives: u64,
    /// Fields not inside another field of this set: an operation's root fields.
    top_fields: u64,
    depth: u64,
}

impl Size {
    /// Adds a fragment's size where it is spread, `depth` fields down.
    fn add_spread(&mut self, fragment: &Size, spread: &Spread) {
        self.selections = self.selections.saturating_add(fragment.selections);
        self.aliases = self.aliases.saturating_add(fragment.aliases);
        self.directives = self.directives.saturating_add(fragment.directives);
        if spread.depth == 0 {
            self.top_fields = self.top_fields.saturating_add(fragment.top_fields);
        }
        self.depth = self.depth.max(spread.depth.saturating_add(fragment.depth));
    }
}

/// A fragment spread found in a selection set, not yet expanded.
struct Spread<'a> {
    fragment: &'a str,
    /// Fields enclosing the spread within its own selection set.
    depth: u64,
    pos: Pos,
}

/// A selection set's own size, with the spreads it still has to add.
struct Unexpanded<'a> {
    own: Size,
    spreads: Vec<Spread<'a>>,
}

/// Reads one selection set, inline fragments included, without following spreads. An
/// explicit stack rather than recursion: the walk must not trust the parser's nesting limit.
fn unexpanded(selection_set: &SelectionSet, extra_directives: usize) -> Unexpanded<'_> {
    let mut own = Size {
        directives: extra_directives as u64,
        ..Size::default()
    };
    let mut spreads = Vec::new();
    let mut pending = vec![(selection_set, 0_u64)];
    while let Some((set, depth)) = pending.pop() {
        for selection in &set.items {
            own.directives = own.directives.saturating_add(selection.node.directives().len() as u64);
            match &selection.node {
                Selection::Field(field) => {
                    own.selections = own.selections.saturating_add(1);
                    own.aliases = own.aliases.saturating_add(u64::from(field.node.alias.is_some()));
                    own.top_fields = own.top_fields.saturating_add(u64::from(depth == 0));
                    own.depth = own.depth.max(depth + 1);
                    pending.push((&field.node.selection_set.node, depth + 1));
                }
                Selection::InlineFragment(inline) => pending.push((&inline.node.selection_set.node, depth)),
                Selection::FragmentSpread(spread) => spreads.push(Spread {
                    fragment: spread.node.fragment_name.node.as_str(),
                    depth,
                    pos: spread.pos,
                }),
            }
        }
    }
    Unexpanded { own, spreads }
}

enum Sizing {
    InProgress,
    Done(Size),
}

/// Fragment sizes, each computed once and then reused for every spread of it.
struct FragmentSizes<'a> {
    document: &'a ExecutableDocument,
    sizes: HashMap<&'a str, Sizing>,
}

/// A selection set whose spreads are being added, the next one at `next`.
struct Frame<'a> {
    fragment: Option<&'a str>,
    set: Unexpanded<'a>,
    next: usize,
}

impl<'a> FragmentSizes<'a> {
    fn new(document: &'a ExecutableDocument) -> Self {
        Self {
            document,
            sizes: HashMap::new(),
        }
    }

    /// The operation's expanded size. Fragments are expanded depth first with an explicit
    /// stack, so a long chain of fragments cannot overflow the thread's stack either.
    fn operation_size(&mut self, operation: &'a OperationDefinition) -> Result<Size, FragmentCycle> {
        let variable_directives: usize = operation
            .variable_definitions
            .iter()
            .map(|variable| variable.node.directives.len())
            .sum();
        let set = unexpanded(
            &operation.selection_set.node,
            operation.directives.len() + variable_directives,
        );
        let mut stack = vec![Frame {
            fragment: None,
            set,
            next: 0,
        }];
        while let Some(frame) = stack.last_mut() {
            let Some(spread) = frame.set.spreads.get(frame.next) else {
                let Some(done) = stack.pop() else { break };
                match done.fragment {
                    Some(name) => {
                        self.sizes.insert(name, Sizing::Done(done.set.own));
                    }
                    None => return Ok(done.set.own),
                }
                continue;
            };
            match self.sizes.get(spread.fragment) {
                Some(Sizing::Done(size)) => {
                    frame.set.own.add_spread(size, spread);
                    frame.next += 1;
                }
                Some(Sizing::InProgress) => {
                    return Err(FragmentCycle {
                        fragment: spread.fragment.to_owned(),
                        pos: spread.pos,
                    });
                }
                None => match self.document.fragments.get_key_value(spread.fragment) {
                    // Unknown: async-graphql reports it; here it adds nothing.
                    None => frame.next += 1,
                    // Sized on a new frame; this frame adds it when it comes back to it.
                    Some((name, definition)) => {
                        let set = unexpanded(&definition.node.selection_set.node, definition.node.directives.len());
                        self.sizes.insert(name.as_str(), Sizing::InProgress);
                        stack.push(Frame {
                            fragment: Some(name.as_str()),
                            set,
                            next: 0,
                        });
                    }
                },
            }
        }
        // Not reached: the operation's own frame is popped last, and returns.
        Ok(Size::default())
    }
}

/// Counts the lexical tokens of a GraphQL text in one pass over its bytes, without
/// building them: punctuators (`...` is one), names, numbers and strings (block strings
/// too) count one each; white space, commas and comments count nothing. Cheap enough to
/// run on the raw text before parsing it. Text that is not GraphQL (a stray character)
/// counts one per character, so the count never falls short of what the parser will see.
pub fn count_tokens(query: &str) -> u64 {
    let bytes = query.as_bytes();
    let mut tokens = 0_u64;
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        at = match byte {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => at + 1,
            b'#' => skip_while(bytes, at + 1, |byte| byte != b'\n' && byte != b'\r'),
            0xEF if bytes[at..].starts_with("\u{FEFF}".as_bytes()) => at + 3,
            _ => {
                tokens += 1;
                match byte {
                    b'"' if bytes[at..].starts_with(b"\"\"\"") => block_string_end(bytes, at + 3),
                    b'"' => string_end(bytes, at + 1),
                    b'.' if bytes[at..].starts_with(b"...") => at + 3,
                    b'_' | b'a'..=b'z' | b'A'..=b'Z' => skip_while(bytes, at + 1, is_name_byte),
                    b'-' | b'0'..=b'9' => number_end(bytes, at + 1),
                    // One character, however many bytes it takes.
                    _ => skip_while(bytes, at + 1, |byte| (0x80..0xC0).contains(&byte)),
                }
            }
        };
    }
    tokens
}

fn is_name_byte(byte: u8) -> bool {
    byte == b'_' || byte.is_ascii_alphanumeric()
}

fn skip_while(bytes: &[u8], from: usize, keep: impl Fn(u8) -> bool) -> usize {
    bytes[from..]
        .iter()
        .position(|&byte| !keep(byte))
        .map_or(bytes.len(), |offset| from + offset)
}

/// After `-12.5e+3`, or a malformed number the parser will refuse anyway.
fn number_end(bytes: &[u8], mut at: usize) -> usize {
    while let Some(&byte) = bytes.get(at) {
        let exponent_sign = (byte == b'+' || byte == b'-') && matches!(bytes[at - 1], b'e' | b'E');
        if !(is_name_byte(byte) || byte == b'.' || exponent_sign) {
            break;
        }
        at += 1;
    }
    at
}

/// After the closing quote of a `"…"` string; a string cannot span lines.
fn string_end(bytes: &[u8], mut at: usize) -> usize {
    while let Some(&byte) = bytes.get(at) {
        match byte {
            b'"' => return at + 1,
            b'\\' => at += 2,
            b'\n' | b'\r' => return at,
            _ => at += 1,
        }
    }
    bytes.len()
}

/// After the closing `"""` of a block string, where `\"""` is the only escape.
fn block_string_end(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() {
        if bytes[at..].starts_with(b"\\\"\"\"") {
            at += 4;
        } else if bytes[at..].starts_with(b"\"\"\"") {
            return at + 3;
        } else {
            at += 1;
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests;
