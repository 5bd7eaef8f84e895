//! Hostile input (issue 10, point 7): nothing a client sends may produce `INTERNAL` or a 5xx.
//!
//! [`operations`] is a table of every input of the schema that can take a string: String, ID,
//! enum and custom-scalar arguments, of root and nested fields, and the fields of input objects
//! at any depth; a test fails when `schema.graphql` gains one the table does not cover. Each
//! comes with a request that is valid as it is, on a seeded organisation, so that only the
//! hostile value is wrong. Every hostile string goes to every input over POST, and to every
//! query over GET, as a variable and (control characters) as a literal; the WebSocket gets the
//! control characters and a sample of the rest, for every input. What the server must answer:
//!
//! - never `INTERNAL`, never a 5xx, never a dropped connection: success, or a client error;
//! - control characters other than tab, LF and CR: `BAD_USER_INPUT` naming the field;
//! - unusual but legal text (emoji, an RTL override, combining marks, joiners, noncharacters,
//!   SQL-looking text): accepted wherever people write text, and read back byte for byte;
//! - nothing half-written: the whole store is the same after the requests refused up front,
//!   and after every other refused mutation is sent a second time;
//! - what was stored still reads back everywhere (export, calendar feed, insights).
//!
//! Then what lies beyond GraphQL inputs: calendar-feed paths, the `Authorization` header and
//! the `connection_init` payload, `operationName`, persisted-query hashes, GET parameters and
//! bodies that are not JSON.

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt::Debug,
    path::Path,
    sync::atomic::{AtomicUsize, Ordering},
};

use async_graphql::parser::{
    parse_schema,
    types::{BaseType, Type, TypeKind, TypeSystemDefinition},
};
use futures_util::{StreamExt, future::join_all, stream};
use reqwest::{StatusCode, header::HeaderValue};
use sea_orm::{DatabaseConnection, EntityTrait};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tete_tests::{PASSWORD, Session, TestApp, spawn_app_with};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::{
    support::{
        add_item, create_action_item, create_note, day, mutate, one_on_ones, schedule, wire,
    },
    ws::{TRANSPORT_WS, WAIT, Ws},
};

/// The server's default `TETE_MAX_STRING_LENGTH`, which these tests keep.
const MAX_STRING_LENGTH: usize = 100_000;
/// The WebSocket's largest message; a larger one closes the socket with 1009.
const MAX_WS_MESSAGE: usize = 64 * 1024;
/// The longest URI the `http` crate parses; a longer one is answered 414 before any handler.
const MAX_URI: usize = u16::MAX as usize - 1;
/// Requests in flight at once from one test: fewer than the test server's database
/// connections, so none waits for one.
const CONCURRENCY: usize = 4;
/// The error codes a client may be given for what it sent.
const CLEAN: [&str; 7] = [
    "BAD_USER_INPUT",
    "NOT_FOUND",
    "FORBIDDEN",
    "CONFLICT",
    "RATE_LIMITED",
    "UNAUTHENTICATED",
    "PERSISTED_QUERY_NOT_FOUND",
];
const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

// ---------------------------------------------------------------------------------------------
// The hostile strings.

/// What kind of hostile string it is, which decides what the server must answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    /// Holds a control character other than tab, LF or CR: `BAD_USER_INPUT` naming the field.
    Control,
    /// Longer than the request limit: `BAD_USER_INPUT`.
    OverLimit,
    /// Unusual but legal text: accepted wherever text goes, and stored as sent.
    Legal,
    /// Anything else: accepted or refused, cleanly.
    Odd,
    /// A valid but extreme value of a scalar (a date in year 262142): accepted or refused.
    Edge,
}

impl Class {
    /// Whether the server refuses it before any resolver runs (the request's own checks).
    fn refused_before_running(self) -> bool {
        matches!(self, Class::Control | Class::OverLimit)
    }
}

struct Hostile {
    name: &'static str,
    value: String,
    class: Class,
}

impl Hostile {
    fn new(name: &'static str, value: impl Into<String>, class: Class) -> Self {
        Self {
            name,
            value: value.into(),
            class,
        }
    }
}

/// `len` letters and digits from a fixed pseudo-random sequence: text that no compression
/// shrinks below a database's index or page limits.
fn noise(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            char::from(ALPHABET[(state >> 33) as usize % ALPHABET.len()])
        })
        .collect()
}

/// Every hostile string, sent to every input.
fn hostile_strings() -> Vec<Hostile> {
    use Class::*;
    vec![
        Hostile::new("NUL", "before\u{0}after", Control),
        Hostile::new("C0 control", "\u{1}", Control),
        Hostile::new("ANSI escape", "\u{1b}[31mred\u{1b}[0m", Control),
        Hostile::new("DEL", "del\u{7f}", Control),
        Hostile::new("C1 control", "next\u{85}line", Control),
        Hostile::new("100,000 characters", noise(MAX_STRING_LENGTH), Odd),
        Hostile::new(
            "100,001 characters",
            noise(MAX_STRING_LENGTH + 1),
            OverLimit,
        ),
        Hostile::new("10,000 characters on one line", noise(10_000), Odd),
        Hostile::new("emoji", "😀👩‍👩‍👧", Legal),
        Hostile::new("RTL override", "\u{202e}fdp.exe", Legal),
        Hostile::new(
            "combining marks",
            "Z\u{351}\u{36b}a\u{306}\u{301}l\u{30a}g\u{35b}o\u{489}",
            Legal,
        ),
        Hostile::new(
            "zero-width joiner",
            "zero\u{200d}width\u{200b}joiner",
            Legal,
        ),
        Hostile::new(
            "BOM and noncharacters",
            "\u{feff}bom\u{fffe}\u{10ffff}",
            Legal,
        ),
        Hostile::new("SQL injection", "'; DROP TABLE users; --", Legal),
        Hostile::new("line breaks", "one\r\ntwo\nthree", Odd),
        Hostile::new("whitespace only", " \t\u{a0}\u{3000} ", Odd),
        Hostile::new("empty", "", Odd),
    ]
}

/// Extreme values of the date scalars, for the inputs that take them.
fn edge_values(kind: Kind) -> Vec<Hostile> {
    let values: &[&str] = match kind {
        Kind::DateTime => &[
            "9999-12-31T23:59:59.999Z",
            "0000-01-01T00:00:00Z",
            "-4714-11-23T00:00:00Z",
            "+262142-12-31T23:59:59Z",
            "-262143-01-01T00:00:00Z",
        ],
        Kind::Date => &[
            "9999-12-31",
            "0000-01-01",
            "-4714-11-23",
            "+262142-12-31",
            "-262143-01-01",
        ],
        _ => &[],
    };
    values
        .iter()
        .map(|value| Hostile::new(value, *value, Class::Edge))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The schema, and every input position that can take a string.

/// The types of `schema.graphql` that requests are made of.
#[derive(Default)]
struct Schema {
    /// Input object → its fields and their types.
    inputs: BTreeMap<String, Vec<(String, Type)>>,
    enums: BTreeSet<String>,
    /// Every argument of every field of an object type: `Type.field`, the argument, its type.
    arguments: Vec<(String, String, Type)>,
}

/// The type a (list or non-null) type is made of.
fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(item) => named(item),
    }
}

impl Schema {
    /// `schema.graphql`, which `schema_file_matches_the_served_schema` keeps equal to what the
    /// server serves.
    fn committed() -> Self {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema.graphql");
        let text = std::fs::read_to_string(&path).expect("schema.graphql is readable");
        let document = parse_schema(text).expect("schema.graphql parses");
        let mut schema = Self::default();
        for definition in document.definitions {
            let TypeSystemDefinition::Type(definition) = definition else {
                continue;
            };
            let definition = definition.node;
            let name = definition.name.node.to_string();
            match definition.kind {
                TypeKind::Object(object) => {
                    for field in object.fields {
                        let field = field.node;
                        for argument in field.arguments {
                            schema.arguments.push((
                                format!("{name}.{}", field.name.node),
                                argument.node.name.node.to_string(),
                                argument.node.ty.node,
                            ));
                        }
                    }
                }
                TypeKind::InputObject(input) => {
                    let fields = input
                        .fields
                        .into_iter()
                        .map(|field| (field.node.name.node.to_string(), field.node.ty.node))
                        .collect();
                    schema.inputs.insert(name, fields);
                }
                TypeKind::Enum(_) => {
                    schema.enums.insert(name);
                }
                _ => {}
            }
        }
        schema
    }

    /// `Type.field.argument[.inputField…]` for every argument, and every input-object field
    /// below one, whose type is not Int, Float or Boolean.
    fn string_inputs(&self) -> BTreeSet<String> {
        let mut positions = BTreeSet::new();
        for (field, argument, ty) in &self.arguments {
            self.collect(format!("{field}.{argument}"), ty, &mut positions);
        }
        positions
    }

    fn collect(&self, path: String, ty: &Type, positions: &mut BTreeSet<String>) {
        assert!(
            path.matches('.').count() < 12,
            "a recursive input at {path}"
        );
        let name = named(ty);
        if let Some(fields) = self.inputs.get(name) {
            for (field, ty) in fields {
                self.collect(format!("{path}.{field}"), ty, positions);
            }
        } else if !matches!(name, "Int" | "Float" | "Boolean") {
            positions.insert(path);
        }
    }

    /// `value` written as a GraphQL literal of type `ty`: names for enum values, quoted strings
    /// for anything that is not a name (so a hostile value stays a string wherever it is).
    fn literal(&self, value: &Value, ty: &str) -> String {
        match value {
            Value::Object(fields) => {
                let types = self.inputs.get(ty);
                let fields: Vec<String> = fields
                    .iter()
                    .filter(|(_, value)| !value.is_null())
                    .map(|(name, value)| {
                        let field_type = types
                            .and_then(|types| types.iter().find(|(field, _)| field == name))
                            .map_or("String", |(_, ty)| named(ty));
                        format!("{name}: {}", self.literal(value, field_type))
                    })
                    .collect();
                format!("{{{}}}", fields.join(", "))
            }
            Value::Array(items) => {
                let items: Vec<String> = items.iter().map(|item| self.literal(item, ty)).collect();
                format!("[{}]", items.join(", "))
            }
            Value::String(text) if self.enums.contains(ty) && is_name(text) => text.clone(),
            Value::String(text) => string_literal(text),
            other => other.to_string(),
        }
    }
}

fn is_name(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|first| first == '_' || first.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// A GraphQL string literal holding exactly `text`: control characters escaped as `\uXXXX`.
fn string_literal(text: &str) -> String {
    let mut literal = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => literal.push_str("\\\""),
            '\\' => literal.push_str("\\\\"),
            c if c.is_control() => literal.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => literal.push(c),
        }
    }
    literal.push('"');
    literal
}

// ---------------------------------------------------------------------------------------------
// The table: every string input, in a request that is valid around it.

/// What an input holds, which decides what the server may answer.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// Text a person writes: legal strings must be accepted, and read back as sent.
    Text(Readback),
    /// A `clientMutationId`: legal strings must be accepted, and echoed when the payload has one.
    Key { echoed: bool },
    /// A password, or a token the server only compares: accepted or refused.
    Secret,
    /// An id, cursor, email, URL or refresh token, which no hostile string is: never accepted.
    Reference,
    /// An enum: refused by validation.
    Enum,
    /// A `DateTime`: refused by validation, except its extreme values.
    DateTime,
    /// A `NaiveDate`: refused by validation, except its extreme values.
    Date,
}

impl Kind {
    /// Whether a hostile value may be accepted, so the case needs a base of its own.
    fn may_succeed(self) -> bool {
        matches!(self, Kind::Text(_) | Kind::Key { .. } | Kind::Secret)
    }

    fn is_typed(self) -> bool {
        matches!(self, Kind::Enum | Kind::DateTime | Kind::Date)
    }
}

/// How to read back text that was accepted.
#[derive(Clone, Copy, Debug)]
enum Readback {
    /// `node(id:)` with the id at `id_at` in the payload, by the same caller: `field` of `ty`.
    Node {
        id_at: &'static str,
        ty: &'static str,
        field: &'static str,
    },
    /// `query` as the user the payload signed in (its `accessToken`): the value at `at`.
    NewUser {
        query: &'static str,
        at: &'static str,
    },
}

fn read_node(id_at: &'static str, ty: &'static str, field: &'static str) -> Kind {
    Kind::Text(Readback::Node { id_at, ty, field })
}

/// Who sends an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Nobody,
    Ada,
    Ann,
    Max,
    Bob,
    Mia,
    Ben,
    Mo,
}

/// What each case of an operation that may succeed gets afresh, so that concurrent cases never
/// change (and read back) the same thing, and creations never collide.
#[derive(Clone, Copy, Debug)]
enum Fresh {
    /// Nothing: every case shares the base.
    Nothing,
    /// `input.email`: an address nobody has.
    Email,
    /// `input.agendaItemId`: an item of Mia's.
    AgendaItem,
    /// `input.actionItemId`: an action item of Mo's.
    ActionItem,
    /// `input.noteId`: a shared note of Ben's.
    Note,
    /// `input.meetingId`: a meeting of Max and Bob's series.
    Meeting,
}

/// How an operation carries the value under test.
enum Shape {
    /// `root(input: $input)` of a mutation whose input type is this.
    Input(&'static str),
    /// The variable `$v` of type `ty`, beside the variables `declared`.
    Variable {
        keyword: &'static str,
        ty: &'static str,
        declared: &'static str,
    },
}

/// Whether the value under test travels as a variable or inside the document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    Variables,
    Literal,
}

struct Operation {
    shape: Shape,
    /// The root selection, using `$input` or `$v`.
    body: String,
    /// The field at the root of the response.
    root: String,
    who: Who,
    /// Variables that make a valid request.
    base: Value,
    fresh: Fresh,
    fields: Vec<Field>,
}

struct Field {
    /// `Type.field.argument[.inputField…]`, as [`Schema::string_inputs`] names it.
    position: String,
    /// Where the value goes in the variables (a JSON pointer).
    at: String,
    kind: Kind,
}

impl Operation {
    /// `root(input: $input) { selection }` with `input`, which is valid as it is.
    fn mutation(
        root: &'static str,
        input_type: &'static str,
        selection: &str,
        who: Who,
        input: Value,
    ) -> Self {
        Self {
            shape: Shape::Input(input_type),
            body: format!("{root}(input: $input) {{ {selection} }}"),
            root: root.to_owned(),
            who,
            base: json!({ "input": input }),
            fresh: Fresh::Nothing,
            fields: Vec::new(),
        }
    }

    /// A query (or subscription) whose one value under test, `$v: ty`, is at `position`.
    fn of_value(
        keyword: &'static str,
        position: &str,
        ty: &'static str,
        body: &str,
        who: Who,
        kind: Kind,
    ) -> Self {
        let root = body
            .split(|c: char| !c.is_ascii_alphanumeric())
            .next()
            .unwrap_or_default()
            .to_owned();
        Self {
            shape: Shape::Variable {
                keyword,
                ty,
                declared: "",
            },
            body: body.to_owned(),
            root,
            who,
            base: json!({}),
            fresh: Fresh::Nothing,
            fields: vec![Field {
                position: position.to_owned(),
                at: "/v".into(),
                kind,
            }],
        }
    }

    fn query(position: &str, ty: &'static str, body: &str, who: Who, kind: Kind) -> Self {
        Self::of_value("query", position, ty, body, who, kind)
    }

    /// Declares a variable the body uses besides `$v`, with its valid value.
    fn with(mut self, declared: &'static str, name: &str, value: &str) -> Self {
        if let Shape::Variable { declared: d, .. } = &mut self.shape {
            *d = declared;
        }
        self.base[name] = json!(value);
        self
    }

    /// Puts the input field `name` under test.
    fn input(mut self, name: &str, kind: Kind) -> Self {
        self.fields.push(Field {
            position: format!("Mutation.{}.input.{name}", self.root),
            at: format!("/input/{name}"),
            kind,
        });
        self
    }

    fn fresh(mut self, fresh: Fresh) -> Self {
        self.fresh = fresh;
        self
    }

    fn keyword(&self) -> &'static str {
        match self.shape {
            Shape::Input(_) => "mutation",
            Shape::Variable { keyword, .. } => keyword,
        }
    }

    /// The document and variables that send `variables` in `form`.
    fn request(&self, schema: &Schema, form: Form, variables: &Value) -> (String, Value) {
        match (&self.shape, form) {
            (Shape::Input(input_type), Form::Variables) => (
                format!("mutation($input: {input_type}!) {{ {} }}", self.body),
                variables.clone(),
            ),
            (Shape::Input(input_type), Form::Literal) => {
                let input = schema.literal(&variables["input"], input_type);
                (
                    format!("mutation {{ {} }}", self.body.replace("$input", &input)),
                    json!({}),
                )
            }
            (
                Shape::Variable {
                    keyword,
                    ty,
                    declared,
                },
                Form::Variables,
            ) => {
                let declared = if declared.is_empty() {
                    String::new()
                } else {
                    format!(", {declared}")
                };
                (
                    format!("{keyword}($v: {ty}{declared}) {{ {} }}", self.body),
                    variables.clone(),
                )
            }
            (
                Shape::Variable {
                    keyword, declared, ..
                },
                Form::Literal,
            ) => {
                let mut rest = variables.clone();
                let value = rest
                    .as_object_mut()
                    .and_then(|variables| variables.remove("v"))
                    .unwrap_or_default();
                let literal = string_literal(value.as_str().unwrap_or_default());
                let declared = if declared.is_empty() {
                    String::new()
                } else {
                    format!("({declared})")
                };
                (
                    format!(
                        "{keyword}{declared} {{ {} }}",
                        self.body.replace("$v", &literal)
                    ),
                    rest,
                )
            }
        }
    }
}

/// Every string input of the schema, each in a request that is valid as it is.
fn operations() -> Vec<Operation> {
    use Kind::*;
    use Who::*;
    let key = Key { echoed: true };
    vec![
        // Queries.
        Operation::query("Query.node.id", "ID!", "node(id: $v) { id }", Bob, Reference),
        Operation::query(
            "Query.questions.category",
            "TopicCategory",
            "questions(category: $v) { totalCount }",
            Bob,
            Enum,
        ),
        Operation::query(
            "Query.questions.after",
            "String",
            "questions(after: $v) { totalCount }",
            Bob,
            Reference,
        ),
        Operation::query(
            "OneOnOne.meetings.after",
            "String",
            "node(id: $s) { ... on OneOnOne { meetings(after: $v) { totalCount } } }",
            Max,
            Reference,
        )
        .with("$s: ID!", "s", "@s1"),
        Operation::query(
            "Organization.insights.from",
            "DateTime",
            "organization { insights(from: $v) { meetingsHeld } }",
            Ada,
            DateTime,
        ),
        Operation::query(
            "Organization.insights.to",
            "DateTime",
            "organization { insights(to: $v) { meetingsHeld } }",
            Ada,
            DateTime,
        ),
        Operation::query(
            "Organization.auditLog.after",
            "String",
            "organization { auditLog(after: $v) { totalCount } }",
            Ada,
            Reference,
        ),
        Operation::query(
            "Organization.users.after",
            "String",
            "organization { users(after: $v) { totalCount } }",
            Ada,
            Reference,
        ),
        Operation::query(
            "User.accessLog.after",
            "String",
            "viewer { accessLog(after: $v) { totalCount } }",
            Bob,
            Reference,
        ),
        Operation::query(
            "User.oneOnOnes.after",
            "String",
            "viewer { oneOnOnes(after: $v) { totalCount } }",
            Bob,
            Reference,
        ),
        // The subscription.
        Operation::of_value(
            "subscription",
            "Subscription.meetingEvents.meetingId",
            "ID!",
            "meetingEvents(meetingId: $v) { sequence }",
            Mia,
            Reference,
        ),
        // Identity.
        Operation::mutation(
            "signUp",
            "SignUpInput",
            "accessToken user { id }",
            Nobody,
            json!({
                "organizationName": "Hostile Org",
                "email": "taken@example.com",
                "password": PASSWORD,
                "displayName": "Hostile Admin",
            }),
        )
        .fresh(Fresh::Email)
        .input(
            "organizationName",
            Text(Readback::NewUser {
                query: "{ organization { name } }",
                at: "/organization/name",
            }),
        )
        .input("email", Reference)
        .input("password", Secret)
        .input(
            "displayName",
            Text(Readback::NewUser {
                query: "{ viewer { displayName } }",
                at: "/viewer/displayName",
            }),
        ),
        Operation::mutation(
            "signIn",
            "SignInInput",
            "accessToken",
            Nobody,
            json!({ "email": "bob@example.com", "password": PASSWORD }),
        )
        .input("email", Reference)
        .input("password", Secret)
        .input("organizationId", Reference),
        Operation::mutation(
            "refreshSession",
            "RefreshSessionInput",
            "accessToken",
            Nobody,
            json!({ "refreshToken": "@bob_refresh" }),
        )
        .input("refreshToken", Reference),
        Operation::mutation(
            "signOut",
            "SignOutInput",
            "ok",
            Nobody,
            json!({ "refreshToken": "unknown" }),
        )
        .input("refreshToken", Secret),
        Operation::mutation(
            "rotateCalendarFeed",
            "RotateCalendarFeedInput",
            "calendarFeedUrl",
            Bob,
            json!({ "clientMutationId": null }),
        )
        .input("clientMutationId", Key { echoed: false }),
        Operation::mutation(
            "exportMyData",
            "ExportMyDataInput",
            "json",
            Bob,
            json!({ "clientMutationId": null }),
        )
        .input("clientMutationId", Key { echoed: false }),
        // Administration.
        Operation::mutation(
            "createUser",
            "CreateUserInput",
            "user { id } clientMutationId",
            Ada,
            json!({
                "email": "taken@example.com",
                "displayName": "New Person",
                "password": PASSWORD,
                "role": "MEMBER",
            }),
        )
        .fresh(Fresh::Email)
        .input("email", Reference)
        .input("displayName", read_node("/user/id", "User", "displayName"))
        .input("password", Secret)
        .input("role", Enum)
        .input("managerId", Reference)
        .input("clientMutationId", key),
        Operation::mutation(
            "setManager",
            "SetManagerInput",
            "user { id }",
            Ada,
            json!({ "userId": "@bob", "managerId": "@max" }),
        )
        .input("userId", Reference)
        .input("managerId", Reference),
        Operation::mutation(
            "deactivateUser",
            "DeactivateUserInput",
            "user { id }",
            Ada,
            json!({ "userId": "@bea" }),
        )
        .input("userId", Reference),
        Operation::mutation(
            "addQuestion",
            "AddQuestionInput",
            "question { id } clientMutationId",
            Ann,
            json!({ "category": "FEEDBACK", "text": "How is it going?" }),
        )
        .input("category", Enum)
        .input("text", read_node("/question/id", "Question", "text"))
        .input("clientMutationId", key),
        Operation::mutation(
            "removeQuestion",
            "RemoveQuestionInput",
            "removedQuestionId",
            Ann,
            json!({ "questionId": "@question" }),
        )
        .input("questionId", Reference),
        Operation::mutation(
            "createApiToken",
            "CreateApiTokenInput",
            "apiToken { id }",
            Bob,
            json!({ "name": "Calendar sync", "scopes": ["MEETINGS_READ"] }),
        )
        .input("name", read_node("/apiToken/id", "ApiToken", "name"))
        .input("scopes", Enum),
        Operation::mutation(
            "revokeApiToken",
            "RevokeApiTokenInput",
            "apiToken { id }",
            Bob,
            json!({ "apiTokenId": "@api_token" }),
        )
        .input("apiTokenId", Reference),
        Operation::mutation(
            "createWebhook",
            "CreateWebhookInput",
            "webhook { id }",
            Ada,
            json!({ "url": "http://127.0.0.1:9/hook", "events": ["MEETING_STARTED"] }),
        )
        .input("url", Reference)
        .input("events", Enum),
        Operation::mutation(
            "deleteWebhook",
            "DeleteWebhookInput",
            "deletedWebhookId",
            Ada,
            json!({ "webhookId": "@webhook" }),
        )
        .input("webhookId", Reference),
        // Series and meetings.
        Operation::mutation(
            "updateOneOnOne",
            "UpdateOneOnOneInput",
            "oneOnOne { id }",
            Max,
            json!({ "oneOnOneId": "@s1", "cadence": "WEEKLY" }),
        )
        .input("oneOnOneId", Reference)
        .input("cadence", Enum)
        .input("defaultFormat", Enum)
        .input("lead", Enum),
        Operation::mutation(
            "scheduleMeeting",
            "ScheduleMeetingInput",
            "meeting { id } clientMutationId",
            Max,
            json!({ "oneOnOneId": "@s1", "scheduledAt": wire(day(30)), "location": "Room 1" }),
        )
        .input("oneOnOneId", Reference)
        .input("scheduledAt", DateTime)
        .input("format", Enum)
        .input("location", read_node("/meeting/id", "Meeting", "location"))
        .input("clientMutationId", key),
        Operation::mutation(
            "rescheduleMeeting",
            "RescheduleMeetingInput",
            "meeting { id }",
            Max,
            json!({ "meetingId": "@m1", "scheduledAt": wire(day(2)) }),
        )
        .input("meetingId", Reference)
        .input("scheduledAt", DateTime),
        Operation::mutation(
            "startMeeting",
            "StartMeetingInput",
            "meeting { id }",
            Max,
            json!({ "meetingId": "@m1" }),
        )
        .input("meetingId", Reference),
        Operation::mutation(
            "endMeeting",
            "EndMeetingInput",
            "meeting { id }",
            Max,
            json!({ "meetingId": "@m1" }),
        )
        .input("meetingId", Reference),
        Operation::mutation(
            "cancelMeeting",
            "CancelMeetingInput",
            "meeting { id }",
            Max,
            json!({ "meetingId": "@m1" }),
        )
        .input("meetingId", Reference),
        // Agenda.
        Operation::mutation(
            "setCurrentTopic",
            "SetCurrentTopicInput",
            "meeting { id }",
            Mia,
            json!({ "meetingId": "@m2", "agendaItemId": "@item" }),
        )
        .input("meetingId", Reference)
        .input("agendaItemId", Reference),
        Operation::mutation(
            "addAgendaItem",
            "AddAgendaItemInput",
            "agendaItem { id } clientMutationId",
            Mia,
            json!({ "meetingId": "@m2", "title": "Topic", "description": "Details", "category": "OTHER" }),
        )
        .input("meetingId", Reference)
        .input("title", read_node("/agendaItem/id", "AgendaItem", "title"))
        .input(
            "description",
            read_node("/agendaItem/id", "AgendaItem", "description"),
        )
        .input("category", Enum)
        .input("clientMutationId", key),
        Operation::mutation(
            "updateAgendaItem",
            "UpdateAgendaItemInput",
            "agendaItem { id }",
            Mia,
            json!({ "agendaItemId": "@item", "title": "Topic", "description": "Details" }),
        )
        .fresh(Fresh::AgendaItem)
        .input("agendaItemId", Reference)
        .input("title", read_node("/agendaItem/id", "AgendaItem", "title"))
        .input(
            "description",
            read_node("/agendaItem/id", "AgendaItem", "description"),
        )
        .input("category", Enum),
        Operation::mutation(
            "moveAgendaItem",
            "MoveAgendaItemInput",
            "meeting { id }",
            Mia,
            json!({ "agendaItemId": "@item", "afterAgendaItemId": "@other_item" }),
        )
        .input("agendaItemId", Reference)
        .input("afterAgendaItemId", Reference),
        Operation::mutation(
            "setAgendaItemDiscussed",
            "SetAgendaItemDiscussedInput",
            "agendaItem { id }",
            Mia,
            json!({ "agendaItemId": "@item", "discussed": true }),
        )
        .input("agendaItemId", Reference),
        Operation::mutation(
            "removeAgendaItem",
            "RemoveAgendaItemInput",
            "removedAgendaItemId",
            Mia,
            json!({ "agendaItemId": "@item" }),
        )
        .input("agendaItemId", Reference),
        // Notes: created private (sealed at rest), edited shared.
        Operation::mutation(
            "createNote",
            "CreateNoteInput",
            "note { id } clientMutationId",
            Ben,
            json!({ "meetingId": "@m2", "visibility": "PRIVATE", "body": "Notes" }),
        )
        .input("meetingId", Reference)
        .input("visibility", Enum)
        .input("body", read_node("/note/id", "Note", "body"))
        .input("clientMutationId", key),
        Operation::mutation(
            "updateNote",
            "UpdateNoteInput",
            "note { id }",
            Ben,
            json!({ "noteId": "@note", "body": "Edited", "expectedVersion": 1 }),
        )
        .fresh(Fresh::Note)
        .input("noteId", Reference)
        .input("body", read_node("/note/id", "Note", "body")),
        Operation::mutation(
            "deleteNote",
            "DeleteNoteInput",
            "deletedNoteId",
            Ben,
            json!({ "noteId": "@note" }),
        )
        .input("noteId", Reference),
        // Action items.
        Operation::mutation(
            "createActionItem",
            "CreateActionItemInput",
            "actionItem { id } clientMutationId",
            Mo,
            json!({ "meetingId": "@m3", "title": "Follow up", "assigneeId": "@bea" }),
        )
        .input("meetingId", Reference)
        .input("title", read_node("/actionItem/id", "ActionItem", "title"))
        .input("assigneeId", Reference)
        .input("dueOn", Date)
        .input("clientMutationId", key),
        Operation::mutation(
            "updateActionItem",
            "UpdateActionItemInput",
            "actionItem { id }",
            Mo,
            json!({ "actionItemId": "@action_item", "title": "Follow up" }),
        )
        .fresh(Fresh::ActionItem)
        .input("actionItemId", Reference)
        .input("title", read_node("/actionItem/id", "ActionItem", "title"))
        .input("assigneeId", Reference)
        .input("dueOn", Date),
        Operation::mutation(
            "setActionItemDone",
            "SetActionItemDoneInput",
            "actionItem { id }",
            Mo,
            json!({ "actionItemId": "@action_item", "done": true }),
        )
        .input("actionItemId", Reference),
        // Check-ins: one per meeting and report, so each accepted one has a meeting of its own.
        Operation::mutation(
            "submitCheckIn",
            "SubmitCheckInInput",
            "checkIn { id } clientMutationId",
            Bob,
            json!({ "meetingId": "@m1", "mood": 4, "comment": "Fine", "sharedWithManager": true }),
        )
        .fresh(Fresh::Meeting)
        .input("meetingId", Reference)
        .input("comment", read_node("/checkIn/id", "CheckIn", "comment"))
        .input("clientMutationId", key),
    ]
}

// ---------------------------------------------------------------------------------------------
// The seeded organisation.

/// Acme: admins Ada and Ann; Max manages Bob, Mia manages Ben, Mo manages Bea, each series with
/// a meeting; Mia's meeting has two agenda items and a note of Ben's, Mo's an action item.
/// Each operation that takes a `clientMutationId` has a caller of its own, since a key used for
/// one mutation is refused for another.
struct World {
    ada: Session,
    ann: Session,
    max: Session,
    bob: Session,
    mia: Session,
    ben: Session,
    mo: Session,
    bea: String,
    series: [String; 3],
    meetings: [String; 3],
    item: String,
    other_item: String,
    note: String,
    action_item: String,
    question: String,
    api_token: String,
    webhook: String,
    /// Numbers fresh bases.
    counter: AtomicUsize,
}

impl World {
    async fn seed(app: &TestApp) -> Self {
        let ada = app.sign_up("Acme", "ada@example.com").await;
        mutate(
            app,
            &ada,
            "createUser",
            "CreateUserInput",
            json!({ "email": "ann@example.com", "displayName": "Ann", "password": PASSWORD, "role": "ADMIN" }),
            "user { id }",
        )
        .await;
        let mut bea = String::new();
        for (manager, report) in [("max", "bob"), ("mia", "ben"), ("mo", "bea")] {
            let manager = app
                .create_user(&ada, &format!("{manager}@example.com"), None)
                .await;
            bea = app
                .create_user(&ada, &format!("{report}@example.com"), Some(&manager))
                .await;
        }
        let names = ["ann", "max", "bob", "mia", "ben", "mo"];
        let sessions = join_all(
            names.map(|name| async move { app.session(&format!("{name}@example.com")).await }),
        )
        .await;
        let [ann, max, bob, mia, ben, mo]: [Session; 6] =
            sessions.try_into().expect("six sessions");
        let mut series = Vec::new();
        let mut meetings = Vec::new();
        for (n, manager) in [&max, &mia, &mo].into_iter().enumerate() {
            let id = one_on_ones(app, manager, false).await[0]["id"]
                .as_str()
                .expect("a series")
                .to_owned();
            meetings.push(schedule(app, manager, &id, day(n as i64 + 1)).await);
            series.push(id);
        }
        let item = add_item(app, &mia, &meetings[1], "Base topic").await;
        let other_item = add_item(app, &mia, &meetings[1], "Other topic").await;
        let note = create_note(app, &ben, &meetings[1], "SHARED", "Base note").await;
        let action_item = create_action_item(app, &mo, &meetings[2], "Base action", &bea).await;
        let id_of = |payload: Value, at: &str| {
            payload
                .pointer(at)
                .and_then(Value::as_str)
                .expect("an id")
                .to_owned()
        };
        let question = id_of(
            mutate(
                app,
                &ann,
                "addQuestion",
                "AddQuestionInput",
                json!({ "category": "FEEDBACK", "text": "Base question?" }),
                "question { id }",
            )
            .await,
            "/question/id",
        );
        let api_token = id_of(
            mutate(
                app,
                &bob,
                "createApiToken",
                "CreateApiTokenInput",
                json!({ "name": "Base token", "scopes": ["MEETINGS_READ"] }),
                "apiToken { id }",
            )
            .await,
            "/apiToken/id",
        );
        let webhook = id_of(
            mutate(
                app,
                &ada,
                "createWebhook",
                "CreateWebhookInput",
                json!({ "url": "http://127.0.0.1:9/hook", "events": ["MEETING_STARTED"] }),
                "webhook { id }",
            )
            .await,
            "/webhook/id",
        );
        Self {
            ada,
            ann,
            max,
            bob,
            mia,
            ben,
            mo,
            bea,
            series: series.try_into().expect("three series"),
            meetings: meetings.try_into().expect("three meetings"),
            item,
            other_item,
            note,
            action_item,
            question,
            api_token,
            webhook,
            counter: AtomicUsize::new(0),
        }
    }

    fn session(&self, who: Who) -> Option<&Session> {
        Some(match who {
            Who::Nobody => return None,
            Who::Ada => &self.ada,
            Who::Ann => &self.ann,
            Who::Max => &self.max,
            Who::Bob => &self.bob,
            Who::Mia => &self.mia,
            Who::Ben => &self.ben,
            Who::Mo => &self.mo,
        })
    }

    fn token(&self, who: Who) -> Option<&str> {
        self.session(who)
            .map(|session| session.access_token.as_str())
    }

    /// The seeded id (or token) that `@name` stands for in the table.
    fn id(&self, name: &str) -> &str {
        match name {
            "s1" => &self.series[0],
            "m1" => &self.meetings[0],
            "m2" => &self.meetings[1],
            "m3" => &self.meetings[2],
            "item" => &self.item,
            "other_item" => &self.other_item,
            "note" => &self.note,
            "action_item" => &self.action_item,
            "question" => &self.question,
            "api_token" => &self.api_token,
            "webhook" => &self.webhook,
            "bea" => &self.bea,
            "bob" => &self.bob.user_id,
            "max" => &self.max.user_id,
            "bob_refresh" => &self.bob.refresh_token,
            other => panic!("nothing seeded is called @{other}"),
        }
    }

    /// `value` with every `@name` replaced by what it stands for.
    fn resolve(&self, value: &mut Value) {
        match value {
            Value::String(text) => {
                if let Some(name) = text.strip_prefix('@') {
                    *text = self.id(name).to_owned();
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| self.resolve(item)),
            Value::Object(fields) => fields.values_mut().for_each(|field| self.resolve(field)),
            _ => {}
        }
    }

    /// The variables of one case: the operation's base (with what it needs made afresh when
    /// the value may be accepted), and the hostile value at the field.
    async fn variables(
        &self,
        app: &TestApp,
        operation: &Operation,
        field: &Field,
        hostile: &Hostile,
    ) -> Value {
        let mut variables = operation.base.clone();
        self.resolve(&mut variables);
        if field.kind.may_succeed() && !hostile.class.refused_before_running() {
            let n = self.counter.fetch_add(1, Ordering::Relaxed);
            let [_, m2, m3] = &self.meetings;
            let fresh = match operation.fresh {
                Fresh::Nothing => None,
                Fresh::Email => Some(("/input/email", format!("case{n}@example.com"))),
                Fresh::AgendaItem => Some((
                    "/input/agendaItemId",
                    add_item(app, &self.mia, m2, "Fresh topic").await,
                )),
                Fresh::ActionItem => Some((
                    "/input/actionItemId",
                    create_action_item(app, &self.mo, m3, "Fresh action", &self.bea).await,
                )),
                Fresh::Note => Some((
                    "/input/noteId",
                    create_note(app, &self.ben, m2, "SHARED", "Fresh note").await,
                )),
                Fresh::Meeting => Some((
                    "/input/meetingId",
                    schedule(app, &self.max, &self.series[0], day(10 + n as i64)).await,
                )),
            };
            if let Some((at, value)) = fresh {
                put(&mut variables, at, json!(value));
            }
        }
        put(&mut variables, &field.at, json!(hostile.value));
        variables
    }
}

/// Sets the value at `pointer` (`/input/title`), adding the last key if needed.
fn put(variables: &mut Value, pointer: &str, value: Value) {
    let (parent, key) = pointer.rsplit_once('/').expect("a JSON pointer");
    let parent = if parent.is_empty() {
        variables
    } else {
        variables.pointer_mut(parent).expect("the parent exists")
    };
    parent
        .as_object_mut()
        .expect("an object")
        .insert(key.to_owned(), value);
}

// ---------------------------------------------------------------------------------------------
// Sending, and judging what came back.

/// How a request travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Transport {
    Post,
    Get,
    WebSocket,
}

/// What the WebSocket gets besides every control character: it runs the same pipeline as
/// HTTP, so a sample of the rest shows that it answers them the same way.
const WS_SAMPLE: [&str; 5] = [
    "emoji",
    "RTL override",
    "10,000 characters on one line",
    "whitespace only",
    "empty",
];

impl Transport {
    /// Whether this transport gets `hostile` in the table's inputs.
    fn sends(self, hostile: &Hostile) -> bool {
        self != Transport::WebSocket
            || hostile.class == Class::Control
            || WS_SAMPLE.contains(&hostile.name)
    }

    fn carries(self, operation: &Operation) -> bool {
        match operation.keyword() {
            "query" => true,
            "mutation" => self != Transport::Get,
            _ => self == Transport::WebSocket,
        }
    }
}

/// The strings sent to each kind of input.
struct Strings {
    common: Vec<Hostile>,
    date_times: Vec<Hostile>,
    dates: Vec<Hostile>,
}

impl Strings {
    fn new() -> Self {
        Self {
            common: hostile_strings(),
            date_times: edge_values(Kind::DateTime),
            dates: edge_values(Kind::Date),
        }
    }

    fn for_kind(&self, kind: Kind) -> impl Iterator<Item = &Hostile> {
        let edges = match kind {
            Kind::DateTime => &self.date_times[..],
            Kind::Date => &self.dates[..],
            _ => &[],
        };
        self.common.iter().chain(edges)
    }
}

/// One hostile value in one input, in one form.
#[derive(Clone, Copy)]
struct Planned<'a> {
    operation: &'a Operation,
    field: &'a Field,
    hostile: &'a Hostile,
    form: Form,
}

impl Planned<'_> {
    /// Whether the request is refused by its own checks (control characters, length) or by
    /// the input's type, before any resolver could write.
    fn refused_up_front(&self) -> bool {
        self.hostile.class.refused_before_running()
            || (self.field.kind.is_typed() && self.hostile.class != Class::Edge)
    }

    fn describe(&self) -> String {
        format!(
            "{} <- {} ({:?})",
            self.field.position, self.hostile.name, self.form
        )
    }

    /// Where the value is, as the server names it: `$input.title` in the variables,
    /// `addAgendaItem.input.title` in the document.
    fn path(&self) -> String {
        match self.form {
            Form::Variables => format!("${}", self.field.at[1..].replace('/', ".")),
            Form::Literal => self
                .field
                .position
                .split_once('.')
                .map_or_else(String::new, |(_, path)| path.to_owned()),
        }
    }
}

/// The strings `transport` sends, to every input it carries: as variables, and control
/// characters also as literals over HTTP (the WebSocket runs the same pipeline on the same
/// documents, so it gets variables only).
fn plan<'a>(
    operations: &'a [Operation],
    strings: &'a Strings,
    transport: Transport,
) -> Vec<Planned<'a>> {
    let mut planned = Vec::new();
    for operation in operations.iter().filter(|op| transport.carries(op)) {
        for field in &operation.fields {
            for hostile in strings
                .for_kind(field.kind)
                .filter(|hostile| transport.sends(hostile))
            {
                planned.push(Planned {
                    operation,
                    field,
                    hostile,
                    form: Form::Variables,
                });
                if hostile.class == Class::Control && transport != Transport::WebSocket {
                    planned.push(Planned {
                        operation,
                        field,
                        hostile,
                        form: Form::Literal,
                    });
                }
            }
        }
    }
    planned
}

/// What came back for one request.
struct Answer {
    /// The HTTP status; `None` over the WebSocket.
    status: Option<u16>,
    /// The GraphQL response (`null` when the body was not JSON).
    body: Value,
    /// The length of the request target (path and query), for GET.
    target: usize,
    /// Why no answer came: the server dropped the connection (a panic in a handler does).
    dropped: Option<String>,
}

impl Answer {
    fn message(&self) -> &str {
        self.body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    /// Ran without errors: the value of the root field.
    Accepted(Value),
    /// Refused with this code (`None`: a validation error, which carries none yet).
    Refused(Option<String>),
    /// A GET whose URI is longer than HTTP servers parse: 414 before any handler.
    UriTooLong,
}

/// One case, sent.
struct Ran<'a> {
    planned: Planned<'a>,
    variables: Value,
    result: Result<Outcome, String>,
}

/// `text` quoted, cut after 160 characters with how long it was.
fn short(text: &str) -> String {
    let max = 160;
    let count = text.chars().count();
    if count <= max {
        format!("{text:?}")
    } else {
        let start: String = text.chars().take(max).collect();
        format!("{start:?}… ({count} characters)")
    }
}

/// [`classify`] for a case of the table.
fn judge(planned: &Planned, answer: &Answer) -> Result<Outcome, String> {
    // async-graphql refuses a value its type cannot parse without a code (the SPEC wants one):
    // accepted only on a typed input, and only as that refusal.
    let typed = planned.field.kind.is_typed();
    classify(answer, &planned.operation.root, |message| {
        typed && refused_by_type(message)
    })
}

/// The answer sorted into an outcome (with `root`'s value when accepted), or the rule it broke
/// whatever was sent: no answer, a 5xx, `INTERNAL`, or a code that is not a client's.
/// `uncoded` says which errors without a code are async-graphql's own refusals of what was sent.
fn classify(
    answer: &Answer,
    root: &str,
    uncoded: impl Fn(&str) -> bool,
) -> Result<Outcome, String> {
    if let Some(error) = &answer.dropped {
        return Err(format!("no answer: {error}"));
    }
    let body = &answer.body;
    let shown = || short(&body.to_string());
    match answer.status {
        Some(414) if answer.target > MAX_URI => return Ok(Outcome::UriTooLong),
        Some(status) if status >= 500 => return Err(format!("HTTP {status}: {}", shown())),
        _ => {}
    }
    let Some(errors) = body["errors"]
        .as_array()
        .filter(|errors| !errors.is_empty())
    else {
        let data = &body["data"];
        if !data.is_object() || answer.status.is_some_and(|status| status != 200) {
            return Err(format!(
                "HTTP {:?} without errors: {}",
                answer.status,
                shown()
            ));
        }
        return Ok(Outcome::Accepted(data[root].clone()));
    };
    for error in errors {
        match error["extensions"]["code"].as_str() {
            Some(code) if CLEAN.contains(&code) => {}
            None if error["message"].as_str().is_some_and(&uncoded) => {}
            code => return Err(format!("error code {code:?}: {}", shown())),
        }
    }
    Ok(Outcome::Refused(
        errors[0]["extensions"]["code"].as_str().map(str::to_owned),
    ))
}

/// Whether an error message is async-graphql's refusal of a value its type cannot take: in
/// validation (`Invalid value for argument "input.category", enumeration type …`), or when a
/// nested field parses its argument (`Failed to parse "DateTime": …`).
fn refused_by_type(message: &str) -> bool {
    message.starts_with("Invalid value for argument") || message.starts_with("Failed to parse")
}

/// The rules that depend on the string and the input.
fn expect(planned: &Planned, outcome: &Outcome, message: &str) -> Result<(), String> {
    if *outcome == Outcome::UriTooLong {
        return Ok(());
    }
    let bad_input = matches!(outcome, Outcome::Refused(Some(code)) if code == "BAD_USER_INPUT");
    let kind = planned.field.kind;
    let broken = match planned.hostile.class {
        Class::Control => {
            let named = format!("{} contains a control character", planned.path());
            (!(bad_input && message.starts_with(&named)))
                .then(|| format!("expected BAD_USER_INPUT \"{named}…\""))
        }
        Class::OverLimit => (!(bad_input && message.contains("longer than")))
            .then(|| "expected BAD_USER_INPUT for its length".to_owned()),
        Class::Legal if matches!(kind, Kind::Text(_) | Kind::Key { .. }) => {
            (!matches!(outcome, Outcome::Accepted(_))).then(|| "legal text refused".to_owned())
        }
        _ => None,
    };
    if let Some(broken) = broken {
        return Err(format!("{broken}, got {outcome:?}: {message}"));
    }
    match (kind, outcome) {
        (Kind::Reference, Outcome::Accepted(payload)) if !payload.is_null() => Err(format!(
            "accepted as a reference: {}",
            short(&payload.to_string())
        )),
        (Kind::Enum | Kind::DateTime | Kind::Date, Outcome::Accepted(_))
            if planned.hostile.class != Class::Edge =>
        {
            Err("accepted a value its type refuses".into())
        }
        _ => Ok(()),
    }
}

/// Whether text stored for `sent` is what was sent: byte for byte, or trimmed (and null or
/// empty when nothing but whitespace was sent).
fn stored_as_sent(sent: &str, stored: &Value) -> bool {
    match stored {
        Value::String(stored) => {
            stored == sent
                || (stored == sent.trim() && !stored.is_empty())
                || (stored.is_empty() && sent.trim().is_empty())
        }
        Value::Null => sent.trim().is_empty(),
        _ => false,
    }
}

/// For accepted text: it reads back as sent, and a `clientMutationId` comes back as sent.
async fn read_back(
    app: &TestApp,
    world: &World,
    planned: &Planned<'_>,
    payload: &Value,
) -> Result<(), String> {
    let sent = planned.hostile.value.as_str();
    let stored = match planned.field.kind {
        Kind::Text(readback) => {
            stored(app, world, planned.operation.who, readback, payload).await?
        }
        Kind::Key { echoed: true } => payload["clientMutationId"].clone(),
        _ => return Ok(()),
    };
    if stored_as_sent(sent, &stored) {
        Ok(())
    } else {
        Err(format!(
            "sent {}, read back {}",
            short(sent),
            short(&stored.to_string())
        ))
    }
}

/// The text a readback finds.
async fn stored(
    app: &TestApp,
    world: &World,
    who: Who,
    readback: Readback,
    payload: &Value,
) -> Result<Value, String> {
    let (query, variables, token, at) = match readback {
        Readback::Node { id_at, ty, field } => {
            let id = payload
                .pointer(id_at)
                .and_then(Value::as_str)
                .ok_or_else(|| format!("no id at {id_at} in {payload}"))?;
            (
                format!("query($id: ID!) {{ node(id: $id) {{ ... on {ty} {{ {field} }} }} }}"),
                json!({ "id": id }),
                world.token(who),
                format!("/node/{field}"),
            )
        }
        Readback::NewUser { query, at } => (
            query.to_owned(),
            json!({}),
            payload["accessToken"].as_str(),
            at.to_owned(),
        ),
    };
    let answer = post(app, token, &query, &variables).await;
    if answer.body.get("errors").is_some() || answer.status != Some(200) {
        return Err(format!(
            "reading back failed: {}",
            short(&answer.body.to_string())
        ));
    }
    Ok(answer.body["data"]
        .pointer(&at)
        .cloned()
        .unwrap_or_default())
}

async fn post(app: &TestApp, token: Option<&str>, query: &str, variables: &Value) -> Answer {
    let request = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    send(app, request, token).await
}

async fn get(app: &TestApp, token: Option<&str>, query: &str, variables: &Value) -> Answer {
    let request = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", query), ("variables", &variables.to_string())]);
    send(app, request, token).await
}

/// Sends a request as `token` (if any) asking for the GraphQL media type.
async fn send(app: &TestApp, request: reqwest::RequestBuilder, token: Option<&str>) -> Answer {
    let mut request = request.header("accept", GRAPHQL_RESPONSE);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let request = request.build().expect("a valid request");
    let url = request.url();
    let target = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    };
    if target.len() > MAX_URI {
        // Too long for the client library to send: written by hand (the server answers 414
        // before it reads any credentials).
        let status = raw_get(app, &target).await;
        return Answer {
            status: (status != 0).then_some(status),
            body: Value::Null,
            target: target.len(),
            dropped: (status == 0).then(|| "no status line".to_owned()),
        };
    }
    let target = target.len();
    let response = match app.client.execute(request).await {
        Ok(response) => response,
        Err(error) => {
            return Answer {
                status: None,
                body: Value::Null,
                target,
                dropped: Some(error.to_string()),
            };
        }
    };
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap_or_default();
    Answer {
        status: Some(status),
        body: serde_json::from_slice(&bytes).unwrap_or_default(),
        target,
        dropped: None,
    }
}

/// A GET of `target` written by hand on a socket, for targets longer than client libraries
/// send; the status the server answers (0 for none).
async fn raw_get(app: &TestApp, target: &str) -> u16 {
    let address = app.address.trim_start_matches("http://");
    let mut tcp = TcpStream::connect(address)
        .await
        .expect("the server accepts");
    let request = format!("GET {target} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    // The server may answer and close before it has read everything.
    let _ = tcp.write_all(request.as_bytes()).await;
    let mut response = Vec::new();
    let _ = tcp.read_to_end(&mut response).await;
    String::from_utf8_lossy(&response)
        .split(' ')
        .nth(1)
        .and_then(|status| status.parse().ok())
        .unwrap_or(0)
}

/// Sends one case over HTTP with `variables` already made.
async fn send_case(
    app: &TestApp,
    schema: &Schema,
    world: &World,
    transport: Transport,
    planned: &Planned<'_>,
    variables: &Value,
) -> Answer {
    let (document, variables) = planned.operation.request(schema, planned.form, variables);
    let token = world.token(planned.operation.who);
    match transport {
        Transport::Get => get(app, token, &document, &variables).await,
        _ => post(app, token, &document, &variables).await,
    }
}

/// Judges an answer, checks the case's rules and reads accepted text back.
async fn conclude<'a>(
    app: &TestApp,
    world: &World,
    planned: Planned<'a>,
    variables: Value,
    answer: &Answer,
) -> Ran<'a> {
    let result = async {
        let outcome = judge(&planned, answer)?;
        expect(&planned, &outcome, answer.message())?;
        if let Outcome::Accepted(payload) = &outcome {
            read_back(app, world, &planned, payload).await?;
        }
        Ok(outcome)
    }
    .await;
    Ran {
        planned,
        variables,
        result,
    }
}

/// Runs the cases over HTTP, a few at once.
async fn run_http<'a>(
    app: &TestApp,
    schema: &Schema,
    world: &World,
    transport: Transport,
    planned: Vec<Planned<'a>>,
) -> Vec<Ran<'a>> {
    stream::iter(planned)
        .map(|planned| async move {
            let variables = world
                .variables(app, planned.operation, planned.field, planned.hostile)
                .await;
            let answer = send_case(app, schema, world, transport, &planned, &variables).await;
            conclude(app, world, planned, variables, &answer).await
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await
}

/// Runs the cases over WebSockets: each caller's cases (anonymous ones on Bob's) split among
/// sockets of theirs, about [`CONCURRENCY`] sockets in all, each sending its cases one after
/// another.
async fn run_ws<'a>(
    app: &TestApp,
    schema: &Schema,
    world: &World,
    planned: Vec<Planned<'a>>,
) -> Vec<Ran<'a>> {
    let mut by_caller: BTreeMap<Who, Vec<Planned<'a>>> = BTreeMap::new();
    for planned in planned {
        let who = match planned.operation.who {
            Who::Nobody => Who::Bob,
            who => who,
        };
        by_caller.entry(who).or_default().push(planned);
    }
    let total: usize = by_caller.values().map(Vec::len).sum();
    let per_socket = total.div_ceil(CONCURRENCY).max(1);
    let lanes: Vec<(Who, Vec<Planned<'a>>)> = by_caller
        .into_iter()
        .flat_map(|(who, cases)| {
            let chunks: Vec<Vec<Planned<'a>>> =
                cases.chunks(per_socket).map(<[_]>::to_vec).collect();
            chunks.into_iter().map(move |chunk| (who, chunk))
        })
        .collect();
    let sockets = lanes.into_iter().map(|(who, cases)| async move {
        let mut ws = Ws::open(app, world.token(who).expect("a caller")).await;
        let mut ran = Vec::new();
        for (n, planned) in cases.into_iter().enumerate() {
            let variables = world
                .variables(app, planned.operation, planned.field, planned.hostile)
                .await;
            let (document, sent) = planned.operation.request(schema, planned.form, &variables);
            let payload = json!({ "query": document, "variables": sent });
            let answer = ws_answer(&mut ws, n, payload)
                .await
                .expect("the sample fits in a WebSocket message");
            ran.push(conclude(app, world, planned, variables, &answer).await);
        }
        ws.close().await;
        ran
    });
    join_all(sockets).await.into_iter().flatten().collect()
}

/// Fails listing every case that broke a rule.
fn assert_clean(ran: &[Ran], transport: Transport) {
    let failures: Vec<String> = ran
        .iter()
        .filter_map(|ran| {
            let error = ran.result.as_ref().err()?;
            Some(format!("{}: {error}", ran.planned.describe()))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases over {transport:?} broke a rule:\n{}",
        failures.len(),
        ran.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// The store, whole.

/// Every row of `E`, as text.
async fn rows<E>(db: &DatabaseConnection, into: &mut Vec<String>)
where
    E: EntityTrait,
    E::Model: Debug,
{
    let table = E::default().table_name();
    for row in E::find().all(db).await.expect("the table reads") {
        into.push(format!("{table}: {row:?}"));
    }
}

/// Every row a request could write, sorted. The audit log is left out: failed sign-ins are
/// recorded there by design.
async fn store_contents(db: &DatabaseConnection) -> BTreeSet<String> {
    use entity::*;
    let mut all = Vec::new();
    rows::<organization::Entity>(db, &mut all).await;
    rows::<user::Entity>(db, &mut all).await;
    rows::<refresh_token::Entity>(db, &mut all).await;
    rows::<one_on_one::Entity>(db, &mut all).await;
    rows::<meeting::Entity>(db, &mut all).await;
    rows::<agenda_item::Entity>(db, &mut all).await;
    rows::<note::Entity>(db, &mut all).await;
    rows::<action_item::Entity>(db, &mut all).await;
    rows::<check_in::Entity>(db, &mut all).await;
    rows::<question::Entity>(db, &mut all).await;
    rows::<client_mutation::Entity>(db, &mut all).await;
    rows::<meeting_event::Entity>(db, &mut all).await;
    rows::<api_token::Entity>(db, &mut all).await;
    rows::<access_entry::Entity>(db, &mut all).await;
    rows::<webhook::Entity>(db, &mut all).await;
    rows::<webhook_delivery::Entity>(db, &mut all).await;
    all.into_iter().collect()
}

/// Sends every refused mutation of `ran` again; each must be refused as before (or rate
/// limited). Returns those that were not.
async fn send_refused_mutations_again(
    app: &TestApp,
    schema: &Schema,
    world: &World,
    ran: &[Ran<'_>],
) -> Vec<String> {
    stream::iter(ran)
        .filter_map(|ran| async move {
            match &ran.result {
                Ok(Outcome::Refused(code)) if ran.planned.operation.keyword() == "mutation" => {
                    Some((ran, code))
                }
                _ => None,
            }
        })
        .map(|(ran, code)| async move {
            let answer = send_case(
                app,
                schema,
                world,
                Transport::Post,
                &ran.planned,
                &ran.variables,
            )
            .await;
            match judge(&ran.planned, &answer) {
                Ok(Outcome::Refused(again))
                    if again == *code || again.as_deref() == Some("RATE_LIMITED") =>
                {
                    None
                }
                other => Some(format!(
                    "{} was refused with {code:?}, then answered {other:?}",
                    ran.planned.describe()
                )),
            }
        })
        .buffer_unordered(CONCURRENCY)
        .filter_map(|failure| async move { failure })
        .collect()
        .await
}

/// Fails when the store changed while only refused requests were sent.
fn assert_unchanged(before: &BTreeSet<String>, after: &BTreeSet<String>, what: &str) {
    let written: Vec<&String> = after.difference(before).collect();
    let removed: Vec<&String> = before.difference(after).collect();
    assert!(
        written.is_empty() && removed.is_empty(),
        "{what} changed the store: written {written:#?}, removed {removed:#?}"
    );
}

/// Reads back everything the seeded people can read, through every path that renders stored
/// text and dates (export, calendar feed, meetings, insights, audit log): nothing a hostile
/// request stored may break a later read.
async fn everything_still_reads(app: &TestApp, world: &World) {
    let reads = |who: Who, query: &'static str, variables: Value| async move {
        let answer = post(app, world.token(who), query, &variables).await;
        assert!(
            answer.status == Some(200) && answer.body.get("errors").is_none(),
            "{who:?} cannot read {query}: {}",
            short(&answer.body.to_string())
        );
        answer.body["data"].clone()
    };
    let [s1, s2, s3] = &world.series;
    for (who, series) in [
        (Who::Max, s1),
        (Who::Bob, s1),
        (Who::Mia, s2),
        (Who::Ben, s2),
        (Who::Mo, s3),
    ] {
        let data = reads(
            who,
            "mutation { exportMyData { json } rotateCalendarFeed { calendarFeedUrl } }",
            json!({}),
        )
        .await;
        let url = data["rotateCalendarFeed"]["calendarFeedUrl"]
            .as_str()
            .expect("a feed URL");
        let feed = app.client.get(url).send().await.expect("the feed answers");
        assert_eq!(feed.status(), StatusCode::OK, "{who:?}'s calendar feed");
        reads(
            who,
            "query($id: ID!) { node(id: $id) { ... on OneOnOne { nextMeeting { scheduledAt } openActionItems { title dueOn } meetings(first: 100) { nodes { scheduledAt location status } } } } }",
            json!({ "id": series }),
        )
        .await;
    }
    reads(
        Who::Ada,
        "{ organization { name insights { meetingsHeld cadenceAdherence overdueOneOnOnes { daysSinceLastMeeting } } auditLog(first: 100) { nodes { detail address } } users(first: 100) { nodes { displayName email } } } questions(first: 100) { nodes { text } } }",
        json!({}),
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// The tests.

async fn spawn() -> TestApp {
    spawn_app_with(|config| {
        config.rate_limit_per_minute = 100_000;
        config.max_in_flight_per_caller = CONCURRENCY * 2;
        config.webhook_allow_private = true;
    })
    .await
}

#[test]
fn the_table_covers_every_string_input_of_the_schema() {
    let schema = Schema::committed().string_inputs();
    let mut table = BTreeSet::new();
    for operation in operations() {
        for field in operation.fields {
            assert!(
                table.insert(field.position.clone()),
                "{} is in the table twice",
                field.position
            );
        }
    }
    let missing: Vec<&String> = schema.difference(&table).collect();
    let unknown: Vec<&String> = table.difference(&schema).collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "inputs of schema.graphql missing from operations(): {missing:?}; in the table but not the schema: {unknown:?}"
    );
}

#[tokio::test]
async fn hostile_strings_in_every_input_over_post_get_clean_answers_and_refusals_write_nothing() {
    let app = spawn().await;
    let world = World::seed(&app).await;
    let (schema, operations, strings) = (Schema::committed(), operations(), Strings::new());
    let (app, world, schema, db) = (&app, &world, &schema, &app.state.store.db);
    let (early, late): (Vec<Planned>, Vec<Planned>) = plan(&operations, &strings, Transport::Post)
        .into_iter()
        .partition(Planned::refused_up_front);

    // Refused up front: the store stays as it was.
    let before = store_contents(db).await;
    let early = run_http(app, schema, world, Transport::Post, early).await;
    assert_unchanged(
        &before,
        &store_contents(db).await,
        "requests refused up front",
    );
    assert_clean(&early, Transport::Post);

    // The rest may be accepted; each mutation refused is sent again, and must write nothing.
    let late = run_http(app, schema, world, Transport::Post, late).await;
    assert_clean(&late, Transport::Post);
    let before = store_contents(db).await;
    let replayed = send_refused_mutations_again(app, schema, world, &late).await;
    assert_unchanged(
        &before,
        &store_contents(db).await,
        "refused requests sent again",
    );
    assert!(
        replayed.is_empty(),
        "refusals sent again were answered otherwise:\n{}",
        replayed.join("\n")
    );
    everything_still_reads(app, world).await;
}

#[tokio::test]
async fn hostile_strings_in_every_query_over_get_get_clean_answers() {
    let app = spawn().await;
    let world = World::seed(&app).await;
    let (schema, operations, strings) = (Schema::committed(), operations(), Strings::new());
    let planned = plan(&operations, &strings, Transport::Get);
    let ran = run_http(&app, &schema, &world, Transport::Get, planned).await;
    assert_clean(&ran, Transport::Get);
}

#[tokio::test]
async fn hostile_strings_in_every_input_over_the_websocket_get_clean_answers() {
    let app = spawn().await;
    let world = World::seed(&app).await;
    let (schema, operations, strings) = (Schema::committed(), operations(), Strings::new());
    let planned = plan(&operations, &strings, Transport::WebSocket);
    let ran = run_ws(&app, &schema, &world, planned).await;
    assert_clean(&ran, Transport::WebSocket);
}

#[tokio::test]
async fn oversized_messages_close_the_socket_with_1009() {
    let app = spawn().await;
    let ada = app.sign_up("Acme", "ada@example.com").await;
    let mut ws = Ws::open(&app, &ada.access_token).await;
    ws.send(json!({
        "id": "1",
        "type": "subscribe",
        "payload": {
            "query": "mutation($input: AddAgendaItemInput!) { addAgendaItem(input: $input) { agendaItem { id } } }",
            "variables": { "input": { "meetingId": "any", "title": noise(MAX_STRING_LENGTH) } },
        },
    }))
    .await;
    let (messages, code) = ws.close_code(WAIT).await;
    assert_eq!(code, Some(1009), "{messages:?}");
}

// ---------------------------------------------------------------------------------------------
// Beyond GraphQL inputs.

/// Errors async-graphql answers without a code for a request that names no operation it has.
fn refused_operation(message: &str) -> bool {
    message.starts_with("Unknown operation named") || message.starts_with("Operation name required")
}

/// Fails listing every answer that broke [`classify`]'s rules.
fn assert_all_clean(answers: Vec<(String, Answer)>) {
    let failures: Vec<String> = answers
        .iter()
        .filter_map(|(what, answer)| {
            let error = classify(answer, "", refused_operation).err()?;
            Some(format!("{what}: {error}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} requests broke a rule:\n{}",
        failures.len(),
        answers.len(),
        failures.join("\n")
    );
}

/// Over the WebSocket, as an HTTP-shaped answer; `None` when the message would be over the
/// socket's limit.
async fn ws_answer(ws: &mut Ws, id: usize, payload: Value) -> Option<Answer> {
    if payload.to_string().len() + 64 > MAX_WS_MESSAGE {
        return None;
    }
    Some(Answer {
        status: None,
        body: ws.request(&id.to_string(), payload).await,
        target: 0,
        dropped: None,
    })
}

#[tokio::test]
async fn hostile_calendar_feed_paths_are_not_found() {
    let app = spawn().await;
    let ada = app.sign_up("Acme", "ada@example.com").await;
    let url = app
        .ok(
            "{ viewer { calendarFeedUrl } }",
            json!({}),
            Some(&ada.access_token),
        )
        .await["viewer"]["calendarFeedUrl"]
        .as_str()
        .expect("a feed URL")
        .to_owned();
    let path = url.split_once("/calendar/").expect("a feed path").1;
    let token = path.trim_end_matches(".ics");
    assert_eq!(raw_get(&app, &format!("/calendar/{path}")).await, 200);
    let mut tampered = token.to_owned();
    let last = if tampered.pop() == Some('A') {
        'B'
    } else {
        'A'
    };
    tampered.push(last);
    let files = [
        "%00.ics".to_owned(),
        "%00".into(),
        format!("{token}%00.ics"),
        format!("%00{token}.ics"),
        "%1B%5B31m.ics".into(),
        "%7F.ics".into(),
        "%C2%85.ics".into(),
        "%F0%9F%98%80%F0%9F%91%A9%E2%80%8D%F0%9F%91%A9%E2%80%8D%F0%9F%91%A7.ics".into(),
        "%E2%80%AEscv.ics".into(),
        "..%2F..%2F..%2Fetc%2Fpasswd".into(),
        "..%2F..%2FCargo.toml.ics".into(),
        "%2e%2e%2f%2e%2e%2fschema.graphql".into(),
        "..%5C..%5Cwindows%5Cwin.ini.ics".into(),
        "%FF%FE.ics".into(),
        "%ZZ.ics".into(),
        ".ics".into(),
        "%20.ics".into(),
        "'%20OR%201%3D1%20--.ics".into(),
        format!("{tampered}.ics"),
        format!("{}.ics", token.to_lowercase()),
        format!("{token}.ics.ics"),
        format!("{}.ics", noise(10_000)),
        format!("{}.ics", noise(MAX_STRING_LENGTH)),
    ];
    for file in files {
        let target = format!("/calendar/{file}");
        let status = raw_get(&app, &target).await;
        let expected: &[u16] = if target.len() > MAX_URI {
            &[414]
        } else {
            // 400 for a path that does not decode to UTF-8.
            &[404, 400]
        };
        assert!(
            expected.contains(&status),
            "{} answered {status}",
            short(&target)
        );
    }
}

#[tokio::test]
async fn hostile_credentials_are_unauthenticated() {
    let app = spawn().await;
    let ada = app.sign_up("Acme", "ada@example.com").await;
    let token = ada.access_token.as_str();
    let headers: Vec<Vec<u8>> = [
        b"Bearer \xff\xfe\x80".to_vec(),
        b"\x80\x81\xfe\xff".to_vec(),
        "Bearer 😀👩‍👩‍👧".as_bytes().to_vec(),
        b"Bearer".to_vec(),
        b"Bearer ".to_vec(),
        b"Bearer    ".to_vec(),
        b"Bearer a\tb".to_vec(),
        b"Basic YWRhOnB3".to_vec(),
        b"Bearer a.b.c".to_vec(),
        b"Bearer ' OR 1=1 --".to_vec(),
        format!("Bearer {token}x").into_bytes(),
        format!("Bearer {}", &token[..token.len() - 1]).into_bytes(),
        format!("Bearer {token}, Bearer {token}").into_bytes(),
        format!("Bearer {}", noise(8_000)).into_bytes(),
        format!("Bearer {}", noise(60_000)).into_bytes(),
    ]
    .into();
    for header in headers {
        let value = HeaderValue::from_bytes(&header).expect("a value HTTP allows");
        let request = app
            .client
            .post(app.url("/graphql"))
            .header("authorization", value)
            .json(&json!({ "query": "{ viewer { id } }" }));
        let answer = send(&app, request, None).await;
        assert!(
            answer.status == Some(401)
                && answer.body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED",
            "{}: HTTP {:?} {}",
            short(&String::from_utf8_lossy(&header)),
            answer.status,
            short(&answer.body.to_string())
        );
    }
    // JSON carries what a header cannot: NUL, escapes, other types.
    let payloads = [
        json!({ "authorization": "Bearer \u{0}" }),
        json!({ "authorization": format!("Bearer {token}\u{0}") }),
        json!({ "authorization": format!("\u{0}Bearer {token}") }),
        json!({ "authorization": format!("Bearer \u{1b}[31m{token}") }),
        json!({ "Authorization": "Bearer \u{85}" }),
        json!({ "authorization": format!("Bearer {}", noise(60_000)) }),
        json!({ "authorization": 42 }),
        json!({ "authorization": ["Bearer x"] }),
        json!({ "authorization": { "Bearer": token } }),
        json!(format!("Bearer {token}")),
        json!(42),
        json!([]),
    ];
    for payload in payloads {
        let mut ws = Ws::connect(&app, TRANSPORT_WS).await;
        ws.init_with(payload.clone()).await;
        let (messages, code) = ws.close_code(WAIT).await;
        assert_eq!(
            code,
            Some(4403),
            "{}: {messages:?}",
            short(&payload.to_string())
        );
    }
    // Fewer failures than the per-address budget: the real token still works.
    let data = app.ok("{ viewer { id } }", json!({}), Some(token)).await;
    assert_eq!(data["viewer"]["id"], ada.user_id.as_str());
}

/// `extensions` a client may send: `persistedQuery` with odd hashes and versions, and odd shapes.
fn odd_extensions(query: &str) -> Vec<Value> {
    let right = hex::encode(Sha256::digest(query.as_bytes()));
    let hashes = [
        json!(""),
        json!("\u{0}"),
        json!("😀👩‍👩‍👧"),
        json!("g".repeat(64)),
        json!(right.to_uppercase()),
        json!(format!("{right}\u{0}")),
        json!(format!(" {right}")),
        json!(noise(MAX_STRING_LENGTH)),
        json!(42),
        json!(null),
        json!([right]),
    ];
    let versions = [
        json!(1),
        json!(2),
        json!(0),
        json!(-1),
        json!("1"),
        json!(1.5),
        json!(null),
    ];
    let mut extensions: Vec<Value> = hashes
        .iter()
        .flat_map(|hash| {
            versions.iter().map(move |version| {
                json!({ "persistedQuery": { "version": version, "sha256Hash": hash } })
            })
        })
        .collect();
    extensions.extend([
        json!("persistedQuery"),
        json!([]),
        json!({ "persistedQuery": null }),
        json!({ "persistedQuery": "x" }),
        json!({ "persistedQuery": [] }),
        json!({ "persistedQuery": {} }),
        json!({ "persistedQuery": { "version": 1 } }),
    ]);
    extensions
}

#[tokio::test]
async fn hostile_operation_names_and_persisted_query_hashes_get_clean_answers() {
    let app = spawn().await;
    let ada = app.sign_up("Acme", "ada@example.com").await;
    let token = Some(ada.access_token.as_str());
    let mut ws = Ws::open(&app, &ada.access_token).await;
    let mut answers = Vec::new();
    let mut id = 0;
    let two = "query A { viewer { id } } query B { __typename }";
    let names = hostile_strings()
        .into_iter()
        .map(|hostile| json!(hostile.value));
    let requests = names
        .chain([json!(42), json!({}), json!(["A"])])
        .map(|name| json!({ "query": two, "operationName": name }))
        .chain(
            odd_extensions("{ __typename }")
                .into_iter()
                .flat_map(|extensions| {
                    [
                        json!({ "extensions": extensions }),
                        json!({ "query": "{ __typename }", "extensions": extensions }),
                    ]
                }),
        );
    for request in requests {
        let what = short(&request.to_string());
        let post = app.client.post(app.url("/graphql")).json(&request);
        answers.push((format!("POST {what}"), send(&app, post, token).await));
        let params: Vec<(&str, String)> = ["query", "operationName", "extensions"]
            .into_iter()
            .filter_map(|name| {
                let value = request.get(name)?;
                Some((
                    name,
                    value
                        .as_str()
                        .map_or_else(|| value.to_string(), str::to_owned),
                ))
            })
            .collect();
        let get = app.client.get(app.url("/graphql")).query(&params);
        answers.push((format!("GET {what}"), send(&app, get, token).await));
        // A socket closes (4400) on a payload that is not a GraphQL request: names must be
        // strings there.
        if request.get("operationName").is_none_or(Value::is_string) {
            id += 1;
            if let Some(answer) = ws_answer(&mut ws, id, request.clone()).await {
                answers.push((format!("WebSocket {what}"), answer));
            }
        }
    }
    assert_all_clean(answers);
    ws.close().await;
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics answer");
    assert_eq!(metrics.status(), StatusCode::OK);
    let text = metrics.text().await.expect("metrics text");
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "operation names reach the metrics only as labels that are safe to print"
    );
}

#[tokio::test]
async fn malformed_get_parameters_and_bodies_get_clean_answers() {
    let app = spawn().await;
    let ada = app.sign_up("Acme", "ada@example.com").await;
    let token = Some(ada.access_token.as_str());
    let typename = "query=%7B__typename%7D";
    let queries = [
        format!("{typename}&variables=not%20json"),
        format!("{typename}&variables=%5B1%5D"),
        format!("{typename}&variables=%22text%22"),
        format!("{typename}&variables=42"),
        format!("{typename}&variables=%7B%22v%22%3A"),
        format!("{typename}&variables=%00"),
        format!("{typename}&variables=%7B%22v%22%3A%22%5Cu0000%22%7D"),
        format!("{typename}&variables=%7B%22v%22%3A%22%5CuD800%22%7D"),
        format!("{typename}&variables=%7B%7D%7B%7D"),
        format!("{typename}&extensions=garbage"),
        format!("{typename}&extensions=%5B"),
        format!("{typename}&{typename}"),
        format!("{typename}&operationName=%00"),
        format!("{typename}&variables=%FF%FE"),
        "query=%ZZ".into(),
        "query=%FF%FE".into(),
        "query=%00".into(),
        "query=".into(),
        "query=%7B%20node(id%3A%20%22%5CuD800%22)%20%7B%20id%20%7D%20%7D".into(),
        "query=%7B%20node(id%3A%20%22%5Cu%7BD800%7D%22)%20%7B%20id%20%7D%20%7D".into(),
        "variables=%7B%7D".into(),
        String::new(),
    ];
    let mut answers = Vec::new();
    for query in queries {
        let get = app.client.get(format!("{}/graphql?{query}", app.address));
        answers.push((format!("GET ?{query}"), send(&app, get, token).await));
    }
    // Bodies no JSON parser takes, and GraphQL escapes no string can hold.
    let bodies: [&[u8]; 6] = [
        br#"{"query": "{ __typename }", "variables": {"v": "\ud800"}}"#,
        b"{\"query\": \"\xff\xfe\"}",
        br#"{"query": "{ node(id: \"\\uD800\") { id } }"}"#,
        br#"{"query": "{ node(id: \"\\uDC00\\uD800\") { id } }"}"#,
        br#"{"query": "{ node(id: \"\\u{110000}\") { id } }"}"#,
        b"{\"query\": \"{ __typename }\"}\x00",
    ];
    for body in bodies {
        let post = app
            .client
            .post(app.url("/graphql"))
            .header("content-type", "application/json")
            .body(body.to_vec());
        answers.push((
            format!("POST {}", short(&String::from_utf8_lossy(body))),
            send(&app, post, token).await,
        ));
    }
    assert_all_clean(answers);
}
