//! The `tete` binary as an operator runs it: it starts on the embedded default, says where it
//! listens, and on SIGTERM finishes the request in flight before exiting cleanly.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    process::{Child, Command, Stdio},
    time::Duration,
};

struct Server {
    child: Child,
    addr: String,
    dir: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts `tete` in a fresh directory with no secrets and no database URL: the newcomer's case.
fn start() -> Server {
    let dir = std::env::temp_dir().join(format!("tete-bin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tete"))
        .current_dir(&dir)
        .env_clear()
        .env("TETE_ADDR", "127.0.0.1:0")
        .env("TETE_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("the server logs its address").unwrap();
        let log: serde_json::Value = serde_json::from_str(&line).unwrap();
        if let Some(addr) = log["addr"].as_str() {
            break addr.to_owned();
        }
    };
    // Keep draining the logs so the server never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Server { child, addr, dir }
}

fn signal(server: &Server, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn starts_on_sqlite_with_generated_keys_and_stops_gracefully_on_sigterm() {
    let mut server = start();
    assert!(server.dir.join("tete.db").exists());
    assert!(server.dir.join("tete.secrets").exists());

    // A request whose body is still arriving when SIGTERM lands must still be answered.
    let body = r#"{"query":"{ __typename }"}"#;
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        body.len(),
        &body[..5]
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    signal(&server, "TERM");
    std::thread::sleep(Duration::from_millis(200));
    stream.write_all(&body.as_bytes()[5..]).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response.contains(r#"{"data":{"__typename":"Query"}}"#),
        "{response}"
    );

    let status = server.child.wait().unwrap();
    assert!(status.success(), "exited with {status}");
}

#[test]
fn help_lists_the_settings() {
    let output = Command::new(env!("CARGO_BIN_EXE_tete"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success());
    assert!(help.contains("TETE_ADDR") && help.contains("DATABASE_URL"));
}
