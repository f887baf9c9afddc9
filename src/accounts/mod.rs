//! Accounts: registration, sign-in, sessions (access + refresh tokens), API keys
//! for backends, and users.
//! `service` and `sessions` hold the rules and the queries; `loaders` batch lookups;
//! `graphql` is the thin API; `admin` and `audit` (each with its
//! `_graphql`) are staff administration and its log.

pub mod admin;
pub mod admin_graphql;
pub mod api_keys;
pub mod api_keys_graphql;
pub mod attempts;
pub mod audit;
pub mod audit_graphql;
pub mod authority;
pub mod credentials;
pub mod graphql;
pub mod loaders;
pub mod manage;
pub mod service;
pub mod session_admin;
pub mod sessions;

pub use admin::AdminService;
pub use api_keys::ApiKeyService;
pub use attempts::AttemptLimits;
pub use audit::{AuditLog, Staff};
pub use authority::Authority;
pub use service::{AccountService, NewAccount, ProfileChanges};
pub use sessions::{Session, SessionOrigin, SessionService};
