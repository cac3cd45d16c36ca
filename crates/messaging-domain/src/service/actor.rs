//! Who is acting: what every messaging, admin, attachment and people use case is told about its
//! caller.

use crate::user::UserId;

/// Who is acting, and from where (for the audit log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The authenticated user.
    pub user_id: UserId,
    /// The client's address as the server saw it.
    pub client_addr: Option<String>,
}
