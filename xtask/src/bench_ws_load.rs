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
    /// Seconds of sends at the first rate before the timed phases (not reported).
    #[arg(long, default_value_t = 2)]
    warmup_seconds: u64,
    /// Seconds to wait after a phase's last send for its deliveries.
    #[arg(long, default_value_t = 5)]
    drain_seconds: u64,
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
    let durations: Vec<u64> = std::iter::once(args.warmup_seconds)
        .chain(targets.iter().skip(1).map(|_| args.seconds))
        .collect();
    let capacity: usize = per_second
        .iter()
        .zip(&durations)
        .map(|(rate, secs)| (rate * *secs as f64).ceil() as usize + 1)
        .sum();
    let recorder = Arc::new(Recorder {
        base: Instant::now(),
        starts: (0..capacity).map(|_| AtomicU64::new(0)).collect(),
        answered: (0..capacity).map(|_| AtomicU64::new(0)).collect(),
        samples: Mutex::new(Vec::with_capacity(capacity * args.devices_per_user)),
        delivered: AtomicUsize::new(0),
        unknown: AtomicUsize::new(0),
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
    let mut first = 0usize;
    for (index, (rate, secs)) in per_second.iter().zip(&durations).enumerate() {
        let warmup = index == 0;
        let offline_phase = offline && index > args.rates.len();
        let total = (rate * *secs as f64).round() as usize;
        if total == 0 {
            continue;
        }
        let target = (!warmup).then(|| targets[index]);
        eprintln!(
            "bench ws-load: {} {:.0} sends/s for {secs} s",
            if warmup {
                "warm-up,"
            } else if offline_phase {
                "baseline (recipients offline),"
            } else {
                "phase,"
            },
            rate
        );
        let before = recorder.delivered.load(Ordering::Acquire);
        let phase = send_phase(
            args.port,
            &senders,
            if offline_phase {
                &offline_ids
            } else {
                &recipient_ids
            },
            &recorder,
            first,
            total,
            *rate,
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
        if let Some(target) = target {
            let window = phase.window.as_secs_f64();
            emit(&json!({
                "kind": "phase",
                "target_deliveries_per_s": target,
                "offline": offline_phase,
                "devices_per_user": args.devices_per_user,
                "planned_sends": total,
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

// ---- WebSocket devices ----

/// One device: handshake (within the connect gate), then read frames until the process ends.
async fn device(
    port: u16,
    token: String,
    recorder: Arc<Recorder>,
    gate: Arc<Semaphore>,
    ready: mpsc::Sender<Result<Duration, String>>,
) {
    let permit = gate.acquire_owned().await;
    let started = Instant::now();
    let opened = open_socket(port, &format!("token={token}"))
        .await
        .map(|(stream, buffer, _)| (stream, buffer));
    drop(permit);
    let (mut stream, mut buffer) = match opened {
        Ok(opened) => opened,
        Err(e) => {
            let _ = ready.send(Err(e)).await;
            return;
        }
    };
    recorder.open.fetch_add(1, Ordering::AcqRel);
    let _ = ready.send(Ok(started.elapsed())).await;
    drop(ready);
    let end = listen(&mut stream, &mut buffer, &recorder).await;
    recorder.open.fetch_sub(1, Ordering::AcqRel);
    recorder
        .ends
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(end);
}

/// Reads frames until the connection ends: times `new_message` frames and answers pings.
async fn listen(stream: &mut TcpStream, buffer: &mut Vec<u8>, recorder: &Recorder) -> String {
    let mut fragments: Vec<u8> = Vec::new();
    let mut read_at = recorder.now_nanos();
    loop {
        loop {
            let frame = match parse_frame(buffer) {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(e) => return e,
            };
            let payload = &buffer[frame.payload.clone()];
            match frame.opcode {
                0x0 | 0x1 => {
                    if frame.fin && fragments.is_empty() {
                        on_text(payload, read_at, recorder);
                    } else {
                        fragments.extend_from_slice(payload);
                        if frame.fin {
                            on_text(&fragments, read_at, recorder);
                            fragments.clear();
                        }
                    }
                }
                0x8 => return format!("closed by the server: {}", close_reason(payload)),
                0x9 => {
                    let pong = client_frame(0xA, payload);
                    if let Err(e) = stream.write_all(&pong).await {
                        return format!("pong: {e}");
                    }
                }
                _ => {}
            }
            buffer.drain(..frame.used);
        }
        if let Err(e) = read_more(stream, buffer).await {
            return e;
        }
        read_at = recorder.now_nanos();
    }
}

/// A `new_message` frame: the body names the send (`wsbench <letters>`).
fn on_text(payload: &[u8], read_at: u64, recorder: &Recorder) {
    if find(payload, b"\"type\":\"new_message\"").is_none() {
        return;
    }
    let Some(at) = find(payload, b"wsbench ") else {
        recorder.unknown.fetch_add(1, Ordering::Relaxed);
        return;
    };
    let number = decode(&payload[at + 8..]);
    let start = number
        .and_then(|n| recorder.starts.get(n))
        .map(|s| s.load(Ordering::Acquire))
        .unwrap_or(0);
    match (number, start) {
        (Some(n), start) if start > 0 => {
            let latency = read_at.saturating_sub(start - 1);
            recorder
                .samples
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push((n, latency));
            recorder.delivered.fetch_add(1, Ordering::AcqRel);
        }
        _ => {
            recorder.unknown.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Send numbers are written in letters (`a` = 0), so no masking rule sees a phone number.
pub(crate) fn encode(mut n: usize) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'a' + (n % 26) as u8);
        n /= 26;
        if n == 0 {
            break;
        }
    }
    letters.reverse();
    String::from_utf8_lossy(&letters).into_owned()
}

fn decode(text: &[u8]) -> Option<usize> {
    let letters: Vec<u8> = text
        .iter()
        .copied()
        .take_while(u8::is_ascii_lowercase)
        .collect();
    if letters.is_empty() {
        return None;
    }
    letters.iter().try_fold(0usize, |n, l| {
        n.checked_mul(26)?.checked_add(usize::from(l - b'a'))
    })
}

// ---- Senders ----

struct SendPhase {
    /// Latency of each send answered 201, in nanoseconds.
    ok_sends: Vec<u64>,
    /// Send numbers (relative to the run) answered 201.
    ok_numbers: Vec<usize>,
    errors: usize,
    first_error: Option<String>,
    /// From the phase's start to its last answer.
    window: Duration,
}

/// Sends `total` messages at `rate` per second, open loop: send `i` is due at `i / rate` seconds,
/// and goes out on sender connection `i % senders` (late if that connection is still busy).
async fn send_phase(
    port: u16,
    senders: &[(i64, String)],
    recipients: &Arc<Vec<i64>>,
    recorder: &Arc<Recorder>,
    first: usize,
    total: usize,
    rate: f64,
) -> Result<SendPhase, String> {
    let mut connections = Vec::with_capacity(senders.len());
    for _ in senders {
        let conn = TcpStream::connect(("127.0.0.1", port))
            .await
            .map_err(|e| format!("sender connect: {e}"))?;
        conn.set_nodelay(true).map_err(|e| e.to_string())?;
        connections.push(conn);
    }
    let workers = senders.len();
    let started = tokio::time::Instant::now();
    let mut tasks = Vec::with_capacity(workers);
    for (k, (conn, (_, token))) in connections.into_iter().zip(senders).enumerate() {
        let token = token.clone();
        let recipients = Arc::clone(recipients);
        let recorder = Arc::clone(recorder);
        tasks.push(tokio::spawn(async move {
            let mut conn = conn;
            let mut buffer = Vec::with_capacity(4096);
            let mut ok = Vec::new();
            let mut numbers = Vec::new();
            let mut errors = 0usize;
            let mut first_error = None;
            let mut last = started;
            for i in (k..total).step_by(workers) {
                tokio::time::sleep_until(started + Duration::from_secs_f64(i as f64 / rate))
                    .await;
                let n = first + i;
                let body = format!(
                    r#"{{"recipient_id":{},"message":"wsbench {} about calculus homework"}}"#,
                    recipients[i % recipients.len()],
                    encode(n)
                );
                let request = format!(
                    "POST /api/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                let sent_at = recorder.now_nanos();
                if let Some(slot) = recorder.starts.get(n) {
                    slot.store(sent_at + 1, Ordering::Release);
                }
                conn.write_all(request.as_bytes())
                    .await
                    .map_err(|e| format!("send: {e}"))?;
                let status = read_response(&mut conn, &mut buffer).await?;
                let answered_at = recorder.now_nanos();
                last = tokio::time::Instant::now();
                if status == 201 {
                    if let Some(slot) = recorder.answered.get(n) {
                        slot.store(answered_at + 1, Ordering::Release);
                    }
                    ok.push(answered_at - sent_at);
                    numbers.push(n);
                } else {
                    errors += 1;
                    first_error.get_or_insert_with(|| {
                        format!(
                            "HTTP {status}: {}",
                            String::from_utf8_lossy(&buffer).chars().take(300).collect::<String>()
                        )
                    });
                }
            }
            Ok::<_, String>((ok, numbers, errors, first_error, last))
        }));
    }
    let mut phase = SendPhase {
        ok_sends: Vec::new(),
        ok_numbers: Vec::new(),
        errors: 0,
        first_error: None,
        window: Duration::ZERO,
    };
    for task in tasks {
        let (ok, numbers, errors, first_error, last) = task.await.map_err(|e| e.to_string())??;
        phase.ok_sends.extend(ok);
        phase.ok_numbers.extend(numbers);
        phase.errors += errors;
        if phase.first_error.is_none() {
            phase.first_error = first_error;
        }
        phase.window = phase.window.max(last - started);
    }
    Ok(phase)
}

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
