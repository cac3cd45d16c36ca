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
use messaging_domain::ports::Accounts;
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
    let log = std::fs::File::create(&log_path).map_err(|e| e.to_string())?;
    let mut command = raised_open_files(&server_bin);
    command
        .env("MESSAGING_LISTEN", format!("127.0.0.1:{port}"))
        .env("DATABASE_URL", &args.database_url)
        .env("MESSAGING_DATA_DIR", &data_dir)
        .env("MESSAGING_JWT_SECRET", SECRET)
        .env("MESSAGING_LOG_FORMAT", "json")
        .env("RUST_LOG", "warn")
        .env("MESSAGING_SEND_PER_SECOND", "0")
        .env("MESSAGING_SEND_BURST", "0")
        .env("MESSAGING_SEND_PER_DAY", "0")
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log);
    if let Some(workers) = args.workers {
        command.env("MESSAGING_WORKERS", workers.to_string());
    }
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
        .args([
            "--connect-concurrency",
            &args.connect_concurrency.to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let lines = tokio::task::spawn_blocking(move || run_generator(generator))
        .await
        .map_err(|e| e.to_string())??;
    drop(server);

    report(&args, &lines);
    let _ = std::fs::remove_dir_all(&data_dir);
    Ok(())
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

fn report(args: &WsArgs, lines: &[Value]) {
    let find = |kind: &str| lines.iter().find(|l| l["kind"] == kind);
    let null = Value::Null;
    let baseline = find("baseline").unwrap_or(&null);
    let connect = find("connect").unwrap_or(&null);
    let done = find("done").unwrap_or(&null);
    let base_rss = u(&baseline["rss_kib"]);
    let held = u(&connect["held"]).max(1);
    let per_connection = |rss: u64| rss.saturating_sub(base_rss) as f64 * 1024.0 / held as f64;
    let connected_rss = u(&connect["rss_kib"]);
    let final_rss = u(&done["rss_kib"]);
    let mib = |kib: u64| kib as f64 / 1024.0;

    println!();
    println!(
        "### {} connections ({} devices per recipient), one server instance",
        args.connections, args.devices_per_user
    );
    println!();
    println!("| measure | value | target |");
    println!("|---|---:|---|");
    println!(
        "| WebSockets held (`connected` frame read) / requested | {} / {} ({} failed) | {} |",
        connect["held"], connect["requested"], connect["failed"], args.connections
    );
    println!(
        "| sockets open in the server process (WebSockets, listener, database pool) | {} | |",
        connect["server_sockets"]
    );
    println!(
        "| time to open all, {} handshakes in flight | {:.1} s ({:.0} /s) | |",
        args.connect_concurrency,
        f(&connect["seconds"]),
        u(&connect["held"]) as f64 / f(&connect["seconds"])
    );
    println!(
        "| one handshake (upgrade to `connected` frame), p50 / p99 / max | {:.1} / {:.1} / {:.1} ms | |",
        f(&connect["ms"]["p50"]),
        f(&connect["ms"]["p99"]),
        f(&connect["ms"]["max"])
    );
    println!(
        "| server RSS, idle (baseline) | {:.1} MiB | |",
        mib(base_rss)
    );
    println!(
        "| server RSS, {} idle WebSockets | {:.1} MiB | |",
        connect["held"],
        mib(connected_rss)
    );
    let idle = per_connection(connected_rss);
    println!(
        "| **per idle connection** ((RSS - baseline) / held) | **{:.0} bytes = {:.1} KiB** | ≤ 16 KiB: {} |",
        idle,
        idle / 1024.0,
        if idle <= 16.0 * 1024.0 {
            "met"
        } else {
            "not met"
        }
    );
    let half_held = u(&connect["half_held"]);
    let marginal = u(&connect["rss_kib"]).saturating_sub(u(&connect["half_rss_kib"])) as f64
        * 1024.0
        / (u(&connect["held"]).saturating_sub(half_held)).max(1) as f64;
    println!(
        "| server RSS, first {} WebSockets | {:.1} MiB | |",
        half_held,
        mib(u(&connect["half_rss_kib"]))
    );
    println!(
        "| **marginal per idle connection** (growth over the second half / its connections) | **{:.0} bytes = {:.1} KiB** | ≤ 16 KiB: {} |",
        marginal,
        marginal / 1024.0,
        if marginal <= 16.0 * 1024.0 {
            "met"
        } else {
            "not met"
        }
    );
    let after = per_connection(final_rss);
    println!(
        "| server RSS after the delivery phases (per connection) | {:.1} MiB ({:.1} KiB) | |",
        mib(final_rss),
        after / 1024.0
    );
    println!(
        "| WebSockets still open at the end | {} ({} ended{}) | {} |",
        done["connections_open"],
        done["ended"],
        done["first_end"]
            .as_str()
            .map(|e| format!("; first: {e}"))
            .unwrap_or_default(),
        connect["held"]
    );
    if let Some(failure) = connect["first_failure"].as_str() {
        println!();
        println!("First failed handshake: {failure}");
    }

    println!();
    println!();
    println!(
        "| deliveries/s target | achieved deliveries/s (sends/s) | deliveries read / expected | delivery p50 / p90 / p99 / max ms | baseline: HTTP send p50 / p90 / p99 / max ms | delivery p50 ÷ send p50 | target |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---|");
    let phases: Vec<&Value> = lines
        .iter()
        .filter(|l| l["kind"] == "phase" && l["offline"] != true)
        .collect();
    let offline = lines
        .iter()
        .filter(|l| l["kind"] == "phase" && l["offline"] == true);
    for phase in &phases {
        let d = &phase["delivery_ms"];
        let s = &phase["send_ms"];
        let rate = u(&phase["target_deliveries_per_s"]);
        let target = if rate == 1000 {
            format!(
                "p99 ≤ 10 ms: {}",
                if f(&d["p99"]) <= 10.0 {
                    "met"
                } else {
                    "not met"
                }
            )
        } else {
            String::new()
        };
        println!(
            "| {} | {:.0} ({:.0}) | {} / {} | {:.2} / {:.2} / {:.2} / {:.2} | {:.2} / {:.2} / {:.2} / {:.2} | {:.2}x | {} |",
            rate,
            f(&phase["deliveries_per_s"]),
            f(&phase["sends_per_s"]),
            phase["deliveries"],
            phase["deliveries_expected"],
            f(&d["p50"]),
            f(&d["p90"]),
            f(&d["p99"]),
            f(&d["max"]),
            f(&s["p50"]),
            f(&s["p90"]),
            f(&s["p99"]),
            f(&s["max"]),
            f(&d["p50"]) / f(&s["p50"]),
            target
        );
        if u(&phase["send_errors"]) > 0 {
            println!(
                "|  | {} sends failed; first: {} | | | | | |",
                phase["send_errors"],
                phase["first_send_error"].as_str().unwrap_or_default()
            );
        }
        if u(&phase["unknown_frames"]) > 0 {
            println!(
                "|  | {} `new_message` frames named no send | | | | | |",
                phase["unknown_frames"]
            );
        }
    }
    for phase in offline {
        let s = &phase["send_ms"];
        println!(
            "| baseline: the same sends as at {}/s, recipients offline (no socket) | — ({:.0} sends/s) | — | — | {:.2} / {:.2} / {:.2} / {:.2} | | |",
            phase["target_deliveries_per_s"],
            f(&phase["sends_per_s"]),
            f(&s["p50"]),
            f(&s["p90"]),
            f(&s["p99"]),
            f(&s["max"]),
        );
    }
    println!();
    println!(
        "| deliveries/s target | frame read − its send's 201 read: p50 / p90 / p99 / max ms | frames read before their 201 |"
    );
    println!("|---:|---:|---:|");
    for phase in &phases {
        let a = &phase["after_answer_ms"];
        println!(
            "| {} | {:.2} / {:.2} / {:.2} / {:.2} | {} of {} |",
            phase["target_deliveries_per_s"],
            f(&a["p50"]),
            f(&a["p90"]),
            f(&a["p99"]),
            f(&a["max"]),
            phase["before_answer"],
            phase["deliveries"]
        );
    }
}

/// Creates `count` active students named `{prefix}{i}` straight in the store.
pub(crate) async fn create_users(
    store: &Store,
    prefix: &str,
    count: usize,
) -> Result<Vec<messaging_domain::user::UserId>, String> {
    let mut ids = Vec::with_capacity(count);
    // A few at a time: each is its own transaction (and fsync).
    for chunk in (0..count).collect::<Vec<_>>().chunks(8) {
        let mut tasks = Vec::new();
        for &i in chunk {
            let store = store.clone();
            let account = NewAccount {
                username: Username::parse(&format!("{prefix}{i}")).map_err(|e| e.to_string())?,
                email: EmailAddress::parse(&format!("{prefix}{i}@example.test"))
                    .map_err(|e| e.to_string())?,
                password_hash: "$argon2id$v=19$m=19456,t=2,p=1$bm90LXVzZWQ$bm90LXVzZWQ".into(),
                first_name: String::new(),
                last_name: String::new(),
                role: Role::Student,
            };
            tasks.push(tokio::spawn(async move {
                store
                    .create_account(
                        account,
                        AuditRecord {
                            actor: None,
                            action: AuditAction::UserRegistered,
                            object_type: "user",
                            object_id: None,
                            at: Utc::now(),
                            client_addr: None,
                        },
                    )
                    .await
                    .map(|user| user.id)
                    .map_err(describe)
            }));
        }
        for task in tasks {
            ids.push(task.await.map_err(|e| e.to_string())??);
        }
    }
    Ok(ids)
}

/// Builds `messaging-server` in the release profile, or the debug one.
pub(crate) fn build_server(workspace: &Path, release: bool) -> Result<(), String> {
    let profile: &[&str] = if release { &["--release"] } else { &[] };
    eprintln!(
        "cargo build {}-p server --bin messaging-server",
        if release { "--release " } else { "" }
    );
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .arg("build")
        .args(profile)
        .args(["-p", "server", "--bin", "messaging-server"])
        .current_dir(workspace)
        .status()
        .map_err(|e| format!("cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("building the server failed ({status})"))
    }
}

/// `program` started through `sh` with its soft open-files limit raised to the hard limit (each
/// process holds one socket per connection; this needs no unsafe `setrlimit` here).
fn raised_open_files(program: &Path) -> Command {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(r#"ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@""#)
        .arg(program);
    command
}

pub(crate) fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

/// Polls `GET /readyz` until it answers 200 (30 s at most).
pub(crate) async fn wait_ready(port: u16, server: &mut Child, log: &Path) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let tail = || {
        std::fs::read_to_string(log)
            .map(|t| t.lines().rev().take(10).collect::<Vec<_>>().join("\n"))
            .unwrap_or_default()
    };
    loop {
        if let Ok(Some(status)) = server.try_wait() {
            return Err(format!("the server exited ({status}):\n{}", tail()));
        }
        if readyz(port).await.unwrap_or(false) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("the server was not ready in 30 s:\n{}", tail()));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn readyz(port: u16) -> Result<bool, std::io::Error> {
    let mut conn = TcpStream::connect(("127.0.0.1", port)).await?;
    conn.write_all(b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .await?;
    let mut answer = Vec::new();
    conn.read_to_end(&mut answer).await?;
    Ok(answer.starts_with(b"HTTP/1.1 200"))
}

/// The commit the server was built from, and whether `crates/` had uncommitted changes.
pub(crate) fn git_state(workspace: &Path) -> String {
    let run = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(workspace)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    let head = run(&["rev-parse", "--short", "HEAD"]);
    let dirty = !run(&["status", "--porcelain", "--", "crates"]).is_empty();
    format!(
        "commit {head}{}",
        if dirty {
            " + uncommitted changes in crates/"
        } else {
            ""
        }
    )
}

pub(crate) fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .unwrap_or(0);
    format!(
        "{cores} cores, {:.0} GiB RAM, shared by the server, the generator and PostgreSQL",
        memory as f64 / 1024.0 / 1024.0
    )
}
