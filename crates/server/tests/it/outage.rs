//! A database outage as a client and an operator notice it: 503 with `Retry-After` (not 500),
//! WebSockets closed with 1013 (try again later, not 1008), one log line when it starts and one
//! when it ends, and service again once the database is back. The outage is real: the server
//! reaches PostgreSQL through a TCP relay that the test cuts and restores.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use messaging_store::Store;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::observability::ServerProcess;

/// A TCP relay to PostgreSQL that can be cut (every connection dropped, nothing accepted) and
/// restored on the same port. It runs on a runtime of its own, since the test's thread blocks
/// while it waits for the server process.
struct Relay {
    runtime: Option<tokio::runtime::Runtime>,
    port: u16,
    target: SocketAddr,
    accept: Option<JoinHandle<()>>,
    connections: std::sync::Arc<std::sync::Mutex<Vec<JoinHandle<()>>>>,
}

impl Relay {
    fn start(target: SocketAddr) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let mut relay = Self {
            runtime: Some(runtime),
            port: 0,
            target,
            accept: None,
            connections: std::sync::Arc::default(),
        };
        relay.port = relay.serve();
        relay
    }

    /// Listens on the relay's port (any free one the first time) and relays every connection;
    /// returns the port once it listens.
    fn serve(&mut self) -> u16 {
        let (target, connections, port) = (
            self.target,
            std::sync::Arc::clone(&self.connections),
            self.port,
        );
        let handle = self.runtime.as_ref().unwrap().handle().clone();
        let spawner = handle.clone();
        let (listening, bound) = std::sync::mpsc::channel();
        self.accept = Some(handle.spawn(async move {
            // After a cut, the aborted accept loop lets go of the old listener asynchronously.
            let mut listener = None;
            for _ in 0..50 {
                if let Ok(l) = TcpListener::bind(("127.0.0.1", port)).await {
                    listener = Some(l);
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let listener = listener.expect("the relay can listen");
            listening
                .send(listener.local_addr().unwrap().port())
                .unwrap();
            while let Ok((mut client, _)) = listener.accept().await {
                let task = spawner.spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                connections.lock().unwrap().push(task);
            }
        }));
        bound.recv_timeout(Duration::from_secs(10)).unwrap()
    }

    fn cut(&mut self) {
        if let Some(accept) = self.accept.take() {
            accept.abort();
        }
        for task in self.connections.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    fn restore(&mut self) {
        self.serve();
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.cut();
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

fn log_messages(server: &ServerProcess, level: &str) -> Vec<String> {
    server
        .seen
        .iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|v| v["level"] == level)
        .map(|v| v["message"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[actix_web::test]
async fn a_database_outage_gets_503_with_retry_after_and_one_log_line_each_way() {
    let admin = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let required = std::env::var("MESSAGING_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
    let name = format!("msgtest_{}", uuid::Uuid::new_v4().simple());
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    if let Err(err) = Store::ensure_database(&format!("{base}/{name}")).await {
        assert!(!required, "PostgreSQL is required but unreachable: {err}");
        eprintln!("SKIPPED: PostgreSQL unreachable at TEST_DATABASE_URL ({err})");
        return;
    }
    let host_port = base
        .rsplit('@')
        .next()
        .unwrap()
        .trim_start_matches("postgres://");
    let target: SocketAddr = tokio::net::lookup_host(host_port)
        .await
        .unwrap()
        .next()
        .unwrap();
    let mut relay = Relay::start(target);
    let through_relay = format!(
        "{}127.0.0.1:{}/{name}",
        base.split_once('@')
            .map_or("postgres://".to_owned(), |(user, _)| format!("{user}@")),
        relay.port
    );
    let mut server = ServerProcess::start(Some(&through_relay));
    let url = format!("http://{}", server.address);
    let client = awc::Client::default();
    let resp = client
        .post(format!("{url}/api/auth/register"))
        .send_json(&json!({"username": "olly", "email": "olly@example.com", "password": "correct horse battery"}))
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let mut resp = client
        .post(format!("{url}/api/auth/login"))
        .send_json(&json!({"username": "olly", "password": "correct horse battery"}))
        .await
        .unwrap();
    let tokens: Value = resp.json().await.unwrap();
    let token = tokens["access_token"].as_str().unwrap().to_owned();
    let threads = || {
        client
            .get(format!("{url}/api/messages/threads"))
            .insert_header(("Authorization", format!("Bearer {token}")))
            .send()
    };
    assert_eq!(threads().await.unwrap().status().as_u16(), 200);

    relay.cut();
    for _ in 0..5 {
        let mut resp = threads().await.unwrap();
        assert_eq!(resp.status().as_u16(), 503);
        let retry_after = resp
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["code"], "DATABASE_UNAVAILABLE", "{body}");
        assert_eq!(retry_after.as_deref(), Some("5"), "{body}");
    }
    let (_, mut socket) = client
        .ws(format!("ws://{}/ws?token={token}", server.address))
        .connect()
        .await
        .unwrap();
    let close = loop {
        match tokio::time::timeout(Duration::from_secs(10), socket.next()).await {
            Ok(Some(Ok(awc::ws::Frame::Close(reason)))) => break reason.map(|r| u16::from(r.code)),
            Ok(Some(Ok(_))) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(close, Some(1013), "try again later, not bad credentials");

    relay.restore();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if threads().await.unwrap().status().as_u16() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "the service did not come back");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    server.wait_for_line(|line| line.contains("database reachable again"));
    let errors = log_messages(&server, "ERROR");
    assert_eq!(
        errors,
        ["database unreachable; answering 503 until it is back"],
        "one error line for the whole outage: {:#?}",
        server.seen
    );
    let _ = Store::drop_databases_with_prefix(&admin, &name).await;
}
