//! What an operator notices: request ids, metrics, JSON logs and a graceful stop.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use awc::http::Method;
use awc::http::header::{HeaderMap, HeaderValue};
use messaging_store::Store;
use serde_json::Value;

use crate::support::{Backend, TestApp};

/// Sends a request without a body, with `request_id` as the raw `X-Request-Id` value if given.
async fn call(
    app: &TestApp,
    method: &str,
    path: &str,
    request_id: Option<&[u8]>,
) -> (u16, HeaderMap, String) {
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = awc::Client::default().request(method, format!("{}{}", app.base, path));
    if let Some(id) = request_id {
        req = req.insert_header(("X-Request-Id", HeaderValue::from_bytes(id).unwrap()));
    }
    let mut resp = req.send().await.unwrap();
    let body = resp.body().limit(10 * 1024 * 1024).await.unwrap();
    (
        resp.status().as_u16(),
        resp.headers().clone(),
        String::from_utf8(body.to_vec()).unwrap(),
    )
}

#[track_caller]
fn request_id_of(headers: &HeaderMap) -> String {
    let ids: Vec<_> = headers.get_all("x-request-id").collect();
    assert_eq!(ids.len(), 1, "exactly one X-Request-Id in {headers:?}");
    ids[0].to_str().unwrap().to_owned()
}

#[track_caller]
fn assert_generated(id: &str) {
    let uuid = uuid::Uuid::parse_str(id).unwrap_or_else(|_| panic!("{id:?} is not a UUID"));
    assert_eq!(uuid.get_version_num(), 4, "{id}");
    assert_eq!(id, uuid.hyphenated().to_string(), "the usual spelling");
}

#[actix_web::test]
async fn a_supplied_request_id_is_echoed_on_every_kind_of_response() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    for (path, status) in [
        ("/healthz", 200),
        ("/api/messages/threads", 401),
        ("/no/such/thing", 404),
        ("/metrics", 200),
    ] {
        let id = format!("client-1.{status}_Ab9");
        let (got, headers, _) = call(&app, "GET", path, Some(id.as_bytes())).await;
        assert_eq!(got, status, "{path}");
        assert_eq!(request_id_of(&headers), id, "{path}");
    }
    let longest = "a".repeat(128);
    let (_, headers, _) = call(&app, "GET", "/healthz", Some(longest.as_bytes())).await;
    assert_eq!(request_id_of(&headers), longest);
}

#[actix_web::test]
async fn a_missing_request_id_is_generated_and_differs_per_request() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let (_, first, _) = call(&app, "GET", "/healthz", None).await;
    let (_, second, _) = call(&app, "GET", "/api/messages/threads", None).await;
    let (first, second) = (request_id_of(&first), request_id_of(&second));
    assert_generated(&first);
    assert_generated(&second);
    assert_ne!(first, second);
}

#[actix_web::test]
async fn a_malformed_request_id_is_replaced_by_a_generated_one() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let too_long = "a".repeat(129);
    let far_too_long = "x".repeat(300);
    let malformed: [&[u8]; 8] = [
        too_long.as_bytes(),
        far_too_long.as_bytes(),
        b"",
        b"has space",
        b"tab\there",
        b"semi;colon",
        b"quote\"d",
        "\u{fc}nic\u{f6}de".as_bytes(),
    ];
    for sent in malformed {
        let (status, headers, _) = call(&app, "GET", "/healthz", Some(sent)).await;
        assert_eq!(status, 200);
        let id = request_id_of(&headers);
        assert_ne!(id.as_bytes(), sent);
        assert_generated(&id);
    }
}

#[actix_web::test]
async fn metrics_count_requests_by_route_pattern_never_by_raw_path() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.register("alice").await;
    for _ in 0..2 {
        let (status, _, _) = call(&app, "GET", "/api/messages/threads", None).await;
        assert_eq!(status, 401);
    }
    let (status, _, _) = call(&app, "PATCH", "/api/messages/123/read", None).await;
    assert_eq!(status, 401);
    let (status, _, _) = call(&app, "GET", "/api/messages/search?q=secretterm", None).await;
    assert_eq!(status, 401);
    for path in ["/no/such/path/4242", "/api/nothing/here/4343"] {
        let (status, _, _) = call(&app, "GET", path, None).await;
        assert_eq!(status, 404, "{path}");
    }
    call(&app, "BREW", "/api/messages/threads", None).await;

    let (status, headers, text) = call(&app, "GET", "/metrics", None).await;
    assert_eq!(status, 200);
    assert!(
        headers
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text"),
        "{headers:?}"
    );
    for expected in [
        "# TYPE http_requests counter",
        r#"http_requests_total{method="GET",route="/api/messages/threads",status="401"} 2"#,
        r#"http_requests_total{method="PATCH",route="/api/messages/{id}/read",status="401"} 1"#,
        r#"http_requests_total{method="GET",route="/api/messages/search",status="401"} 1"#,
        r#"http_requests_total{method="POST",route="/api/auth/register",status="201"} 1"#,
        r#"http_requests_total{method="GET",route="<unmatched>",status="404"} 2"#,
        r#"method="OTHER",route="/api/messages/threads""#,
        "# TYPE http_request_duration_seconds histogram",
        r#"http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/api/messages/threads"} 2"#,
        r#"http_request_duration_seconds_count{method="GET",route="/api/messages/threads"} 2"#,
        "# TYPE messaging_db_queries counter",
        "# EOF",
    ] {
        assert!(text.contains(expected), "{expected} missing from\n{text}");
    }
    for leak in ["/123", "/4242", "/4343", "secretterm", "q=", "?", "BREW"] {
        assert!(!text.contains(leak), "{leak} leaked into\n{text}");
    }
    let queries: u64 = text
        .lines()
        .find_map(|line| line.strip_prefix("messaging_db_queries_total "))
        .unwrap_or_else(|| panic!("no messaging_db_queries_total in\n{text}"))
        .parse()
        .unwrap();
    assert!(queries > 0, "registering a user runs queries");
    assert!(queries <= app.store.queries_executed());
}

/// The real binary, started with JSON logs on stdout.
pub(crate) struct ServerProcess {
    child: Child,
    lines: mpsc::Receiver<String>,
    pub(crate) seen: Vec<String>,
    pub(crate) address: String,
    data_dir: std::path::PathBuf,
}

impl ServerProcess {
    /// Starts on a fresh SQLite database, or on `database_url`.
    pub(crate) fn start(database_url: Option<&str>) -> Self {
        let data_dir =
            std::env::temp_dir().join(format!("messaging-server-process-{}", uuid::Uuid::new_v4()));
        let mut command = Command::new(env!("CARGO_BIN_EXE_messaging-server"));
        match database_url {
            Some(url) => command.env("DATABASE_URL", url),
            None => command.env_remove("DATABASE_URL"),
        };
        let mut child = command
            .env("MESSAGING_LISTEN", "127.0.0.1:0")
            .env("MESSAGING_DATA_DIR", &data_dir)
            .env(
                "MESSAGING_JWT_SECRET",
                "test-secret-test-secret-test-secret",
            )
            .env("MESSAGING_WORKERS", "1")
            .env("MESSAGING_LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = Self {
            child,
            lines,
            seen: Vec::new(),
            address: String::new(),
            data_dir,
        };
        let banner = server.wait_for_line(|line| line.starts_with("messaging-server listening on"));
        server.address = banner.rsplit("http://").next().unwrap().to_owned();
        server
    }

    /// Waits for the first line from now on that `wanted` accepts, keeping every line read.
    #[track_caller]
    pub(crate) fn wait_for_line(&mut self, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if wanted(&line) {
                        return line;
                    }
                }
                Err(err) => panic!("no such line ({err}); output so far:\n{:#?}", self.seen),
            }
        }
    }

    /// Waits for the JSON log line with this message.
    #[track_caller]
    fn wait_for_log(&mut self, message: &str) -> Value {
        let line = self.wait_for_line(|line| {
            serde_json::from_str::<Value>(line).is_ok_and(|v| v["message"] == message)
        });
        serde_json::from_str(&line).unwrap()
    }

    /// Sends SIGTERM.
    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit, then reads the rest of its output.
    #[track_caller]
    fn wait_for_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "still running: {:#?}", self.seen);
            std::thread::sleep(Duration::from_millis(50));
        };
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.seen.push(line);
        }
        status
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// The `request_id` of the request span a JSON log line was logged in.
fn span_request_id(line: &Value) -> Option<&str> {
    line["spans"]
        .as_array()?
        .iter()
        .find_map(|span| span["request_id"].as_str())
}

/// Writes a raw HTTP/1.1 request head; the connection closes after the response.
fn send_head(stream: &mut TcpStream, head: &str) {
    let head = head.replace('\n', "\r\n");
    stream.write_all(head.as_bytes()).unwrap();
}

fn read_response(stream: &mut TcpStream) -> String {
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn json_logs_carry_the_request_id_and_the_route_pattern_but_not_the_query_string() {
    let mut server = ServerProcess::start(None);
    let mut stream = TcpStream::connect(&server.address).unwrap();
    send_head(
        &mut stream,
        "GET /api/messages/search?q=secretterm HTTP/1.1\nHost: test\nX-Request-Id: log-test.1\n\
         Connection: close\n\n",
    );
    let response = read_response(&mut stream);
    assert!(response.starts_with("HTTP/1.1 401"), "{response}");

    let line = server.wait_for_log("request");
    assert_eq!(span_request_id(&line), Some("log-test.1"), "{line}");
    assert_eq!(line["method"], "GET");
    assert_eq!(line["route"], "/api/messages/search");
    assert_eq!(line["status"], 401);
    assert!(line["elapsed_ms"].is_f64(), "{line}");

    server.terminate();
    assert!(server.wait_for_exit().success());
    for seen in &server.seen {
        assert!(!seen.contains("secretterm"), "{seen}");
        assert!(!seen.contains("q="), "{seen}");
        if !seen.starts_with("messaging-server listening on") {
            assert!(
                serde_json::from_str::<Value>(seen).is_ok_and(|v| v.is_object()),
                "not a JSON log line: {seen}"
            );
        }
    }
}

#[test]
fn sigterm_lets_an_in_flight_request_finish_and_then_exits_cleanly() {
    let mut server = ServerProcess::start(None);
    let body = r#"{"username": "nobody", "password": "not the password"}"#;
    let (first, rest) = body.split_at(10);
    let mut stream = TcpStream::connect(&server.address).unwrap();
    send_head(
        &mut stream,
        &format!(
            "POST /api/auth/login HTTP/1.1\nHost: test\nX-Request-Id: in-flight\n\
             Content-Type: application/json\nContent-Length: {}\nConnection: close\n\n",
            body.len()
        ),
    );
    stream.write_all(first.as_bytes()).unwrap();
    // Give the server time to accept the connection and start reading the request.
    std::thread::sleep(Duration::from_millis(500));

    server.terminate();
    let line = server.wait_for_log("shutting down");
    assert_eq!(line["signal"], "SIGTERM");
    // The request is still only half sent, and actix-web checks on draining workers once a
    // second: waiting longer than that shows the shutdown timeout, not the check, keeps it alive.
    std::thread::sleep(Duration::from_millis(2500));
    stream.write_all(rest.as_bytes()).unwrap();
    let response = read_response(&mut stream);
    assert!(response.starts_with("HTTP/1.1 401"), "{response}");
    assert!(
        response
            .to_ascii_lowercase()
            .contains("x-request-id: in-flight\r\n"),
        "{response}"
    );
    assert!(response.contains("INVALID_CREDENTIALS"), "{response}");

    let status = server.wait_for_exit();
    assert!(status.success(), "{status}: {:#?}", server.seen);
    assert!(
        server
            .seen
            .iter()
            .any(|line| line.contains(r#""message":"stopped""#)),
        "{:#?}",
        server.seen
    );
    let logged = server.seen.iter().any(|line| {
        serde_json::from_str::<Value>(line)
            .is_ok_and(|v| v["message"] == "request" && span_request_id(&v) == Some("in-flight"))
    });
    assert!(logged, "{:#?}", server.seen);
}

#[actix_web::test]
async fn a_line_logged_by_a_handler_carries_the_request_id() {
    // Only PostgreSQL can be taken away from under a running server to make a handler log.
    let admin = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let required = std::env::var("MESSAGING_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    let name = format!("msgtest_{}", uuid::Uuid::new_v4().simple());
    let url = format!("{base}/{name}");
    if let Err(err) = Store::ensure_database(&url).await {
        assert!(!required, "PostgreSQL is required but unreachable: {err}");
        eprintln!("SKIPPED: PostgreSQL unreachable at TEST_DATABASE_URL ({err})");
        return;
    }
    let mut server = ServerProcess::start(Some(&url));
    Store::drop_databases_with_prefix(&admin, &name)
        .await
        .unwrap();

    let mut stream = TcpStream::connect(&server.address).unwrap();
    send_head(
        &mut stream,
        "GET /readyz HTTP/1.1\nHost: test\nX-Request-Id: ready-check\nConnection: close\n\n",
    );
    let response = read_response(&mut stream);
    assert!(response.starts_with("HTTP/1.1 503"), "{response}");
    let line = server.wait_for_line(|line| {
        serde_json::from_str::<Value>(line).is_ok_and(|v| {
            v["message"] == "database not ready" || v["message"] == "database ping timed out"
        })
    });
    let line: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(line["level"], "WARN");
    assert_eq!(span_request_id(&line), Some("ready-check"), "{line}");
}
