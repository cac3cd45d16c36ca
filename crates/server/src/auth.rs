//! Authentication: argon2id password hashes, short-lived JWT access tokens, opaque refresh tokens
//! stored by hash, and the extractor that turns a bearer token into the acting user.

use std::path::Path;
use std::sync::Arc;

use actix_web::http::{Method, StatusCode};
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use argon2::{Argon2, PasswordHasher};
use base64::Engine;
use futures_util::future::LocalBoxFuture;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use messaging_domain::Actor;
use messaging_domain::accounts::{Credential, Principal, SessionKey};
use messaging_domain::user::{Role, UserId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::problem::Problem;
use crate::state::AppState;

/// A secret string (password or token) whose `Debug` never shows it.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    #[must_use]
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The secret itself; call only where it is used.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "messaging_session";
/// The header carrying the CSRF token on cookie-authenticated state-changing requests.
pub const CSRF_HEADER: &str = "X-CSRF-Token";

/// Keys and lifetimes for tokens.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// The key CSRF tokens are an HMAC under; derived from the token secret.
    csrf_key: [u8; 32],
    /// A cookie session unused for this long expires.
    pub session_idle_secs: u32,
    /// Access token lifetime in seconds.
    pub access_ttl_secs: u32,
    /// Refresh token lifetime in seconds.
    pub refresh_ttl_secs: u32,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("access_ttl_secs", &self.access_ttl_secs)
            .field("refresh_ttl_secs", &self.refresh_ttl_secs)
            .finish_non_exhaustive()
    }
}

/// Why the token keys could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The generated key file could not be read or written.
    #[error("token key file {path}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// No randomness was available.
    #[error("no system randomness")]
    Random(#[from] getrandom::Error),
    /// The dummy password hash could not be made.
    #[error("password hashing failed: {0}")]
    Hash(String),
}

impl TokenKeys {
    /// Keys from a configured secret, or from a random one kept in `data_dir/jwt-secret`.
    ///
    /// # Errors
    /// [`KeyError`] when the key file cannot be read or created.
    pub fn load(
        secret: Option<&str>,
        data_dir: &Path,
        access_ttl_secs: u32,
        refresh_ttl_secs: u32,
        session_idle_secs: u32,
    ) -> Result<Self, KeyError> {
        let secret = match secret {
            Some(s) => s.to_owned(),
            None => load_or_create_secret(&data_dir.join("jwt-secret"))?,
        };
        // A separate key for CSRF tokens, so that nothing signed for one purpose verifies for the
        // other.
        let csrf_key: [u8; 32] =
            Sha256::digest(format!("messaging-csrf:{secret}").as_bytes()).into();
        Ok(Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            csrf_key,
            session_idle_secs,
            access_ttl_secs,
            refresh_ttl_secs,
        })
    }

    /// Signs an access token for a user.
    ///
    /// # Errors
    /// A [`Problem`] (500) when signing fails.
    pub fn issue_access(
        &self,
        user: UserId,
        role: Role,
        credential_version: i64,
        now: i64,
    ) -> Result<String, Problem> {
        let claims = Claims {
            sub: user.0,
            role: role.as_str().to_owned(),
            iat: now,
            exp: now + i64::from(self.access_ttl_secs),
            typ: "access".to_owned(),
            ver: credential_version,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| Problem::internal(&e))
    }

    /// Checks an access token and returns its claims.
    ///
    /// # Errors
    /// A 401 [`Problem`] for a bad, expired or non-access token.
    pub fn verify_access(&self, token: &str) -> Result<Claims, Problem> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).map_err(
            |e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => Problem::new(
                    actix_web::http::StatusCode::UNAUTHORIZED,
                    "TOKEN_EXPIRED",
                    "Token expired",
                    "The access token has expired",
                ),
                _ => Problem::unauthenticated("The access token is not valid"),
            },
        )?;
        if data.claims.typ != "access" {
            return Err(Problem::unauthenticated("The access token is not valid"));
        }
        Ok(data.claims)
    }

    /// The CSRF token of a session: an HMAC of its id, so it is bound to that session and cannot be
    /// made up (System B accepted any 64-character string).
    #[must_use]
    pub fn csrf_token(&self, session_id: &str) -> String {
        hex(&self.csrf_mac(session_id).finalize().into_bytes())
    }

    /// Checks a CSRF token against a session, in constant time.
    #[must_use]
    pub fn csrf_token_valid(&self, session_id: &str, token: &str) -> bool {
        let Some(bytes) = unhex(token) else {
            return false;
        };
        self.csrf_mac(session_id).verify_slice(&bytes).is_ok()
    }

    fn csrf_mac(&self, session_id: &str) -> Hmac<Sha256> {
        // An HMAC accepts keys of any length, so this cannot fail; the fallback keeps the type
        // total without a panic path.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.csrf_key)
            .unwrap_or_else(|_| <Hmac<Sha256> as Mac>::new(&Default::default()));
        mac.update(session_id.as_bytes());
        mac
    }
}

/// What an access token says.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: i64,
    /// The role at issue time, for clients' information only: the server uses the account's
    /// role as it is now.
    pub role: String,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Expires at (seconds since the epoch).
    pub exp: i64,
    /// Always `access`.
    pub typ: String,
    /// The account's credential version at issue; a token from before a deactivation or a password
    /// change carries an older one and is refused. (Tokens from before versions existed read 0.)
    #[serde(default)]
    pub ver: i64,
}

/// A 32-byte key for `purpose`, derived from the token secret (the configured one, or the one
/// generated into the data directory), so that instances sharing `MESSAGING_JWT_SECRET` share it
/// and nothing signed for one purpose verifies for another.
///
/// # Errors
/// [`KeyError`] when the generated secret cannot be read or written.
pub fn derived_key(
    secret: Option<&str>,
    data_dir: &Path,
    purpose: &str,
) -> Result<[u8; 32], KeyError> {
    let secret = match secret {
        Some(s) => s.to_owned(),
        None => load_or_create_secret(&data_dir.join("jwt-secret"))?,
    };
    Ok(Sha256::digest(format!("messaging-{purpose}:{secret}").as_bytes()).into())
}

fn load_or_create_secret(path: &Path) -> Result<String, KeyError> {
    let io = |source| KeyError::Io {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read_to_string(path) {
        Ok(s) if !s.trim().is_empty() => return Ok(s.trim().to_owned()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let secret = random_token()?;
    write_private(path, &secret).map_err(io)?;
    Ok(secret)
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

/// 32 random bytes, URL-safe base64.
///
/// # Errors
/// When the system has no randomness.
pub fn random_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// SHA-256 of a token, hex: what the store keeps instead of the token.
#[must_use]
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

/// Hashes a password with argon2id (OWASP minimum parameters, the crate's defaults). Slow on
/// purpose, and 19 MiB of memory: requests hash through [`crate::passwords::PasswordHasher`];
/// this is for start-up and tools.
///
/// # Errors
/// [`KeyError::Hash`] when hashing fails.
pub fn hash_password(password: &str) -> Result<String, KeyError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| KeyError::Hash(e.to_string()))
}

/// The authenticated caller: an active account, as the domain decided from the bearer token or
/// the session cookie (see `messaging_domain::service::accounts::AccountService::authenticate`).
#[derive(Debug, Clone)]
pub struct AuthUser {
    /// Who.
    pub id: UserId,
    /// Their role now.
    pub role: Role,
    /// Their address, for the audit log.
    pub client_addr: Option<String>,
    /// The principal as the domain decided it (the session behind a cookie, the credential
    /// version), for use cases that act on the credential itself (logout, tickets).
    pub principal: Principal,
}

impl AuthUser {
    /// The caller as the domain's actor.
    #[must_use]
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: self.id,
            client_addr: self.client_addr.clone(),
        }
    }
}

/// The client's address: the peer, or behind a trusted proxy the address it forwarded (see
/// [`crate::forwarded`]).
#[must_use]
pub fn client_addr(req: &HttpRequest) -> Option<String> {
    crate::forwarded::request_origin(req)
        .client
        .map(|a| a.to_string())
}

impl FromRequest for AuthUser {
    type Error = Problem;
    type Future = LocalBoxFuture<'static, Result<Self, Problem>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { authenticate(&req).await })
    }
}

/// A bearer token when there is one (exempt from CSRF checks: a browser never adds it by itself);
/// otherwise the session cookie, with, on state-changing requests, the CSRF checks. Whether the
/// account behind either may act is the domain's decision, made the same way for every route.
async fn authenticate(req: &HttpRequest) -> Result<AuthUser, Problem> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| Problem::unauthenticated("Authentication is not configured"))?;
    let credential = if let Some(header) = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or_else(|| Problem::unauthenticated("Missing bearer token"))?;
        let claims = state.tokens.verify_access(token.trim())?;
        Credential::AccessToken {
            user_id: UserId(claims.sub),
            version: claims.ver,
        }
    } else {
        let Some(cookie) = req.cookie(SESSION_COOKIE) else {
            return Err(Problem::unauthenticated("Missing bearer token or session"));
        };
        if is_state_changing(req.method()) {
            check_csrf(req, &state.tokens, cookie.value())?;
        }
        Credential::Session(session_key(cookie.value()))
    };
    // In a task of its own: actix polls a handler's extractors together and drops the others
    // when one fails (a bad body), and a store call dropped in flight must not happen (see
    // `startup::log_request`).
    let accounts = Arc::clone(&state.accounts);
    let principal = actix_web::rt::spawn(async move { accounts.authenticate(credential).await })
        .await
        .map_err(|err| Problem::internal(&err))??;
    Ok(AuthUser {
        id: principal.user_id,
        role: principal.role,
        client_addr: client_addr(req),
        principal,
    })
}

/// The stored key of a session: the hash of its id, never the id.
#[must_use]
pub fn session_key(session_id: &str) -> SessionKey {
    SessionKey(token_hash(session_id))
}

fn is_state_changing(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn csrf_failed(detail: &str) -> Problem {
    Problem::new(
        StatusCode::FORBIDDEN,
        "CSRF_FAILED",
        "CSRF check failed",
        detail,
    )
}

/// A cookie-authenticated state-changing request must come from this site (Origin, or else
/// Sec-Fetch-Site) and carry the session's CSRF token.
fn check_csrf(req: &HttpRequest, keys: &TokenKeys, session_id: &str) -> Result<(), Problem> {
    let headers = req.headers();
    let own_origin = crate::forwarded::request_origin(req).origin();
    match (
        headers.get("origin").and_then(|v| v.to_str().ok()),
        headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()),
    ) {
        (Some(origin), _) if origin == own_origin => {}
        (None, Some("same-origin")) => {}
        _ => return Err(csrf_failed("The request does not come from this site")),
    }
    let token = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| csrf_failed("Missing X-CSRF-Token header"))?;
    if !keys.csrf_token_valid(session_id, token) {
        return Err(csrf_failed(
            "The CSRF token does not belong to this session",
        ));
    }
    Ok(())
}

/// The codes of the 401 answers an authenticated route can give (documented for every one).
pub const UNAUTHENTICATED_CODES: [&str; 4] = [
    "UNAUTHENTICATED",
    "TOKEN_EXPIRED",
    "SESSION_EXPIRED",
    "ACCOUNT_INACTIVE",
];
