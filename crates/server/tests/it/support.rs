//! Starts the real application and talks to it over HTTP.

use chrono::Utc;
use messaging_domain::accounts::{EmailAddress, NewAccount, Username};
use messaging_domain::audit::{AuditAction, AuditRecord};
use messaging_domain::ports::Credentials;
use messaging_domain::user::Role;
use messaging_store::Store;
use serde_json::Value;
use server::settings::Settings;
use server::startup::Application;

/// Which database the app runs on.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A running app and a client for it.
pub struct TestApp {
    pub base: String,
    pub store: Store,
    client: awc::Client,
    postgres: Option<(String, String)>,
    /// What it was started with, for starting another instance on the same database.
    pub settings: Settings,
    stop: server::startup::StopHandle,
}

/// A user with a valid access token.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: i64,
    pub token: String,
}

pub const PASSWORD: &str = "correct horse battery";

impl TestApp {
    pub async fn spawn(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Starts the app with adjusted settings; `None` when PostgreSQL is wanted but unavailable
    /// and not required.
    pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> Option<Self> {
        let dir =
            std::env::temp_dir().join(format!("messaging-server-test-{}", uuid::Uuid::new_v4()));
        let mut settings = Settings::defaults();
        settings.listen = "127.0.0.1:0".into();
        settings.data_dir = dir;
        settings.workers = Some(1);
        settings.jwt_secret = Some("test-secret-test-secret-test-secret".into());
        // Every test client shares 127.0.0.1 and logs in often, so the limits are made generous
        // (not switched off, so every test still runs through them); tests of the limits
        // themselves set tight ones in `adjust`.
        settings.send_per_second = 10_000;
        settings.send_burst = 10_000;
        settings.send_per_day = 1_000_000;
        settings.login_per_minute = 100_000;
        settings.login_per_minute_per_username = 100_000;
        settings.register_per_hour = 100_000;
        settings.register_per_hour_per_username = 100_000;
        let mut postgres = None;
        if let Backend::Postgres = backend {
            let admin = std::env::var("TEST_DATABASE_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
            let required = std::env::var("MESSAGING_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
            let base = admin
                .rsplit_once('/')
                .map_or(admin.as_str(), |(b, _)| b)
                .to_owned();
            let name = format!("msgtest_{}", uuid::Uuid::new_v4().simple());
            let url = format!("{base}/{name}");
            match Store::ensure_database(&url).await {
                Ok(_) => {}
                Err(err) if !required => {
                    eprintln!("SKIPPED: PostgreSQL unreachable at TEST_DATABASE_URL ({err})");
                    return None;
                }
                Err(err) => panic!("PostgreSQL is required but unreachable: {err}"),
            }
            settings.database_url = Some(url);
            postgres = Some((admin, name));
        }
        adjust(&mut settings);
        let mut app = Self::start(settings).await;
        app.postgres = postgres;
        Some(app)
    }

    async fn start(settings: Settings) -> Self {
        let app = Application::build(settings.clone())
            .await
            .expect("app builds");
        let base = format!("http://127.0.0.1:{}", app.port());
        let store = app.state().store.clone();
        let stop = app.stop_handle();
        actix_rt::spawn(app.run_until_stopped());
        Self {
            base,
            store,
            client: awc::Client::default(),
            postgres: None,
            settings,
            stop,
        }
    }

    /// Another instance on the same database with adjusted settings.
    pub async fn start_like(app: &TestApp, adjust: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = app.settings.clone();
        adjust(&mut settings);
        Self::start(settings).await
    }

    /// Another instance of the server on the same database (and token keys), on its own port.
    pub async fn another_instance(&self) -> Self {
        Self::start(self.settings.clone()).await
    }

    /// Stops this instance the way SIGTERM does.
    pub async fn stop(&self) {
        self.stop.stop().await;
    }

    /// Opens a WebSocket at `path_and_query` with extra headers; panics unless the upgrade
    /// succeeds (refusals are close codes, read them from the socket).
    pub async fn ws(&self, path_and_query: &str, headers: &[(&str, &str)]) -> WsClient {
        let url = format!(
            "{}{}",
            self.base.replace("http://", "ws://"),
            path_and_query
        );
        let mut request = self.client.ws(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let (response, framed) = request.connect().await.expect("WebSocket upgrade");
        assert_eq!(response.status().as_u16(), 101);
        WsClient { framed }
    }

    /// A WebSocket for `user`, authenticated by System A's `?token=`.
    pub async fn ws_for(&self, user: &TestUser, extra_query: &str) -> WsClient {
        let mut ws = self
            .ws(&format!("/ws?token={}{extra_query}", user.token), &[])
            .await;
        let hello = ws.next_json().await;
        assert_eq!(hello["type"], "connected", "{hello}");
        assert_eq!(hello["user"]["id"], user.id, "{hello}");
        ws
    }

    /// Drops the app's PostgreSQL database from under it.
    pub async fn drop_postgres_database(&self) {
        let (admin, name) = self.postgres.as_ref().expect("a PostgreSQL app");
        Store::drop_databases_with_prefix(admin, name)
            .await
            .unwrap();
    }

    pub async fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let url = format!("{}{}", self.base, path);
        let method = awc::http::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.client.request(method, url);
        if let Some(token) = token {
            req = req.insert_header(("Authorization", format!("Bearer {token}")));
        }
        let mut resp = match body {
            Some(body) => req.send_json(&body).await.unwrap(),
            None => req.send().await.unwrap(),
        };
        let status = resp.status().as_u16();
        let bytes = resp.body().limit(10 * 1024 * 1024).await.unwrap();
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        (status, value)
    }

    /// Sends a raw body with a given content type.
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        token: &str,
        content_type: &str,
        body: &'static str,
    ) -> (u16, String, Value) {
        let url = format!("{}{}", self.base, path);
        let method = awc::http::Method::from_bytes(method.as_bytes()).unwrap();
        let mut resp = self
            .client
            .request(method, url)
            .insert_header(("Authorization", format!("Bearer {token}")))
            .insert_header(("Content-Type", content_type))
            .send_body(body)
            .await
            .unwrap();
        let ct = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let bytes = resp.body().await.unwrap();
        (
            resp.status().as_u16(),
            ct,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        self.request("GET", path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        self.request("POST", path, token, Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
        self.request("PATCH", path, Some(token), body).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> (u16, Value) {
        self.request("DELETE", path, Some(token), None).await
    }

    pub async fn login(&self, username: &str) -> Value {
        let (status, body) = self
            .post(
                "/api/auth/login",
                None,
                serde_json::json!({"username": username, "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Registers through the API (role: the default, student) and logs in.
    pub async fn register(&self, username: &str) -> TestUser {
        let (status, body) = self
            .post(
                "/api/auth/register",
                None,
                serde_json::json!({
                    "username": username,
                    "email": format!("{username}@example.com"),
                    "password": PASSWORD,
                    "first_name": username.to_uppercase(),
                }),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let tokens = self.login(username).await;
        TestUser {
            id: body["id"].as_i64().unwrap(),
            token: tokens["access_token"].as_str().unwrap().into(),
        }
    }

    /// Creates a user with any role straight in the store (the admin API is another issue's), then
    /// logs in through the API.
    pub async fn user_with_role(&self, username: &str, role: Role) -> TestUser {
        let hash = server::auth::hash_password(PASSWORD).unwrap();
        let id = self.account_with_hash(username, role, hash).await;
        let tokens = self.login(username).await;
        TestUser {
            id,
            token: tokens["access_token"].as_str().unwrap().into(),
        }
    }

    /// Creates an account with a given password hash straight in the store; returns its id.
    pub async fn account_with_hash(&self, username: &str, role: Role, hash: String) -> i64 {
        self.store
            .create_account(
                NewAccount {
                    username: Username::parse(username).unwrap(),
                    email: EmailAddress::parse(&format!("{username}@example.com")).unwrap(),
                    password_hash: hash,
                    first_name: username.into(),
                    last_name: String::new(),
                    role,
                },
                AuditRecord {
                    actor: None,
                    action: AuditAction::UserRegistered,
                    object_type: "user",
                    object_id: None,
                    at: Utc::now(),
                    client_addr: None,
                },
            )
            .await
            .unwrap()
            .id
            .0
    }

    /// Sends `text` from one user to another; asserts 201 and returns the message.
    pub async fn send(&self, from: &TestUser, to: &TestUser, text: &str) -> Value {
        let (status, body) = self
            .post(
                "/api/messages",
                Some(&from.token),
                serde_json::json!({"recipient_id": to.id, "message": text}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body
    }
}

/// A WebSocket client that reads JSON frames.
pub struct WsClient {
    framed: actix_codec::Framed<awc::BoxedSocket, awc::ws::Codec>,
}

/// How long a test waits for a frame that should come.
const FRAME_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

impl WsClient {
    /// The next frame of any kind, `None` when the stream ended.
    async fn next_frame(&mut self, wait: std::time::Duration) -> Option<awc::ws::Frame> {
        use futures_util::StreamExt;
        match tokio::time::timeout(wait, self.framed.next()).await {
            Ok(Some(Ok(frame))) => Some(frame),
            Ok(Some(Err(err))) => panic!("WebSocket error: {err}"),
            Ok(None) => None,
            Err(_) => panic!("no frame within {wait:?}"),
        }
    }

    /// The next JSON text frame, pings answered and presence changes (which come and go with
    /// connections) skipped; panics on anything else.
    pub async fn next_json(&mut self) -> Value {
        loop {
            let frame = self.next_any_json().await;
            if frame["type"] != "presence_status" {
                return frame;
            }
        }
    }

    /// The next JSON text frame of any type (pings are answered and skipped).
    pub async fn next_any_json(&mut self) -> Value {
        loop {
            match self.next_frame(FRAME_WAIT).await {
                Some(awc::ws::Frame::Text(bytes)) => {
                    return serde_json::from_slice(&bytes).expect("JSON frame");
                }
                Some(awc::ws::Frame::Ping(bytes)) => {
                    self.send_raw(awc::ws::Message::Pong(bytes)).await;
                }
                other => panic!("expected a JSON frame, got {other:?}"),
            }
        }
    }

    /// The next JSON frame of `kind`, skipping others of the kinds listed in `skip`.
    pub async fn next_of(&mut self, kind: &str, skip: &[&str]) -> Value {
        loop {
            let frame = self.next_any_json().await;
            if frame["type"] == kind {
                return frame;
            }
            assert!(
                skip.iter().any(|s| frame["type"] == *s),
                "expected {kind}, got {frame}"
            );
        }
    }

    /// Fails if any text frame arrives within `ms` (pings are fine).
    pub async fn expect_silence(&mut self, ms: u64) {
        use futures_util::StreamExt;
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(ms);
        loop {
            match tokio::time::timeout_at(deadline, self.framed.next()).await {
                Err(_) => return,
                Ok(Some(Ok(awc::ws::Frame::Ping(_) | awc::ws::Frame::Pong(_)))) => {}
                Ok(Some(Ok(awc::ws::Frame::Text(text))))
                    if serde_json::from_slice::<Value>(&text)
                        .is_ok_and(|f| f["type"] == "presence_status") => {}
                Ok(other) => panic!("expected silence, got {other:?}"),
            }
        }
    }

    /// The close code the server ends with, skipping text frames before it.
    pub async fn close_code(&mut self) -> u16 {
        self.close_code_within(FRAME_WAIT).await
    }

    pub async fn close_code_within(&mut self, wait: std::time::Duration) -> u16 {
        loop {
            match self.next_frame(wait).await {
                Some(awc::ws::Frame::Close(reason)) => {
                    return reason.map_or(1005, |r| u16::from(r.code));
                }
                Some(_) => {}
                None => panic!("the stream ended without a close frame"),
            }
        }
    }

    /// Every JSON frame (presence changes included) until none came for `ms`.
    pub async fn frames_until_quiet(&mut self, ms: u64) -> Vec<Value> {
        use futures_util::StreamExt;
        let quiet = std::time::Duration::from_millis(ms);
        let mut frames = Vec::new();
        loop {
            match tokio::time::timeout(quiet, self.framed.next()).await {
                Err(_) => return frames,
                Ok(Some(Ok(awc::ws::Frame::Text(text)))) => {
                    frames.push(serde_json::from_slice(&text).expect("JSON frame"));
                }
                Ok(Some(Ok(awc::ws::Frame::Ping(bytes)))) => {
                    self.send_raw(awc::ws::Message::Pong(bytes)).await;
                }
                Ok(Some(Ok(_))) => {}
                other => panic!("expected frames, got {other:?}"),
            }
        }
    }

    pub async fn send_json(&mut self, value: Value) {
        self.send_raw(awc::ws::Message::Text(value.to_string().into()))
            .await;
    }

    /// Sends any frame (fragments, close).
    pub async fn send_message(&mut self, message: awc::ws::Message) {
        self.send_raw(message).await;
    }

    async fn send_raw(&mut self, message: awc::ws::Message) {
        use futures_util::SinkExt;
        self.framed.send(message).await.expect("send a frame");
    }
}
