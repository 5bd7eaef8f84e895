//! HTTP load: closed-loop clients (each sends its next request when the previous one answers),
//! latency histograms, and the SQL statements a single request costs.

use std::time::{Duration, Instant};

use anyhow::Result;
use hdrhistogram::Histogram;
use serde_json::{Value, json};

use crate::api::{self, Api, Session};

/// Which request a run sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    Typename,
    Home,
    MeetingView,
    /// The meeting view as an Automatic Persisted Query (hash only).
    MeetingViewApq,
}

impl Workload {
    pub fn label(self) -> &'static str {
        match self {
            Self::Typename => "`{ __typename }`",
            Self::Home => "home screen",
            Self::MeetingView => "meeting view",
            Self::MeetingViewApq => "meeting view (APQ)",
        }
    }

    /// The bodies one session cycles through: every meeting of theirs, for the meeting view.
    pub fn bodies(self, session: &Session) -> Vec<String> {
        let meeting = |id: &String| json!({ "id": id });
        match self {
            Self::Typename => vec![api::body(api::TYPENAME, Value::Null)],
            Self::Home => vec![api::body(api::HOME, Value::Null)],
            Self::MeetingView => session
                .meetings
                .iter()
                .map(|id| api::body(api::MEETING_VIEW, meeting(id)))
                .collect(),
            Self::MeetingViewApq => session
                .meetings
                .iter()
                .map(|id| api::apq_body(api::MEETING_VIEW, meeting(id), false))
                .collect(),
        }
    }
}

/// A latency histogram in microseconds, 1 µs to 10 minutes.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

/// Records one latency, saturating at the histogram's top.
pub fn record(histogram: &mut Histogram<u64>, latency: Duration) {
    histogram.saturating_record(latency.as_micros().max(1) as u64);
}

/// A quantile of a histogram, in milliseconds.
pub fn ms(histogram: &Histogram<u64>, quantile: f64) -> f64 {
    histogram.value_at_quantile(quantile) as f64 / 1000.0
}

/// What one closed-loop run measured.
pub struct Measured {
    pub requests: u64,
    pub errors: u64,
    pub per_second: f64,
    pub latency: Histogram<u64>,
    pub first_error: Option<String>,
}

/// One simulated phone: its token and the bodies it cycles through.
struct Client {
    token: String,
    bodies: Vec<String>,
}

/// Runs `clients` closed-loop clients, spread over `sessions`, for `warmup` then `duration`;
/// only requests sent and answered inside the measured window count.
pub async fn closed_loop(
    api: &Api,
    sessions: &[Session],
    workload: Workload,
    clients: usize,
    warmup: Duration,
    duration: Duration,
) -> Measured {
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|i| {
            let session = &sessions[i % sessions.len()];
            let client = Client {
                token: session.access_token.clone(),
                bodies: workload.bodies(session),
            };
            let api = api.clone();
            // Offset each client's first meeting so clients of one session differ.
            tokio::spawn(async move { run_client(api, client, i, measure_from, end).await })
        })
        .collect();
    let mut total = Measured {
        requests: 0,
        errors: 0,
        per_second: 0.0,
        latency: histogram(),
        first_error: None,
    };
    for task in tasks {
        let Ok(measured) = task.await else {
            total.errors += 1;
            continue;
        };
        total.requests += measured.requests;
        total.errors += measured.errors;
        let _ = total.latency.add(&measured.latency);
        total.first_error = total.first_error.or(measured.first_error);
    }
    total.per_second = total.requests as f64 / duration.as_secs_f64();
    total
}

async fn run_client(
    api: Api,
    client: Client,
    offset: usize,
    measure_from: Instant,
    end: Instant,
) -> Measured {
    let mut measured = Measured {
        requests: 0,
        errors: 0,
        per_second: 0.0,
        latency: histogram(),
        first_error: None,
    };
    let mut n = offset;
    while Instant::now() < end {
        let body = client.bodies[n % client.bodies.len()].clone();
        n += 1;
        let sent = Instant::now();
        let failure = match api.post(body, Some(&client.token)).await {
            Ok((status, bytes)) => api::failure(status, &bytes),
            Err(error) => Some(error.to_string()),
        };
        let answered = Instant::now();
        if sent < measure_from || answered > end {
            continue;
        }
        measured.requests += 1;
        record(&mut measured.latency, answered - sent);
        if let Some(failure) = failure {
            measured.errors += 1;
            measured.first_error.get_or_insert(failure);
        }
    }
    measured
}

/// The fewest SQL statements one request took over three tries with no other traffic (the
/// fewest, so background work such as the webhook worker's polling is not counted).
pub async fn statements(api: &Api, body: &str, token: &str) -> Result<u64> {
    let mut fewest = u64::MAX;
    for _ in 0..3 {
        let before = api.statements().await?;
        let (status, bytes) = api.post(body.to_owned(), Some(token)).await?;
        let after = api.statements().await?;
        if let Some(failure) = api::failure(status, &bytes) {
            anyhow::bail!("counting statements: {failure}");
        }
        fewest = fewest.min(after - before);
    }
    Ok(fewest)
}

/// Registers the meeting view as a persisted query following the Apollo protocol: a hash-only
/// request; on `PersistedQueryNotFound`, once more with the document; then hash-only must work.
/// `Err` says what the server answered when it does not support APQ.
pub async fn register_apq(api: &Api, session: &Session) -> Result<(), String> {
    let variables = json!({ "id": session.meetings[0] });
    let token = Some(session.access_token.as_str());
    let send = |register: bool| {
        api.post_json(
            api::apq_body(api::MEETING_VIEW, variables.clone(), register),
            token,
        )
    };
    let describe = |answer: &Value| {
        let message = answer["errors"][0]["message"].as_str().unwrap_or_default();
        format!("\"{message}\"")
    };
    let first = send(false).await.map_err(|error| error.to_string())?;
    if first.get("errors").is_none() {
        return Ok(());
    }
    if first["errors"][0]["message"] != "PersistedQueryNotFound" {
        return Err(describe(&first));
    }
    let registered = send(true).await.map_err(|error| error.to_string())?;
    if registered.get("errors").is_some() {
        return Err(format!("registering: {}", describe(&registered)));
    }
    let again = send(false).await.map_err(|error| error.to_string())?;
    match again.get("errors") {
        None => Ok(()),
        Some(_) => Err(format!("after registering: {}", describe(&again))),
    }
}
