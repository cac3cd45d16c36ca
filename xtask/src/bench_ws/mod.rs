//! `cargo xtask bench ws`: real-time delivery over WebSockets on one server instance.
//!
//! This process only orchestrates: it creates a fresh PostgreSQL database and the users (straight
//! in the store, with one precomputed password hash), mints their access tokens with the key the
//! server is given, starts the release `messaging-server` as a child process, waits for `/readyz`,
//! then starts the load generator as a second child (this binary again, `bench ws-load`), so the
//! server's sockets and CPU are not the generator's. The generator reports JSON lines on its
//! stdout; this process prints them as tables.
//!
//! Phases, all in one run: the idle server's resident memory (the baseline); N WebSockets opened
//! and held, and the memory after (per connection = delta / N); then, with the N connections still
//! open, messages sent at each delivery rate, each delivery timed from just before the HTTP send
//! is written to when the recipient device's frame is read, next to the HTTP send's own latency
//! (request to 201) measured in the same phase.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use clap::Args;
use messaging_domain::accounts::{EmailAddress, NewAccount, Username};
use messaging_domain::audit::{AuditAction, AuditRecord};
use messaging_domain::ports::Credentials;
use messaging_domain::user::Role;
use messaging_store::Store;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::seed::describe;

#[derive(Debug, Args)]
pub struct WsArgs {
    /// PostgreSQL database to use; it is dropped and created anew for each run.
    #[arg(
        long,
        env = "BENCH_WS_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/messaging_bench_ws"
    )]
    database_url: String,
    /// WebSockets held open on the server during the whole run.
    #[arg(long, default_value_t = 10_000)]
    connections: usize,
    /// Devices (connections) per recipient: one send is this many deliveries.
    #[arg(long, default_value_t = 5)]
    devices_per_user: usize,
    /// Deliveries per second, one timed phase each.
    #[arg(long, value_delimiter = ',', default_value = "1000,5000")]
    rates: Vec<u32>,
    /// Seconds each timed phase sends for.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Seconds of untimed sends at each timed phase's rate just before it (see `bench ws-load
    /// --lead-in-seconds`).
    #[arg(long, default_value_t = 1.0)]
    lead_in: f64,
    /// Keep-alive HTTP connections (each its own sender user) the sends go out on.
    #[arg(long, default_value_t = 64)]
    senders: usize,
    /// WebSocket handshakes in flight at once while connecting.
    #[arg(long, default_value_t = 128)]
    connect_concurrency: usize,
    /// The server binary; default: `target/release/messaging-server`, built first
    /// (`cargo build --release -p server`) unless `--no-build`.
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Do not build the server before the run.
    #[arg(long)]
    no_build: bool,
    /// Server HTTP workers (`MESSAGING_WORKERS`); default: one per core.
    #[arg(long)]
    workers: Option<usize>,
    /// Seconds to wait after the load (every socket closed) before reading the server's memory
    /// once more (0: skip).
    #[arg(long, default_value_t = 30)]
    settle: u64,
    /// The server's log filter (`RUST_LOG`), e.g. `warn,messaging_store::slow_group=debug` to
    /// see where slow group commits spent their time. Other than the default, the server's log is
    /// kept and its path printed.
    #[arg(long, default_value = "warn")]
    server_log: String,
    /// Do not `VACUUM ANALYZE` after the warm-up. By default the timed phases start on a database
    /// vacuumed and analyzed after the warm-up's burst of first messages (every table grows
    /// several times over), as autovacuum would leave it: otherwise autovacuum's pass over
    /// those tables may land in a timed phase (PostgreSQL's default), or never come and leave
    /// plans made for nearly empty tables (`autovacuum = off`).
    #[arg(long)]
    no_vacuum: bool,
}

const SECRET: &str = "bench-ws-secret-bench-ws-secret-bench-ws";
/// Tokens outlive any run (the server closes a socket when its token expires: 4001).
const TOKEN_TTL_SECS: u32 = 4 * 3600;

/// Kills the child on every way out of the benchmark.
pub(crate) struct Killed(pub(crate) Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub async fn ws(args: WsArgs) -> Result<(), String> {
    if Store::kind_of(&args.database_url) != messaging_store::DatabaseKind::Postgres {
        return Err("bench ws needs a postgres:// URL".into());
    }
    if args.devices_per_user == 0 || args.connections == 0 || args.senders == 0 {
        return Err("connections, devices per user and senders must be positive".into());
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("no workspace directory")?
        .to_path_buf();
    let server_bin = match &args.server_bin {
        Some(path) => path.clone(),
        None => {
            if !args.no_build {
                build_server(&workspace, true)?;
            }
            std::env::var_os("CARGO_TARGET_DIR")
                .map_or_else(|| workspace.join("target"), PathBuf::from)
                .join("release/messaging-server")
        }
    };
    if !server_bin.exists() {
        return Err(format!(
            "{} is missing: run `cargo build --release -p server`",
            server_bin.display()
        ));
    }

    // A fresh database with the users.
    let (admin_url, name) = args
        .database_url
        .rsplit_once('/')
        .map(|(base, name)| (format!("{base}/postgres"), name.to_owned()))
        .ok_or("bad database URL")?;
    Store::drop_databases_with_prefix(&admin_url, &name)
        .await
        .map_err(describe)?;
    let store = crate::seed::open(&args.database_url).await?;
    let recipients = args.connections.div_ceil(args.devices_per_user);
    let started = Instant::now();
    let recipient_ids = create_users(&store, "wsr", recipients).await?;
    let sender_ids = create_users(&store, "wss", args.senders).await?;
    eprintln!(
        "bench ws: {} recipients and {} senders created in {:.1} s",
        recipients,
        args.senders,
        started.elapsed().as_secs_f64()
    );
    drop(store);

    let data_dir = std::env::temp_dir().join(format!("bench-ws-{}", std::process::id()));
    std::fs::create_dir_all(&data_dir).map_err(|e| e.to_string())?;
    let keys = server::auth::TokenKeys::load(Some(SECRET), &data_dir, TOKEN_TTL_SECS, 3600, 1800)
        .map_err(|e| e.to_string())?;
    let now = Utc::now().timestamp();
    let users_file = data_dir.join("users.txt");
    {
        let mut out =
            std::io::BufWriter::new(std::fs::File::create(&users_file).map_err(|e| e.to_string())?);
        for (kind, ids) in [("recipient", &recipient_ids), ("sender", &sender_ids)] {
            for id in ids {
                let token = keys
                    .issue_access(*id, Role::Student, 0, now)
                    .map_err(|e| format!("token: {e}"))?;
                writeln!(out, "{kind} {} {token}", id.0).map_err(|e| e.to_string())?;
            }
        }
        out.flush().map_err(|e| e.to_string())?;
    }

    // The server, as its own process.
    let port = free_port()?;
    let log_path = data_dir.join("server.log");
    let mut command = bench_server(
        &server_bin,
        port,
        &args.database_url,
        &data_dir,
        SECRET,
        &log_path,
    )?;
    if let Some(workers) = args.workers {
        command.env("MESSAGING_WORKERS", workers.to_string());
    }
    command.env("RUST_LOG", &args.server_log);
    let mut server = Killed(
        command
            .spawn()
            .map_err(|e| format!("{}: {e}", server_bin.display()))?,
    );
    let server_pid = server.0.id();
    wait_ready(port, &mut server.0, &log_path).await?;
    println!(
        "bench ws: server {} (pid {server_pid}, {}) ready on port {port}; {}",
        server_bin.display(),
        git_state(&workspace),
        machine()
    );

    // The storage's own flush latency, at the first phase's send rate: every acknowledged send
    // waits for a WAL flush, so this bounds the sends' (and the deliveries') tail.
    let probe_rate =
        f64::from(args.rates.first().copied().unwrap_or(1000)) / args.devices_per_user as f64;
    let probe_dir = data_dir.clone();
    let probe_seconds = args.seconds;
    eprintln!(
        "bench ws: timing the storage's flushes (8 KiB write + fdatasync) at {probe_rate:.0}/s for {probe_seconds} s"
    );
    let flush_probe = tokio::task::spawn_blocking(move || {
        flush_probe(&probe_dir, probe_rate, Duration::from_secs(probe_seconds))
    })
    .await
    .map_err(|e| e.to_string())??;

    // The load generator, as another process.
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let rates = args
        .rates
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let mut generator = raised_open_files(&exe);
    generator
        .args(["bench", "ws-load"])
        .args(["--port", &port.to_string()])
        .args(["--server-pid", &server_pid.to_string()])
        .arg("--users-file")
        .arg(&users_file)
        .args(["--connections", &args.connections.to_string()])
        .args(["--devices-per-user", &args.devices_per_user.to_string()])
        .args(["--rates", &rates])
        .args(["--seconds", &args.seconds.to_string()])
        .args(["--lead-in-seconds", &args.lead_in.to_string()])
        .args([
            "--connect-concurrency",
            &args.connect_concurrency.to_string(),
        ]);
    if !args.no_vacuum {
        generator.args(["--vacuum-url", &args.database_url]);
    }
    generator
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut lines = tokio::task::spawn_blocking(move || run_generator(generator))
        .await
        .map_err(|e| e.to_string())??;
    lines.push(flush_probe);
    // The generator has closed every socket: what the server gives back, and how fast.
    if args.settle > 0 {
        eprintln!(
            "bench ws: waiting {} s for the server to settle",
            args.settle
        );
        tokio::time::sleep(Duration::from_secs(args.settle)).await;
        lines.push(serde_json::json!({
            "kind": "settled",
            "seconds": args.settle,
            "rss_kib": crate::bench_http::rss_kib(server_pid),
            "open_files": std::fs::read_dir(format!("/proc/{server_pid}/fd")).map_or(0, Iterator::count),
        }));
    }
    drop(server);

    report(&args, &lines);
    if args.server_log == "warn" {
        let _ = std::fs::remove_dir_all(&data_dir);
    } else {
        eprintln!(
            "bench ws: the server's log is kept in {}",
            log_path.display()
        );
    }
    Ok(())
}

/// Writes 8 KiB and flushes it (`fdatasync`, as PostgreSQL flushes its WAL by default) `rate`
/// times a second for `duration`, in a file under `dir`; returns the flush times as a
/// `flush_probe` line (milliseconds).
fn flush_probe(dir: &Path, rate: f64, duration: Duration) -> Result<Value, String> {
    use std::os::unix::fs::FileExt;
    let path = dir.join("flush-probe");
    let file = std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let block = [b'x'; 8192];
    let started = Instant::now();
    let mut times = Vec::new();
    for i in 0u64.. {
        let due = started + Duration::from_secs_f64(i as f64 / rate);
        if due - started >= duration {
            break;
        }
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let at = Instant::now();
        file.write_all_at(&block, (i % 1024) * 8192)
            .and_then(|()| file.sync_data())
            .map_err(|e| format!("{}: {e}", path.display()))?;
        times.push(at.elapsed());
    }
    drop(file);
    let _ = std::fs::remove_file(&path);
    let over = |ms: u64| {
        times
            .iter()
            .filter(|t| t.as_millis() > u128::from(ms))
            .count()
    };
    let mut sorted: Vec<f64> = times.iter().map(|t| t.as_secs_f64() * 1e3).collect();
    sorted.sort_by(f64::total_cmp);
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    Ok(serde_json::json!({
        "kind": "flush_probe",
        "rate": rate,
        "count": sorted.len(),
        "ms": {"p50": at(0.5), "p90": at(0.9), "p99": at(0.99), "max": at(1.0)},
        "over_20_ms": over(20),
        "over_100_ms": over(100),
    }))
}

/// Runs the generator to its end; returns its JSON lines.
fn run_generator(mut command: Command) -> Result<Vec<Value>, String> {
    let mut child = Killed(
        command
            .spawn()
            .map_err(|e| format!("load generator: {e}"))?,
    );
    let stdout = child.0.stdout.take().ok_or("no generator stdout")?;
    let mut lines = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| e.to_string())?;
        match serde_json::from_str::<Value>(&line) {
            Ok(value) => {
                eprintln!("bench ws: {}", progress(&value));
                lines.push(value);
            }
            Err(_) => eprintln!("generator: {line}"),
        }
    }
    let status = child.0.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("the load generator failed ({status})"));
    }
    Ok(lines)
}

fn progress(line: &Value) -> String {
    match line["kind"].as_str() {
        Some("connect") => format!(
            "{} of {} WebSockets held ({} failed) after {:.1} s",
            line["held"],
            line["requested"],
            line["failed"],
            f(&line["seconds"])
        ),
        Some("phase") if line["offline"] == true => format!(
            "baseline, recipients offline: {:.0} sends/s, send p50 {:.2} ms, p99 {:.2} ms",
            f(&line["sends_per_s"]),
            f(&line["send_ms"]["p50"]),
            f(&line["send_ms"]["p99"])
        ),
        Some("phase") => format!(
            "{}/s: {} of {} deliveries, p50 {:.2} ms, p99 {:.2} ms",
            line["target_deliveries_per_s"],
            line["deliveries"],
            line["deliveries_expected"],
            f(&line["delivery_ms"]["p50"]),
            f(&line["delivery_ms"]["p99"])
        ),
        Some(kind) => kind.to_owned(),
        None => line.to_string(),
    }
}

fn f(value: &Value) -> f64 {
    value.as_f64().unwrap_or(f64::NAN)
}

fn u(value: &Value) -> u64 {
    value.as_u64().unwrap_or(0)
}

mod process;
mod report;

pub(crate) use process::*;
use report::*;
