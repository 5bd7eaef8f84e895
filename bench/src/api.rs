//! Talking to the server as the mobile app does: the GraphQL documents it sends, signed-in
//! sessions, and the few helpers every section shares.

use std::net::SocketAddr;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The framework's ceiling: no resolver touches the database.
pub const TYPENAME: &str = "{ __typename }";

/// The home screen: the viewer with their series, each with its next meeting and open items.
pub const HOME: &str = "query Home { viewer { id displayName oneOnOnes(first: 20) { nodes { id cadence manager { id displayName } report { id displayName } nextMeeting { id scheduledAt status agenda { id title } } openActionItems { id title assignee { displayName } } } } } }";

/// The meeting screen.
pub const MEETING_VIEW: &str = "query MeetingView($id: ID!) { node(id: $id) { id ... on Meeting { status scheduledAt agenda { id title discussedAt author { displayName } } notes { id body visibility author { displayName } } actionItems { id title completedAt assignee { displayName } } checkIns { mood } currentTopic { title } oneOnOne { manager { displayName } report { displayName } openActionItems { id title assignee { displayName } } } } } }";

pub const SIGN_IN: &str = "mutation SignIn($input: SignInInput!) { signIn(input: $input) { accessToken refreshToken user { id } } }";
const REFRESH: &str = "mutation Refresh($input: RefreshSessionInput!) { refreshSession(input: $input) { accessToken refreshToken user { id } } }";
pub const ADD_AGENDA_ITEM: &str = "mutation AddAgendaItem($input: AddAgendaItemInput!) { addAgendaItem(input: $input) { agendaItem { id } } }";
pub const REMOVE_AGENDA_ITEM: &str = "mutation RemoveAgendaItem($input: RemoveAgendaItemInput!) { removeAgendaItem(input: $input) { removedAgendaItemId } }";
pub const UPDATE_NOTE: &str = "mutation UpdateNote($input: UpdateNoteInput!) { updateNote(input: $input) { note { id version } } }";
pub const SET_ACTION_ITEM_DONE: &str = "mutation SetActionItemDone($input: SetActionItemDoneInput!) { setActionItemDone(input: $input) { actionItem { id completedAt } } }";

/// A JSON request body.
pub fn body(query: &str, variables: Value) -> String {
    json!({ "query": query, "variables": variables }).to_string()
}

/// The hex SHA-256 of a document, as Automatic Persisted Queries name it.
pub fn sha256_hex(query: &str) -> String {
    hex::encode(Sha256::digest(query.as_bytes()))
}

/// An Automatic Persisted Query body: the hash alone, or with the document to register it.
pub fn apq_body(query: &str, variables: Value, register: bool) -> String {
    let mut body = json!({
        "extensions": { "persistedQuery": { "version": 1, "sha256Hash": sha256_hex(query) } },
        "variables": variables,
    });
    if register {
        body["query"] = query.into();
    }
    body.to_string()
}

/// Why an answer is not a success (a non-2xx status or any GraphQL error), if it is not.
pub fn failure(status: reqwest::StatusCode, body: &[u8]) -> Option<String> {
    let has_errors = body.windows(8).any(|window| window == b"\"errors\"");
    (!status.is_success() || has_errors).then(|| {
        format!(
            "HTTP {}: {}",
            status.as_u16(),
            String::from_utf8_lossy(&body[..body.len().min(500)])
        )
    })
}

/// The `extensions.code` of the first error, if any.
pub fn error_code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

/// One HTTP/1.1 keep-alive client shared by every simulated phone.
#[derive(Clone)]
pub struct Api {
    pub http: reqwest::Client,
    pub addr: SocketAddr,
    graphql_url: String,
}

impl Api {
    pub fn new(addr: SocketAddr) -> Result<Self> {
        let http = reqwest::Client::builder()
            .http1_only()
            .tcp_nodelay(true)
            .pool_max_idle_per_host(1024)
            .build()?;
        Ok(Self {
            http,
            addr,
            graphql_url: format!("http://{addr}/graphql"),
        })
    }

    /// POSTs a prepared body; returns the status and raw body.
    pub async fn post(
        &self,
        body: String,
        token: Option<&str>,
    ) -> Result<(reqwest::StatusCode, Vec<u8>)> {
        let mut request = self
            .http
            .post(&self.graphql_url)
            .header("content-type", "application/json")
            .header("accept", "application/graphql-response+json")
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await?;
        let status = response.status();
        Ok((status, response.bytes().await?.to_vec()))
    }

    /// POSTs a prepared body; returns the parsed JSON answer, errors included.
    pub async fn post_json(&self, body: String, token: Option<&str>) -> Result<Value> {
        let (_, bytes) = self.post(body, token).await?;
        serde_json::from_slice(&bytes).context("a JSON answer")
    }

    /// Runs an operation that must succeed; returns its `data`.
    pub async fn ok(&self, query: &str, variables: Value, token: Option<&str>) -> Result<Value> {
        let (status, bytes) = self.post(body(query, variables), token).await?;
        if let Some(failure) = failure(status, &bytes) {
            bail!("{failure}");
        }
        let answer: Value = serde_json::from_slice(&bytes)?;
        Ok(answer["data"].clone())
    }

    /// The server's `tete_db_statements_total` counter.
    pub async fn statements(&self) -> Result<u64> {
        let text = self
            .http
            .get(format!("http://{}/metrics", self.addr))
            .send()
            .await?
            .text()
            .await?;
        text.lines()
            .find_map(|line| {
                line.strip_prefix("tete_db_statements_total ")?
                    .trim()
                    .parse::<f64>()
                    .ok()
            })
            .map(|value| value as u64)
            .context("no tete_db_statements_total in /metrics")
    }
}

/// A signed-in user, and the meetings (global ids) their screens show.
#[derive(Debug, Clone)]
pub struct Session {
    pub email: String,
    pub user_id: String,
    pub access_token: String,
    refresh_token: String,
    pub meetings: Vec<String>,
}

impl Session {
    pub async fn sign_in(
        api: &Api,
        email: &str,
        password: &str,
        meetings: Vec<String>,
    ) -> Result<Self> {
        let data = api
            .ok(
                SIGN_IN,
                json!({ "input": { "email": email, "password": password } }),
                None,
            )
            .await
            .with_context(|| format!("signing in {email}"))?;
        let mut session = Self {
            email: email.to_owned(),
            user_id: String::new(),
            access_token: String::new(),
            refresh_token: String::new(),
            meetings,
        };
        session.take_tokens(&data["signIn"])?;
        Ok(session)
    }

    /// Trades the refresh token for fresh tokens: access tokens live 15 minutes, and a
    /// WebSocket closes when the token it was opened with expires.
    pub async fn refresh(&mut self, api: &Api) -> Result<()> {
        let data = api
            .ok(
                REFRESH,
                json!({ "input": { "refreshToken": self.refresh_token } }),
                None,
            )
            .await
            .with_context(|| format!("refreshing {}", self.email))?;
        self.take_tokens(&data["refreshSession"])
    }

    fn take_tokens(&mut self, payload: &Value) -> Result<()> {
        let text = |field: &str| {
            payload[field]
                .as_str()
                .map(str::to_owned)
                .with_context(|| format!("no {field} in {payload}"))
        };
        self.access_token = text("accessToken")?;
        self.refresh_token = text("refreshToken")?;
        self.user_id = payload["user"]["id"]
            .as_str()
            .context("no user id")?
            .to_owned();
        Ok(())
    }
}

/// Refreshes every session, a few at a time.
pub async fn refresh_all(api: &Api, sessions: &mut [Session]) -> Result<()> {
    for chunk in sessions.chunks_mut(16) {
        let refreshed = futures_util::future::join_all(chunk.iter_mut().map(|s| s.refresh(api)));
        for result in refreshed.await {
            result?;
        }
    }
    Ok(())
}
