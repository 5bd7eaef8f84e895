//! A TCP proxy between a test server and its database, so a test can make the database vanish
//! and come back: [`Proxy::cut`] closes every forwarded connection at once and resets new ones
//! as soon as they are accepted, as clients of a PostgreSQL that stopped see;
//! [`Proxy::cut_with_reset`] resets the open ones too, as when the database host or the network
//! in between fails; [`Proxy::restore`] forwards again.

use std::net::SocketAddr;

use tokio::{
    net::{TcpListener, TcpStream},
    sync::watch,
    task::JoinHandle,
};

/// The state of the line every connection task watches.
#[derive(Debug, Clone, Copy)]
struct Line {
    cut: bool,
    /// Whether the last cut reset open connections instead of closing them.
    reset: bool,
    /// Bumped by every cut: a connection forwarded in an earlier epoch ends.
    epoch: u64,
}

/// A cuttable TCP proxy on `127.0.0.1:0`.
pub struct Proxy {
    address: SocketAddr,
    target: String,
    line: watch::Sender<Line>,
    acceptor: JoinHandle<()>,
}

impl Proxy {
    /// Listens on a free local port and forwards every connection to `target` (`host:port`).
    pub async fn start(target: impl Into<String>) -> Proxy {
        let target = target.into();
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the proxy can listen");
        let address = listener.local_addr().expect("the proxy's address");
        let (line, watching) = watch::channel(Line {
            cut: false,
            reset: false,
            epoch: 0,
        });
        let acceptor = tokio::spawn(accept(listener, target.clone(), watching));
        Proxy {
            address,
            target,
            line,
            acceptor,
        }
    }

    /// Where clients connect: `127.0.0.1:<port>`.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Where the proxy forwards to.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Closes every open connection now (an orderly close, as the processes of a PostgreSQL
    /// that stops do), and resets new ones as soon as they are accepted.
    pub fn cut(&self) {
        self.cut_open_connections(false);
    }

    /// Like [`Proxy::cut`], but open connections are reset (`ECONNRESET` on their next read or
    /// write), as when the database host dies or a firewall drops them.
    pub fn cut_with_reset(&self) {
        self.cut_open_connections(true);
    }

    fn cut_open_connections(&self, reset: bool) {
        self.line.send_modify(|line| {
            line.cut = true;
            line.reset = reset;
            line.epoch += 1;
        });
    }

    /// Forwards new connections again.
    pub fn restore(&self) {
        self.line.send_modify(|line| line.cut = false);
    }

    pub fn is_cut(&self) -> bool {
        self.line.borrow().cut
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // Dropping `line` ends every forwarded connection too.
        self.acceptor.abort();
    }
}

async fn accept(listener: TcpListener, target: String, line: watch::Receiver<Line>) {
    loop {
        let client = match listener.accept().await {
            Ok((client, _)) => client,
            Err(_) => {
                // Out of descriptors or similar: try again shortly.
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let now = *line.borrow();
        if now.cut {
            // A reset, not a goodbye: the client's next read or write fails at once.
            let _ = client.set_zero_linger();
            drop(client);
            continue;
        }
        tokio::spawn(forward(client, target.clone(), now.epoch, line.clone()));
    }
}

/// Copies both ways until either side closes or the line is cut (or the proxy dropped).
async fn forward(
    mut client: TcpStream,
    target: String,
    epoch: u64,
    mut line: watch::Receiver<Line>,
) {
    let _ = client.set_nodelay(true);
    let cut = async {
        match line.wait_for(|line| line.epoch != epoch).await {
            Ok(line) => line.reset,
            // The proxy is gone.
            Err(_) => false,
        }
    };
    let copy = async {
        let Ok(mut server) = TcpStream::connect(&target).await else {
            return false;
        };
        let _ = server.set_nodelay(true);
        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
        false
    };
    let reset = tokio::select! {
        reset = cut => reset,
        reset = copy => reset,
    };
    if reset {
        let _ = client.set_zero_linger();
    }
    // Dropping both streams closes them.
}
