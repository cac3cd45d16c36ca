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
use crate::bench_ws_load::devices::encode;
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

mod postgres;
mod process;
mod proof;

use postgres::*;
use process::*;
use proof::*;

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
