//! The real binary as an operator runs it: SIGTERM closes every WebSocket with 1001 and the
//! process exits cleanly; System A's `?token=` never reaches the logs.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};

#[actix_web::test]
async fn sigterm_closes_websockets_with_1001_and_no_token_is_logged() {
    let dir = std::env::temp_dir().join(format!("messaging-process-{}", uuid::Uuid::new_v4()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_messaging-server"))
        .env("MESSAGING_LISTEN", "127.0.0.1:0")
        .env("MESSAGING_DATA_DIR", &dir)
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the server starts");
    // Every line the process prints, from both streams.
    let (lines_tx, lines) = mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    for stream in [
        Box::new(stdout) as Box<dyn std::io::Read + Send>,
        Box::new(stderr),
    ] {
        let tx = lines_tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
    }
    drop(lines_tx);
    let mut output = Vec::new();
    let base = loop {
        let line = lines
            .recv_timeout(Duration::from_secs(60))
            .expect("the server prints its URL");
        output.push(line.clone());
        if let Some(url) = line.strip_prefix("messaging-server listening on ") {
            break url.to_owned();
        }
    };

    let client = awc::Client::default();
    let mut resp = client
        .post(format!("{base}/api/auth/register"))
        .send_json(&json!({"username": "ops", "email": "ops@example.com", "password": "correct horse battery"}))
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201, "{:?}", resp.body().await);
    let mut resp = client
        .post(format!("{base}/api/auth/login"))
        .send_json(&json!({"username": "ops", "password": "correct horse battery"}))
        .await
        .unwrap();
    let login: Value = resp.json().await.unwrap();
    let token = login["access_token"].as_str().unwrap().to_owned();

    let (_, mut ws) = client
        .ws(format!(
            "{}/ws?token={token}",
            base.replace("http://", "ws://")
        ))
        .connect()
        .await
        .unwrap();
    let hello = ws.next().await.unwrap().unwrap();
    assert!(matches!(hello, awc::ws::Frame::Text(_)), "{hello:?}");

    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let code = loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(awc::ws::Frame::Close(reason)))) => break reason.map(|r| u16::from(r.code)),
            Ok(Some(Ok(_))) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(code, Some(1001), "going away");
    let status = wait_for_exit(&mut child, Duration::from_secs(15));
    assert!(status.success(), "clean exit: {status}");
    output.extend(lines.try_iter());
    let text = output.join("\n");
    assert!(text.contains("shutting down"), "{text}");
    assert!(
        !text.contains(&token),
        "the token reached the logs:\n{text}"
    );
    assert!(
        !text.contains("token="),
        "a query string reached the logs:\n{text}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

fn wait_for_exit(child: &mut std::process::Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server did not exit within {limit:?} of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
