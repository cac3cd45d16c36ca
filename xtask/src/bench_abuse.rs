//! `cargo xtask bench abuse`: what attacks on memory and CPU cost the server.
//!
//! Each attack runs against a fresh release `messaging-server` (SQLite, in a temporary data
//! directory) started as a child process. The server's resident memory is read from
//! `/proc/<pid>/status`: after start-up (idle), after the attack's set-up (the baseline it is
//! measured against, same run), its peak during the attack (`VmHWM`, reset through
//! `/proc/<pid>/clear_refs` just before), and again after the server sat idle for
//! `--settle-secs`. CPU time is the server's user + system time from the attack's start to that
//! last reading (`/proc/<pid>/stat`). The attacks:
//!
//! - **ws-oversize**: a WebSocket frame header declaring 1 GiB, then up to 128 MiB of payload
//!   written while the answer is read;
//! - **login-storm**: 100 concurrent logins with a wrong password;
//! - **register-login**: 51 registrations, then 51 logins, one at a time;
//! - **multipart-preamble**: a multipart request with 32 MiB (`--preamble-mib`) of junk before its
//!   first boundary,
//!   sent at up to 4 MiB/s (4 KiB a millisecond).
//!
//! `--repeat N` runs every attack N times (a fresh server each time) and reports medians.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::bench_ws::{Killed, build_server, free_port, git_state, machine, wait_ready};
use crate::bench_ws_load::rss_kib;
use crate::http1::{find, post_json, read_response};
use crate::ws1::{open_socket, parse_frame};

#[derive(Debug, Args)]
pub struct AbuseArgs {
    /// Seconds the server sits idle after each attack before its settled memory is read.
    #[arg(long, default_value_t = 30)]
    settle_secs: u64,
    /// Runs of each attack (a fresh server each); the report shows medians.
    #[arg(long, default_value_t = 1)]
    repeat: usize,
    /// Attacks to run (default: all): ws-oversize, login-storm, register-login,
    /// multipart-preamble.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// The server binary; default: `target/release/messaging-server`, built first
    /// (`cargo build --release -p server`) unless `--no-build`.
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Do not build the server before the run.
    #[arg(long)]
    no_build: bool,
    /// MiB of junk before the first boundary in the multipart attack.
    #[arg(long, default_value_t = 32)]
    preamble_mib: usize,
}

const SECRET: &str = "bench-abuse-secret-bench-abuse-secret";
const PASSWORD: &str = "correct horse battery staple";
const ATTACKS: [&str; 4] = [
    "ws-oversize",
    "login-storm",
    "register-login",
    "multipart-preamble",
];

/// One attack's figures.
#[derive(Debug, Clone)]
struct Outcome {
    attack: &'static str,
    /// What the attacking client saw.
    client: String,
    start_kib: u64,
    before_kib: u64,
    peak_kib: u64,
    settled_kib: u64,
    cpu_secs: f64,
}

pub async fn abuse(args: AbuseArgs) -> Result<(), String> {
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
        return Err(format!("{} is missing", server_bin.display()));
    }
    let attacks: Vec<&'static str> = ATTACKS
        .into_iter()
        .filter(|a| args.only.is_empty() || args.only.iter().any(|o| o == a))
        .collect();
    if attacks.is_empty() {
        return Err(format!("--only names none of {}", ATTACKS.join(", ")));
    }
    println!(
        "bench abuse: {} ({}); {}; settle {} s; {} run(s) each",
        server_bin.display(),
        git_state(&workspace),
        machine(),
        args.settle_secs,
        args.repeat.max(1)
    );
    let mut outcomes = Vec::new();
    for run in 0..args.repeat.max(1) {
        for attack in &attacks {
            let outcome = run_attack(&server_bin, attack, &args).await?;
            eprintln!(
                "bench abuse: run {} {attack}: {}; peak {:.0} MiB, settled {:.0} MiB (before {:.0} MiB), CPU {:.2} s",
                run + 1,
                outcome.client,
                mib(outcome.peak_kib),
                mib(outcome.settled_kib),
                mib(outcome.before_kib),
                outcome.cpu_secs
            );
            outcomes.push(outcome);
        }
    }
    report(&attacks, &outcomes, args.settle_secs);
    Ok(())
}

async fn run_attack(server_bin: &Path, attack: &str, args: &AbuseArgs) -> Result<Outcome, String> {
    let data_dir = std::env::temp_dir().join(format!(
        "bench-abuse-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&data_dir).map_err(|e| e.to_string())?;
    let port = free_port()?;
    let log_path = data_dir.join("server.log");
    let log = std::fs::File::create(&log_path).map_err(|e| e.to_string())?;
    let mut command = Command::new(server_bin);
    command
        .env("MESSAGING_LISTEN", format!("127.0.0.1:{port}"))
        .env("MESSAGING_DATA_DIR", &data_dir)
        .env_remove("DATABASE_URL")
        .env("MESSAGING_JWT_SECRET", SECRET)
        .env("MESSAGING_LOG_FORMAT", "json")
        .env("RUST_LOG", "warn")
        // One client address makes every request here; the limits are not what is measured.
        .env("MESSAGING_LOGIN_PER_MINUTE", "0")
        .env("MESSAGING_LOGIN_PER_MINUTE_PER_USERNAME", "0")
        .env("MESSAGING_REGISTER_PER_HOUR", "0")
        .env("MESSAGING_REGISTER_PER_HOUR_PER_USERNAME", "0")
        .env("MESSAGING_SEND_PER_SECOND", "0")
        .env("MESSAGING_SEND_BURST", "0")
        .env("MESSAGING_SEND_PER_DAY", "0")
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log);
    let mut server = Killed(
        command
            .spawn()
            .map_err(|e| format!("{}: {e}", server_bin.display()))?,
    );
    let pid = server.0.id();
    wait_ready(port, &mut server.0, &log_path).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let start_kib = rss_kib(pid)?;

    let prepared = prepare(attack, port).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before_kib = rss_kib(pid)?;
    let peak_is_exact = reset_peak(pid);
    let sampler = PeakSampler::start(pid);
    let cpu_before = cpu_secs(pid)?;
    let client = match prepared {
        Prepared::WsOversize { token } => ws_oversize(port, &token).await,
        Prepared::LoginStorm => login_storm(port).await,
        Prepared::RegisterLogin => register_login(port).await,
        Prepared::MultipartPreamble { token, to } => {
            multipart_preamble(port, &token, to, args.preamble_mib * 1024 * 1024).await
        }
    };
    let sampled_peak = sampler.stop();
    let peak_kib = if peak_is_exact {
        peak_rss_kib(pid)?.max(sampled_peak)
    } else {
        sampled_peak
    };
    tokio::time::sleep(Duration::from_secs(args.settle_secs)).await;
    let settled_kib = rss_kib(pid)?;
    let cpu_secs = cpu_secs(pid)? - cpu_before;
    drop(server);
    let _ = std::fs::remove_dir_all(&data_dir);
    Ok(Outcome {
        attack: ATTACKS
            .into_iter()
            .find(|a| *a == attack)
            .unwrap_or("unknown"),
        client,
        start_kib,
        before_kib,
        peak_kib,
        settled_kib,
        cpu_secs,
    })
}

/// What an attack needs set up first.
enum Prepared {
    WsOversize { token: String },
    LoginStorm,
    RegisterLogin,
    MultipartPreamble { token: String, to: i64 },
}

async fn prepare(attack: &str, port: u16) -> Result<Prepared, String> {
    Ok(match attack {
        "ws-oversize" => {
            register(port, "victim").await?;
            Prepared::WsOversize {
                token: login(port, "victim").await?,
            }
        }
        "login-storm" => {
            register(port, "victim").await?;
            Prepared::LoginStorm
        }
        "register-login" => Prepared::RegisterLogin,
        _ => {
            register(port, "alice").await?;
            let to = register(port, "bob").await?;
            Prepared::MultipartPreamble {
                token: login(port, "alice").await?,
                to,
            }
        }
    })
}

/// Registers `username`; returns the new user's id.
async fn register(port: u16, username: &str) -> Result<i64, String> {
    let body = format!(
        r#"{{"username":"{username}","email":"{username}@example.test","password":"{PASSWORD}"}}"#
    );
    let (status, answer) = post_json(port, "/api/auth/register", None, &body).await?;
    if status != 201 {
        return Err(format!(
            "register {username}: {status} {}",
            String::from_utf8_lossy(&answer)
        ));
    }
    serde_json::from_slice::<serde_json::Value>(&answer)
        .ok()
        .and_then(|v| v["id"].as_i64())
        .ok_or_else(|| "register: no id".to_owned())
}

/// Logs `username` in; returns the access token.
async fn login(port: u16, username: &str) -> Result<String, String> {
    let body = format!(r#"{{"username":"{username}","password":"{PASSWORD}"}}"#);
    let (status, answer) = post_json(port, "/api/auth/login", None, &body).await?;
    serde_json::from_slice::<serde_json::Value>(&answer)
        .ok()
        .and_then(|v| v["access_token"].as_str().map(str::to_owned))
        .ok_or_else(|| format!("login {username}: {status}"))
}

// ---- The attacks; each returns what the client saw. ----

/// A text frame header declaring 1 GiB, then payload in 64 KiB writes (up to 128 MiB) while the
/// answer is read.
async fn ws_oversize(port: u16, token: &str) -> String {
    const DECLARED: u64 = 1 << 30;
    const SEND_AT_MOST: usize = 128 * 1024 * 1024;
    let (stream, _, _) = match open_socket(port, &format!("token={token}")).await {
        Ok(opened) => opened,
        Err(e) => return format!("no WebSocket: {e}"),
    };
    let (mut reader, mut writer) = stream.into_split();
    let mut header = vec![0x81, 0x80 | 127];
    header.extend_from_slice(&DECLARED.to_be_bytes());
    header.extend_from_slice(&[0x11, 0x22, 0x33, 0x44]);
    let answered = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicUsize::new(0));
    let writing = {
        let answered = Arc::clone(&answered);
        let written = Arc::clone(&written);
        tokio::spawn(async move {
            if writer.write_all(&header).await.is_err() {
                return;
            }
            let chunk = vec![0x5a; 64 * 1024];
            while written.load(Ordering::Acquire) < SEND_AT_MOST
                && !answered.load(Ordering::Acquire)
            {
                if writer.write_all(&chunk).await.is_err() {
                    return;
                }
                written.fetch_add(chunk.len(), Ordering::AcqRel);
            }
        })
    };
    let started = Instant::now();
    let mut buffer = Vec::new();
    let outcome = loop {
        match parse_frame(&buffer) {
            Ok(Some(frame)) if frame.opcode == 0x8 => {
                let payload = &buffer[frame.payload.clone()];
                let code =
                    (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]));
                break match code {
                    Some(code) => format!("close {code}"),
                    None => "close without a code".to_owned(),
                };
            }
            Ok(Some(frame)) => {
                buffer.drain(..frame.used);
                continue;
            }
            Ok(None) => {}
            Err(e) => break e,
        }
        let mut chunk = [0u8; 4096];
        // After the whole 128 MiB, the server has 10 s to answer.
        let wait = if writing.is_finished() {
            Duration::from_secs(10)
        } else {
            Duration::from_secs(120)
        };
        match tokio::time::timeout(wait, reader.read(&mut chunk)).await {
            Ok(Ok(0)) => break "connection closed without a close frame".to_owned(),
            Ok(Ok(n)) => buffer.extend_from_slice(&chunk[..n]),
            Ok(Err(e)) => break format!("connection error ({e})"),
            Err(_) => break "no answer".to_owned(),
        }
    };
    answered.store(true, Ordering::Release);
    let elapsed = started.elapsed();
    writing.abort();
    format!(
        "{outcome} after {:.2} s, {:.1} MiB of payload written",
        elapsed.as_secs_f64(),
        written.load(Ordering::Acquire) as f64 / 1048576.0
    )
}

/// 100 concurrent logins with a wrong password.
async fn login_storm(port: u16) -> String {
    let body = format!(r#"{{"username":"victim","password":"wrong {PASSWORD}"}}"#);
    let started = Instant::now();
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let body = body.clone();
            tokio::spawn(async move { post_json(port, "/api/auth/login", None, &body).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(match task.await {
            Ok(Ok((status, _))) => status.to_string(),
            Ok(Err(e)) => format!("error ({e})"),
            Err(e) => format!("error ({e})"),
        });
    }
    format!(
        "{} in {:.1} s",
        tally(&statuses),
        started.elapsed().as_secs_f64()
    )
}

/// 51 registrations, then 51 logins, one at a time.
async fn register_login(port: u16) -> String {
    let started = Instant::now();
    let mut statuses = Vec::new();
    for i in 0..51 {
        statuses.push(match register(port, &format!("user{i}")).await {
            Ok(_) => "201".to_owned(),
            Err(e) => e,
        });
    }
    for i in 0..51 {
        let body = format!(r#"{{"username":"user{i}","password":"{PASSWORD}"}}"#);
        statuses.push(
            match post_json(port, "/api/auth/login", None, &body).await {
                Ok((status, _)) => status.to_string(),
                Err(e) => format!("error ({e})"),
            },
        );
    }
    format!(
        "{} in {:.1} s",
        tally(&statuses),
        started.elapsed().as_secs_f64()
    )
}

/// A multipart request whose body starts with `junk` bytes before the first boundary, then a
/// valid form; written at up to 4 MiB/s while the answer is read.
async fn multipart_preamble(port: u16, token: &str, to: i64, junk: usize) -> String {
    let boundary = "----benchabuse";
    let form = format!(
        "\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"recipient_id\"\r\n\r\n{to}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\nafter the junk\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\
         Content-Type: text/plain\r\n\r\nplain text\r\n--{boundary}--\r\n"
    );
    let head = format!(
        "POST /api/messages/with-attachment HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        junk + form.len()
    );
    let mut conn = match TcpStream::connect(("127.0.0.1", port)).await {
        Ok(conn) => conn,
        Err(e) => return format!("connect: {e}"),
    };
    if let Err(e) = conn.write_all(head.as_bytes()).await {
        return format!("write: {e}");
    }
    let (mut reader, mut writer) = conn.into_split();
    let written = Arc::new(AtomicUsize::new(0));
    let writing = {
        let written = Arc::clone(&written);
        tokio::spawn(async move {
            // One line of junk, 4 KiB a millisecond (4 MiB/s, a modest uplink): actix-multipart
            // looks for the end of the preamble's first line in its whole buffer each time more
            // arrives, so a client that sends in small pieces makes it rescan most often.
            let chunk = vec![b'j'; 4 * 1024];
            let mut pace = tokio::time::interval(Duration::from_millis(1));
            pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while written.load(Ordering::Acquire) < junk {
                pace.tick().await;
                if writer.write_all(&chunk).await.is_err() {
                    return;
                }
                written.fetch_add(chunk.len(), Ordering::AcqRel);
            }
            let _ = writer.write_all(form.as_bytes()).await;
        })
    };
    let started = Instant::now();
    let mut buffer = Vec::new();
    let answer = tokio::time::timeout(
        Duration::from_secs(300),
        read_response(&mut reader, &mut buffer),
    )
    .await;
    let elapsed = started.elapsed();
    writing.abort();
    let written = written.load(Ordering::Acquire) as f64 / 1048576.0;
    match answer {
        Ok(Ok(status)) => {
            let body = find(&buffer, b"\r\n\r\n").map_or(&[][..], |end| &buffer[end + 4..]);
            let code = serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v["code"].as_str().map(str::to_owned))
                .unwrap_or_default();
            format!(
                "{status} {code} after {:.2} s, {written:.1} MiB written",
                elapsed.as_secs_f64()
            )
        }
        Ok(Err(e)) => format!(
            "{e} after {:.2} s, {written:.1} MiB written",
            elapsed.as_secs_f64()
        ),
        Err(_) => format!("no answer in 300 s, {written:.1} MiB written"),
    }
}

/// Counts of each answer, most frequent first: `100 × 401`.
fn tally(statuses: &[String]) -> String {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for status in statuses {
        match counts.iter_mut().find(|(s, _)| s == status) {
            Some((_, n)) => *n += 1,
            None => counts.push((status.clone(), 1)),
        }
    }
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    counts
        .iter()
        .map(|(s, n)| format!("{n} × {s}"))
        .collect::<Vec<_>>()
        .join(", ")
}

// ---- /proc readings ----

/// Resets the process's peak RSS (`VmHWM`) so that it covers the attack only.
fn reset_peak(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

fn peak_rss_kib(pid: u32) -> Result<u64, String> {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| e.to_string())?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no VmHWM for process {pid}"))
}

/// User + system CPU seconds the process has used.
fn cpu_secs(pid: u32) -> Result<f64, String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).map_err(|e| e.to_string())?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
    Ok((ticks(11) + ticks(12)) as f64 / clock_ticks())
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse::<f64>()
                .ok()
        })
        .unwrap_or(100.0)
}

/// Samples RSS every 10 ms on a thread of its own: the peak where `VmHWM` cannot be reset.
struct PeakSampler {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<u64>,
}

impl PeakSampler {
    fn start(pid: u32) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut peak = 0;
            while !flag.load(Ordering::Acquire) {
                peak = peak.max(rss_kib(pid).unwrap_or(0));
                std::thread::sleep(Duration::from_millis(10));
            }
            peak
        });
        Self { stop, thread }
    }

    fn stop(self) -> u64 {
        self.stop.store(true, Ordering::Release);
        self.thread.join().unwrap_or(0)
    }
}

// ---- Report ----

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn report(attacks: &[&'static str], outcomes: &[Outcome], settle_secs: u64) {
    println!();
    println!(
        "| attack | the client got | RSS idle after start | RSS before (baseline) | peak RSS | settled RSS ({settle_secs} s idle) | peak − baseline | settled − baseline | server CPU s |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for attack in attacks {
        let runs: Vec<&Outcome> = outcomes.iter().filter(|o| o.attack == *attack).collect();
        let m = |f: &dyn Fn(&Outcome) -> f64| median(runs.iter().map(|o| f(o)).collect());
        let clients: Vec<&str> = runs.iter().map(|o| o.client.as_str()).collect();
        println!(
            "| {attack} | {} | {:.0} MiB | {:.0} MiB | {:.0} MiB | {:.0} MiB | {:+.0} MiB | {:+.0} MiB | {:.2} |",
            clients.join("; "),
            m(&|o| mib(o.start_kib)),
            m(&|o| mib(o.before_kib)),
            m(&|o| mib(o.peak_kib)),
            m(&|o| mib(o.settled_kib)),
            m(&|o| mib(o.peak_kib) - mib(o.before_kib)),
            m(&|o| mib(o.settled_kib) - mib(o.before_kib)),
            m(&|o| o.cpu_secs),
        );
    }
}
