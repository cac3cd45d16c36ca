//! What every handler shares.

use std::sync::Arc;

use messaging_domain::AdminService;
use messaging_domain::MessagingService;
use messaging_domain::user::Role;
use messaging_store::Store;

use crate::auth::TokenKeys;
use crate::clock::SystemClock;
use crate::realtime::Hub;

/// The messaging service as the server builds it.
pub type Messaging = MessagingService<Store, Hub, SystemClock>;

/// The attachment use cases as the server builds them.
pub type Attachments = messaging_domain::AttachmentService<
    Store,
    messaging_files::FileStorage,
    messaging_files::ClamdScanner,
    crate::realtime::Hub,
    Store,
    SystemClock,
>;

/// The admin use cases as the server builds them.
pub type Admin = AdminService<Store, Store, Hub, SystemClock>;

/// The account use cases as the server builds them.
pub type AccountUseCases = messaging_domain::service::accounts::AccountService<
    Store,
    Store,
    crate::accounts::StatusCache,
    crate::accounts::Argon2Hasher,
    Hub,
    SystemClock,
>;

/// The directory, patient list, user list and "who am I" use cases.
pub type People = messaging_domain::people::PeopleService<Store, Store, Store>;

/// Shared state, cloned into each worker.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The use cases.
    pub messaging: Arc<Messaging>,
    /// The admin use cases.
    pub admin: Arc<Admin>,
    /// The account use cases (and every request's authentication).
    pub accounts: Arc<AccountUseCases>,
    /// The proxies whose forwarded headers are believed.
    pub trusted_proxies: Arc<crate::forwarded::TrustedProxies>,
    /// The store, for accounts and readiness.
    pub store: Store,
    /// Token signing keys and lifetimes.
    pub tokens: Arc<TokenKeys>,
    /// Role of self-registered users.
    pub default_role: Role,
    /// Real-time delivery to this instance's WebSockets.
    pub hub: Hub,
    /// WebSocket settings.
    pub realtime: Arc<crate::routes::realtime::RealtimeSettings>,
    /// Rate limits per user and action, and per client address for login and registration.
    pub rate_limits: Arc<crate::rate_limit::RateLimits>,
    /// The attachment use cases.
    pub attachments: Arc<Attachments>,
    /// The attachment storage (the local one's links are served by the server).
    pub files: Arc<messaging_files::FileStorage>,
    /// Wakes the scan worker after an upload.
    pub scan_wakeup: Arc<tokio::sync::Notify>,
    /// Where uploads are spooled while they stream in.
    pub upload_dir: std::path::PathBuf,
    /// Finding people and the caller's own account.
    pub people: Arc<People>,
}
