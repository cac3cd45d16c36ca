//! `cargo xtask chaos`: messages sent with idempotency keys through `kill -9` of the server and
//! PostgreSQL restarts, then proof from the recipients' side that nothing acknowledged was lost
//! or stored twice and that no event stream has a gap.
//!
//! PostgreSQL is a throwaway cluster of this run's own (`initdb` into a temporary directory, its
//! own port and socket directory, run as the `postgres` user when this runs as root), so stopping
//! it harms nobody else's tests on the machine. The server is the real `messaging-server` binary,
//! as a child process on a fixed port. Sender tasks each send to every recipient in turn at a
//! steady rate, each message with an `Idempotency-Key` of its own, retrying on any failure
//! (refused connection, timeout, any status but 201) with the same key until it is acknowledged.
//! Meanwhile the server is killed with SIGKILL and started again, and PostgreSQL is stopped in
//! immediate mode (as in a crash) and started again, at evenly spaced moments.
//!
//! Then, as each recipient: the whole history with each sender (`GET /api/messages/threads/..`,
//! paged by `before`), and the stream replayed over a WebSocket from `since=0`; and each sender's
//! stream too. Every acknowledged message must be in its recipient's history and stream exactly
//! once with the id it was acknowledged with, and every stream numbered 1..=latest.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use clap::Args;
use messaging_domain::user::{Role, UserId};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::bench_ws::{build_server, create_users, free_port, wait_ready};
use crate::bench_ws_load::encode;
use crate::http1::{find, read_response};
use crate::ws1::{next_text, open_socket};

#[derive(Debug, Args)]
pub struct ChaosArgs {
    /// Seconds of sends under faults.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Sending users, one sending task each.
    #[arg(long, default_value_t = 4)]
    senders: usize,
    /// Receiving users; each sender writes to all of them in turn.
    #[arg(long, default_value_t = 4)]
    recipients: usize,
    /// Messages started per second, all senders together.
    #[arg(long, default_value_t = 40)]
    rate: u32,
    /// Times the server is killed with SIGKILL (and started again).
    #[arg(long, default_value_t = 3)]
    kills: usize,
    /// Times PostgreSQL is stopped in immediate mode, as in a crash, and started again.
    #[arg(long, default_value_t = 1)]
    postgres_restarts: usize,
    /// Seconds PostgreSQL stays down each time.
    #[arg(long, default_value_t = 2)]
    postgres_down_secs: u64,
    /// Seconds a sender keeps retrying its last message once the faults are over.
    #[arg(long, default_value_t = 60)]
    settle_secs: u64,
    /// Run the release server (default: the debug one, which the tests have mostly built).
    #[arg(long)]
    release: bool,
    /// The server binary; default: `target/{debug,release}/messaging-server`, built first.
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Do not build the server first.
    #[arg(long)]
    no_build: bool,
}

const SECRET: &str = "chaos-secret-chaos-secret-chaos-secret-chaos";
/// Tokens outlive any run (the server closes a socket when its token expires).
const TOKEN_TTL_SECS: u32 = 4 * 3600;
/// How long one attempt of a request may take before it counts as failed.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// The pause between two attempts of one message.
const RETRY_PAUSE: Duration = Duration::from_millis(200);

pub async fn run(args: ChaosArgs) -> Result<(), String> {
    use tokio::signal::unix::{SignalKind, signal};
    // Ctrl-C (or a CI timeout's SIGTERM) drops the drill, whose cluster and server are stopped
    // and removed on drop. The handlers are in place before anything is started.
    let mut interrupt = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
    let mut terminate = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    tokio::select! {
        result = drill(args) => result,
        _ = interrupt.recv() => Err("interrupted".into()),
        _ = terminate.recv() => Err("terminated".into()),
    }
}

async fn drill(args: ChaosArgs) -> Result<(), String> {
    if args.senders == 0 || args.recipients == 0 || args.rate == 0 {
        return Err("senders, recipients and rate must be positive".into());
    }
    let started = Instant::now();
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("no workspace directory")?
        .to_path_buf();
    let server_bin = match &args.server_bin {
        Some(path) => path.clone(),
        None => {
            if !args.no_build {
                build_server(&workspace, args.release)?;
            }
            std::env::var_os("CARGO_TARGET_DIR")
                .map_or_else(|| workspace.join("target"), PathBuf::from)
                .join(if args.release { "release" } else { "debug" })
                .join("messaging-server")
        }
    };
    if !server_bin.exists() {
        return Err(format!("{} is missing", server_bin.display()));
    }

    let postgres = tokio::task::spawn_blocking(PrivatePostgres::create)
        .await
        .map_err(|e| e.to_string())??;
    let postgres = Arc::new(postgres);
    let database_url = postgres.url("chaos");
    let store = crate::seed::open(&database_url).await?;
    let recipients = create_users(&store, "chaosr", args.recipients).await?;
    let senders = create_users(&store, "chaoss", args.senders).await?;
    drop(store);

    let data_dir = postgres.dir.join("server");
    std::fs::create_dir_all(&data_dir).map_err(|e| e.to_string())?;
    let keys = server::auth::TokenKeys::load(Some(SECRET), &data_dir, TOKEN_TTL_SECS, 3600, 1800)
        .map_err(|e| e.to_string())?;
    let now = Utc::now().timestamp();
    let token = |id: UserId| {
        keys.issue_access(id, Role::Student, 0, now)
            .map_err(|e| format!("token: {e}"))
    };
    let recipients: Vec<(UserId, String)> = recipients
        .into_iter()
        .map(|id| Ok((id, token(id)?)))
        .collect::<Result<_, String>>()?;
    let senders: Vec<(UserId, String)> = senders
        .into_iter()
        .map(|id| Ok((id, token(id)?)))
        .collect::<Result<_, String>>()?;

    let mut server = Server {
        bin: server_bin,
        port: free_port()?,
        database_url,
        data_dir: data_dir.clone(),
        // Outside the cluster's directory, which goes with the cluster: kept when the run fails.
        log: std::env::temp_dir()
            .join(format!("messaging-chaos-{}-server.log", std::process::id())),
        child: None,
    };
    server.start().await?;
    println!(
        "chaos: {} on port {}, private PostgreSQL on port {}; {} senders to {} recipients at {}/s for {} s",
        server.bin.display(),
        server.port,
        postgres.port,
        args.senders,
        args.recipients,
        args.rate,
        args.seconds
    );

    // The senders.
    let faults_end = Instant::now() + Duration::from_secs(args.seconds);
    let give_up = faults_end + Duration::from_secs(args.settle_secs);
    let interval = Duration::from_secs_f64(args.senders as f64 / f64::from(args.rate.max(1)));
    let to: Arc<Vec<i64>> = Arc::new(recipients.iter().map(|(id, _)| id.0).collect());
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for (index, (_, token)) in senders.iter().enumerate() {
        tasks.push(tokio::spawn(send_until_stopped(Sender {
            index,
            port: server.port,
            token: token.clone(),
            recipients: Arc::clone(&to),
            interval,
            stop: Arc::clone(&stop),
            give_up,
        })));
    }

    // The faults.
    let mut kills = 0;
    let mut restarts = 0;
    let fault_start = Instant::now();
    for (at, fault) in schedule(args.kills, args.postgres_restarts, args.seconds) {
        tokio::time::sleep_until((fault_start + at).into()).await;
        match fault {
            Fault::KillServer => {
                server.kill();
                kills += 1;
                println!(
                    "chaos: {:>5.1} s  server killed (SIGKILL)",
                    at.as_secs_f64()
                );
                server.start().await?;
                println!(
                    "chaos: {:>5.1} s  server ready again",
                    fault_start.elapsed().as_secs_f64()
                );
            }
            Fault::RestartPostgres => {
                let cluster = Arc::clone(&postgres);
                let down = Duration::from_secs(args.postgres_down_secs);
                println!(
                    "chaos: {:>5.1} s  PostgreSQL stopped (immediate)",
                    at.as_secs_f64()
                );
                tokio::task::spawn_blocking(move || {
                    cluster.stop()?;
                    std::thread::sleep(down);
                    cluster.start()
                })
                .await
                .map_err(|e| e.to_string())??;
                restarts += 1;
                println!(
                    "chaos: {:>5.1} s  PostgreSQL started again",
                    fault_start.elapsed().as_secs_f64()
                );
            }
        }
    }
    tokio::time::sleep_until(faults_end.into()).await;
    stop.store(true, Ordering::Release);
    let mut sent = SendReport::default();
    for task in tasks {
        sent.merge(task.await.map_err(|e| e.to_string())?);
    }

    // The proof, from the recipients' side.
    let mut check = Check::default();
    for (recipient, token) in &recipients {
        let acknowledged: HashMap<&str, i64> = sent
            .acknowledged
            .iter()
            .filter(|a| a.recipient == recipient.0)
            .map(|a| (a.body.as_str(), a.id))
            .collect();
        let mut history: HashMap<String, Vec<i64>> = HashMap::new();
        for (sender, _) in &senders {
            for message in history_with(server.port, token, sender.0).await? {
                let body = message["message"].as_str().unwrap_or_default().to_owned();
                history
                    .entry(body)
                    .or_default()
                    .push(message["id"].as_i64().unwrap_or(0));
            }
        }
        check
            .history
            .compare(&acknowledged, &sent.unacknowledged, &history);
        let entries = replay(server.port, token).await?;
        check.gaps += gaps(&entries);
        check.entries += entries.len();
        check.streams += 1;
        let mut delivered: HashMap<String, Vec<i64>> = HashMap::new();
        for entry in entries.iter().filter(|e| e["type"] == "new_message") {
            delivered
                .entry(entry["message"].as_str().unwrap_or_default().to_owned())
                .or_default()
                .push(entry["message_id"].as_i64().unwrap_or(0));
        }
        check
            .stream
            .compare(&acknowledged, &sent.unacknowledged, &delivered);
    }
    for (_, token) in &senders {
        let entries = replay(server.port, token).await?;
        check.gaps += gaps(&entries);
        check.entries += entries.len();
        check.streams += 1;
    }
    server.kill();

    let retried: Vec<String> = sent
        .failures
        .iter()
        .map(|(cause, n)| format!("{n} × {cause}"))
        .collect();
    println!(
        "chaos: {kills} server kills, {restarts} PostgreSQL restarts; sent {}, acknowledged {}, \
         unacknowledged {}; attempts {} ({} retried: {})",
        sent.acknowledged.len() + sent.unacknowledged.len(),
        sent.acknowledged.len(),
        sent.unacknowledged.len(),
        sent.attempts,
        sent.attempts - sent.acknowledged.len(),
        if retried.is_empty() {
            "none".to_owned()
        } else {
            retried.join(", ")
        }
    );
    println!(
        "chaos: recipients' history: lost {}, duplicated {}, unexpected {}",
        check.history.lost.len(),
        check.history.duplicated.len(),
        check.history.unexpected.len()
    );
    println!(
        "chaos: {} streams replayed from since=0 ({} entries): lost {}, duplicated {}, \
         unexpected {}, gaps {}",
        check.streams,
        check.entries,
        check.stream.lost.len(),
        check.stream.duplicated.len(),
        check.stream.unexpected.len(),
        check.gaps
    );
    // A message counts once however many views show the fault.
    let union = |a: &BTreeSet<String>, b: &BTreeSet<String>| a.union(b).count();
    println!(
        "chaos: summary: sent {}, acknowledged {}, lost {}, duplicated {}, gaps {} ({:.0} s)",
        sent.acknowledged.len() + sent.unacknowledged.len(),
        sent.acknowledged.len(),
        union(&check.history.lost, &check.stream.lost),
        union(&check.history.duplicated, &check.stream.duplicated),
        check.gaps,
        started.elapsed().as_secs_f64()
    );
    let faults_done = kills == args.kills && restarts == args.postgres_restarts;
    let clean = check.history.is_clean()
        && check.stream.is_clean()
        && check.gaps == 0
        && sent.unacknowledged.is_empty()
        && !sent.acknowledged.is_empty()
        && faults_done;
    if clean {
        let _ = std::fs::remove_file(&server.log);
        Ok(())
    } else {
        Err(format!(
            "chaos found faults (server log: {})",
            server.log.display()
        ))
    }
}

/// One fault, at its moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    KillServer,
    RestartPostgres,
}

/// The faults spread evenly over `seconds`, PostgreSQL's restarts placed among the kills.
fn schedule(kills: usize, restarts: usize, seconds: u64) -> Vec<(Duration, Fault)> {
    let mut faults = vec![Fault::KillServer; kills];
    for j in 0..restarts {
        let at = (j + 1) * faults.len() / (restarts + 1) + j;
        faults.insert(at.min(faults.len()), Fault::RestartPostgres);
    }
    let total = faults.len() as u64 + 1;
    faults
        .into_iter()
        .zip(1..)
        .map(|(fault, i)| (Duration::from_millis(seconds * 1000 * i / total), fault))
        .collect()
}

// ---- PostgreSQL ----

/// A throwaway PostgreSQL cluster of this run's own, stopped and removed on drop.
struct PrivatePostgres {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    /// Run its tools as `postgres` (`initdb` refuses root).
    as_postgres: bool,
}

impl PrivatePostgres {
    fn create() -> Result<Self, String> {
        let bin = postgres_bin_dir()?;
        let dir = std::env::temp_dir().join(format!("messaging-chaos-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let cluster = Self {
            bin,
            dir,
            port: free_port()?,
            as_postgres: running_as_root(),
        };
        if cluster.as_postgres {
            run_quietly(
                Command::new("chown")
                    .arg("postgres:postgres")
                    .arg(&cluster.dir),
            )?;
        }
        let data = cluster.data();
        cluster.tool(
            "initdb",
            &[
                "-D",
                &data,
                "--auth=trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-instructions",
            ],
        )?;
        cluster.start()?;
        Ok(cluster)
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    fn start(&self) -> Result<(), String> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("postgres.log").display().to_string();
        let data = self.data();
        let args = [
            "-D", &data, "-l", &log, "-o", &options, "-w", "-t", "60", "start",
        ];
        self.tool("pg_ctl", &args)
    }

    /// Stops at once, without a checkpoint, as a crash would.
    fn stop(&self) -> Result<(), String> {
        let data = self.data();
        self.tool("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"])
    }

    fn tool(&self, name: &str, args: &[&str]) -> Result<(), String> {
        let program = self.bin.join(name);
        let mut command = if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&program);
            command
        } else {
            Command::new(&program)
        };
        command.args(args);
        run_quietly(&mut command)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn run_quietly(command: &mut Command) -> Result<(), String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{command:?}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// PostgreSQL's server tools: Debian keeps each major version's under
/// `/usr/lib/postgresql/<version>/bin` (the newest is taken); elsewhere `pg_config` knows. When
/// there are none, Debian's package is installed, as `cargo xtask ci` does.
fn postgres_bin_dir() -> Result<PathBuf, String> {
    if let Some(dir) = find_postgres_bin() {
        return Ok(dir);
    }
    println!("chaos: PostgreSQL not found; installing Debian's postgresql package");
    crate::ci::sh(
        "export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq postgresql >/dev/null",
    )?;
    find_postgres_bin().ok_or_else(|| "no PostgreSQL server tools (initdb, pg_ctl) found".into())
}

fn find_postgres_bin() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    let output = Command::new("pg_config").arg("--bindir").output().ok()?;
    let bin = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    bin.join("initdb").is_file().then_some(bin)
}

// ---- The server ----

/// The real server binary as a child process, on a port that stays the same across restarts.
struct Server {
    bin: PathBuf,
    port: u16,
    database_url: String,
    data_dir: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

impl Server {
    async fn start(&mut self) -> Result<(), String> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| e.to_string())?;
        let child = Command::new(&self.bin)
            .env("MESSAGING_LISTEN", format!("127.0.0.1:{}", self.port))
            .env("DATABASE_URL", &self.database_url)
            .env("MESSAGING_DATA_DIR", &self.data_dir)
            .env("MESSAGING_JWT_SECRET", SECRET)
            .env("MESSAGING_LOG_FORMAT", "json")
            .env("RUST_LOG", "warn")
            .env("MESSAGING_WORKERS", "2")
            .env("MESSAGING_SEND_PER_SECOND", "0")
            .env("MESSAGING_SEND_BURST", "0")
            .env("MESSAGING_SEND_PER_DAY", "0")
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("{}: {e}", self.bin.display()))?;
        // Held here at once, so that an interrupted start still kills it.
        let child = self.child.insert(child);
        if let Err(err) = wait_ready(self.port, child, &self.log).await {
            self.kill();
            return Err(err);
        }
        Ok(())
    }

    /// SIGKILL: no graceful shutdown, nothing flushed.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

// ---- Senders ----

struct Sender {
    index: usize,
    port: u16,
    token: String,
    recipients: Arc<Vec<i64>>,
    interval: Duration,
    stop: Arc<AtomicBool>,
    give_up: Instant,
}

/// A message the server acknowledged (201) with its id.
struct Acknowledged {
    recipient: i64,
    body: String,
    id: i64,
}

#[derive(Default)]
struct SendReport {
    acknowledged: Vec<Acknowledged>,
    /// Messages given up on: (recipient, body). Each may be stored once, or not at all.
    unacknowledged: Vec<(i64, String)>,
    attempts: usize,
    /// Why attempts failed, with how many did.
    failures: BTreeMap<String, usize>,
}

impl SendReport {
    fn merge(&mut self, other: SendReport) {
        self.acknowledged.extend(other.acknowledged);
        self.unacknowledged.extend(other.unacknowledged);
        self.attempts += other.attempts;
        for (cause, n) in other.failures {
            *self.failures.entry(cause).or_default() += n;
        }
    }
}

/// Starts a message every `interval` until stopped, each retried with its key until the server
/// acknowledges it (or `give_up` passes).
async fn send_until_stopped(sender: Sender) -> SendReport {
    let mut report = SendReport::default();
    let mut connection: Option<TcpStream> = None;
    let mut next = Instant::now();
    let mut n = 0usize;
    while !sender.stop.load(Ordering::Acquire) {
        let recipient = sender.recipients[n % sender.recipients.len()];
        // Letters only, so that no masking rule takes the numbers for a phone number.
        let body = format!("chaos {} {}", encode(sender.index), encode(n));
        let key = format!("chaos-{}-{n}", sender.index);
        let request = json!({"recipient_id": recipient, "message": body}).to_string();
        loop {
            report.attempts += 1;
            match post(&mut connection, sender.port, &sender.token, &key, &request).await {
                Ok(id) => {
                    report.acknowledged.push(Acknowledged {
                        recipient,
                        body,
                        id,
                    });
                    break;
                }
                Err(cause) => {
                    *report.failures.entry(cause).or_default() += 1;
                    connection = None;
                    if Instant::now() > sender.give_up {
                        report.unacknowledged.push((recipient, body));
                        break;
                    }
                    tokio::time::sleep(RETRY_PAUSE).await;
                }
            }
        }
        n += 1;
        next = (next + sender.interval).max(Instant::now());
        tokio::time::sleep_until(next.into()).await;
    }
    report
}

/// Sends one `POST /api/messages` with `key` as its `Idempotency-Key`; the message id on 201,
/// else what went wrong (one short phrase per kind, for the summary).
async fn post(
    connection: &mut Option<TcpStream>,
    port: u16,
    token: &str,
    key: &str,
    body: &str,
) -> Result<i64, String> {
    let attempt = async {
        let conn = match connection {
            Some(conn) => conn,
            None => {
                let conn = TcpStream::connect(("127.0.0.1", port))
                    .await
                    .map_err(|e| format!("connect: {}", e.kind()))?;
                connection.insert(conn)
            }
        };
        let request = format!(
            "POST /api/messages HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
             Authorization: Bearer {token}\r\nIdempotency-Key: {key}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        conn.write_all(request.as_bytes())
            .await
            .map_err(|e| format!("write: {}", e.kind()))?;
        let mut buffer = Vec::new();
        let status = read_response(conn, &mut buffer)
            .await
            .map_err(|e| format!("read: {e}"))?;
        if status != 201 {
            return Err(format!("HTTP {status}"));
        }
        let message = json_body(&buffer)?;
        message["id"]
            .as_i64()
            .ok_or_else(|| "201 without an id".to_owned())
    };
    match tokio::time::timeout(ATTEMPT_TIMEOUT, attempt).await {
        Ok(result) => result,
        Err(_) => Err("timeout".into()),
    }
}

fn json_body(response: &[u8]) -> Result<Value, String> {
    let start = find(response, b"\r\n\r\n").ok_or("no body")? + 4;
    serde_json::from_slice(&response[start..]).map_err(|e| format!("unreadable body: {e}"))
}

// ---- The proof ----

#[derive(Debug, Default)]
struct Check {
    history: Tally,
    stream: Tally,
    gaps: usize,
    entries: usize,
    streams: usize,
}

/// What one view of recipients' messages holds against what was acknowledged, as the messages'
/// bodies (each names its sender and number).
#[derive(Debug, Default, PartialEq, Eq)]
struct Tally {
    /// Acknowledged messages missing, or present only under another id.
    lost: BTreeSet<String>,
    /// Messages stored or delivered more than once.
    duplicated: BTreeSet<String>,
    /// Messages nobody sent (neither acknowledged nor given up on).
    unexpected: BTreeSet<String>,
}

impl Tally {
    /// Compares `found` (body → ids) with the `acknowledged` bodies and their ids; messages
    /// given up on (`unacknowledged`) may be there once.
    fn compare(
        &mut self,
        acknowledged: &HashMap<&str, i64>,
        unacknowledged: &[(i64, String)],
        found: &HashMap<String, Vec<i64>>,
    ) {
        for (body, id) in acknowledged {
            if !found.get(*body).is_some_and(|ids| ids.contains(id)) {
                self.lost.insert((*body).to_owned());
            }
        }
        for (body, ids) in found {
            if ids.len() > 1 {
                self.duplicated.insert(body.clone());
            }
            let known = acknowledged.contains_key(body.as_str())
                || unacknowledged.iter().any(|(_, b)| b == body);
            if !known {
                self.unexpected.insert(body.clone());
            }
        }
    }

    fn is_clean(&self) -> bool {
        *self == Self::default()
    }
}

/// Entries missing from 1..=latest, counting an entry out of order or repeated as one.
fn gaps(entries: &[Value]) -> usize {
    entries
        .iter()
        .zip(1u64..)
        .filter(|(entry, expected)| entry["seq"].as_u64() != Some(*expected))
        .count()
}

/// The whole history between the token's user and `other`, every page.
async fn history_with(port: u16, token: &str, other: i64) -> Result<Vec<Value>, String> {
    let mut messages = Vec::new();
    let mut before: Option<i64> = None;
    loop {
        let mut path = format!("/api/messages/threads/{other}?page_size=100");
        if let Some(before) = before {
            path.push_str(&format!("&before={before}"));
        }
        let page = get(port, token, &path).await?;
        let batch = page["messages"].as_array().cloned().unwrap_or_default();
        messages.extend(batch);
        match (page["has_more"].as_bool(), page["next_before"].as_i64()) {
            (Some(true), Some(next)) => before = Some(next),
            _ => return Ok(messages),
        }
    }
}

async fn get(port: u16, token: &str, path: &str) -> Result<Value, String> {
    let mut conn = TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n\r\n"
    );
    conn.write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut buffer = Vec::new();
    let status = tokio::time::timeout(ATTEMPT_TIMEOUT, read_response(&mut conn, &mut buffer))
        .await
        .map_err(|_| format!("GET {path}: timeout"))??;
    if status != 200 {
        return Err(format!("GET {path}: HTTP {status}"));
    }
    json_body(&buffer)
}

/// Every entry of the token's user's stream, replayed over a WebSocket from `since=0`.
async fn replay(port: u16, token: &str) -> Result<Vec<Value>, String> {
    let (mut stream, mut buffer, connected) =
        open_socket(port, &format!("token={token}&since=0")).await?;
    let connected: Value = serde_json::from_str(&connected).map_err(|e| e.to_string())?;
    let latest = connected["latest_seq"]
        .as_u64()
        .ok_or("connected without latest_seq")?;
    let mut entries = Vec::new();
    let mut last = 0;
    while last < latest {
        let text = tokio::time::timeout(ATTEMPT_TIMEOUT, next_text(&mut stream, &mut buffer))
            .await
            .map_err(|_| format!("the replay stalled after entry {last} of {latest}"))??;
        let frame: Value = serde_json::from_slice(&text).map_err(|e| e.to_string())?;
        if frame["type"] == "resync_required" {
            return Err(format!("the replay asked for a resync after entry {last}"));
        }
        if let Some(seq) = frame["seq"].as_u64() {
            last = seq;
            entries.push(frame);
        }
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_spread_evenly_with_the_postgres_restart_among_the_kills() {
        let at = |faults: &[(Duration, Fault)]| -> Vec<(u64, Fault)> {
            faults.iter().map(|(d, f)| (d.as_secs(), *f)).collect()
        };
        assert_eq!(
            at(&schedule(3, 1, 50)),
            vec![
                (10, Fault::KillServer),
                (20, Fault::RestartPostgres),
                (30, Fault::KillServer),
                (40, Fault::KillServer),
            ]
        );
        assert_eq!(at(&schedule(0, 1, 30)), vec![(15, Fault::RestartPostgres)]);
        assert_eq!(at(&schedule(2, 0, 30)).len(), 2);
    }

    #[test]
    fn a_tally_counts_lost_duplicated_and_unexpected_messages() {
        let acknowledged: HashMap<&str, i64> = [("a", 1), ("b", 2), ("c", 3)].into();
        let unacknowledged = vec![(7, "d".to_owned())];
        let found: HashMap<String, Vec<i64>> = [
            ("a".to_owned(), vec![1]),
            ("b".to_owned(), vec![2, 9]),
            ("c".to_owned(), vec![8]),
            ("d".to_owned(), vec![4]),
            ("x".to_owned(), vec![5]),
        ]
        .into();
        let mut tally = Tally::default();
        tally.compare(&acknowledged, &unacknowledged, &found);
        let set = |body: &str| BTreeSet::from([body.to_owned()]);
        assert_eq!(
            tally,
            Tally {
                lost: set("c"),
                duplicated: set("b"),
                unexpected: set("x"),
            }
        );
    }

    #[test]
    fn a_stream_with_a_missing_or_repeated_entry_has_gaps() {
        let stream =
            |seqs: &[u64]| -> Vec<Value> { seqs.iter().map(|s| json!({"seq": s})).collect() };
        assert_eq!(gaps(&stream(&[1, 2, 3])), 0);
        assert_eq!(gaps(&stream(&[1, 3])), 1);
        assert_eq!(gaps(&stream(&[1, 1, 2])), 2);
    }
}
