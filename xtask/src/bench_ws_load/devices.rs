//! The WebSocket devices: each opens a socket, listens, and records when each message arrives.

use super::*;

// ---- WebSocket devices ----

/// One device: handshake (within the connect gate), then read frames until the process ends.
pub(super) async fn device(
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
pub(super) async fn listen(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
    recorder: &Recorder,
) -> String {
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
pub(super) fn on_text(payload: &[u8], read_at: u64, recorder: &Recorder) {
    if find(payload, b"\"type\":\"new_message\"").is_none() {
        return;
    }
    let Some(at) = find(payload, b"wsbench ") else {
        recorder.unknown.fetch_add(1, Ordering::Relaxed);
        return;
    };
    let number = decode(&payload[at + 8..]);
    if number == Some(recorder.untimed) {
        recorder.untimed_frames.fetch_add(1, Ordering::Relaxed);
        return;
    }
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

pub(super) fn decode(text: &[u8]) -> Option<usize> {
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
