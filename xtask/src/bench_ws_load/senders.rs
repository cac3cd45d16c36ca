//! The senders: HTTP sends at a fixed rate, each stamped so a device can time its delivery.

use super::*;

// ---- Senders ----

pub(super) struct SendPhase {
    /// Latency of each send answered 201, in nanoseconds.
    pub(super) ok_sends: Vec<u64>,
    /// Send numbers (relative to the run) answered 201.
    pub(super) ok_numbers: Vec<usize>,
    pub(super) errors: usize,
    pub(super) first_error: Option<String>,
    /// From the phase's start to its last answer.
    pub(super) window: Duration,
}

/// Which sends a phase makes: timed sends `first..first + total` at `rate` a second, after
/// `lead_in` untimed ones.
pub(super) struct Schedule {
    pub(super) first: usize,
    pub(super) total: usize,
    pub(super) rate: f64,
    pub(super) lead_in: usize,
}

/// Sends `lead_in` untimed messages then `total` timed ones at `rate` per second, open loop:
/// send `i` is due at `i / rate` seconds, and goes out on sender connection `i % senders` (late
/// if that connection is still busy). The lead-in's sends all carry the number
/// `recorder.untimed` and are left out of every figure; timed send `j` is number `first + j`,
/// from sender `j % senders` to recipient `j % recipients` when `lead_in` is a multiple of the
/// senders (the caller's duty).
pub(super) async fn send_phase(
    port: u16,
    senders: &[(i64, String)],
    recipients: &Arc<Vec<i64>>,
    recorder: &Arc<Recorder>,
    schedule: Schedule,
) -> Result<SendPhase, String> {
    let Schedule {
        first,
        total,
        rate,
        lead_in,
    } = schedule;
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
    let timed_from = started + Duration::from_secs_f64(lead_in as f64 / rate);
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
            let mut last = timed_from;
            for i in (k..lead_in + total).step_by(workers) {
                tokio::time::sleep_until(started + Duration::from_secs_f64(i as f64 / rate))
                    .await;
                let timed = i >= lead_in;
                let j = if timed { i - lead_in } else { i };
                let n = if timed { first + j } else { recorder.untimed };
                let body = format!(
                    r#"{{"recipient_id":{},"message":"wsbench {} about calculus homework"}}"#,
                    recipients[j % recipients.len()],
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
                if !timed {
                    if status != 201 {
                        errors += 1;
                        first_error.get_or_insert_with(|| format!("lead-in: HTTP {status}"));
                    }
                    continue;
                }
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
        phase.window = phase.window.max(last.saturating_duration_since(timed_from));
    }
    Ok(phase)
}
