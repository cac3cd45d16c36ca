//! The web client: hand-written ES modules and one style sheet (`crates/server/web/`), embedded in
//! the binary with `include_bytes!` and served at `/` by the same origin as the API, so the session
//! cookie and the CSRF flow work without a proxy.
//!
//! `/` is the page itself, never cached, with a strict Content-Security-Policy (no inline script
//! or style, no `eval`). Every other file lives under `/assets/<version>/`, where the version is a
//! hash of all the files: those answers are cached for a year, and a new build changes every URL.
//! Modules import each other by relative paths, so they all share the page's version.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use sha2::{Digest, Sha256};

use crate::settings::{Settings, StorageBackend};

/// One embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $type:expr) => {
        Asset {
            name: $name,
            content_type: $type,
            bytes: include_bytes!(concat!("../web/", $name)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// Every file of the client. A file missing here is a 404, so adding a module means adding it here.
const ASSETS: &[Asset] = &[
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("icon.svg", "image/svg+xml"),
    asset!("app.js", JS),
    asset!("api.js", JS),
    asset!("dom.js", JS),
    asset!("live.js", JS),
    asset!("format.js", JS),
    asset!("auth.js", JS),
    asset!("chat.js", JS),
    asset!("people.js", JS),
    asset!("search.js", JS),
    asset!("notifications.js", JS),
    asset!("settings.js", JS),
    asset!("admin.js", JS),
];

const INDEX: &str = include_str!("../web/index.html");

/// The page, its version and its security policy, built once at start-up.
#[derive(Debug, Clone)]
pub struct WebClient {
    version: String,
    index: String,
    /// Origins (besides this server) that attachment previews may be loaded from.
    image_origins: Vec<String>,
}

impl WebClient {
    /// Builds the page for these settings (the S3 endpoint decides where images may come from).
    #[must_use]
    pub fn new(settings: &Settings) -> Self {
        let mut hash = Sha256::new();
        for asset in ASSETS {
            hash.update(asset.name.as_bytes());
            hash.update(asset.bytes);
        }
        hash.update(INDEX.as_bytes());
        let digest = hash.finalize();
        let version: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
        let index = INDEX.replace("__VERSION__", &version);
        let image_origins = match settings.storage {
            StorageBackend::Local => Vec::new(),
            StorageBackend::S3 => match settings.s3_endpoint.as_deref() {
                Some(endpoint) => vec![origin_of(endpoint)],
                // AWS itself: path-style or virtual-host buckets, in any region.
                None => vec!["https://*.amazonaws.com".to_owned()],
            },
        };
        Self {
            version,
            index,
            image_origins,
        }
    }

    /// The version in the asset URLs.
    #[must_use]
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The Content-Security-Policy of the page, for a request that reached this server as `host`.
    fn policy(&self, scheme: &str, host: &str) -> String {
        let ws = if scheme == "https" { "wss" } else { "ws" };
        let mut images = String::from("'self' blob:");
        for origin in &self.image_origins {
            images.push(' ');
            images.push_str(origin);
        }
        format!(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src {images}; \
             connect-src 'self' {ws}://{host}; manifest-src 'self'; base-uri 'none'; \
             form-action 'self'; frame-ancestors 'none'"
        )
    }
}

/// `scheme://host[:port]` of a URL (what CSP source expressions name).
fn origin_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("https", url));
    let host = rest.split('/').next().unwrap_or(rest);
    format!("{scheme}://{host}")
}

/// Registers `/` and `/assets/{version}/{file}`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(index))
        .route("/assets/{version}/{file}", web::get().to(asset));
}

async fn index(req: HttpRequest, client: web::Data<WebClient>) -> HttpResponse {
    let origin = crate::forwarded::request_origin(&req);
    let policy = client.policy(&origin.scheme, &origin.host);
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CONTENT_SECURITY_POLICY, policy))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        // Presigned download links carry their signature in the URL: never hand it on.
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .body(client.index.clone())
}

async fn asset(path: web::Path<(String, String)>, client: web::Data<WebClient>) -> HttpResponse {
    let (version, file) = path.into_inner();
    let found = ASSETS.iter().find(|a| a.name == file);
    match found {
        // Another version's URL is refused rather than answered with this build's file, which a
        // cache would then keep under the wrong name.
        Some(asset) if version == client.version => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, asset.content_type))
            .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .body(asset.bytes),
        _ => HttpResponse::NotFound()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
            .body("not found"),
    }
}

#[cfg(test)]
mod tests {
    use super::origin_of;

    #[test]
    fn an_endpoint_becomes_its_origin() {
        assert_eq!(origin_of("http://127.0.0.1:9000"), "http://127.0.0.1:9000");
        assert_eq!(
            origin_of("https://s3.example.com/bucket/x"),
            "https://s3.example.com"
        );
    }
}
