//! Prometheus metrics, one registry per application instance (no process-global recorder, so
//! several servers in one test process never mix their numbers).

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use prometheus_client::{
    encoding::{EncodeLabelSet, EncodeLabelValue, text::encode},
    metrics::{
        counter::Counter,
        family::Family,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

/// How many distinct operation names get their own label before the rest share `other`;
/// operation names come from clients, so the label set must stay bounded.
const MAX_OPERATION_LABELS: usize = 200;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
pub enum Outcome {
    /// Executed without errors.
    Ok,
    /// Executed, with field errors in the response.
    FieldError,
    /// Refused before execution (malformed, invalid, over a limit, unauthenticated).
    Rejected,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    operation: String,
    outcome: Outcome,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: String,
}

type LatencyFamily = Family<OperationLabels, Histogram, fn() -> Histogram>;

#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    requests: Family<RequestLabels, Counter>,
    latency: LatencyFamily,
    db_statements: Counter,
    operation_names: Arc<Mutex<HashSet<String>>>,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms .. ~4 s
    Histogram::new(exponential_buckets(0.0005, 2.0, 14))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = LatencyFamily::new_with_constructor(latency_histogram);
        let db_statements = Counter::default();
        registry.register(
            "tete_graphql_requests",
            "GraphQL requests by operation name and outcome",
            requests.clone(),
        );
        registry.register(
            "tete_graphql_request_duration_seconds",
            "GraphQL request latency by operation name",
            latency.clone(),
        );
        registry.register(
            "tete_db_statements",
            "SQL statements sent to the database",
            db_statements.clone(),
        );
        Self {
            registry: Arc::new(registry),
            requests,
            latency,
            db_statements,
            operation_names: Arc::default(),
        }
    }

    /// Records one GraphQL request.
    pub fn observe_request(&self, operation: Option<&str>, outcome: Outcome, elapsed: Duration) {
        let operation = self.operation_label(operation);
        self.latency
            .get_or_create(&OperationLabels {
                operation: operation.clone(),
            })
            .observe(elapsed.as_secs_f64());
        self.requests
            .get_or_create(&RequestLabels { operation, outcome })
            .inc();
    }

    /// Counts one SQL statement; called by the database driver's hook.
    pub fn count_statement(&self) {
        self.db_statements.inc();
    }

    pub fn db_statements(&self) -> u64 {
        self.db_statements.get()
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }

    fn operation_label(&self, operation: Option<&str>) -> String {
        let Some(name) = operation.filter(|name| {
            name.len() <= 64 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }) else {
            return if operation.is_none() {
                "anonymous".into()
            } else {
                "other".into()
            };
        };
        let mut names = self
            .operation_names
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if names.contains(name) || names.len() < MAX_OPERATION_LABELS {
            names.insert(name.to_owned());
            name.to_owned()
        } else {
            "other".into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_bounds_operation_labels() {
        let metrics = Metrics::new();
        metrics.count_statement();
        for i in 0..(MAX_OPERATION_LABELS + 5) {
            metrics.observe_request(
                Some(&format!("Op{i}")),
                Outcome::Ok,
                Duration::from_millis(1),
            );
        }
        metrics.observe_request(Some("bad name!"), Outcome::Rejected, Duration::ZERO);
        let text = metrics.render();
        assert!(text.contains("tete_db_statements_total 1"));
        assert!(text.contains(r#"operation="Op0""#));
        assert!(!text.contains(&format!(r#"operation="Op{}""#, MAX_OPERATION_LABELS + 1)));
        assert!(text.contains(r#"operation="other""#));
        assert!(text.contains("tete_graphql_request_duration_seconds_bucket"));
    }
}
