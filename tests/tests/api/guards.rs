//! Every guard holds on every transport: the same abuse sent as HTTP requests and as operations
//! over a `graphql-transport-ws` socket meets the same refusal, and the two share one budget.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tete_tests::{Config, TestApp, error_code, spawn_app, spawn_app_with};

use crate::{
    api_tokens::{MEETINGS_READ, NOTES_READ, create_token, seed},
    support::{add_item, day, deactivate, hold_meeting, node, pair, schedule},
    ws::{TRANSPORT_WS, Ws},
};

/// The two ways a client reaches the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    Http,
    Socket,
}

const BOTH: [Via; 2] = [Via::Http, Via::Socket];

/// A client of one app, signed in with one token, over one transport.
enum Client<'a> {
    Http { app: &'a TestApp, token: String },
    Socket { ws: Box<Ws>, sent: u32 },
}

impl<'a> Client<'a> {
    async fn open(app: &'a TestApp, via: Via, token: &str) -> Self {
        match via {
            Via::Http => Self::Http {
                app,
                token: token.to_owned(),
            },
            Via::Socket => Self::Socket {
                ws: Box::new(Ws::open(app, token).await),
                sent: 0,
            },
        }
    }

    /// Runs one operation; returns the body as HTTP gives it (`data`, `errors`).
    async fn run(&mut self, query: &str, variables: Value) -> Value {
        match self {
            Self::Http { app, token } => app.graphql(query, variables, Some(token)).await,
            Self::Socket { ws, sent } => {
                *sent += 1;
                ws.operation(&format!("op{sent}"), query, variables).await
            }
        }
    }
}

/// The code (if any) and message of a request refused before it ran: errors, and no data.
fn refusal(body: &Value) -> Option<(Option<&str>, &str)> {
    let error = &body["errors"][0];
    (body["data"].is_null()).then_some(())?;
    Some((
        error["extensions"]["code"].as_str(),
        error["message"].as_str()?,
    ))
}

#[tokio::test]
async fn the_alias_limit_holds_on_both_transports() {
    let app = spawn_app().await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    let aliases: String = (0..31).map(|i| format!("a{i}: viewer {{ id }} ")).collect();
    let query = format!("{{ {aliases} }}");
    for via in BOTH {
        let mut client = Client::open(&app, via, &admin.access_token).await;
        let body = client.run(&query, json!({})).await;
        let (code, message) = refusal(&body).unwrap_or_else(|| panic!("{via:?}: {body}"));
        assert_eq!(code, Some("BAD_USER_INPUT"), "{via:?}: {body}");
        assert!(message.contains("31 aliases"), "{via:?}: {message}");
    }
}

#[tokio::test]
async fn depth_complexity_directive_and_string_limits_hold_on_both_transports() {
    let app = spawn_app_with(crate::transport::with_low_limits).await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    for via in BOTH {
        let mut client = Client::open(&app, via, &admin.access_token).await;
        for query in crate::transport::over_low_limits() {
            let body = client.run(&query, json!({})).await;
            assert!(refusal(&body).is_some(), "{via:?} {query}: {body}");
        }
        let body = client
            .run(
                "query($id: ID!) { node(id: $id) { id } }",
                json!({ "id": "x".repeat(101) }),
            )
            .await;
        assert_eq!(
            refusal(&body).and_then(|(code, _)| code),
            Some("BAD_USER_INPUT"),
            "{via:?}: {body}"
        );
    }
}

#[tokio::test]
async fn control_characters_are_refused_on_both_transports_naming_the_field() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let meeting = schedule(&app, &pair.manager, &pair.series, day(1)).await;
    let add = "mutation($input: AddAgendaItemInput!) { addAgendaItem(input: $input) { agendaItem { id } } }";
    for via in BOTH {
        let mut client = Client::open(&app, via, &pair.manager.access_token).await;
        let body = client
            .run(
                add,
                json!({ "input": { "meetingId": meeting, "title": "a\u{0}b" } }),
            )
            .await;
        let (code, message) = refusal(&body).unwrap_or_else(|| panic!("{via:?}: {body}"));
        assert_eq!(code, Some("BAD_USER_INPUT"));
        assert!(message.starts_with("$input.title"), "{via:?}: {message}");
        let literal = format!(
            "mutation {{ addAgendaItem(input: {{ meetingId: \"{meeting}\", title: \"x\\u001b[31m\" }}) {{ agendaItem {{ id }} }} }}"
        );
        let body = client.run(&literal, json!({})).await;
        let (_, message) = refusal(&body).unwrap_or_else(|| panic!("{via:?}: {body}"));
        assert!(
            message.starts_with("addAgendaItem.input.title"),
            "{via:?}: {message}"
        );
    }
    let agenda = crate::support::agenda(&app, &pair.manager, &meeting).await;
    assert!(agenda.is_empty(), "nothing was written: {agenda:?}");
}

#[tokio::test]
async fn one_request_budget_covers_both_transports() {
    let app = spawn_app_with(|config| config.rate_limit_per_minute = 6).await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    let mut http = Client::open(&app, Via::Http, &admin.access_token).await;
    let mut socket = Client::open(&app, Via::Socket, &admin.access_token).await;
    let mut codes = Vec::new();
    for round in 0..5 {
        let client = if round % 2 == 0 {
            &mut http
        } else {
            &mut socket
        };
        codes
            .push(error_code(&client.run("{ viewer { id } }", json!({})).await).map(str::to_owned));
        let body = socket.run("{ viewer { id } }", json!({})).await;
        codes.push(error_code(&body).map(str::to_owned));
    }
    // The sign-up was anonymous: Ada has six requests, whichever way they come.
    assert!(codes[..6].iter().all(Option::is_none), "{codes:?}");
    assert!(
        codes[6..]
            .iter()
            .all(|code| code.as_deref() == Some("RATE_LIMITED")),
        "{codes:?}"
    );
}

const SIGN_IN: &str = "mutation($input: SignInInput!) { signIn(input: $input) { accessToken } }";

#[tokio::test]
async fn sign_ins_over_the_socket_are_limited_per_email() {
    let app = spawn_app().await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    app.create_user(&admin, "eve@example.com", None).await;
    let eve = app.session("eve@example.com").await;
    let mut socket = Client::open(&app, Via::Socket, &eve.access_token).await;
    let mut codes = Vec::new();
    for _ in 0..11 {
        let body = socket
            .run(
                SIGN_IN,
                json!({ "input": { "email": "ada@example.com", "password": "wrong password!" } }),
            )
            .await;
        codes.push(error_code(&body).map(str::to_owned));
    }
    assert!(
        codes[..10]
            .iter()
            .all(|code| code.as_deref() == Some("UNAUTHENTICATED")),
        "{codes:?}"
    );
    assert_eq!(codes[10].as_deref(), Some("RATE_LIMITED"), "{codes:?}");
}

#[tokio::test]
async fn sign_ins_are_limited_per_address_whichever_transport_sprays_them() {
    let app = spawn_app_with(|config| config.sign_ins_per_address_per_minute = 10).await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    app.create_user(&admin, "eve@example.com", None).await;
    let eve = app.session("eve@example.com").await;
    let mut http = Client::open(&app, Via::Http, &eve.access_token).await;
    let mut socket = Client::open(&app, Via::Socket, &eve.access_token).await;
    // Spray guesses from one address, half each way.
    let mut refused_at = None;
    for attempt in 0..14 {
        let client = if attempt % 2 == 0 {
            &mut http
        } else {
            &mut socket
        };
        let input = json!({ "input": { "email": format!("guess{attempt}@example.com"), "password": "Winter2026!!" } });
        let body = client.run(SIGN_IN, input).await;
        match error_code(&body) {
            Some("UNAUTHENTICATED") => {}
            Some("RATE_LIMITED") => {
                refused_at = Some(attempt);
                break;
            }
            other => panic!("attempt {attempt}: {other:?} {body}"),
        }
    }
    // Eve's own sign-in came from this address too; the budget refills by one attempt every
    // six seconds meanwhile.
    assert!(
        refused_at.is_some_and(|at| (9..12).contains(&at)),
        "the address has 10 attempts a minute: refused at {refused_at:?}"
    );
    let body = socket
        .run(
            SIGN_IN,
            json!({ "input": { "email": "eve@example.com", "password": tete_tests::PASSWORD } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("RATE_LIMITED"), "{body}");
}

#[tokio::test]
async fn an_api_token_read_over_the_socket_is_in_the_access_log() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    let token = create_token(&app, &fx.bob, "Sync", &[MEETINGS_READ, NOTES_READ]).await;
    let log = "{ viewer { accessLog(first: 10) { totalCount edges { node { via oneOnOneId apiTokenId reader { id } } } } } }";
    for (round, via) in BOTH.into_iter().enumerate() {
        let mut client = Client::open(&app, via, &token.secret).await;
        let body = client
            .run(
                "query($m: ID!) { node(id: $m) { ... on Meeting { agenda { title } notes { body } } } }",
                json!({ "m": fx.id("M") }),
            )
            .await;
        assert!(body.get("errors").is_none(), "{via:?}: {body}");
        for participant in [&fx.bob, &fx.max] {
            let data = app
                .ok(log, json!({}), Some(&participant.access_token))
                .await;
            let entries = &data["viewer"]["accessLog"];
            assert_eq!(entries["totalCount"], round + 1, "{via:?}: {entries}");
            let newest = &entries["edges"][0]["node"];
            assert_eq!(newest["via"], "API_TOKEN", "{via:?}: {newest}");
            assert_eq!(newest["oneOnOneId"], fx.id("S"));
            assert_eq!(newest["apiTokenId"], token.id.as_str());
            assert_eq!(newest["reader"]["id"], fx.bob.user_id.as_str());
        }
    }
}

#[tokio::test]
async fn an_api_token_following_a_meeting_is_in_the_access_log() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    let token = create_token(&app, &fx.bob, "Live", &[MEETINGS_READ, NOTES_READ]).await;
    let log = "{ viewer { accessLog(first: 10) { totalCount edges { node { via oneOnOneId apiTokenId } } } } }";
    let mut ws = Ws::open(&app, &token.secret).await;
    ws.subscribe("1", fx.id("M"), Some(0)).await;
    ws.event("1").await;
    // Written once the first event is delivered: by then the token has read the meeting.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let data = app.ok(log, json!({}), Some(&fx.max.access_token)).await;
        let entries = &data["viewer"]["accessLog"];
        if entries["totalCount"] == 1 {
            let entry = &entries["edges"][0]["node"];
            assert_eq!(entry["via"], "API_TOKEN", "{entry}");
            assert_eq!(entry["oneOnOneId"], fx.id("S"));
            assert_eq!(entry["apiTokenId"], token.id.as_str());
            break;
        }
        assert!(Instant::now() < deadline, "no entry: {entries}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `{ ...F<levels> }`, each fragment spreading the one below twice: 2^levels fields expanded.
fn fragment_bomb(levels: usize) -> String {
    let mut query =
        format!("query Bomb {{ ...F{levels} }} fragment F0 on Query {{ viewer {{ id }} }}");
    for level in 1..=levels {
        let below = level - 1;
        query.push_str(&format!(
            " fragment F{level} on Query {{ ...F{below} ...F{below} }}"
        ));
    }
    query
}

#[tokio::test]
async fn a_fragment_bomb_is_refused_in_milliseconds_on_both_transports() {
    let app = spawn_app().await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    let bomb = fragment_bomb(30);
    assert!(bomb.len() < 1_300, "{} bytes", bomb.len());

    // Anonymous, over HTTP: the cheapest attack there is.
    let mut fastest = Duration::MAX;
    for _ in 0..3 {
        let healthz = app.client.get(app.url("/healthz")).send();
        let sent = Instant::now();
        let (status, body) = app.post_graphql(&bomb, json!({}), None).await;
        let took = sent.elapsed();
        fastest = fastest.min(took);
        assert_eq!(status, 400, "{body}");
        assert_eq!(
            refusal(&body),
            Some((Some("BAD_USER_INPUT"), "Query is too complex.")),
            "{body}"
        );
        assert!(took < Duration::from_millis(500), "refused after {took:?}");
        let health = tokio::time::timeout(Duration::from_millis(500), healthz).await;
        assert!(
            health.is_ok_and(|answer| answer.is_ok()),
            "/healthz kept answering"
        );
    }
    assert!(
        fastest < Duration::from_millis(50),
        "fastest refusal took {fastest:?}"
    );

    let mut socket = Client::open(&app, Via::Socket, &admin.access_token).await;
    let sent = Instant::now();
    let body = socket.run(&bomb, json!({})).await;
    assert_eq!(
        refusal(&body),
        Some((Some("BAD_USER_INPUT"), "Query is too complex.")),
        "{body}"
    );
    assert!(sent.elapsed() < Duration::from_millis(500));
    assert!(socket.run("{ viewer { id } }", json!({})).await["data"]["viewer"]["id"].is_string());
}

#[tokio::test]
async fn a_document_nested_past_any_limit_is_refused_before_it_is_parsed() {
    let app = spawn_app().await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    // About 1 MiB, the body limit, of nothing but nesting.
    let levels = 200_000;
    let deep = "{a".repeat(levels) + &"}".repeat(levels);
    let list = format!(
        "{{ node(id: {}\"x\"{}) {{ id }} }}",
        "[".repeat(levels),
        "]".repeat(levels)
    );
    for query in [deep, list] {
        let sent = Instant::now();
        let (status, body) = app.post_graphql(&query, json!({}), None).await;
        assert_eq!(status, 400, "{body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .is_some_and(|message| message.contains("nests more than")),
            "{body}"
        );
        assert!(sent.elapsed() < Duration::from_secs(1));
    }
    let mut socket = Client::open(&app, Via::Socket, &admin.access_token).await;
    let nested = "{a".repeat(1_000) + &"}".repeat(1_000);
    let body = socket.run(&nested, json!({})).await;
    assert_eq!(
        refusal(&body).and_then(|(code, _)| code),
        Some("BAD_USER_INPUT"),
        "{body}"
    );
}

/// The introspection query GraphiQL and code generators send (graphql-js
/// `getIntrospectionQuery`, with descriptions).
const INTROSPECTION: &str = "query IntrospectionQuery { __schema { queryType { name } mutationType { name } subscriptionType { name } types { ...FullType } directives { name description locations args { ...InputValue } } } } fragment FullType on __Type { kind name description fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason } inputFields { ...InputValue } interfaces { ...TypeRef } enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason } possibleTypes { ...TypeRef } } fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue } fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }";

#[tokio::test]
async fn deep_introspection_is_refused_on_both_transports_and_graphiqls_is_not() {
    let app = spawn_app().await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    let circular = "{ __schema { types { fields { type { fields { type { fields { type { fields { type { name } } } } } } } } } } }";
    let (status, body) = app.post_graphql(circular, json!({}), None).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        refusal(&body).map(|(_, message)| message),
        Some("Maximum introspection depth exceeded")
    );
    let schema = app.ok(INTROSPECTION, json!({}), None).await;
    assert!(
        schema["__schema"]["types"]
            .as_array()
            .is_some_and(|types| types.len() > 20)
    );
    for via in BOTH {
        let mut client = Client::open(&app, via, &admin.access_token).await;
        let body = client.run(circular, json!({})).await;
        assert_eq!(
            refusal(&body).map(|(_, message)| message),
            Some("Maximum introspection depth exceeded"),
            "{via:?}: {body}"
        );
        let body = client.run(INTROSPECTION, json!({})).await;
        assert!(body.get("errors").is_none(), "{via:?}: {body}");
    }
}

#[tokio::test]
async fn errors_suggest_no_field_names() {
    let app = spawn_app().await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    for via in BOTH {
        let mut client = Client::open(&app, via, &admin.access_token).await;
        let body = client
            .run("{ viewr { id } viewer { emial } }", json!({}))
            .await;
        let text = body.to_string();
        assert!(
            body["errors"]
                .as_array()
                .is_some_and(|errors| !errors.is_empty())
        );
        assert!(!text.contains("Did you mean"), "{via:?}: {text}");
        assert!(
            !text.contains("\"viewer\"") && !text.contains("\"email\""),
            "{text}"
        );
    }
}

#[tokio::test]
async fn failed_credentials_are_limited_per_address_on_both_transports() {
    let app = spawn_app().await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    let guess = |i: u32| format!("tete_pat_guess{i:05}");
    // Half the guesses at the socket's door, half over HTTP: one budget of 100.
    for i in 0..50 {
        let mut ws = Ws::connect(&app, TRANSPORT_WS).await;
        ws.init(Some(&guess(i))).await;
        let (_, code) = ws.close_code(Duration::from_secs(5)).await;
        assert_eq!(code, Some(4403));
    }
    for i in 50..100 {
        let (status, _) = app
            .post_graphql("{ viewer { id } }", json!({}), Some(&guess(i)))
            .await;
        assert_eq!(status, 401, "guess {i}");
    }
    let before = app.metric("tete_db_statements_total").await;
    let (status, body) = app
        .post_graphql("{ viewer { id } }", json!({}), Some(&guess(100)))
        .await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(error_code(&body), Some("RATE_LIMITED"));
    assert_eq!(
        app.metric("tete_db_statements_total").await,
        before,
        "a refused guess costs no statement"
    );
    // Until the budget refills, this address's credentials are not even checked.
    let (status, _) = app
        .post_graphql("{ viewer { id } }", json!({}), Some(&admin.access_token))
        .await;
    assert_eq!(status, 429);
    let mut ws = Ws::connect(&app, TRANSPORT_WS).await;
    ws.init(Some(&admin.access_token)).await;
    let (_, code) = ws.close_code(Duration::from_secs(5)).await;
    assert_eq!(code, Some(4403));
    // Anonymous requests carry no credentials to refuse.
    assert_eq!(
        app.ok("{ __typename }", json!({}), None).await["__typename"],
        "Query"
    );
}

#[tokio::test]
async fn socket_operations_wait_for_a_turn_and_are_shed_like_requests() {
    let app = spawn_app_with(|config| config.max_in_flight = 1).await;
    let pair = pair(&app).await;
    let meeting_id = schedule(&app, &pair.manager, &pair.series, day(1)).await;
    let mut socket = Client::open(&app, Via::Socket, &pair.report.access_token).await;
    let lock = hold_meeting(&app, &meeting_id).await;
    let writing = add_item(&app, &pair.manager, &meeting_id, "Waits for the lock");
    let shed = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let body = socket.run("{ viewer { id } }", json!({})).await;
        lock.commit().await.unwrap();
        body
    };
    let (item, body) = tokio::join!(writing, shed);
    assert_eq!(error_code(&body), Some("RATE_LIMITED"), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["retryAfter"], 1);
    assert!(!item.is_empty());
    assert!(socket.run("{ viewer { id } }", json!({})).await["data"]["viewer"]["id"].is_string());
}

#[tokio::test]
async fn one_caller_cannot_take_every_turn_on_either_transport() {
    let app = spawn_app_with(|config: &mut Config| {
        config.max_in_flight = 4;
        config.max_in_flight_per_caller = 1;
    })
    .await;
    let pair = pair(&app).await;
    let meeting_id = schedule(&app, &pair.manager, &pair.series, day(1)).await;
    for via in BOTH {
        let mut max = Client::open(&app, via, &pair.manager.access_token).await;
        let mut bob = Client::open(&app, via, &pair.report.access_token).await;
        let lock = hold_meeting(&app, &meeting_id).await;
        // Max's write holds his one turn while it waits for the lock.
        let writing = add_item(&app, &pair.manager, &meeting_id, "Holds Max's turn");
        let others = async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let asked = Instant::now();
            let bobs = bob.run("{ viewer { id } }", json!({})).await;
            let bob_waited = asked.elapsed();
            let maxs = max.run("{ viewer { id } }", json!({})).await;
            lock.commit().await.unwrap();
            (bobs, bob_waited, maxs)
        };
        let (item, (bobs, bob_waited, maxs)) = tokio::join!(writing, others);
        assert!(bobs["data"]["viewer"]["id"].is_string(), "{via:?}: {bobs}");
        assert!(
            bob_waited < Duration::from_millis(500),
            "{via:?}: Bob waited {bob_waited:?}"
        );
        assert_eq!(error_code(&maxs), Some("RATE_LIMITED"), "{via:?}: {maxs}");
        assert!(!item.is_empty());
    }
}

#[tokio::test]
async fn socket_operations_are_counted_in_the_metrics() {
    let app = spawn_app().await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    let mut socket = Client::open(&app, Via::Socket, &admin.access_token).await;
    socket.run("query Me { viewer { id } }", json!({})).await;
    socket.run("query Me { nope }", json!({})).await;
    assert_eq!(
        app.metric(r#"tete_graphql_requests_total{operation="Me",outcome="Ok"}"#)
            .await,
        1.0
    );
    assert_eq!(
        app.metric(r#"tete_graphql_requests_total{operation="Me",outcome="Rejected"}"#)
            .await,
        1.0
    );
}

#[tokio::test]
async fn a_deactivated_users_socket_is_closed_and_runs_nothing_more() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let mut ws = Ws::open(&app, &pair.report.access_token).await;
    let body = ws.operation("1", "{ viewer { id } }", json!({})).await;
    assert!(body["data"]["viewer"]["id"].is_string());
    deactivate(&app, &pair.admin, &pair.report.user_id).await;
    let closed = Instant::now();
    let (messages, code) = ws.close_code(Duration::from_secs(2)).await;
    assert_eq!(code, Some(4403), "{messages:?}");
    assert!(closed.elapsed() < Duration::from_secs(1));
    let body = node(&app, Some(&pair.report.access_token), &pair.series, "id").await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
}
