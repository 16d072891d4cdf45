//! The single-machine broker: tansu's Kafka-API broker in this process, on its
//! SQLite engine so topics and committed offsets survive a restart. Outside
//! tools (any Kafka client) can read its topics at [`EmbeddedBroker::bootstrap`].

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::time::Duration;

use tansu_broker::broker::Broker;
use tansu_broker::coordinator::group::administrator::Controller;
use tansu_storage::StorageContainer;
use tokio::task::JoinHandle;
use url::Url;

use crate::BusError;

/// A running in-process broker; stopped when dropped.
pub struct EmbeddedBroker {
    bootstrap: String,
    database: PathBuf,
    task: JoinHandle<()>,
}

impl EmbeddedBroker {
    /// Start a broker on 127.0.0.1:`port` (0 picks a free port) storing its log
    /// in `data_dir/kafka.db`, and wait until it accepts connections.
    pub async fn start(data_dir: &Path, port: u16) -> Result<Self, BusError> {
        let fail = |what| move |e: String| BusError::EmbeddedBroker { what, reason: e };
        std::fs::create_dir_all(data_dir).map_err(|e| fail("create data dir")(format!("{}: {e}", data_dir.display())))?;
        let data_dir = data_dir.canonicalize().map_err(|e| fail("resolve data dir")(e.to_string()))?;
        let database = data_dir.join("kafka.db");
        let port = if port == 0 { free_port().map_err(|e| fail("pick a free port")(e.to_string()))? } else { port };
        let listener = Url::parse(&format!("tcp://127.0.0.1:{port}")).map_err(|e| fail("listener url")(e.to_string()))?;
        // tansu resolves sqlite paths against the working directory unless the
        // URL path is absolute after its first slash, hence the extra slashes.
        let storage = Url::parse(&format!("sqlite:///{}", database.display()))
            .map_err(|e| fail("storage url")(e.to_string()))?;
        let mut broker = Broker::<Controller<StorageContainer>, StorageContainer>::builder()
            .node_id(tansu_broker::NODE_ID)
            .cluster_id("stakeflow")
            .incarnation_id(uuid::Uuid::new_v4())
            .advertised_listener(listener.clone())
            .storage(storage)
            .listener(listener)
            .silent(true)
            .build()
            .await
            .map_err(|e| fail("open storage")(format!("{}: {e}", database.display())))?;
        // Before serving: tansu has just created its schema, nothing writes yet.
        if let Err(e) = index_headers(&database).await {
            tracing::warn!(database = %database.display(), error = %e, "could not index the broker's record headers: reads slow down as the log grows");
        }
        let task = tokio::spawn(async move {
            if let Err(err) = broker.serve(tokio::time::Instant::now()).await {
                tracing::error!(%err, "embedded kafka broker stopped");
            }
        });
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        wait_until_listening(addr, &task).await.map_err(fail("listen"))?;
        let bootstrap = addr.to_string();
        tracing::info!(%bootstrap, database = %database.display(), "embedded kafka broker ready");
        Ok(Self { bootstrap, database, task })
    }

    /// `host:port` for `bootstrap.servers`.
    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    /// The SQLite file holding topics and offsets.
    pub fn database(&self) -> &Path {
        &self.database
    }
}

impl Drop for EmbeddedBroker {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// tansu 0.6's SQLite schema has no index on `header (topition, offset_id)`,
/// and a fetch looks up each record's headers there: a scan of every header
/// ever written, per record read. Every stakeflow record carries its position
/// in a header, so reads slowed down with the log's age (a 4,000-record topic
/// took over a minute once the file held 52,000 headers; 0.3 s with this index).
async fn index_headers(database: &Path) -> Result<(), libsql::Error> {
    let db = libsql::Builder::new_local(database).build().await?;
    let conn = db.connect()?;
    conn.execute("CREATE INDEX IF NOT EXISTS stakeflow_header_by_record ON header (topition, offset_id)", ()).await?;
    Ok(())
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()?.port())
}

async fn wait_until_listening(addr: SocketAddr, task: &JoinHandle<()>) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        if task.is_finished() {
            return Err(format!("broker task ended before listening on {addr} (port taken?)"));
        }
        if tokio::time::Instant::now() > deadline {
            return Err(format!("nothing listening on {addr} after 30s"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
