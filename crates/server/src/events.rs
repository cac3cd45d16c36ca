//! In-process event fan-out behind the domain's `EventPublisher` port: every published event goes to
//! every subscriber (the real-time hub subscribes to it).

use std::sync::Arc;

use messaging_domain::event::DomainEvent;
use messaging_domain::ports::EventPublisher;
use tokio::sync::broadcast;

/// Broadcasts events to in-process subscribers. Publishing never blocks; a subscriber that falls
/// more than the channel's capacity behind misses events and is told so by the channel.
#[derive(Debug, Clone)]
pub struct LocalEvents {
    sender: broadcast::Sender<Arc<DomainEvent>>,
}

impl LocalEvents {
    /// A publisher whose subscribers may lag up to `capacity` events.
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity.max(1));
        Self { sender }
    }

    /// A new subscription to every event published from now on.
    #[must_use]
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<DomainEvent>> {
        self.sender.subscribe()
    }
}

impl EventPublisher for LocalEvents {
    fn publish(&self, event: DomainEvent) {
        // No subscriber is not an error: the stored data stays the truth.
        let _ = self.sender.send(Arc::new(event));
    }
}
