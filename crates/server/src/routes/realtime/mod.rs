//! Real-time routes: the WebSocket itself (`/ws`, and System A's `/ws/messages` and
//! `/api/v1/ws/messages`), tickets for browsers, and presence.

pub mod presence;
pub mod ticket;
pub mod ws;

use std::time::Duration;

use crate::realtime::socket::KeepAlive;
use crate::settings::Settings;

/// What the WebSocket routes need from the settings.
#[derive(Debug, Clone)]
pub struct RealtimeSettings {
    /// Origins (besides the server's own) whose pages may connect.
    pub allowed_origins: Vec<String>,
    /// Pings and idle timeout.
    pub keep_alive: KeepAlive,
    /// How long a ticket stays redeemable, in seconds.
    pub ticket_secs: u32,
}

impl RealtimeSettings {
    /// From the server's settings.
    #[must_use]
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            allowed_origins: settings
                .ws_allowed_origins
                .iter()
                .map(|o| o.trim().trim_end_matches('/').to_owned())
                .filter(|o| !o.is_empty())
                .collect(),
            keep_alive: KeepAlive {
                ping_every: Duration::from_secs(u64::from(settings.ws_ping_secs.max(1))),
                idle_after: Duration::from_secs(u64::from(settings.ws_idle_secs.max(1))),
            },
            ticket_secs: settings.ws_ticket_secs.max(1),
        }
    }
}
