//! The server under test, in a child process of its own so that its memory (VmRSS) is measured
//! alone, without the load generator's. The child is this same binary run as `bench serve …`.

use std::{
    fs::File,
    io::{BufRead, BufReader, Write},
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use anyhow::{Context, Result, anyhow, bail};
use clap::Parser;
use tete_api::Config;
use tokio::sync::oneshot;

/// The log filter the child runs with: request logs at `info` would cost the server time.
pub const CHILD_RUST_LOG: &str = "warn";
const START_TIMEOUT: Duration = Duration::from_secs(180);
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// `bench serve <tete flags…>`: exactly what the `tete` binary does, plus one line on stdout
/// naming the bound address, so the parent can find a server started on port 0.
pub async fn serve(args: Vec<String>) -> std::process::ExitCode {
    let config = Config::parse_from(std::iter::once("tete".to_owned()).chain(args));
    tete_api::serve(config, |addr| {
        println!("listening {addr}");
        let _ = std::io::stdout().flush();
    })
    .await
}

/// A running child server. Dropping it stops the child, so error paths do not leak it.
pub struct ServerProcess {
    child: Child,
    pub addr: SocketAddr,
    pub log_path: PathBuf,
}

impl ServerProcess {
    /// Starts `bench serve` with `flags` and waits until it listens (it has migrated by then).
    pub async fn spawn(flags: &[String], log_path: &Path) -> Result<Self> {
        let log = File::create(log_path).context("creating the server log")?;
        let mut child = Command::new(std::env::current_exe()?)
            .arg("serve")
            .args(flags)
            .env("RUST_LOG", CHILD_RUST_LOG)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log.try_clone()?))
            .spawn()
            .context("starting the server process")?;
        let stdout = child.stdout.take().context("the server's stdout")?;
        let (found, listening) = oneshot::channel();
        // tete logs to stdout too: find the address line, and copy everything else to the log
        // for the child's whole life, so a full pipe never blocks it.
        std::thread::spawn(move || copy_until_closed(stdout, log, found));
        let mut server = Self {
            child,
            addr: "0.0.0.0:0".parse()?,
            log_path: log_path.to_owned(),
        };
        server.addr = match tokio::time::timeout(START_TIMEOUT, listening).await {
            Ok(Ok(addr)) => addr,
            Ok(Err(_)) => bail!("the server exited before listening; {}", server.log_tail()),
            Err(_) => bail!("the server did not listen within {START_TIMEOUT:?}"),
        };
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's resident memory, in KiB.
    pub fn rss_kib(&self) -> Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| anyhow!("no VmRSS in /proc/{}/status", self.pid()))
    }

    /// The last lines of the server's log, for error messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(20)..].join("\n");
        format!("server log {}:\n{tail}", self.log_path.display())
    }

    /// SIGTERM, then wait for the graceful shutdown; SIGKILL if it takes too long.
    pub fn stop(mut self) -> Result<()> {
        self.terminate()
    }

    fn terminate(&mut self) -> Result<()> {
        if self.child.try_wait()?.is_some() {
            return Ok(());
        }
        let pid = libc::pid_t::try_from(self.child.id())?;
        // SAFETY: sending a signal to our own child's pid; no memory is involved.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let deadline = std::time::Instant::now() + STOP_TIMEOUT;
        while std::time::Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.child.kill()?;
        self.child.wait()?;
        bail!("the server ignored SIGTERM for {STOP_TIMEOUT:?} and was killed")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.terminate();
    }
}

fn copy_until_closed(
    stdout: std::process::ChildStdout,
    mut log: File,
    found: oneshot::Sender<SocketAddr>,
) {
    let mut found = Some(found);
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        let addr = line
            .strip_prefix("listening ")
            .and_then(|addr| addr.trim().parse().ok());
        match (addr, found.take()) {
            (Some(addr), Some(sender)) => {
                let _ = sender.send(addr);
            }
            (_, sender) => {
                found = sender;
                let _ = writeln!(log, "{line}");
            }
        }
    }
}
