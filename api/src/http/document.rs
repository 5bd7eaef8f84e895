//! Checks on a GraphQL document that async-graphql does not make itself, each bounded by the
//! document's own size so that any document the body limit admits is judged in milliseconds:
//!
//! - nesting, counted on the text before it is parsed (the parser recurses);
//! - fragment spreads, and the size of the operation with every spread expanded, computed once
//!   per fragment: a few hundred bytes of fragments spreading each other twice expand to
//!   billions of fields, and validation visits every one of them;
//! - aliases (each one multiplies work);
//! - introspection nested through `fields`, `interfaces`, `possibleTypes` and `inputFields`
//!   (graphql-js's `MaxIntrospectionDepthRule`);
//! - strings, in literals and variables: their length, and control characters (only tab,
//!   newline and carriage return are text), which PostgreSQL would refuse and logs would
//!   mangle.

use std::collections::{HashMap, HashSet};

use async_graphql::{
    Name, Positioned,
    parser::types::{
        ExecutableDocument, FragmentDefinition, OperationType, Selection, SelectionSet,
    },
};
use async_graphql_value::Value;

use crate::config::Config;

/// Introspection list fields nested deeper than this are refused; the introspection GraphiQL
/// and code generators send nests them once.
const MAX_INTROSPECTION_DEPTH: usize = 3;
/// The introspection fields that list types, counted by [`MAX_INTROSPECTION_DEPTH`].
const INTROSPECTION_LISTS: [&str; 4] = ["fields", "interfaces", "possibleTypes", "inputFields"];

pub struct DocumentLimits {
    pub max_aliases: usize,
    pub max_string_length: usize,
    /// Fields an operation may select with its fragments expanded (complexity counts each
    /// field at least once, so a larger document could never pass it).
    pub max_fields: usize,
    pub max_fragment_spreads: usize,
    /// Brackets (`{`, `(`, `[`) open at once in the text.
    pub max_nesting: usize,
}

impl From<&Config> for DocumentLimits {
    fn from(config: &Config) -> Self {
        Self {
            max_aliases: config.max_aliases,
            max_string_length: config.max_string_length,
            max_fields: config.max_complexity,
            max_fragment_spreads: config.max_fragment_spreads,
            // Selections nest up to the depth limit, each inline fragment adds a level, and
            // arguments nest a little more.
            max_nesting: config.max_depth * 2 + 8,
        }
    }
}

/// Before parsing: `Err` when the text nests brackets deeper than the limit.
pub fn check_size(query: &str, limits: &DocumentLimits) -> Result<(), String> {
    if nesting(query) > limits.max_nesting {
        return Err(format!(
            "the query nests more than {} levels deep",
            limits.max_nesting
        ));
    }
    Ok(())
}

/// The deepest bracket nesting of GraphQL text, skipping strings and comments.
fn nesting(query: &str) -> usize {
    let bytes = query.as_bytes();
    let (mut depth, mut deepest, mut at) = (0usize, 0usize, 0usize);
    while at < bytes.len() {
        match bytes[at] {
            b'#' => {
                while at < bytes.len() && bytes[at] != b'\n' && bytes[at] != b'\r' {
                    at += 1;
                }
            }
            b'"' if bytes[at..].starts_with(b"\"\"\"") => {
                at += 3;
                while at < bytes.len() && !bytes[at..].starts_with(b"\"\"\"") {
                    at += if bytes[at..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                at += 2;
            }
            b'"' => {
                at += 1;
                while at < bytes.len() && bytes[at] != b'"' && bytes[at] != b'\n' {
                    at += if bytes[at] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'(' | b'[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b')' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        at += 1;
    }
    deepest
}

/// `Err` with a message for the client when the document or its variables go over a limit.
pub fn check(
    document: &ExecutableDocument,
    variables: Option<&serde_json::Value>,
    limits: &DocumentLimits,
) -> Result<(), String> {
    let mut stats = Stats::default();
    for (name, operation) in document.operations.iter() {
        let operation = &operation.node;
        let place = name.map_or("the operation", Name::as_str);
        for variable in &operation.variable_definitions {
            if let Some(default) = &variable.node.default_value {
                let path = format!("${}", variable.node.name.node);
                stats.value(&path, &default.node.clone().into_value());
            }
        }
        for directive in &operation.directives {
            stats.arguments(place, &directive.node.arguments);
        }
        stats.selection_set(&operation.selection_set.node);
    }
    for (name, fragment) in &document.fragments {
        for directive in &fragment.node.directives {
            stats.arguments(name.as_str(), &directive.node.arguments);
        }
        stats.selection_set(&fragment.node.selection_set.node);
    }
    if let Some(serde_json::Value::Object(variables)) = variables {
        for (name, value) in variables {
            stats.json(&format!("${name}"), value);
        }
    }
    if stats.spreads > limits.max_fragment_spreads {
        return Err(format!(
            "the query spreads fragments {} times; at most {} are allowed",
            stats.spreads, limits.max_fragment_spreads
        ));
    }
    if stats.aliases > limits.max_aliases {
        return Err(format!(
            "the query uses {} aliases; at most {} are allowed",
            stats.aliases, limits.max_aliases
        ));
    }
    if let Some(path) = stats.control_character {
        return Err(format!(
            "{path} contains a control character; only tab, newline and carriage return are allowed"
        ));
    }
    if stats.longest_string > limits.max_string_length {
        return Err(format!(
            "a string in the request is longer than {} characters",
            limits.max_string_length
        ));
    }
    let mut expansion = Expansion::new(&document.fragments, limits.max_fields);
    let mut fields = 0usize;
    for (_, operation) in document.operations.iter() {
        fields = fields.saturating_add(expansion.selection_set(&operation.node.selection_set.node));
    }
    for fragment in document.fragments.values() {
        fields = fields.saturating_add(expansion.selection_set(&fragment.node.selection_set.node));
    }
    if fields > limits.max_fields {
        return Err("Query is too complex.".into());
    }
    for (_, operation) in document.operations.iter() {
        let mut introspection = Introspection::new(&document.fragments);
        if introspection.too_deep(&operation.node.selection_set.node) {
            return Err("Maximum introspection depth exceeded".into());
        }
    }
    Ok(())
}

/// The operation that would run: its name (if it has one) and type. `None` when the document
/// does not select one unambiguously (GraphQL execution then reports the error).
pub fn selected_operation<'a>(
    document: &'a ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<(Option<&'a str>, OperationType)> {
    let mut operations = document.operations.iter();
    let (name, operation) = match operation_name {
        Some(wanted) => operations.find(|(found, _)| found.map(Name::as_str) == Some(wanted))?,
        None => {
            let first = operations.next()?;
            operations.next().is_none().then_some(first)?
        }
    };
    Some((name.map(Name::as_str), operation.node.ty))
}

type Fragments = HashMap<Name, Positioned<FragmentDefinition>>;

/// Fields selected with fragments expanded, each fragment's count computed once. Counts stop
/// growing past the limit, and a fragment that spreads itself counts as nothing here
/// (validation refuses the cycle).
struct Expansion<'a> {
    fragments: &'a Fragments,
    cap: usize,
    sizes: HashMap<&'a str, usize>,
    expanding: HashSet<&'a str>,
}

impl<'a> Expansion<'a> {
    fn new(fragments: &'a Fragments, limit: usize) -> Self {
        Self {
            fragments,
            cap: limit.saturating_add(1),
            sizes: HashMap::new(),
            expanding: HashSet::new(),
        }
    }

    fn selection_set(&mut self, set: &'a SelectionSet) -> usize {
        let mut fields = 0usize;
        for item in &set.items {
            let size = match &item.node {
                Selection::Field(field) => 1 + self.selection_set(&field.node.selection_set.node),
                Selection::InlineFragment(fragment) => {
                    self.selection_set(&fragment.node.selection_set.node)
                }
                Selection::FragmentSpread(spread) => {
                    self.fragment(spread.node.fragment_name.node.as_str())
                }
            };
            fields = fields.saturating_add(size).min(self.cap);
        }
        fields
    }

    fn fragment(&mut self, name: &'a str) -> usize {
        if let Some(size) = self.sizes.get(name) {
            return *size;
        }
        let Some((key, fragment)) = self.fragments.get_key_value(name) else {
            return 0;
        };
        if !self.expanding.insert(key.as_str()) {
            return 0;
        }
        let size = self.selection_set(&fragment.node.selection_set.node);
        self.expanding.remove(key.as_str());
        self.sizes.insert(key.as_str(), size);
        size
    }
}

/// Whether introspection nests its type lists deeper than [`MAX_INTROSPECTION_DEPTH`],
/// following each fragment once.
struct Introspection<'a> {
    fragments: &'a Fragments,
    visited: HashSet<&'a str>,
}

impl<'a> Introspection<'a> {
    fn new(fragments: &'a Fragments) -> Self {
        Self {
            fragments,
            visited: HashSet::new(),
        }
    }

    /// Looks for `__schema` and `__type` in the operation's selections.
    fn too_deep(&mut self, set: &'a SelectionSet) -> bool {
        set.items.iter().any(|item| match &item.node {
            Selection::Field(field) => {
                let name = field.node.name.node.as_str();
                if name == "__schema" || name == "__type" {
                    self.visited.clear();
                    self.lists(&field.node.selection_set.node, 0)
                } else {
                    self.too_deep(&field.node.selection_set.node)
                }
            }
            Selection::InlineFragment(fragment) => self.too_deep(&fragment.node.selection_set.node),
            Selection::FragmentSpread(spread) => self
                .spread(spread.node.fragment_name.node.as_str())
                .is_some_and(|set| self.too_deep(set)),
        })
    }

    /// Below an introspection root, with `depth` type lists above.
    fn lists(&mut self, set: &'a SelectionSet, depth: usize) -> bool {
        set.items.iter().any(|item| match &item.node {
            Selection::Field(field) => {
                let name = field.node.name.node.as_str();
                let depth = depth + usize::from(INTROSPECTION_LISTS.contains(&name));
                depth > MAX_INTROSPECTION_DEPTH || self.lists(&field.node.selection_set.node, depth)
            }
            Selection::InlineFragment(fragment) => {
                self.lists(&fragment.node.selection_set.node, depth)
            }
            Selection::FragmentSpread(spread) => self
                .spread(spread.node.fragment_name.node.as_str())
                .is_some_and(|set| self.lists(set, depth)),
        })
    }

    /// A fragment's selections the first time it is spread; `None` after.
    fn spread(&mut self, name: &str) -> Option<&'a SelectionSet> {
        let (key, fragment) = self.fragments.get_key_value(name)?;
        self.visited
            .insert(key.as_str())
            .then_some(&fragment.node.selection_set.node)
    }
}

#[derive(Default)]
struct Stats {
    aliases: usize,
    spreads: usize,
    longest_string: usize,
    /// Where the first string with a control character was found.
    control_character: Option<String>,
}

impl Stats {
    fn selection_set(&mut self, set: &SelectionSet) {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    if field.alias.is_some() {
                        self.aliases += 1;
                    }
                    let name = field.name.node.as_str();
                    self.arguments(name, &field.arguments);
                    for directive in &field.directives {
                        self.arguments(name, &directive.node.arguments);
                    }
                    self.selection_set(&field.selection_set.node);
                }
                Selection::FragmentSpread(spread) => {
                    self.spreads += 1;
                    let name = spread.node.fragment_name.node.as_str();
                    for directive in &spread.node.directives {
                        self.arguments(name, &directive.node.arguments);
                    }
                }
                Selection::InlineFragment(fragment) => {
                    for directive in &fragment.node.directives {
                        self.arguments("an inline fragment", &directive.node.arguments);
                    }
                    self.selection_set(&fragment.node.selection_set.node);
                }
            }
        }
    }

    /// The arguments of `field`, named `field.argument` in messages.
    fn arguments(&mut self, field: &str, arguments: &[(Positioned<Name>, Positioned<Value>)]) {
        for (name, value) in arguments {
            self.value(&format!("{field}.{}", name.node), &value.node);
        }
    }

    fn value(&mut self, path: &str, value: &Value) {
        match value {
            Value::String(text) => self.string(path, text),
            Value::List(items) => items.iter().for_each(|item| self.value(path, item)),
            Value::Object(fields) => {
                for (name, field) in fields {
                    self.value(&format!("{path}.{name}"), field);
                }
            }
            _ => {}
        }
    }

    fn json(&mut self, path: &str, value: &serde_json::Value) {
        match value {
            serde_json::Value::String(text) => self.string(path, text),
            serde_json::Value::Array(items) => items.iter().for_each(|item| self.json(path, item)),
            serde_json::Value::Object(fields) => {
                for (key, field) in fields {
                    self.string(path, key);
                    self.json(&format!("{path}.{key}"), field);
                }
            }
            _ => {}
        }
    }

    fn string(&mut self, path: &str, text: &str) {
        self.longest_string = self.longest_string.max(text.chars().count());
        if self.control_character.is_none() && text.chars().any(is_forbidden_control) {
            self.control_character = Some(path.to_owned());
        }
    }
}

/// Control characters that are not line structure: C0 but tab, LF and CR; DEL; C1.
fn is_forbidden_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    const LIMITS: DocumentLimits = DocumentLimits {
        max_aliases: 2,
        max_string_length: 5,
        max_fields: 50,
        max_fragment_spreads: 40,
        max_nesting: 10,
    };

    fn checked(query: &str) -> Result<(), String> {
        check(
            &parse_query(query).expect("the test query parses"),
            None,
            &LIMITS,
        )
    }

    #[test]
    fn counts_aliases_in_fields_and_fragments() {
        assert!(
            checked("{ a: viewer { id } ...F } fragment F on Query { b: viewer { id } }").is_ok()
        );
        assert!(
            checked("{ a: viewer { x: id } ...F } fragment F on Query { b: viewer { id } }")
                .is_err()
        );
    }

    #[test]
    fn measures_strings_in_literals_and_variables() {
        assert!(checked(r#"{ node(id: "abcdef") { id } }"#).is_err());
        let short = parse_query(r#"query($id: ID!) { node(id: $id) { id } }"#).unwrap();
        assert!(check(&short, Some(&serde_json::json!({"id": "abc"})), &LIMITS).is_ok());
        assert!(
            check(
                &short,
                Some(&serde_json::json!({"id": ["abcdef"]})),
                &LIMITS
            )
            .is_err()
        );
    }

    #[test]
    fn names_where_a_control_character_is() {
        let message = checked("{ node(id: \"a\\u0000\") { id } }").unwrap_err();
        assert!(
            message.starts_with("node.id contains a control character"),
            "{message}"
        );
        let document = parse_query("mutation($input: In!) { go(input: $input) { ok } }").unwrap();
        let variables = serde_json::json!({ "input": { "title": "a\u{1b}[31m" } });
        let message = check(&document, Some(&variables), &LIMITS).unwrap_err();
        assert!(message.starts_with("$input.title contains"), "{message}");
        for allowed in ["a\tb", "a\nb", "a\r\nb", "é😀", "\u{202e}x"] {
            let variables = serde_json::json!({ "input": { "t": allowed } });
            assert!(
                check(&document, Some(&variables), &LIMITS).is_ok(),
                "{allowed:?}"
            );
        }
        for refused in ["\u{0}", "\u{7}", "\u{7f}", "\u{85}"] {
            let variables = serde_json::json!({ "input": { "t": refused } });
            assert!(
                check(&document, Some(&variables), &LIMITS).is_err(),
                "{refused:?}"
            );
        }
    }

    /// `{ ...F<levels> }` where each fragment spreads the one below twice.
    fn fragment_bomb(levels: usize) -> String {
        let mut query = format!("{{ ...F{levels} }} fragment F0 on Query {{ viewer {{ id }} }}");
        for level in 1..=levels {
            let below = level - 1;
            query.push_str(&format!(
                " fragment F{level} on Query {{ ...F{below} ...F{below} }}"
            ));
        }
        query
    }

    #[test]
    fn expands_fragments_once_each_and_refuses_a_bomb() {
        assert!(checked(&fragment_bomb(3)).is_ok(), "16 fields in all");
        let started = std::time::Instant::now();
        let refused = checked(&fragment_bomb(19));
        assert_eq!(refused, Err("Query is too complex.".into()));
        assert!(started.elapsed() < std::time::Duration::from_millis(50));
        let many = format!(
            "{{ {} }} fragment F on Query {{ __typename }}",
            "...F ".repeat(41)
        );
        assert!(
            checked(&many)
                .unwrap_err()
                .contains("spreads fragments 41 times")
        );
        let cycle = "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }";
        assert!(checked(cycle).is_ok(), "cycles are left to validation");
    }

    #[test]
    fn refuses_deep_introspection_but_not_graphiqls() {
        let nested = |levels: usize| {
            let mut query = "{ __schema { types { name".to_owned();
            query.push_str(&" fields { type { name".repeat(levels));
            query.push_str(&" } }".repeat(levels));
            query.push_str(" } } }");
            query
        };
        assert!(checked(&nested(3)).is_ok());
        assert_eq!(
            checked(&nested(4)),
            Err("Maximum introspection depth exceeded".into())
        );
        let through_fragments = "{ __type(name: \"User\") { ...A } } \
            fragment A on __Type { fields { type { ...B } } } \
            fragment B on __Type { interfaces { possibleTypes { inputFields { name } } } }";
        assert!(checked(through_fragments).is_err());
    }

    #[test]
    fn measures_nesting_outside_strings_and_comments() {
        assert_eq!(nesting("{ a { b(c: [1, {d: 2}]) } }"), 5);
        assert_eq!(nesting(r#"{ a(s: "{{{{\"{{") # {{{{ "#), 2);
        assert_eq!(nesting("{ a(s: \"\"\"{{{{ \\\"\"\" {{\"\"\") }"), 2);
        let deep = "{a".repeat(11) + &"}".repeat(11);
        assert!(check_size(&deep, &LIMITS).is_err());
        assert!(check_size("{ a { b } }", &LIMITS).is_ok());
    }

    #[test]
    fn finds_the_operation_to_run() {
        let doc = parse_query(
            "query A { viewer { id } } mutation B { signOut(input: {refreshToken: \"x\"}) { ok } }",
        )
        .unwrap();
        assert_eq!(
            selected_operation(&doc, Some("B")),
            Some((Some("B"), OperationType::Mutation))
        );
        assert_eq!(
            selected_operation(&doc, Some("A")),
            Some((Some("A"), OperationType::Query))
        );
        assert_eq!(selected_operation(&doc, Some("C")), None);
        assert_eq!(selected_operation(&doc, None), None);
        let single =
            parse_query("mutation { signOut(input: {refreshToken: \"x\"}) { ok } }").unwrap();
        assert_eq!(
            selected_operation(&single, None),
            Some((None, OperationType::Mutation))
        );
    }
}
