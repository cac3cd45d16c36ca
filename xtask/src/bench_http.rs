//! `cargo xtask bench http`: an A/B of the send path. The release `messaging-server` of this
//! checkout and the one of a baseline commit are built in the same invocation, then each is run
//! as its own process on a fresh PostgreSQL database and loaded with `POST /api/messages` over
//! keep-alive HTTP/1.1 connections written by hand (no client library's cost is counted), at each
//! connection count, for several rounds with the order of the two builds alternated (the second
//! run of a back-to-back pair is slower on a shared machine).
//!
//! For each run: sends per second, p50 / p99 / max latency, the server process's CPU per send and
//! PostgreSQL's (all `postgres` processes of the machine) from `/proc`, and the SQL statements
//! per send the server's `/metrics` counts. The medians over the rounds and the ratios to the
//! baseline close the report.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use clap::Args;
use messaging_domain::user::{Role, UserId};
use messaging_store::Store;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::bench_ws::{
    Killed, bench_server, build_server, create_users, free_port, machine, wait_ready,
};
use crate::http1::read_response;
use crate::seed::describe;

/// The commit before issue 11's send-path work: the baseline of its A/B.
const DEFAULT_BASELINE: &str = "4aae70e";

#[derive(Debug, Args)]
pub struct HttpArgs {
    /// PostgreSQL database to use; it is dropped and created anew for each run.
    #[arg(
        long,
        env = "BENCH_HTTP_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/messaging_bench_http"
    )]
    database_url: String,
    /// The commit (or any git revision) the A/B compares this checkout against.
    #[arg(long, default_value = DEFAULT_BASELINE)]
    baseline: String,
    /// Seconds each measured run sends for (after a warm-up of `--warmup` seconds).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Seconds of unmeasured sends before each measured run.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Concurrent senders (keep-alive connections), one run each.
    #[arg(long, value_delimiter = ',', default_value = "16,64")]
    connections: Vec<usize>,
    /// Rounds; each runs both builds at every connection count, the order alternating.
    #[arg(long, default_value_t = 2)]
    rounds: usize,
    /// Users the senders write as (each sends to the next).
    #[arg(long, default_value_t = 200)]
    users: usize,
    /// Use the binaries of an earlier invocation instead of building.
    #[arg(long)]
    no_build: bool,
    /// Seconds to wait after the load before reading the server's memory once more (0: skip).
    #[arg(long, default_value_t = 30)]
    settle: u64,
}

const SECRET: &str = "bench-http-secret-bench-http-secret";

/// One build under test.
struct Build {
    label: String,
    binary: PathBuf,
}

/// One measured run.
struct Run {
    build: usize,
    connections: usize,
    sends: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    server_cpu: Duration,
    postgres_cpu: Duration,
    statements: Option<u64>,
    /// The server's resident memory (KiB): idle before the load, right after it, and after
    /// `--settle` seconds.
    rss: [u64; 3],
}

impl Run {
    fn rate(&self) -> f64 {
        self.sends as f64 / self.elapsed.as_secs_f64()
    }

    fn quantile(&self, q: f64) -> f64 {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        sorted
            .get(((sorted.len().saturating_sub(1)) as f64 * q).round() as usize)
            .copied()
            .unwrap_or_default()
            .as_secs_f64()
            * 1000.0
    }

    fn per_send(&self, cpu: Duration) -> f64 {
        cpu.as_secs_f64() * 1000.0 / self.sends.max(1) as f64
    }
}

pub async fn http(args: HttpArgs) -> Result<(), String> {
    if Store::kind_of(&args.database_url) != messaging_store::DatabaseKind::Postgres {
        return Err("bench http needs a postgres:// URL".into());
    }
    if args.rounds == 0 || args.connections.is_empty() || args.users < 2 {
        return Err("rounds, connections and users (at least 2) must be given".into());
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("no workspace directory")?
        .to_path_buf();
    let builds = prepare_builds(&workspace, &args)?;
    println!(
        "bench http: {} users, {} s per run after {} s of warm-up, connections {:?}, {} rounds; {}",
        args.users,
        args.seconds,
        args.warmup,
        args.connections,
        args.rounds,
        machine()
    );
    for build in &builds {
        println!("  {}: {}", build.label, build.binary.display());
    }
    println!();
    println!(
        "| round | build | connections | sends/s | p50 ms | p99 ms | max ms | server CPU ms/send | PostgreSQL CPU ms/send | statements/send | RSS MiB idle / loaded / settled |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut runs = Vec::new();
    for round in 0..args.rounds {
        let order: Vec<usize> = if round % 2 == 0 {
            (0..builds.len()).collect()
        } else {
            (0..builds.len()).rev().collect()
        };
        for &build in &order {
            for &connections in &args.connections {
                let run = run_once(&args, &builds[build], build, connections).await?;
                println!(
                    "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.1} | {:.3} | {:.3} | {} | {:.0} / {:.0} / {:.0} |",
                    round + 1,
                    builds[build].label,
                    connections,
                    run.rate(),
                    run.quantile(0.5),
                    run.quantile(0.99),
                    run.quantile(1.0),
                    run.per_send(run.server_cpu),
                    run.per_send(run.postgres_cpu),
                    run.statements.map_or_else(
                        || "–".to_owned(),
                        |s| format!("{:.1}", s as f64 / run.sends.max(1) as f64)
                    ),
                    run.rss[0] as f64 / 1024.0,
                    run.rss[1] as f64 / 1024.0,
                    run.rss[2] as f64 / 1024.0,
                );
                runs.push(run);
            }
        }
    }
    summary(&builds, &args.connections, &runs);
    Ok(())
}

/// Medians over the rounds, and this checkout against the baseline.
fn summary(builds: &[Build], connections: &[usize], runs: &[Run]) {
    let median = |mut values: Vec<f64>| {
        values.sort_by(f64::total_cmp);
        let n = values.len();
        if n == 0 {
            0.0
        } else if n % 2 == 1 {
            values[n / 2]
        } else {
            (values[n / 2 - 1] + values[n / 2]) / 2.0
        }
    };
    println!();
    println!(
        "| connections | build | sends/s (median) | p99 ms | max ms | server CPU ms/send | PostgreSQL CPU ms/send | sends/s vs baseline |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|---:|");
    for &c in connections {
        let of = |build: usize| -> Vec<&Run> {
            runs.iter()
                .filter(|r| r.build == build && r.connections == c)
                .collect()
        };
        let base_rate = median(of(0).iter().map(|r| r.rate()).collect());
        for (index, build) in builds.iter().enumerate() {
            let mine = of(index);
            let rate = median(mine.iter().map(|r| r.rate()).collect());
            println!(
                "| {c} | {} | {:.0} | {:.1} | {:.1} | {:.3} | {:.3} | ×{:.2} |",
                build.label,
                rate,
                median(mine.iter().map(|r| r.quantile(0.99)).collect()),
                median(mine.iter().map(|r| r.quantile(1.0)).collect()),
                median(mine.iter().map(|r| r.per_send(r.server_cpu)).collect()),
                median(mine.iter().map(|r| r.per_send(r.postgres_cpu)).collect()),
                rate / base_rate
            );
        }
    }
}

/// The baseline's binary (built in a worktree of the baseline commit with a target directory of
/// its own, cached by commit) and this checkout's, each copied out right after its build.
fn prepare_builds(workspace: &Path, args: &HttpArgs) -> Result<Vec<Build>, String> {
    let git = |args: &[&str]| -> Result<String, String> {
        let out = Command::new("git")
            .args(args)
            .current_dir(workspace)
            .output()
            .map_err(|e| format!("git: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
        } else {
            Err(format!(
                "git {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    };
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace.join("target"), PathBuf::from);
    let bench_dir = target.join("bench-http");
    let baseline_sha = git(&[
        "rev-parse",
        "--verify",
        &format!("{}^{{commit}}", args.baseline),
    ])?;
    let short = &baseline_sha[..baseline_sha.len().min(10)];
    let baseline_bin = bench_dir.join(short).join("messaging-server");
    let current_bin = bench_dir.join("current").join("messaging-server");
    if !args.no_build {
        if !baseline_bin.exists() {
            let tree = bench_dir.join(short).join("src");
            if !tree.join("Cargo.toml").exists() {
                let _ = std::fs::remove_dir_all(&tree);
                let _ = git(&["worktree", "prune"]);
                git(&[
                    "worktree",
                    "add",
                    "--detach",
                    &tree.to_string_lossy(),
                    &baseline_sha,
                ])?;
            }
            // A target directory of its own: cargo names a workspace's artifacts the same
            // whatever directory it is checked out in, so the two builds would overwrite each
            // other's (and take each other's for fresh).
            let baseline_target = bench_dir.join("target");
            build_in(&tree, &baseline_target)?;
            copy_binary(&baseline_target, &baseline_bin)?;
        }
        build_server(workspace, true)?;
        copy_binary(&target, &current_bin)?;
        let same = std::fs::read(&baseline_bin).map_err(|e| e.to_string())?
            == std::fs::read(&current_bin).map_err(|e| e.to_string())?;
        if same {
            return Err(
                "the baseline and the current binary are identical; touch crates/server/src/main.rs and rerun"
                    .into(),
            );
        }
    }
    let head = git(&["rev-parse", "--short", "HEAD"])?;
    let dirty = !git(&["status", "--porcelain", "--", "crates"])?.is_empty();
    Ok(vec![
        Build {
            label: format!("baseline {short}"),
            binary: baseline_bin,
        },
        Build {
            label: format!("this {head}{}", if dirty { "+changes" } else { "" }),
            binary: current_bin,
        },
    ])
}

fn build_in(tree: &Path, target: &Path) -> Result<(), String> {
    eprintln!(
        "cargo build --release -p server --bin messaging-server (in {})",
        tree.display()
    );
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "-p",
            "server",
            "--bin",
            "messaging-server",
        ])
        .env("CARGO_TARGET_DIR", target)
        .current_dir(tree)
        .status()
        .map_err(|e| format!("cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("building the baseline failed ({status})"))
    }
}

fn copy_binary(target: &Path, to: &Path) -> Result<(), String> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    // Copy to a new file (never through a hard link cargo may rewrite later).
    let _ = std::fs::remove_file(to);
    std::fs::copy(target.join("release/messaging-server"), to)
        .map(|_| ())
        .map_err(|e| format!("copying the server binary: {e}"))
}

/// One build at one connection count on a fresh database: warm-up, then the measured sends.
async fn run_once(
    args: &HttpArgs,
    build: &Build,
    index: usize,
    connections: usize,
) -> Result<Run, String> {
    let (admin_url, name) = args
        .database_url
        .rsplit_once('/')
        .map(|(base, name)| (format!("{base}/postgres"), name.to_owned()))
        .ok_or("bad database URL")?;
    Store::drop_databases_with_prefix(&admin_url, &name)
        .await
        .map_err(describe)?;
    Store::ensure_database(&args.database_url)
        .await
        .map_err(describe)?;

    let data_dir = std::env::temp_dir().join(format!("bench-http-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    std::fs::create_dir_all(&data_dir).map_err(|e| e.to_string())?;
    let port = free_port()?;
    let log_path = data_dir.join("server.log");
    let mut command = bench_server(
        &build.binary,
        port,
        &args.database_url,
        &data_dir,
        SECRET,
        &log_path,
    )?;
    let mut server = Killed(
        command
            .spawn()
            .map_err(|e| format!("{}: {e}", build.binary.display()))?,
    );
    let pid = server.0.id();
    // The server applies its own migrations; the users go in without migrating again (the
    // baseline's schema stays the baseline's).
    wait_ready(port, &mut server.0, &log_path).await?;
    let store = Store::connect(&args.database_url, 4).map_err(describe)?;
    let ids = create_users(&store, "load", args.users).await?;
    drop(store);
    let keys = server::auth::TokenKeys::load(Some(SECRET), &data_dir, 3600, 3600, 1800)
        .map_err(|e| e.to_string())?;
    let now = Utc::now().timestamp();
    let tokens: Vec<String> = ids
        .iter()
        .map(|id| keys.issue_access(*id, Role::Student, 0, now))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let ids = Arc::new(ids);
    let tokens = Arc::new(tokens);

    let idle_rss = rss_kib(pid);
    let warmup = send_for(
        port,
        &ids,
        &tokens,
        connections,
        Duration::from_secs(args.warmup),
        0,
    )
    .await?;
    let before = (
        process_cpu(pid),
        postgres_cpu(),
        statements(port).await,
        Instant::now(),
    );
    let latencies = send_for(
        port,
        &ids,
        &tokens,
        connections,
        Duration::from_secs(args.seconds),
        warmup.len(),
    )
    .await?;
    let elapsed = before.3.elapsed();
    let after = (process_cpu(pid), postgres_cpu(), statements(port).await);
    let loaded_rss = rss_kib(pid);
    let settled_rss = if args.settle > 0 {
        tokio::time::sleep(Duration::from_secs(args.settle)).await;
        rss_kib(pid)
    } else {
        loaded_rss
    };
    drop(server);
    let _ = std::fs::remove_dir_all(&data_dir);
    Ok(Run {
        build: index,
        connections,
        sends: latencies.len(),
        elapsed,
        latencies,
        server_cpu: after.0.saturating_sub(before.0),
        postgres_cpu: after.1.saturating_sub(before.1),
        statements: after
            .2
            .zip(before.2)
            .map(|(after, before)| after.saturating_sub(before)),
        rss: [idle_rss, loaded_rss, settled_rss],
    })
}

/// A process's resident set size in KiB (`VmRSS` of `/proc/<pid>/status`).
pub(crate) fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Sends for `duration` on `connections` keep-alive connections; the latency of each send.
/// `offset` shifts the message numbers so a measured run does not repeat the warm-up's bodies.
pub(crate) async fn send_for(
    port: u16,
    ids: &Arc<Vec<UserId>>,
    tokens: &Arc<Vec<String>>,
    connections: usize,
    duration: Duration,
    offset: usize,
) -> Result<Vec<Duration>, String> {
    let deadline = Instant::now() + duration;
    let mut tasks = Vec::new();
    for worker in 0..connections {
        let ids = Arc::clone(ids);
        let tokens = Arc::clone(tokens);
        tasks.push(tokio::spawn(async move {
            let mut conn = TcpStream::connect(("127.0.0.1", port))
                .await
                .map_err(|e| e.to_string())?;
            conn.set_nodelay(true).map_err(|e| e.to_string())?;
            let mut latencies = Vec::new();
            let mut buffer = Vec::with_capacity(8192);
            let mut n = 0;
            while Instant::now() < deadline {
                // Workers own disjoint senders, each writing to the next user.
                let from = (worker + (n + offset) * connections) % ids.len();
                let to = ids[(from + 1) % ids.len()];
                let body = format!(
                    r#"{{"recipient_id":{},"message":"Benchmark message {} about calculus homework"}}"#,
                    to.0,
                    n + offset
                );
                let request = format!(
                    "POST /api/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
                    tokens[from],
                    body.len(),
                    body
                );
                let t = Instant::now();
                conn.write_all(request.as_bytes())
                    .await
                    .map_err(|e| e.to_string())?;
                let status = read_response(&mut conn, &mut buffer).await?;
                if status != 201 {
                    return Err(format!(
                        "a send answered {status}: {}",
                        String::from_utf8_lossy(&buffer)
                    ));
                }
                latencies.push(t.elapsed());
                n += 1;
            }
            Ok::<_, String>(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.map_err(|e| e.to_string())??);
    }
    Ok(latencies)
}

/// User + system CPU of a process so far, from `/proc/<pid>/stat` (in USER_HZ = 100 ticks).
pub(crate) fn process_cpu(pid: u32) -> Duration {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| cpu_of_stat(&stat))
        .unwrap_or_default()
}

fn cpu_of_stat(stat: &str) -> Option<Duration> {
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

/// User + system CPU of every `postgres` process on the machine (the server's backends, the WAL
/// writer, the checkpointer...), so far.
pub(crate) fn postgres_cpu() -> Duration {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Duration::ZERO;
    };
    dir.filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter(|stat| stat.contains("(postgres)"))
        .filter_map(|stat| cpu_of_stat(&stat))
        .sum()
}

/// The server's count of SQL statements (`messaging_db_queries_total` on `/metrics`), when it has
/// one.
async fn statements(port: u16) -> Option<u64> {
    let mut conn = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    conn.write_all(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .ok()?;
    let mut buffer = Vec::new();
    if read_response(&mut conn, &mut buffer).await.ok()? != 200 {
        return None;
    }
    let text = String::from_utf8_lossy(&buffer);
    text.lines()
        .find(|l| l.starts_with("messaging_db_queries_total"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .map(|v| v as u64)
}
