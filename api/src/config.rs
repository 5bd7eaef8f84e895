//! Every setting the server reads, in one typed struct, parsed once from flags and environment
//! variables (`tete --help` lists them). Nothing else in the code reads the environment.

use std::net::SocketAddr;

use clap::Parser;
use secrecy::SecretString;

/// The embedded default store: an SQLite file in the working directory, created if missing.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://tete.db?mode=rwc";

#[derive(Debug, Clone, Parser)]
#[command(
    name = "tete",
    version,
    about = "Tête-à-tête: the GraphQL backend for regular 1:1 meetings"
)]
pub struct Config {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "TETE_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    /// Database URL: `sqlite://FILE?mode=rwc` or `postgres://USER@HOST:PORT/DB`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,

    /// Key that signs access tokens (at least 32 bytes). Generated and kept beside the SQLite
    /// file when unset; required on PostgreSQL.
    #[arg(long, env = "TETE_JWT_SECRET", hide_env_values = true, value_parser = parse_secret)]
    pub jwt_secret: Option<SecretString>,

    /// 32-byte key, base64-encoded, that encrypts private notes at rest. Generated and kept
    /// beside the SQLite file when unset; required on PostgreSQL.
    #[arg(long, env = "TETE_DATA_KEY", hide_env_values = true, value_parser = parse_secret)]
    pub data_key: Option<SecretString>,

    /// Public base URL of the server, used in calendar-feed links (default: `http://` + the
    /// listen address).
    #[arg(long, env = "TETE_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Log format: `text` for people, `json` for log collectors.
    #[arg(long, env = "TETE_LOG_FORMAT", default_value = "text")]
    pub log_format: LogFormat,

    /// Largest request body accepted, in bytes.
    #[arg(long, env = "TETE_BODY_LIMIT_BYTES", default_value_t = 1024 * 1024)]
    pub body_limit_bytes: usize,

    /// Deepest selection nesting a query may have.
    #[arg(long, env = "TETE_MAX_DEPTH", default_value_t = 16)]
    pub max_depth: usize,

    /// Highest complexity (fields, with list fields weighted) a query may have.
    #[arg(long, env = "TETE_MAX_COMPLEXITY", default_value_t = 2_000)]
    pub max_complexity: usize,

    /// Most field aliases one document may use.
    #[arg(long, env = "TETE_MAX_ALIASES", default_value_t = 30)]
    pub max_aliases: usize,

    /// Most directives one document may use.
    #[arg(long, env = "TETE_MAX_DIRECTIVES", default_value_t = 50)]
    pub max_directives: usize,

    /// Most fragment spreads one document may contain (their expanded size is bounded by the
    /// complexity limit).
    #[arg(long, env = "TETE_MAX_FRAGMENT_SPREADS", default_value_t = 200)]
    pub max_fragment_spreads: usize,

    /// Longest string (in characters) accepted anywhere in a request's query or variables.
    #[arg(long, env = "TETE_MAX_STRING_LENGTH", default_value_t = 100_000)]
    pub max_string_length: usize,

    /// Bytes of query text the automatic persisted query cache keeps (least recently used out
    /// first).
    #[arg(long, env = "TETE_PERSISTED_QUERY_CACHE_BYTES", default_value_t = 8 * 1024 * 1024)]
    pub persisted_query_cache_bytes: usize,

    /// Requests a minute allowed per user, per API token, or per address for anonymous callers
    /// (in bursts of as many). Sign-ins are also limited per email and per address.
    #[arg(long, env = "TETE_RATE_LIMIT_PER_MINUTE", default_value_t = 600)]
    pub rate_limit_per_minute: u32,

    /// Sign-in attempts a minute allowed from one address, whatever the emails (generous: a whole
    /// office may share one address). One email gets 10 a minute, from anywhere.
    #[arg(
        long,
        env = "TETE_SIGN_INS_PER_ADDRESS_PER_MINUTE",
        default_value_t = 100
    )]
    pub sign_ins_per_address_per_minute: u32,

    /// Let webhooks target addresses that are not globally reachable: loopback, private and
    /// special-purpose (off: protects internal services).
    #[arg(long, env = "TETE_WEBHOOK_ALLOW_PRIVATE", default_value_t = false)]
    pub webhook_allow_private: bool,

    /// GraphQL requests executed at once; more wait up to a second, then get `RATE_LIMITED`
    /// (HTTP 503, `Retry-After`) instead of piling up on the database pool.
    #[arg(long, env = "TETE_MAX_IN_FLIGHT", default_value_t = 32)]
    pub max_in_flight: usize,

    /// Of those, how many one caller (a user, an API token, an anonymous address) may run at
    /// once: one client cannot take every turn.
    #[arg(long, env = "TETE_MAX_IN_FLIGHT_PER_CALLER", default_value_t = 8)]
    pub max_in_flight_per_caller: usize,

    /// Operations (subscriptions, and queries in progress) one WebSocket connection may hold at
    /// once; one more is refused with the protocol's `error` message.
    #[arg(long, env = "TETE_WS_MAX_OPERATIONS", default_value_t = 20)]
    pub ws_max_operations: usize,

    /// Live subscriptions one user may hold at once on this instance, across connections.
    #[arg(long, env = "TETE_MAX_SUBSCRIPTIONS_PER_USER", default_value_t = 100)]
    pub max_subscriptions_per_user: usize,

    /// Largest database connection pool.
    #[arg(long, env = "TETE_DB_MAX_CONNECTIONS", default_value_t = 10)]
    pub db_max_connections: u32,

    /// Seconds between WebSocket pings; a connection silent for three intervals is closed.
    #[arg(long, env = "TETE_WS_PING_SECONDS", default_value_t = 15)]
    pub ws_ping_seconds: u64,

    /// How long a DataLoader waits, in milliseconds, to gather keys into one query. 0 batches
    /// what the request asks for before the loader runs, which is every sibling field; longer
    /// batches more reliably on a busy machine, at that much latency per level of nesting.
    #[arg(long, env = "TETE_DATALOADER_DELAY_MS", default_value_t = 0)]
    pub dataloader_delay_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

fn parse_secret(value: &str) -> Result<SecretString, String> {
    if value.is_empty() {
        return Err("must not be empty".into());
    }
    Ok(SecretString::from(value))
}

impl Config {
    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn help_lists_every_setting_and_its_variable() {
        let help = Config::command().render_long_help().to_string();
        for variable in [
            "TETE_ADDR",
            "DATABASE_URL",
            "TETE_JWT_SECRET",
            "TETE_DATA_KEY",
            "TETE_LOG_FORMAT",
            "TETE_BODY_LIMIT_BYTES",
            "TETE_MAX_DEPTH",
            "TETE_MAX_COMPLEXITY",
            "TETE_MAX_ALIASES",
            "TETE_MAX_DIRECTIVES",
            "TETE_MAX_STRING_LENGTH",
            "TETE_DB_MAX_CONNECTIONS",
            "TETE_DATALOADER_DELAY_MS",
            "TETE_WS_PING_SECONDS",
            "TETE_PUBLIC_URL",
            "TETE_RATE_LIMIT_PER_MINUTE",
            "TETE_WEBHOOK_ALLOW_PRIVATE",
            "TETE_MAX_FRAGMENT_SPREADS",
            "TETE_MAX_IN_FLIGHT_PER_CALLER",
            "TETE_WS_MAX_OPERATIONS",
            "TETE_MAX_SUBSCRIPTIONS_PER_USER",
            "TETE_SIGN_INS_PER_ADDRESS_PER_MINUTE",
        ] {
            assert!(
                help.contains(variable),
                "--help does not mention {variable}"
            );
        }
    }

    #[test]
    fn defaults_to_the_embedded_sqlite_file() {
        let config = Config::parse_from(["tete", "--database-url", DEFAULT_DATABASE_URL]);
        assert!(config.is_sqlite());
        assert!(!Config::parse_from(["tete", "--database-url", "postgres://x@y/z"]).is_sqlite());
    }
}
