//! `stakeflow-bench api`: the public API under load. A synthetic round is
//! saved the way the scorer saves it, stakeflow's API serves it, and nginx
//! (from the system packages) serves the very bytes the API answered as
//! static files, on the same machine in the same run, to the same load: N
//! keep-alive connections sending requests back to back. Figures are
//! requests per second and latency percentiles, and the API's as a ratio of
//! nginx's.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use store::Store;

/// What one load run measured.
struct Load {
    requests: usize,
    failed: usize,
    seconds: f64,
    p50_us: u32,
    p99_us: u32,
    bytes: usize,
}

impl Load {
    fn rate(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

/// One request on a fresh connection: status and body.
async fn fetch(addr: SocketAddr, path: &str) -> anyhow::Result<(u16, Bytes)> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await?;
    tokio::spawn(conn);
    let resp = send.send_request(request(addr, path)).await?;
    let status = resp.status().as_u16();
    Ok((status, resp.into_body().collect().await?.to_bytes()))
}

fn request(addr: SocketAddr, path: &str) -> hyper::Request<Empty<Bytes>> {
    hyper::Request::get(path).header("host", addr.to_string()).body(Empty::new()).expect("a GET with a host is a request")
}

/// `connections` keep-alive connections asking for `path` back to back for `time`.
async fn load(addr: SocketAddr, path: &str, connections: usize, time: Duration) -> anyhow::Result<Load> {
    let start = Instant::now();
    let until = start + time;
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let path = path.to_string();
        tasks.push(tokio::spawn(async move {
            let tcp = tokio::net::TcpStream::connect(addr).await?;
            tcp.set_nodelay(true)?;
            let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await?;
            tokio::spawn(conn);
            let (mut took, mut failed, mut bytes) = (Vec::new(), 0usize, 0usize);
            while Instant::now() < until {
                let t = Instant::now();
                send.ready().await?;
                let resp = send.send_request(request(addr, &path)).await?;
                let ok = resp.status().is_success();
                let body = resp.into_body().collect().await?.to_bytes();
                took.push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
                bytes += body.len();
                failed += usize::from(!ok);
            }
            anyhow::Ok((took, failed, bytes))
        }));
    }
    let (mut took, mut failed, mut bytes) = (Vec::new(), 0, 0);
    for t in tasks {
        let (t, f, b) = t.await??;
        took.extend(t);
        failed += f;
        bytes += b;
    }
    let seconds = start.elapsed().as_secs_f64();
    took.sort_unstable();
    let at = |q: f64| took.get(((took.len() as f64 * q) as usize).min(took.len().saturating_sub(1))).copied().unwrap_or(0);
    Ok(Load { requests: took.len(), failed, seconds, p50_us: at(0.50), p99_us: at(0.99), bytes })
}

/// A port free on 127.0.0.1 now.
fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// nginx serving `www` on `port`, as its own process, until dropped.
struct Nginx(std::process::Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM, not SIGKILL: the master stops its workers then; killed, it would leave them running.
        let stopped = std::process::Command::new("kill").args(["-TERM", &self.0.id().to_string()]).status().is_ok_and(|s| s.success());
        if !stopped {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

const NGINX: &str = "/usr/sbin/nginx";

fn nginx(dir: &Path, port: u16) -> anyhow::Result<Nginx> {
    for tmp in ["client", "proxy", "fastcgi", "uwsgi", "scgi"] {
        std::fs::create_dir_all(dir.join("tmp").join(tmp))?;
    }
    let d = dir.display();
    // As many workers as the API has runtime threads; no logging, files from the page cache.
    let conf = format!(
        "worker_processes {workers};\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n{user}\
         events {{ worker_connections 4096; }}\n\
         http {{\n access_log off;\n sendfile on;\n tcp_nodelay on;\n keepalive_requests 10000000;\n\
          client_body_temp_path {d}/tmp/client; proxy_temp_path {d}/tmp/proxy; fastcgi_temp_path {d}/tmp/fastcgi;\n\
          uwsgi_temp_path {d}/tmp/uwsgi; scgi_temp_path {d}/tmp/scgi;\n\
          types {{ application/json json; }}\n\
          server {{ listen 127.0.0.1:{port}; root {d}/www; }}\n}}\n",
        workers = api_threads(),
        user = if is_root() { "user root;\n" } else { "" },
    );
    std::fs::write(dir.join("nginx.conf"), conf)?;
    let child = std::process::Command::new(NGINX)
        .args(["-p", &d.to_string(), "-c", &format!("{d}/nginx.conf"), "-g", "daemon off;"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting {NGINX}"))?;
    Ok(Nginx(child))
}

fn is_root() -> bool {
    std::env::var("USER").is_ok_and(|u| u == "root") || std::env::var("HOME").is_ok_and(|h| h == "/root")
}

/// Threads of the API's runtime: what `stakeflow run` gets on this machine.
fn api_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Connect until `addr` accepts (a server just started), for at most 10 s.
async fn accepting(addr: SocketAddr) -> anyhow::Result<()> {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::net::TcpStream::connect(addr).await {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() > until => bail!("{addr} does not accept connections: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// The benchmark.
pub async fn api(candidates: usize, connections: usize, seconds: u64) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    // nginx's workers run as another user: they must be able to reach the files.
    #[cfg(unix)]
    std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
    let store_cfg = store::StoreConfig::Embedded { path: dir.path().join("store.redb") };
    let store: Arc<dyn Store> = store::open(&store_cfg).await?;
    let round = rules::synthetic::round(candidates);
    let stash = round.candidates.iter().find(|c| c.score.is_some()).map(|c| c.candidate.stash.clone()).context("no valid candidate")?;
    store.commit_states(scoring::scorer::SCORER, &scoring::scorer::round_writes(&round)?, &[]).await?;
    let net = rules::synthetic::NET.to_string();
    let state = api::AppState {
        store: store.clone(),
        networks: Arc::new(vec![net.clone()]),
        consumer: "bench",
        ready_max_lag: 0,
        ready_max_silence_ms: i64::MAX, ready_max_behind: u64::MAX,
        metrics: None,
        uptime_window_ms: 0,
        // As `stakeflow run` has it: the live scoring namespace is looked up, not assumed.
        namespaces: Some(Arc::new(store::Namespaces::new(store_cfg, store.clone()))),
        scored_networks: Arc::new(vec![net]),
        nominated_networks: Default::default(), events: None, decimals: Default::default(), broker: None,
    };
    // The API on a runtime of its own, as in its own process: the load generator must not lend it threads.
    let server_rt = tokio::runtime::Builder::new_multi_thread().worker_threads(api_threads()).enable_all().build()?;
    let cfg = api::ApiConfig { listen: SocketAddr::from(([127, 0, 0, 1], free_port()?)), ..Default::default() };
    let shutdown = tokio_util::sync::CancellationToken::new();
    let (api_addr, _task) = {
        let (cfg, shutdown) = (cfg.clone(), shutdown.clone());
        server_rt.spawn(async move { api::serve(&cfg, state, shutdown).await }).await??
    };

    let targets = [
        ("candidates (full)", format!("/candidates?limit={candidates}"), "full.json"),
        ("candidates?fields=stash,name,total", format!("/candidates?limit={candidates}&fields=stash,name,total"), "slim.json"),
        ("candidates/{stash}", format!("/candidates/{stash}"), "one.json"),
    ];
    let www = dir.path().join("www");
    std::fs::create_dir_all(&www)?;
    for (name, path, file) in &targets {
        let (status, body) = fetch(api_addr, path).await?;
        if status != 200 {
            bail!("{name}: the API answered {status}: {}", String::from_utf8_lossy(&body));
        }
        std::fs::write(www.join(file), &body)?;
    }
    let reference = if Path::new(NGINX).exists() {
        let port = free_port()?;
        let server = nginx(dir.path(), port)?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        accepting(addr).await?;
        Some((server, addr))
    } else {
        println!("api: nginx reference skipped: {NGINX} is not installed (apt-get install nginx-light)");
        None
    };

    let time = Duration::from_secs(seconds.max(1));
    println!(
        "api: {candidates}-candidate round, {connections} keep-alive connections, {}s per target after 1s warm-up; {} API threads, {} nginx workers",
        time.as_secs(),
        api_threads(),
        api_threads()
    );
    println!("  {:<36} {:>9} {:>10} {:>9} {:>9} {:>9}", "target", "bytes", "req/s", "p50 ms", "p99 ms", "vs nginx");
    for (name, path, file) in &targets {
        let size = std::fs::metadata(www.join(file))?.len();
        let mut nginx_rate = None;
        if let Some((_, addr)) = &reference {
            let static_path = format!("/{file}");
            load(*addr, &static_path, connections, Duration::from_secs(1)).await?;
            let n = load(*addr, &static_path, connections, time).await?;
            check(&n, "nginx", size)?;
            print_row(&format!("nginx /{file}"), size, &n, None);
            nginx_rate = Some(n.rate());
        }
        load(api_addr, path, connections, Duration::from_secs(1)).await?;
        let a = load(api_addr, path, connections, time).await?;
        check(&a, "api", size)?;
        print_row(&format!("api {name}"), size, &a, nginx_rate);
    }
    shutdown.cancel();
    drop(reference);
    server_rt.shutdown_background();
    Ok(())
}

/// Every answer was a success with the expected bytes.
fn check(l: &Load, who: &str, size: u64) -> anyhow::Result<()> {
    if l.failed > 0 || l.requests == 0 || l.bytes != l.requests * size as usize {
        bail!("{who}: {} of {} requests failed or answered other bytes ({} bytes read)", l.failed, l.requests, l.bytes);
    }
    Ok(())
}

fn print_row(name: &str, size: u64, l: &Load, reference: Option<f64>) {
    let ratio = reference.map_or("-".to_string(), |r| format!("{:.2}", l.rate() / r));
    println!(
        "  {name:<36} {size:>9} {:>10.0} {:>9.2} {:>9.2} {ratio:>9}",
        l.rate(),
        l.p50_us as f64 / 1e3,
        l.p99_us as f64 / 1e3
    );
}
