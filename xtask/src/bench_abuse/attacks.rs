//! The attacks; each returns what the client saw.

use super::*;

// ---- The attacks; each returns what the client saw. ----

/// A text frame header declaring 1 GiB, then payload in 64 KiB writes (up to 128 MiB) while the
/// answer is read.
pub(super) async fn ws_oversize(port: u16, token: &str) -> String {
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
pub(super) async fn login_storm(port: u16) -> String {
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
pub(super) async fn register_login(port: u16) -> String {
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
pub(super) async fn multipart_preamble(port: u16, token: &str, to: i64, junk: usize) -> String {
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
pub(super) fn tally(statuses: &[String]) -> String {
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
