//! Authentication: who is asking (`Viewer`), access tokens (JWT), password
//! hashing (argon2id) and the signing secret. No GraphQL and no HTTP here.

pub mod passwords;
pub mod scopes;
pub mod secret;
pub mod tokens;

use std::net::IpAddr;

use uuid::Uuid;

pub use scopes::{Scope, Scopes};

/// The address a request came from: the socket's peer, or what a trusted proxy
/// in front of us says it was (see `TRUSTED_PROXIES`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

/// The `User-Agent` a request came with, if any (recorded with new sessions).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserAgent(pub Option<String>);

/// The signed-in user a request acts for, taken from its access token or API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    pub user_id: Uuid,
    /// Never true for an API key, whoever owns it.
    pub is_staff: bool,
    /// The session the request's token belongs to (none for work the server does itself).
    pub session: Option<Uuid>,
    /// The API key the request came with, if it came with one rather than a session.
    pub api_key: Option<ApiKeyGrant>,
}

/// What an API key lets its bearer do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiKeyGrant {
    pub id: Uuid,
    pub scopes: Scopes,
}

impl Viewer {
    /// Whether this viewer may see and change what `owner_id` owns.
    pub fn may_act_for(&self, owner_id: Uuid) -> bool {
        self.is_staff || self.user_id == owner_id
    }
}
