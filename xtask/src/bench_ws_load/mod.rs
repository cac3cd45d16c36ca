//! `xtask bench ws-load` (hidden): the load generator of `cargo xtask bench ws`, run as its own
//! process so that its sockets and CPU are not the server's.
//!
//! It opens the WebSockets (a minimal hand-written RFC 6455 client over tokio: no client
//! library's cost is measured as the server's), answers the server's pings, sends messages over
//! keep-alive HTTP/1.1 connections at a fixed rate, and times every delivery from just before the
//! send request is written to when the recipient device's frame is read, on one monotonic clock.
//! It reads the server's resident memory from `/proc/<pid>/status` itself, and writes its results
//! to stdout as JSON lines (progress goes to stderr).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc};

use crate::http1::{find, read_more, read_response};
use crate::ws1::{client_frame, close_reason, open_socket, parse_frame};

#[derive(Debug, Args)]
pub struct WsLoadArgs {
    /// The server's port on 127.0.0.1.
    #[arg(long)]
    port: u16,
    /// The server's process id (its memory and sockets are read from /proc).
    #[arg(long)]
    server_pid: u32,
    /// Lines `recipient <id> <token>` and `sender <id> <token>`.
    #[arg(long)]
    users_file: PathBuf,
    /// WebSockets to open, `devices_per_user` per recipient.
    #[arg(long)]
    connections: usize,
    #[arg(long)]
    devices_per_user: usize,
    /// Deliveries per second, one phase each.
    #[arg(long, value_delimiter = ',')]
    rates: Vec<u32>,
    /// Seconds each phase sends for.
    #[arg(long)]
    seconds: u64,
    /// WebSocket handshakes in flight at once while connecting.
    #[arg(long, default_value_t = 128)]
    connect_concurrency: usize,
    /// Sends per second of the warm-up, which opens every conversation the timed phases write
    /// to (one first message per sender and recipient pair; not part of the phases' figures).
    #[arg(long, default_value_t = 1000)]
    warmup_rate: u32,
    /// Seconds of sends, at a timed phase's own rate and on its own connections, that run just
    /// before it, untimed: the phase then measures the server in its steady state, not its
    /// first moments after a pause (the first round trips on each pooled connection after the
    /// warm-up's `ANALYZE`, which re-plan their statements; workers and backends waking up).
    #[arg(long, default_value_t = 1.0)]
    lead_in_seconds: f64,
    /// Seconds to wait after a phase's last send for its deliveries.
    #[arg(long, default_value_t = 5)]
    drain_seconds: u64,
    /// The server's database: after the warm-up, `VACUUM ANALYZE` there before the timed phases
    /// (see `bench ws --no-vacuum`).
    #[arg(long)]
    vacuum_url: Option<String>,
}

/// Everything the connection tasks and the senders share.
struct Recorder {
    base: Instant,
    /// When each send's request started, as nanoseconds since `base` plus one (0: not started).
    starts: Vec<AtomicU64>,
    /// When each send's 201 was read, in the same form.
    answered: Vec<AtomicU64>,
    /// (send number, delivery latency in nanoseconds), one per frame read.
    samples: Mutex<Vec<(usize, u64)>>,
    delivered: AtomicUsize,
    /// `new_message` frames naming no started send (should stay 0).
    unknown: AtomicUsize,
    /// The number every lead-in send carries (past every recorded one), and their frames read.
    untimed: usize,
    untimed_frames: AtomicUsize,
    /// WebSockets currently open (past their `connected` frame).
    open: AtomicUsize,
    /// Why sockets ended after being open.
    ends: Mutex<Vec<String>>,
}

impl Recorder {
    fn now_nanos(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

fn emit(line: &Value) {
    println!("{line}");
}

pub async fn run(args: WsLoadArgs) -> Result<(), String> {
    if args.devices_per_user == 0 || args.connections == 0 {
        return Err("connections and devices per user must be positive".into());
    }
    let (recipients, senders) = read_users(&args.users_file)?;
    let needed = recipients.len() * args.devices_per_user;
    if needed < args.connections {
        return Err(format!(
            "{} recipients x {} devices cannot hold {} connections",
            recipients.len(),
            args.devices_per_user,
            args.connections
        ));
    }
    let soft = open_files_limit()?;
    if soft < (args.connections + senders.len() + 64) as u64 {
        return Err(format!(
            "the open-files limit is {soft}: too low for {} connections (raise `ulimit -n`)",
            args.connections
        ));
    }

    // Warm-up, the timed rates, then each rate again with recipients that have no socket open
    // (the same sends without any fan-out: the baseline for what delivery costs the writes).
    let offline = senders.len() >= 2;
    let targets: Vec<u32> = std::iter::once(args.rates.first().copied().unwrap_or(1000))
        .chain(args.rates.iter().copied())
        .chain(args.rates.iter().copied().filter(|_| offline))
        .collect();
    let per_second: Vec<f64> = targets
        .iter()
        .map(|r| f64::from(*r) / args.devices_per_user as f64)
        .collect();
    // Send `i` of a phase goes from sender `i % senders` to recipient `i % recipients`, so the
    // phases write to lcm(senders, recipients) conversations (offline: `senders`). The warm-up
    // writes the first message of each, so that every timed send is one in a conversation that
    // exists, online as offline (a conversation's first message costs the writes more: it
    // creates the conversation; the warm-up's own rate shows that cost).
    let recipient_count = args
        .connections
        .div_ceil(args.devices_per_user)
        .min(recipients.len());
    let conversations = lcm(senders.len().max(1), recipient_count.max(1));
    let per_second: Vec<f64> = std::iter::once(f64::from(args.warmup_rate))
        .chain(per_second.into_iter().skip(1))
        .collect();
    let totals: Vec<usize> = std::iter::once(conversations)
        .chain(
            per_second
                .iter()
                .skip(1)
                .map(|rate| (rate * args.seconds as f64).round() as usize),
        )
        .collect();
    let capacity: usize = totals.iter().map(|total| total + 1).sum();
    let recorder = Arc::new(Recorder {
        base: Instant::now(),
        starts: (0..capacity).map(|_| AtomicU64::new(0)).collect(),
        answered: (0..capacity).map(|_| AtomicU64::new(0)).collect(),
        samples: Mutex::new(Vec::with_capacity(capacity * args.devices_per_user)),
        delivered: AtomicUsize::new(0),
        unknown: AtomicUsize::new(0),
        // Past the offline baseline's first messages (`capacity..capacity + senders`).
        untimed: capacity + senders.len(),
        untimed_frames: AtomicUsize::new(0),
        open: AtomicUsize::new(0),
        ends: Mutex::new(Vec::new()),
    });

    emit(&json!({
        "kind": "baseline",
        "rss_kib": rss_kib(args.server_pid)?,
        "server_sockets": server_sockets(args.server_pid),
    }));

    // Phase 1: open the connections and hold them.
    eprintln!(
        "bench ws-load: opening {} WebSockets ({} in flight)",
        args.connections, args.connect_concurrency
    );
    // In two halves, with the memory read after each: the second half's growth divided by its
    // connections is the marginal cost, free of one-off growth (pools, runtime, allocator).
    let gate = Arc::new(Semaphore::new(args.connect_concurrency.max(1)));
    let half = args.connections / 2;
    let mut connect_times = Vec::with_capacity(args.connections);
    let mut failures = Vec::new();
    let mut connect_seconds = 0.0;
    let mut half_rss = 0;
    let mut half_held = 0;
    for range in [0..half, half..args.connections] {
        let (ready_tx, mut ready_rx) = mpsc::channel(1024);
        let started = Instant::now();
        for i in range.clone() {
            let token = recipients[i / args.devices_per_user].1.clone();
            let recorder = Arc::clone(&recorder);
            let gate = Arc::clone(&gate);
            let ready = ready_tx.clone();
            let port = args.port;
            tokio::spawn(async move { device(port, token, recorder, gate, ready).await });
        }
        drop(ready_tx);
        while let Some(result) = ready_rx.recv().await {
            match result {
                Ok(elapsed) => connect_times.push(elapsed),
                Err(e) => failures.push(e),
            }
            let done = connect_times.len() + failures.len();
            if done % 2000 == 0 {
                eprintln!("bench ws-load: {done} handshakes done");
            }
        }
        connect_seconds += started.elapsed().as_secs_f64();
        // Let the server finish each connection's start-up work before measuring its memory.
        tokio::time::sleep(Duration::from_secs(2)).await;
        if range.start == 0 {
            half_rss = rss_kib(args.server_pid)?;
            half_held = recorder.open.load(Ordering::Acquire);
        }
    }
    emit(&json!({
        "kind": "connect",
        "requested": args.connections,
        "held": recorder.open.load(Ordering::Acquire),
        "failed": failures.len(),
        "first_failure": failures.first(),
        "seconds": connect_seconds,
        "half_held": half_held,
        "half_rss_kib": half_rss,
        "ms": quantiles(connect_times.iter().map(|d| d.as_nanos() as u64).collect()),
        "rss_kib": rss_kib(args.server_pid)?,
        "server_sockets": server_sockets(args.server_pid),
    }));
    if connect_times.is_empty() {
        return Err("no WebSocket could be opened".into());
    }

    // Phase 2: deliveries at each rate, the idle connections still open.
    let recipient_ids: Arc<Vec<i64>> = Arc::new(
        recipients
            .iter()
            .take(args.connections.div_ceil(args.devices_per_user))
            .map(|r| r.0)
            .collect(),
    );
    // Each sender writes to the next sender, none of whom has a socket open.
    let offline_ids: Arc<Vec<i64>> = Arc::new(
        (0..senders.len())
            .map(|k| senders[(k + 1) % senders.len()].0)
            .collect(),
    );
    if offline {
        // The offline baseline's conversations too (numbered past the recorder: not recorded).
        send_phase(
            args.port,
            &senders,
            &offline_ids,
            &recorder,
            Schedule {
                first: capacity,
                total: senders.len(),
                rate: f64::from(args.warmup_rate),
                lead_in: 0,
            },
        )
        .await?;
    }
    let mut first = 0usize;
    for (index, (rate, &total)) in per_second.iter().zip(&totals).enumerate() {
        let warmup = index == 0;
        let offline_phase = offline && index > args.rates.len();
        if total == 0 {
            continue;
        }
        let target = (!warmup).then(|| targets[index]);
        eprintln!(
            "bench ws-load: {} {total} sends at {:.0}/s",
            if warmup {
                "warm-up (each conversation's first message),"
            } else if offline_phase {
                "baseline (recipients offline),"
            } else {
                "phase,"
            },
            rate
        );
        // A whole number of rounds over the senders, so that timed send `j` still goes out on
        // sender `j % senders` to the recipient the warm-up paired it with (otherwise every
        // timed send would open a conversation of its own).
        let lead_in = if warmup {
            0
        } else {
            ((rate * args.lead_in_seconds.max(0.0)).round() as usize).div_ceil(senders.len())
                * senders.len()
        };
        let before = recorder.delivered.load(Ordering::Acquire);
        let cpu_before = (
            crate::bench_http::process_cpu(args.server_pid),
            crate::bench_http::postgres_cpu(),
        );
        let phase = send_phase(
            args.port,
            &senders,
            if offline_phase {
                &offline_ids
            } else {
                &recipient_ids
            },
            &recorder,
            Schedule {
                first,
                total,
                rate: *rate,
                lead_in,
            },
        )
        .await?;
        // The devices of every recipient that got a message (with fewer connections than
        // recipients x devices, the last recipient has fewer devices).
        let expected: usize = phase
            .ok_numbers
            .iter()
            .filter(|_| !offline_phase)
            .map(|n| {
                devices_of(
                    recipient_ids.len(),
                    args.connections,
                    args.devices_per_user,
                    n - first,
                )
            })
            .sum();
        let drain_until = Instant::now() + Duration::from_secs(args.drain_seconds);
        while recorder.delivered.load(Ordering::Acquire) < before + expected
            && Instant::now() < drain_until
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Over the lead-in and the phase, and the deliveries' drain: per send, with the lead-in.
        let cpu_sends = (lead_in + total) as f64;
        let server_cpu_ms = crate::bench_http::process_cpu(args.server_pid)
            .saturating_sub(cpu_before.0)
            .as_secs_f64()
            * 1e3
            / cpu_sends;
        let postgres_cpu_ms = crate::bench_http::postgres_cpu()
            .saturating_sub(cpu_before.1)
            .as_secs_f64()
            * 1e3
            / cpu_sends;
        let samples: Vec<(usize, u64)> = recorder
            .samples
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(n, _)| (first..first + total).contains(n))
            .copied()
            .collect();
        let latencies: Vec<u64> = samples.iter().map(|(_, l)| *l).collect();
        // Frame read minus the send's 201 read (negative: the frame came first), which isolates
        // the fan-out after the commit from the write itself.
        let after_answer: Vec<i64> = samples
            .iter()
            .filter_map(|(n, latency)| {
                let start = recorder.starts.get(*n)?.load(Ordering::Acquire);
                let answered = recorder.answered.get(*n)?.load(Ordering::Acquire);
                (start > 0 && answered > 0).then(|| {
                    i64::try_from(start + latency).unwrap_or(i64::MAX)
                        - i64::try_from(answered).unwrap_or(i64::MAX)
                })
            })
            .collect();
        if warmup {
            let window = phase.window.as_secs_f64();
            eprintln!(
                "bench ws-load: warm-up: {} first messages, {} refused, {:.0} sends/s, send ms {}",
                phase.ok_sends.len(),
                phase.errors,
                phase.ok_sends.len() as f64 / window,
                quantiles(phase.ok_sends.clone())
            );
            if let Some(url) = &args.vacuum_url {
                let store =
                    messaging_store::Store::connect(url, 1).map_err(crate::seed::describe)?;
                let took = messaging_store::bulk::vacuum_analyze(&store)
                    .await
                    .map_err(crate::seed::describe)?;
                eprintln!(
                    "bench ws-load: VACUUM ANALYZE after the warm-up: {:.1} s",
                    took.as_secs_f64()
                );
            }
        }
        if let Some(target) = target {
            let window = phase.window.as_secs_f64();
            emit(&json!({
                "kind": "phase",
                "target_deliveries_per_s": target,
                "offline": offline_phase,
                "devices_per_user": args.devices_per_user,
                "planned_sends": total,
                "lead_in_sends": lead_in,
                "server_cpu_ms_per_send": server_cpu_ms,
                "postgres_cpu_ms_per_send": postgres_cpu_ms,
                "sends_ok": phase.ok_sends.len(),
                "send_errors": phase.errors,
                "first_send_error": phase.first_error,
                "window_s": window,
                "sends_per_s": phase.ok_sends.len() as f64 / window,
                "deliveries_expected": expected,
                "deliveries": latencies.len(),
                "deliveries_per_s": latencies.len() as f64 / window,
                "delivery_ms": quantiles(latencies),
                "before_answer": after_answer.iter().filter(|d| **d < 0).count(),
                "after_answer_ms": signed_quantiles(after_answer),
                "send_ms": quantiles(phase.ok_sends),
                "unknown_frames": recorder.unknown.load(Ordering::Acquire),
                "connections_open": recorder.open.load(Ordering::Acquire),
                "rss_kib": rss_kib(args.server_pid)?,
            }));
        }
        first += total;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let ends = recorder
        .ends
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    emit(&json!({
        "kind": "done",
        "connections_open": recorder.open.load(Ordering::Acquire),
        "ended": ends.len(),
        "first_end": ends.first(),
        "rss_kib": rss_kib(args.server_pid)?,
        "server_sockets": server_sockets(args.server_pid),
    }));
    Ok(())
}

/// Connections held by the recipient of send `i` of a phase (recipients taken round-robin).
fn devices_of(recipients: usize, connections: usize, devices: usize, i: usize) -> usize {
    let recipient = i % recipients;
    connections.saturating_sub(recipient * devices).min(devices)
}

/// (user id, access token) pairs.
type Users = Vec<(i64, String)>;

fn read_users(path: &PathBuf) -> Result<(Users, Users), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut recipients = Vec::new();
    let mut senders = Vec::new();
    for line in text.lines() {
        let mut parts = line.split_whitespace();
        let (Some(kind), Some(id), Some(token)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let id: i64 = id.parse().map_err(|_| format!("bad user id {id}"))?;
        match kind {
            "recipient" => recipients.push((id, token.to_owned())),
            "sender" => senders.push((id, token.to_owned())),
            _ => return Err(format!("bad users file line kind {kind}")),
        }
    }
    if recipients.is_empty() || senders.is_empty() {
        return Err("the users file names no recipients or no senders".into());
    }
    Ok((recipients, senders))
}

/// The soft limit on open files of this process.
fn open_files_limit() -> Result<u64, String> {
    let limits = std::fs::read_to_string("/proc/self/limits").map_err(|e| e.to_string())?;
    limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| "cannot read the open-files limit".into())
}

/// Resident memory of a process, in KiB.
pub fn rss_kib(pid: u32) -> Result<u64, String> {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| e.to_string())?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no VmRSS for process {pid}"))
}

/// Sockets the server process holds open (WebSockets, listeners, database connections).
fn server_sockets(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| {
                    std::fs::read_link(e.path())
                        .map(|target| target.to_string_lossy().starts_with("socket:"))
                        .unwrap_or(false)
                })
                .count()
        })
        .unwrap_or(0)
}

/// p50, p90, p99 and max of nanosecond samples, in milliseconds.
fn lcm(a: usize, b: usize) -> usize {
    let gcd = |mut x: usize, mut y: usize| {
        while y != 0 {
            (x, y) = (y, x % y);
        }
        x
    };
    a / gcd(a, b) * b
}

fn quantiles(mut samples: Vec<u64>) -> Value {
    samples.sort_unstable();
    let at = |q: f64| {
        samples
            .get(((samples.len().saturating_sub(1)) as f64 * q).round() as usize)
            .map(|ns| *ns as f64 / 1e6)
            .unwrap_or(0.0)
    };
    json!({
        "count": samples.len(),
        "p50": at(0.5),
        "p90": at(0.9),
        "p99": at(0.99),
        "max": samples.last().map(|ns| *ns as f64 / 1e6).unwrap_or(0.0),
    })
}

/// p50, p90, p99 and max of signed nanosecond samples, in milliseconds.
fn signed_quantiles(mut samples: Vec<i64>) -> Value {
    samples.sort_unstable();
    let at = |q: f64| {
        samples
            .get(((samples.len().saturating_sub(1)) as f64 * q).round() as usize)
            .map(|ns| *ns as f64 / 1e6)
            .unwrap_or(0.0)
    };
    json!({
        "count": samples.len(),
        "p50": at(0.5),
        "p90": at(0.9),
        "p99": at(0.99),
        "max": samples.last().map(|ns| *ns as f64 / 1e6).unwrap_or(0.0),
    })
}

pub(crate) mod devices;
mod senders;

use devices::*;
use senders::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_numbers_survive_the_round_trip_through_letters() {
        for n in [0, 1, 25, 26, 675, 676, 123_456] {
            assert_eq!(decode(encode(n).as_bytes()), Some(n));
        }
        assert_eq!(decode(b"abc about"), Some(28));
    }

    #[test]
    fn recipients_of_a_partial_last_user_have_fewer_devices() {
        assert_eq!(devices_of(3, 12, 5, 0), 5);
        assert_eq!(devices_of(3, 12, 5, 2), 2);
        assert_eq!(devices_of(3, 12, 5, 5), 2);
    }
}
