//! The real server binary as a child process, and the senders that retry through its faults.

use super::*;

// ---- The server ----

/// The real server binary as a child process, on a port that stays the same across restarts.
pub(super) struct Server {
    pub(super) bin: PathBuf,
    pub(super) port: u16,
    pub(super) database_url: String,
    pub(super) data_dir: PathBuf,
    pub(super) log: PathBuf,
    pub(super) child: Option<Child>,
}

impl Server {
    pub(super) async fn start(&mut self) -> Result<(), String> {
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
    pub(super) fn kill(&mut self) {
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

pub(super) struct Sender {
    pub(super) index: usize,
    pub(super) port: u16,
    pub(super) token: String,
    pub(super) recipients: Arc<Vec<i64>>,
    pub(super) interval: Duration,
    pub(super) stop: Arc<AtomicBool>,
    pub(super) give_up: Instant,
}

/// A message the server acknowledged (201) with its id.
pub(super) struct Acknowledged {
    pub(super) recipient: i64,
    pub(super) body: String,
    pub(super) id: i64,
}

#[derive(Default)]
pub(super) struct SendReport {
    pub(super) acknowledged: Vec<Acknowledged>,
    /// Messages given up on: (recipient, body). Each may be stored once, or not at all.
    pub(super) unacknowledged: Vec<(i64, String)>,
    pub(super) attempts: usize,
    /// Why attempts failed, with how many did.
    pub(super) failures: BTreeMap<String, usize>,
}

impl SendReport {
    pub(super) fn merge(&mut self, other: SendReport) {
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
pub(super) async fn send_until_stopped(sender: Sender) -> SendReport {
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
pub(super) async fn post(
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

pub(super) fn json_body(response: &[u8]) -> Result<Value, String> {
    let start = find(response, b"\r\n\r\n").ok_or("no body")? + 4;
    serde_json::from_slice(&response[start..]).map_err(|e| format!("unreadable body: {e}"))
}
