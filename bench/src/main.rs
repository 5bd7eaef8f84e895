//! `bench`: measures the real tete server. It starts the server as a child process on a fresh
//! database, seeds a realistic organisation, then measures HTTP throughput and latency, SQL
//! statements per request, WebSocket fan-out and (with `--soak`) a mixed soak, and prints a
//! markdown report. `cargo run --release -p bench -- --help` lists the options.

mod api;
mod fanout;
mod load;
mod report;
mod seed;
mod server;
mod soak;

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    process::ExitCode,
    time::Duration,
};

use anyhow::{Context, Result, bail};
use base64::{Engine, engine::general_purpose::STANDARD};
use clap::{Parser, Subcommand, ValueEnum};
use sea_orm::{ConnectionTrait, Database};
use secrecy::SecretBox;
use serde_json::json;
use uuid::Uuid;

use crate::{
    api::{Api, Session},
    load::Workload,
    report::{Report, count, millis},
    seed::{Seeded, Sizes},
    server::ServerProcess,
};

const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// Access tokens live 15 minutes and every section refreshes them first; a longer soak would
/// outlive them.
const LONGEST_SOAK: Duration = Duration::from_secs(14 * 60);

#[derive(Debug, Parser)]
#[command(
    name = "bench",
    about = "Benchmarks the tete server: HTTP, SQL statements, WebSocket fan-out, soak"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    /// Database backend: a fresh SQLite file, or a fresh PostgreSQL database.
    #[arg(long, value_enum, default_value = "sqlite")]
    db: Backend,
    /// PostgreSQL server to create the benchmark database on (with `--db postgres`).
    #[arg(long, default_value = DEFAULT_POSTGRES_URL)]
    database_url: String,
    /// The server's pool size (default: the server's own default).
    #[arg(long)]
    db_max_connections: Option<u32>,

    /// Users in the organisation (one admin; those without a series just exist).
    #[arg(long, default_value_t = 1_000)]
    users: usize,
    /// Managers, each with their reports; nobody else has a series.
    #[arg(long, default_value_t = 50)]
    managers: usize,
    /// Reports per manager; each reporting line is one 1:1 series.
    #[arg(long, default_value_t = 10)]
    reports_per_manager: usize,
    /// Meetings per series: the newest SCHEDULED, the others COMPLETED, a week apart.
    #[arg(long, default_value_t = 10)]
    meetings_per_series: usize,
    /// Agenda items per meeting.
    #[arg(long, default_value_t = 10)]
    agenda_items: usize,
    /// Signed-in users the clients are spread over (managers and their reports, in pairs).
    #[arg(long, default_value_t = 64)]
    sessions: usize,

    /// Concurrent closed-loop HTTP clients, one run per value.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    clients: Vec<usize>,
    /// Measured time per HTTP run (e.g. 10s, 500ms, 2m).
    #[arg(long, value_parser = parse_duration, default_value = "10s")]
    duration: Duration,
    /// Unmeasured time before each HTTP run.
    #[arg(long, value_parser = parse_duration, default_value = "2s")]
    warmup: Duration,
    /// WebSocket subscribers on one meeting, one fan-out run per value.
    #[arg(long, value_delimiter = ',', default_value = "1000,5000")]
    subscribers: Vec<usize>,
    /// Run the soak for this long (at most 14m).
    #[arg(long, value_parser = parse_duration)]
    soak: Option<Duration>,
    /// Soak arrival rate in requests/s (default: 70% of the soak mix's capacity with 16
    /// closed-loop clients, measured first).
    #[arg(long)]
    soak_rate: Option<f64>,
    /// Sections to leave out.
    #[arg(long, value_enum, value_delimiter = ',')]
    skip: Vec<Section>,
    /// Also write the report to this file.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the server (the benchmark starts itself this way in a child process).
    #[command(hide = true)]
    Serve {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        flags: Vec<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Section {
    Http,
    Statements,
    Fanout,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map_or((text, "s"), |at| text.split_at(at));
    let value: f64 = number
        .parse()
        .map_err(|_| format!("not a duration: {text}"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("unknown unit in {text}: use ms, s or m")),
    };
    Ok(Duration::from_secs_f64(seconds))
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Serve { flags }) = cli.command {
        return server::serve(flags).await;
    }
    let mut report = Report::default();
    let outcome = bench(&cli, &mut report).await;
    if let Some(path) = &cli.out
        && let Err(error) = std::fs::write(path, report.text())
    {
        eprintln!("could not write {}: {error}", path.display());
    }
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("bench: some requests failed (see the report)");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("bench failed: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// A database that exists for one benchmark run.
enum BenchDatabase {
    Sqlite {
        url: String,
    },
    Postgres {
        admin_url: String,
        name: String,
        url: String,
    },
}

impl BenchDatabase {
    async fn create(cli: &Cli, dir: &Path) -> Result<Self> {
        Ok(match cli.db {
            Backend::Sqlite => Self::Sqlite {
                url: format!("sqlite://{}?mode=rwc", dir.join("bench.db").display()),
            },
            Backend::Postgres => {
                let name = format!("tete_bench_{}", Uuid::now_v7().simple());
                let admin = Database::connect(&cli.database_url)
                    .await
                    .context("connecting to --database-url")?;
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await?;
                admin.close().await?;
                let url = with_database(&cli.database_url, &name);
                Self::Postgres {
                    admin_url: cli.database_url.clone(),
                    name,
                    url,
                }
            }
        })
    }

    fn url(&self) -> &str {
        match self {
            Self::Sqlite { url } | Self::Postgres { url, .. } => url,
        }
    }

    async fn drop_database(self) -> Result<()> {
        if let Self::Postgres {
            admin_url, name, ..
        } = self
        {
            let admin = Database::connect(&admin_url).await?;
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await?;
            admin.close().await?;
        }
        Ok(())
    }
}

/// `postgres://u@h:p/db?x` with another database name.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let prefix = base.rsplit_once('/').map_or(base, |(prefix, _)| prefix);
    match query {
        Some(query) => format!("{prefix}/{name}?{query}"),
        None => format!("{prefix}/{name}"),
    }
}

/// Raises the soft open-files limit to the hard one (thousands of sockets; the child server
/// inherits it). Returns the limit in force.
fn raise_open_files_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read and write the struct we pass, nothing else.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
    limit.rlim_cur
}

/// The secrets the child server gets: a random signing key and a random data key.
struct Secrets {
    jwt_secret: String,
    data_key: [u8; 32],
}

impl Secrets {
    fn generate() -> Self {
        let random = || *Uuid::new_v4().as_bytes();
        let mut data_key = [0u8; 32];
        data_key[..16].copy_from_slice(&random());
        data_key[16..].copy_from_slice(&random());
        let jwt_secret = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
        Self {
            jwt_secret: jwt_secret[..48].to_owned(),
            data_key,
        }
    }

    /// The data key as the server holds it (`tete_api::secrets` decodes the base64 flag into
    /// this), for sealing seeded private notes.
    fn data_key_box(&self) -> SecretBox<[u8; 32]> {
        SecretBox::new(Box::new(self.data_key))
    }
}

/// Sets up, runs every section, and always cleans up. `Ok(false)` when requests failed.
async fn bench(cli: &Cli, report: &mut Report) -> Result<bool> {
    if cli.soak.is_some_and(|soak| soak > LONGEST_SOAK) {
        bail!("--soak is at most {LONGEST_SOAK:?}: access tokens expire after 15 minutes");
    }
    let open_files = raise_open_files_limit();
    let dir = std::env::temp_dir().join(format!("tete-bench-{}", Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir)?;
    let database = BenchDatabase::create(cli, &dir).await?;
    let secrets = Secrets::generate();
    let mut flags = vec![
        "--addr".to_owned(),
        "127.0.0.1:0".to_owned(),
        "--database-url".to_owned(),
        database.url().to_owned(),
        "--jwt-secret".to_owned(),
        secrets.jwt_secret.clone(),
        "--data-key".to_owned(),
        STANDARD.encode(secrets.data_key),
        "--rate-limit-per-minute".to_owned(),
        "100000000".to_owned(),
    ];
    if let Some(connections) = cli.db_max_connections {
        flags.extend(["--db-max-connections".to_owned(), connections.to_string()]);
    }
    let outcome = match ServerProcess::spawn(&flags, &dir.join("server.log")).await {
        Ok(server) => {
            let outcome = run(cli, report, &server, &database, &secrets, open_files).await;
            let outcome = outcome.map_err(|error| error.context(server.log_tail()));
            if let Err(error) = server.stop() {
                eprintln!("stopping the server: {error:#}");
            }
            outcome
        }
        Err(error) => Err(error),
    };
    if let Err(error) = database.drop_database().await {
        eprintln!("dropping the benchmark database: {error:#}");
    }
    match &outcome {
        Ok(true) => {
            let _ = std::fs::remove_dir_all(&dir);
        }
        _ => eprintln!("kept {} (server log, database)", dir.display()),
    }
    outcome
}

async fn run(
    cli: &Cli,
    report: &mut Report,
    server: &ServerProcess,
    database: &BenchDatabase,
    secrets: &Secrets,
    open_files: u64,
) -> Result<bool> {
    report.paragraph("# Tête-à-tête benchmark");
    describe_machine(cli, report, server, open_files);

    let sizes = Sizes {
        users: cli.users,
        managers: cli.managers,
        reports_per_manager: cli.reports_per_manager,
        meetings_per_series: cli.meetings_per_series,
        agenda_per_meeting: cli.agenda_items,
    };
    let rss_started = server.rss_kib()?;
    let db = seed::connect(database.url()).await?;
    let seeded = seed::seed(&db, sizes, &secrets.data_key_box()).await?;
    report.heading("Seed");
    let rows: Vec<Vec<String>> = seeded
        .rows
        .iter()
        .map(|(table, rows)| vec![format!("`{table}`"), count(*rows as u64)])
        .collect();
    report.paragraph(&format!(
        "One organisation: {} users, {} managers with {} reports each ({} series), {} meetings \
         per series (the newest SCHEDULED, the others COMPLETED), {} agenda items per meeting, \
         plus one meeting with 5 and one with 50 agenda items. Inserted directly in **{:.1} s** \
         ({} rows).",
        sizes.users,
        sizes.managers,
        sizes.reports_per_manager,
        seeded.series.len(),
        sizes.meetings_per_series,
        sizes.agenda_per_meeting,
        seeded.elapsed.as_secs_f64(),
        count(seeded.rows.iter().map(|(_, n)| *n as u64).sum()),
    ));
    report.table(&["table", "rows"], &rows);

    let rss_seeded = server.rss_kib()?;
    let api = Api::new(server.addr)?;
    let started = std::time::Instant::now();
    let (mut sessions, hot) = sign_in(&api, &seeded, cli.sessions).await?;
    verify(&api, &sessions, sizes).await?;
    report.paragraph(&format!(
        "Signed in {} users ({} manager/report pairs) through `signIn` in {:.1} s; the meeting \
         view of a seeded meeting returned its {} agenda items. Server RSS: {} after start, {} \
         after seeding, {} after signing in.",
        sessions.len(),
        hot.len(),
        started.elapsed().as_secs_f64(),
        sizes.agenda_per_meeting,
        mib(rss_started),
        mib(rss_seeded),
        mib(server.rss_kib()?),
    ));

    let mut passed = true;
    if !cli.skip.contains(&Section::Http) {
        api::refresh_all(&api, &mut sessions).await?;
        passed &= http_section(cli, report, &api, server, &sessions).await?;
    }
    if !cli.skip.contains(&Section::Statements) {
        statements_section(report, &api, &sessions, &seeded).await?;
    }
    if !cli.skip.contains(&Section::Fanout) && !cli.subscribers.is_empty() {
        api::refresh_all(&api, &mut sessions).await?;
        passed &= fanout_section(cli, report, &api, server, &db, &sessions, &hot[0]).await?;
    }
    if let Some(duration) = cli.soak {
        api::refresh_all(&api, &mut sessions).await?;
        passed &= soak_section(cli, report, &api, server, &db, &sessions, hot, duration).await?;
    }
    db.close().await?;
    Ok(passed)
}

fn describe_machine(cli: &Cli, report: &mut Report, server: &ServerProcess, open_files: u64) {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("model name"))
                .map(|name| name.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            let kib: u64 = info
                .lines()
                .find_map(|line| line.strip_prefix("MemTotal:"))?
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .ok()?;
            Some(format!("{:.0} GiB", kib as f64 / 1024.0 / 1024.0))
        })
        .unwrap_or_else(|| "unknown".into());
    let command: Vec<String> = std::env::args().collect();
    let backend = match cli.db {
        Backend::Sqlite => "SQLite (a file in a fresh temp dir)".to_owned(),
        Backend::Postgres => format!("PostgreSQL (a fresh database on {})", cli.database_url),
    };
    report.table(
        &["", ""],
        &[
            vec![
                "machine".into(),
                format!("{cores} cores ({cpu}), {memory} RAM"),
            ],
            vec!["database".into(), backend],
            vec![
                "server".into(),
                format!(
                    "child process (pid {}) on {}, `RUST_LOG={}`, pool {}",
                    server.pid(),
                    server.addr,
                    server::CHILD_RUST_LOG,
                    cli.db_max_connections
                        .map_or("default (10)".into(), |n| n.to_string())
                ),
            ],
            vec!["command".into(), format!("`{}`", command.join(" "))],
            vec!["open files limit".into(), open_files.to_string()],
            vec![
                "load average at start".into(),
                std::fs::read_to_string("/proc/loadavg")
                    .map(|text| {
                        text.split_whitespace()
                            .take(3)
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .unwrap_or_default(),
            ],
        ],
    );
    report.paragraph(&format!(
        "The load generator and the server share the machine's {cores} cores: every number \
         below includes the clients' own CPU use."
    ));
}

/// Signs in pairs of participants (series `k`'s manager and report); returns the sessions
/// (manager at `2k`, report at `2k + 1`) and each pair's upcoming meeting.
async fn sign_in(
    api: &Api,
    seeded: &Seeded,
    wanted: usize,
) -> Result<(Vec<Session>, Vec<soak::HotMeeting>)> {
    let pairs = (wanted / 2).clamp(1, seeded.series.len());
    let mut meetings_of: HashMap<Uuid, Vec<String>> = HashMap::new();
    for series in &seeded.series {
        for person in [series.manager.id, series.report.id] {
            meetings_of
                .entry(person)
                .or_default()
                .extend(series.meetings.iter().map(|m| m.global_id.clone()));
        }
    }
    let people: Vec<&seed::Person> = seeded.series[..pairs]
        .iter()
        .flat_map(|series| [&series.manager, &series.report])
        .collect();
    let mut sessions = Vec::with_capacity(people.len());
    // One at a time: concurrent sign-ins leave the server's RSS hundreds of MiB higher (each
    // Argon2 hash takes 19 MiB on a blocking thread whose malloc arena keeps it), which would
    // skew the memory measurements below.
    for person in people {
        let meetings = meetings_of[&person.id].clone();
        sessions.push(Session::sign_in(api, &person.email, seed::PASSWORD, meetings).await?);
    }
    let hot = seeded.series[..pairs]
        .iter()
        .enumerate()
        .map(|(k, series)| soak::HotMeeting {
            meeting: series.upcoming().clone(),
            manager: 2 * k,
            report: 2 * k + 1,
        })
        .collect();
    Ok((sessions, hot))
}

/// One look through the API before measuring: the seed is what the server serves.
async fn verify(api: &Api, sessions: &[Session], sizes: Sizes) -> Result<()> {
    let manager = &sessions[0];
    let data = api
        .ok(
            api::MEETING_VIEW,
            json!({ "id": manager.meetings[0] }),
            Some(&manager.access_token),
        )
        .await?;
    let agenda = data["node"]["agenda"].as_array().map_or(0, Vec::len);
    if agenda != sizes.agenda_per_meeting {
        bail!(
            "the meeting view shows {agenda} agenda items, expected {}: {data}",
            sizes.agenda_per_meeting
        );
    }
    let home = api
        .ok(api::HOME, json!({}), Some(&manager.access_token))
        .await?;
    let series = home["viewer"]["oneOnOnes"]["nodes"]
        .as_array()
        .map_or(0, Vec::len);
    if series != sizes.reports_per_manager.min(20) {
        bail!(
            "the home screen shows {series} series, expected {}: {home}",
            sizes.reports_per_manager
        );
    }
    Ok(())
}

async fn http_section(
    cli: &Cli,
    report: &mut Report,
    api: &Api,
    server: &ServerProcess,
    sessions: &[Session],
) -> Result<bool> {
    report.heading("HTTP throughput and latency");
    let apq = load::register_apq(api, &sessions[0]).await;
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut passed = true;
    for &clients in &cli.clients {
        let mut ceiling = None;
        for workload in [
            Workload::Typename,
            Workload::Home,
            Workload::MeetingView,
            Workload::MeetingViewApq,
        ] {
            if workload == Workload::MeetingViewApq
                && let Err(answer) = &apq
            {
                rows.push(vec![
                    workload.label().into(),
                    clients.to_string(),
                    format!("n/a (server answered {answer})"),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                ]);
                continue;
            }
            let measured =
                load::closed_loop(api, sessions, workload, clients, cli.warmup, cli.duration).await;
            let ratio = match (workload, ceiling) {
                (Workload::Typename, _) => {
                    ceiling = Some(measured.per_second);
                    "1.00".into()
                }
                (_, Some(ceiling)) if ceiling > 0.0 => {
                    format!("{:.2}", measured.per_second / ceiling)
                }
                _ => String::new(),
            };
            rows.push(vec![
                workload.label().into(),
                clients.to_string(),
                format!("{:.0}", measured.per_second),
                millis(load::ms(&measured.latency, 0.5)),
                millis(load::ms(&measured.latency, 0.99)),
                count(measured.errors),
                ratio,
                format!("{:.0}", server.rss_kib()? as f64 / 1024.0),
            ]);
            if let Some(error) = measured.first_error {
                passed = false;
                errors.push(format!(
                    "- {} at {clients} clients: `{error}`",
                    workload.label()
                ));
            }
        }
    }
    report.paragraph(&format!(
        "Closed loop: each client sends its next request when the previous one answered; one \
         reqwest client (HTTP/1.1 keep-alive) for all. {} warm-up, then {} measured per row. \
         Clients are spread over {} signed-in users; the meeting view cycles through each \
         user's meetings ({} agenda items each). An error is a non-2xx status or a GraphQL \
         `errors` entry.",
        humanize(cli.warmup),
        humanize(cli.duration),
        sessions.len(),
        cli.agenda_items
    ));
    report.table(
        &[
            "request",
            "clients",
            "req/s",
            "p50 ms",
            "p99 ms",
            "errors",
            "req/s vs `{ __typename }`",
            "server RSS MiB after",
        ],
        &rows,
    );
    if !errors.is_empty() {
        report.paragraph(&format!(
            "First error of each failing row:\n\n{}",
            errors.join("\n")
        ));
    }
    Ok(passed)
}

async fn statements_section(
    report: &mut Report,
    api: &Api,
    sessions: &[Session],
    seeded: &Seeded,
) -> Result<()> {
    report.heading("SQL statements per request");
    // The first session is the manager of the series the 5- and 50-item meetings belong to.
    let manager = &sessions[0];
    let view = |id: &str| api::body(api::MEETING_VIEW, json!({ "id": id }));
    let cases = [
        ("`{ __typename }`", api::body(api::TYPENAME, json!({}))),
        (
            "home screen (manager, 10 series)",
            api::body(api::HOME, json!({})),
        ),
        ("meeting view (10 agenda items)", view(&manager.meetings[0])),
        (
            "meeting view (5 agenda items)",
            view(&seeded.small.global_id),
        ),
        (
            "meeting view (50 agenda items)",
            view(&seeded.large.global_id),
        ),
    ];
    let mut rows = Vec::new();
    for (label, body) in cases {
        let statements = load::statements(api, &body, &manager.access_token).await?;
        rows.push(vec![label.to_owned(), statements.to_string()]);
    }
    report.paragraph(
        "The difference of `tete_db_statements_total` (from `/metrics`) around one request, the \
         fewest of three, with no other traffic. Target (from the end-to-end tests): the meeting \
         view takes at most 10, and as many at 50 agenda items as at 5.",
    );
    report.table(&["request", "SQL statements"], &rows);
    Ok(())
}

async fn fanout_section(
    cli: &Cli,
    report: &mut Report,
    api: &Api,
    server: &ServerProcess,
    db: &sea_orm::DatabaseConnection,
    sessions: &[Session],
    hot: &soak::HotMeeting,
) -> Result<bool> {
    report.heading("WebSocket fan-out");
    let (manager, report_session) = (&sessions[hot.manager], &sessions[hot.report]);
    let mut rows = Vec::new();
    let mut passed = true;
    for &n in &cli.subscribers {
        let measured =
            fanout::run(api, server, db, &hot.meeting, manager, report_session, n).await?;
        passed &= measured.received == measured.expected;
        rows.push(vec![
            count(n as u64),
            format!("{:.1}", measured.opened_in.as_secs_f64()),
            format!("{:.1}", measured.rss_before_kib as f64 / 1024.0),
            format!("{:.1}", measured.rss_after_kib as f64 / 1024.0),
            format!("{:.1}", measured.kib_per_subscription()),
            format!("{:.0}", measured.idle_statements_per_second),
            format!(
                "{} / {}",
                count(measured.received as u64),
                count(measured.expected as u64)
            ),
            millis(load::ms(&measured.latency, 0.5)),
            millis(load::ms(&measured.latency, 0.99)),
            millis(measured.latency.max() as f64 / 1000.0),
        ]);
        // Let the server record the participants leaving before the next run.
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    report.paragraph(
        "N `graphql-transport-ws` connections on one meeting, alternating its manager's and \
         report's tokens, opened 200 at a time; each subscribes to `meetingEvents` after the \
         meeting's last sequence minus one, so it is live once the replayed event arrives. \
         Memory: server VmRSS before any connection and after all N have been idle for 2 s. \
         Idle statements: SQL statements per second the server ran over the next 5 s with no \
         change made. Then 5 `addAgendaItem`s, 1 s apart: latency from just before sending the \
         mutation to each subscriber's receipt of its event. Target: every subscriber gets \
         every change.",
    );
    report.table(
        &[
            "subscribers",
            "open s",
            "RSS before MiB",
            "RSS after MiB",
            "KiB / subscription",
            "idle SQL/s",
            "received",
            "p50 ms",
            "p99 ms",
            "max ms",
        ],
        &rows,
    );
    Ok(passed)
}

#[allow(clippy::too_many_arguments)]
async fn soak_section(
    cli: &Cli,
    report: &mut Report,
    api: &Api,
    server: &ServerProcess,
    db: &sea_orm::DatabaseConnection,
    sessions: &[Session],
    hot: Vec<soak::HotMeeting>,
    duration: Duration,
) -> Result<bool> {
    report.heading("Soak");
    let measured = soak::run(api, server, db, sessions, hot, cli.soak_rate, duration).await?;
    let rate = measured.rate;
    let basis = match measured.capacity {
        None => "given with `--soak-rate`".to_owned(),
        Some(capacity) => format!(
            "{:.0}% of the mix's own capacity, {capacity:.0} req/s with 16 closed-loop clients over 10 s",
            soak::LOAD_SHARE * 100.0
        ),
    };
    report.paragraph(&format!(
        "Open loop at **{rate:.0} req/s** ({basis}) for {}: 50% meeting view, 30% home screen, \
         10% `addAgendaItem` (or `removeAgendaItem` of the soak's oldest once it added 10 to a \
         meeting), 5% `updateNote` on a shared note (a `CONFLICT` is retried at the current \
         version, not counted as an error), 5% `setActionItemDone`; writes go to the upcoming \
         meetings of the signed-in pairs, which {} subscribers follow. Latency counts from when \
         a request was due, so a stalled server shows even though requests are sent on time.",
        humanize(duration),
        measured.subscribers,
    ));
    let rows: Vec<Vec<String>> = measured
        .windows
        .iter()
        .enumerate()
        .map(|(i, window)| {
            let from = i as u64 * soak::WINDOW.as_secs();
            let to = (from + soak::WINDOW.as_secs()).min(duration.as_secs());
            vec![
                format!("{from}–{to} s"),
                count(window.sent),
                count(window.errors),
                millis(load::ms(&window.latency, 0.5)),
                millis(load::ms(&window.latency, 0.99)),
                window
                    .rss_kib
                    .map_or_else(String::new, |kib| format!("{:.1}", kib as f64 / 1024.0)),
                format!(
                    "{} / {}",
                    count(window.events),
                    count(window.events_expected)
                ),
            ]
        })
        .collect();
    report.table(
        &[
            "window",
            "sent",
            "errors",
            "p50 ms",
            "p99 ms",
            "server RSS MiB",
            "events received / expected",
        ],
        &rows,
    );
    let passed = measured.errors == 0 && measured.subscribers_lost == 0;
    let flatness = measured.flatness().map_or_else(
        || "n/a (needs 3 windows)".into(),
        |ratio| format!("{ratio:.3}"),
    );
    report.paragraph(&format!(
        "Errors: **{}** ({}). Subscribers lost: {}. Note edits retried after a `CONFLICT`: {}. \
         Most requests in flight at once: {}. Memory flatness (RSS of the last window / RSS of \
         the second): **{flatness}** (1.00 is flat).",
        count(measured.errors),
        if measured.errors == 0 {
            "target met: 0"
        } else {
            "target: 0"
        },
        measured.subscribers_lost,
        count(measured.conflicts_retried),
        measured.max_in_flight,
    ));
    if !measured.first_errors.is_empty() {
        let lines: Vec<String> = measured
            .first_errors
            .iter()
            .map(|(operation, error)| format!("- {operation}: `{error}`"))
            .collect();
        report.paragraph(&format!(
            "First error of each operation:\n\n{}",
            lines.join("\n")
        ));
    }
    Ok(passed)
}

/// `123.4 MiB`.
fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// `10 s`, `500 ms`, `5 min`.
fn humanize(duration: Duration) -> String {
    let seconds = duration.as_secs_f64();
    if seconds < 1.0 {
        format!("{} ms", duration.as_millis())
    } else if seconds >= 120.0 && seconds % 60.0 == 0.0 {
        format!("{} min", seconds / 60.0)
    } else {
        format!("{seconds} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("3h").is_err());
    }

    #[test]
    fn swaps_the_database_name() {
        assert_eq!(
            with_database(DEFAULT_POSTGRES_URL, "b1"),
            "postgres://postgres@127.0.0.1:5432/b1"
        );
        assert_eq!(
            with_database("postgres://u@h/db?x=1", "b2"),
            "postgres://u@h/b2?x=1"
        );
    }

    #[test]
    fn the_serve_subcommand_takes_tete_flags() {
        let cli = Cli::parse_from([
            "bench",
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--jwt-secret",
            "x",
        ]);
        let Some(Command::Serve { flags }) = cli.command else {
            panic!("serve parses");
        };
        assert_eq!(flags, ["--addr", "127.0.0.1:0", "--jwt-secret", "x"]);
    }
}
