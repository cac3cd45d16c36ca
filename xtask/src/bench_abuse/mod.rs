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

mod attacks;
mod procfs;
mod report;

use attacks::*;
use procfs::*;
use report::*;
