//! Logging set-up and request ids. Log fields never carry message bodies, emails, tokens or query
//! strings.

use actix_web::http::header::HeaderMap;
use tracing_subscriber::EnvFilter;

use crate::settings::LogFormat;

/// Installs the global subscriber; `RUST_LOG` overrides the default level (`info`).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    // A second initialisation (tests start several apps in one process) is harmless; ignore it.
    let _ = match format {
        // The span list puts the request span's `request_id` on every line logged while a
        // request is handled, even under a nested span (the current span alone would hide it).
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(true)
            .try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}

/// The header a request id is read from and echoed in.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The longest request id accepted from a client.
const MAX_REQUEST_ID_LEN: usize = 128;

/// The caller's `X-Request-Id` when it is 1 to 128 characters of `[A-Za-z0-9._-]`, else a new
/// UUID v4. Anything else is replaced rather than logged, so a client cannot forge log lines or
/// flood them.
#[must_use]
pub fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|id| is_sane_request_id(id))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

fn is_sane_request_id(id: &str) -> bool {
    (1..=MAX_REQUEST_ID_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}
