//! A TCP proxy in front of a server, for faults a process cannot make by
//! itself: a connection that stays open but carries nothing (a black hole:
//! a stalled load balancer, a half-dead node), and one cut outright.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Forwards 127.0.0.1:`port` to a target; stops when dropped.
pub struct TcpProxy {
    addr: SocketAddr,
    black_hole: Arc<AtomicBool>,
    /// Bumped to cut every open connection.
    cut: watch::Sender<u64>,
    task: tokio::task::JoinHandle<()>,
}

impl TcpProxy {
    /// Listen on a free loopback port and forward each connection to `target`.
    pub async fn start(target: SocketAddr) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let black_hole = Arc::new(AtomicBool::new(false));
        let (cut, _) = watch::channel(0u64);
        let (hole, cuts) = (black_hole.clone(), cut.clone());
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (hole, cut) = (hole.clone(), cuts.subscribe());
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(target).await {
                        pipe(client, server, hole, cut).await;
                    }
                });
            }
        });
        Ok(Self { addr, black_hole, cut, task })
    }

    /// `host:port` clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://` URL of the proxy.
    pub fn ws_url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// From now on bytes are swallowed both ways, connections (old and new) stay open.
    pub fn black_hole(&self, on: bool) {
        self.black_hole.store(on, Ordering::SeqCst);
    }

    /// Close every open connection (new ones are still accepted).
    pub fn cut(&self) {
        self.cut.send_modify(|n| *n += 1);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.task.abort();
        self.cut();
    }
}

async fn pipe(client: TcpStream, server: TcpStream, hole: Arc<AtomicBool>, mut cut: watch::Receiver<u64>) {
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let up = copy(&mut cr, &mut sw, &hole);
    let down = copy(&mut sr, &mut cw, &hole);
    tokio::select! {
        _ = up => {}
        _ = down => {}
        _ = cut.changed() => {}
    }
}

/// Copy until either side closes; while the hole is on, read and drop.
async fn copy(from: &mut (impl AsyncReadExt + Unpin), to: &mut (impl AsyncWriteExt + Unpin), hole: &AtomicBool) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if hole.load(Ordering::SeqCst) {
            continue;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
