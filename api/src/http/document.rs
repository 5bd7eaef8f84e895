//! Checks on a parsed GraphQL document that async-graphql does not make itself: how many aliases
//! it uses (each one multiplies work) and how long its strings are, in literals and variables.

use async_graphql::{
    Name, Positioned,
    parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet},
};
use async_graphql_value::Value;

pub struct DocumentLimits {
    pub max_aliases: usize,
    pub max_string_length: usize,
}

/// `Err` with a message for the client when the document or its variables go over a limit.
pub fn check(
    document: &ExecutableDocument,
    variables: Option<&serde_json::Value>,
    limits: &DocumentLimits,
) -> Result<(), String> {
    let mut stats = Stats::default();
    for (_, operation) in document.operations.iter() {
        let operation = &operation.node;
        for variable in &operation.variable_definitions {
            if let Some(default) = &variable.node.default_value {
                stats.value(&default.node.clone().into_value());
            }
        }
        for directive in &operation.directives {
            stats.arguments(&directive.node.arguments);
        }
        stats.selection_set(&operation.selection_set.node);
    }
    for fragment in document.fragments.values() {
        for directive in &fragment.node.directives {
            stats.arguments(&directive.node.arguments);
        }
        stats.selection_set(&fragment.node.selection_set.node);
    }
    if let Some(variables) = variables {
        stats.json(variables);
    }
    if stats.aliases > limits.max_aliases {
        return Err(format!(
            "the query uses {} aliases; at most {} are allowed",
            stats.aliases, limits.max_aliases
        ));
    }
    if stats.longest_string > limits.max_string_length {
        return Err(format!(
            "a string in the request is longer than {} characters",
            limits.max_string_length
        ));
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

#[derive(Default)]
struct Stats {
    aliases: usize,
    longest_string: usize,
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
                    self.arguments(&field.arguments);
                    for directive in &field.directives {
                        self.arguments(&directive.node.arguments);
                    }
                    self.selection_set(&field.selection_set.node);
                }
                Selection::FragmentSpread(spread) => {
                    for directive in &spread.node.directives {
                        self.arguments(&directive.node.arguments);
                    }
                }
                Selection::InlineFragment(fragment) => {
                    for directive in &fragment.node.directives {
                        self.arguments(&directive.node.arguments);
                    }
                    self.selection_set(&fragment.node.selection_set.node);
                }
            }
        }
    }

    fn arguments(&mut self, arguments: &[(Positioned<Name>, Positioned<Value>)]) {
        for (_, value) in arguments {
            self.value(&value.node);
        }
    }

    fn value(&mut self, value: &Value) {
        match value {
            Value::String(text) => self.string(text),
            Value::List(items) => items.iter().for_each(|item| self.value(item)),
            Value::Object(fields) => fields.values().for_each(|field| self.value(field)),
            _ => {}
        }
    }

    fn json(&mut self, value: &serde_json::Value) {
        match value {
            serde_json::Value::String(text) => self.string(text),
            serde_json::Value::Array(items) => items.iter().for_each(|item| self.json(item)),
            serde_json::Value::Object(fields) => {
                for (key, field) in fields {
                    self.string(key);
                    self.json(field);
                }
            }
            _ => {}
        }
    }

    fn string(&mut self, text: &str) {
        self.longest_string = self.longest_string.max(text.chars().count());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    const LIMITS: DocumentLimits = DocumentLimits {
        max_aliases: 2,
        max_string_length: 5,
    };

    #[test]
    fn counts_aliases_in_fields_and_fragments() {
        let ok = parse_query("{ a: viewer { id } ...F } fragment F on Query { b: viewer { id } }")
            .unwrap();
        assert!(check(&ok, None, &LIMITS).is_ok());
        let over =
            parse_query("{ a: viewer { x: id } ...F } fragment F on Query { b: viewer { id } }")
                .unwrap();
        assert!(check(&over, None, &LIMITS).is_err());
    }

    #[test]
    fn measures_strings_in_literals_and_variables() {
        let long_literal = parse_query(r#"{ node(id: "abcdef") { id } }"#).unwrap();
        assert!(check(&long_literal, None, &LIMITS).is_err());
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
