//! Typed settings, read once in `main` from flags with environment fallbacks. Every setting has a
//! default that works on a fresh machine.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line (for machines).
    Json,
    /// Human-readable lines.
    Pretty,
}

/// Where attachments are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StorageBackend {
    /// Files under `<data dir>/attachments`, downloaded through links the server signs.
    Local,
    /// An S3-compatible bucket, downloaded through presigned links.
    S3,
}

/// The server's settings.
#[derive(Debug, Clone, Parser)]
#[command(name = "messaging-server", version, about = "Direct-messaging service")]
pub struct Settings {
    /// Address to listen on.
    #[arg(long, env = "MESSAGING_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,

    /// Directory for the SQLite database, attachments and the generated token key.
    #[arg(long, env = "MESSAGING_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// `postgres://...` for PostgreSQL; defaults to the SQLite file in the data directory.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Largest number of database connections (PostgreSQL; SQLite always uses one).
    #[arg(long, env = "MESSAGING_DB_POOL_SIZE", default_value_t = 16)]
    pub db_pool_size: usize,

    /// Key for signing access tokens. When absent, one is generated and kept in the data
    /// directory; several instances must share one, so set it explicitly for them.
    #[arg(long, env = "MESSAGING_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// Lifetime of an access token, in seconds.
    #[arg(long, env = "MESSAGING_ACCESS_TOKEN_TTL_SECS", default_value_t = 900)]
    pub access_token_ttl_secs: u32,

    /// Lifetime of a refresh token, in seconds.
    #[arg(long, env = "MESSAGING_REFRESH_TOKEN_TTL_SECS", default_value_t = 30 * 24 * 3600)]
    pub refresh_token_ttl_secs: u32,

    /// Role given to users who register themselves.
    #[arg(long, env = "MESSAGING_DEFAULT_ROLE", default_value = "student")]
    pub default_role: String,

    /// How long after sending a message may be edited, in seconds.
    #[arg(long, env = "MESSAGING_EDIT_WINDOW_SECS", default_value_t = 900)]
    pub edit_window_secs: u32,

    /// A browser session (cookie) that is not used for this many seconds expires.
    #[arg(long, env = "MESSAGING_SESSION_IDLE_SECS", default_value_t = 1800)]
    pub session_idle_secs: u32,

    /// Proxies (IP addresses or CIDR networks, comma-separated) whose `Forwarded` /
    /// `X-Forwarded-For` / `-Proto` / `-Host` headers name the client's address, scheme and host.
    /// From any other peer those headers are ignored.
    #[arg(long, env = "MESSAGING_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: String,

    /// A browser session ends this many seconds after login, however busy (absolute lifetime).
    #[arg(long, env = "MESSAGING_SESSION_MAX_SECS", default_value_t = 12 * 3600)]
    pub session_max_secs: u32,

    /// Number of HTTP worker threads (default: one per core).
    #[arg(long, env = "MESSAGING_WORKERS")]
    pub workers: Option<usize>,

    /// Log format.
    #[arg(long, env = "MESSAGING_LOG_FORMAT", value_enum, default_value_t = LogFormat::Json)]
    pub log_format: LogFormat,

    /// Messages one user may send per second once their burst is spent (0: no per-second limit).
    /// On PostgreSQL every rate limit is kept in the database, so it holds for all instances
    /// together; on SQLite (one process) in memory.
    #[arg(long, env = "MESSAGING_SEND_PER_SECOND", default_value_t = 1)]
    pub send_per_second: u32,

    /// Messages one user may send at once before the per-second rate applies (0: the same as
    /// the per-second rate).
    #[arg(long, env = "MESSAGING_SEND_BURST", default_value_t = 5)]
    pub send_burst: u32,

    /// Messages one user may send per day (0: no daily limit). The allowance refills steadily,
    /// one message every day / this many.
    #[arg(long, env = "MESSAGING_SEND_PER_DAY", default_value_t = 500)]
    pub send_per_day: u32,

    /// Login attempts per minute from one client address (0: no limit).
    #[arg(long, env = "MESSAGING_LOGIN_PER_MINUTE", default_value_t = 10)]
    pub login_per_minute: u32,

    /// Login attempts per minute for one username, whatever the address (0: no limit).
    #[arg(
        long,
        env = "MESSAGING_LOGIN_PER_MINUTE_PER_USERNAME",
        default_value_t = 5
    )]
    pub login_per_minute_per_username: u32,

    /// Registrations per hour from one client address (0: no limit).
    #[arg(long, env = "MESSAGING_REGISTER_PER_HOUR", default_value_t = 20)]
    pub register_per_hour: u32,

    /// Registration attempts per hour for one user name (0: no limit).
    #[arg(
        long,
        env = "MESSAGING_REGISTER_PER_HOUR_PER_USERNAME",
        default_value_t = 5
    )]
    pub register_per_hour_per_username: u32,

    /// Threads that hash and verify passwords (default: one per core). Each holds one argon2
    /// memory block (19 MiB) for good, so this bounds what a login storm can cost in memory.
    #[arg(long, env = "MESSAGING_HASH_THREADS")]
    pub hash_threads: Option<usize>,

    /// Password checks (logins, registrations) that may wait for a hashing thread; beyond them a
    /// request is answered 503 `SERVER_BUSY` with `Retry-After`.
    #[arg(long, env = "MESSAGING_HASH_QUEUE", default_value_t = 32)]
    pub hash_queue: usize,

    /// Origins (`scheme://host[:port]`, comma-separated) whose pages may open WebSockets, besides
    /// this server's own; clients that send no `Origin` (not browsers) are let through.
    #[arg(
        long,
        env = "MESSAGING_WS_ALLOWED_ORIGINS",
        value_delimiter = ',',
        num_args = 0..
    )]
    pub ws_allowed_origins: Vec<String>,

    /// Seconds between the server's pings on each WebSocket.
    #[arg(long, env = "MESSAGING_WS_PING_SECS", default_value_t = 30)]
    pub ws_ping_secs: u32,

    /// Seconds of silence from a client after which its WebSocket is closed (code 4000).
    #[arg(long, env = "MESSAGING_WS_IDLE_SECS", default_value_t = 60)]
    pub ws_idle_secs: u32,

    /// Seconds between merges of the search index's pending words into the index, outside any
    /// send (PostgreSQL's GIN pending list; see `search_upkeep.rs`); 0 leaves the merge to the
    /// inserts that find the list full.
    #[arg(long, env = "MESSAGING_SEARCH_UPKEEP_SECS", default_value_t = 1)]
    pub search_upkeep_secs: u32,

    /// Frames queued for one WebSocket before it counts as too slow and is closed (code 4008);
    /// the client resumes with `since`.
    #[arg(long, env = "MESSAGING_WS_QUEUE", default_value_t = 256)]
    pub ws_queue: usize,

    /// Seconds a WebSocket ticket from `POST /api/ws-ticket` stays redeemable.
    #[arg(long, env = "MESSAGING_WS_TICKET_SECS", default_value_t = 30)]
    pub ws_ticket_secs: u32,

    /// The kernel send buffer of each accepted connection, in bytes (default: the system's,
    /// which grows up to `net.ipv4.tcp_wmem`'s maximum). A small one bounds the kernel memory a
    /// client that stops reading can hold, and lets the server notice it sooner.
    #[arg(long, env = "MESSAGING_TCP_SEND_BUFFER")]
    pub tcp_send_buffer: Option<usize>,

    /// Hours stream entries are kept for replay; a device offline longer must resynchronise.
    #[arg(long, env = "MESSAGING_EVENT_RETENTION_HOURS", default_value_t = 168)]
    pub event_retention_hours: u32,

    /// Where attachments are stored: `local` (under the data directory) or `s3`.
    #[arg(long, env = "MESSAGING_STORAGE", value_enum, default_value_t = StorageBackend::Local)]
    pub storage: StorageBackend,

    /// S3-compatible endpoint, e.g. `http://127.0.0.1:9000` (unset: AWS, by region).
    #[arg(long, env = "MESSAGING_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,

    /// S3 region.
    #[arg(long, env = "MESSAGING_S3_REGION", default_value = "us-east-1")]
    pub s3_region: String,

    /// S3 bucket for attachments; created (private) when missing.
    #[arg(
        long,
        env = "MESSAGING_S3_BUCKET",
        default_value = "private-attachments"
    )]
    pub s3_bucket: String,

    /// S3 access key id.
    #[arg(long, env = "MESSAGING_S3_ACCESS_KEY", hide_env_values = true)]
    pub s3_access_key: Option<String>,

    /// S3 secret access key.
    #[arg(long, env = "MESSAGING_S3_SECRET_KEY", hide_env_values = true)]
    pub s3_secret_key: Option<String>,

    /// Address buckets in the path (`endpoint/bucket/key`), as MinIO and most self-hosted
    /// servers need; `false` uses virtual-host style (`bucket.endpoint/key`).
    #[arg(
        long,
        env = "MESSAGING_S3_PATH_STYLE",
        default_value_t = true,
        action = clap::ArgAction::Set
    )]
    pub s3_path_style: bool,

    /// How long an attachment download link stays valid, in seconds (S3 allows at most a week).
    #[arg(long, env = "MESSAGING_ATTACHMENT_LINK_TTL_SECS", default_value_t = 3600,
          value_parser = clap::value_parser!(u32).range(1..=604_800))]
    pub attachment_link_ttl_secs: u32,

    /// How long after it started an upload whose message never committed (the server stopped in
    /// between) is taken for abandoned and its stored object removed, in seconds.
    #[arg(long, env = "MESSAGING_UPLOAD_ABANDON_SECS", default_value_t = 900,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub upload_abandon_secs: u32,

    /// ClamAV daemon for virus scanning: `host:port` or `unix:/path/to/clamd.sock`. Unset: files
    /// are not scanned (stored `not_scanned` and downloadable at once); the server warns at start.
    #[arg(long, env = "MESSAGING_CLAMD")]
    pub clamd: Option<String>,
}

impl Settings {
    /// Settings with every default, as if no flag or variable were given.
    #[must_use]
    pub fn defaults() -> Self {
        Self::parse_from(["messaging-server"])
    }

    /// The database to use: the configured URL, or the SQLite file in the data directory.
    #[must_use]
    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}",
                self.data_dir.join("messaging.db").to_string_lossy()
            )
        })
    }
}
