//! API keys in GraphQL: `ApiKey`, `createApiKey` (the secret, once), `apiKeys`
//! and `revokeApiKey`. The rules live in `api_keys`; the scopes' reach in `crate::schema::scopes`.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::api_keys::{ApiKeyService, CreatedKey, KEY_NOT_FOUND, KeyName, NewApiKey};
use crate::{
    auth::{Scope, Scopes},
    entity::api_keys,
    error::AppError,
    graphql::{
        Connection, ConnectionNode, ContextExt, RelayArgs,
        ids::{self, NodeType},
    },
};

/// What an API key may do. Whatever its scopes, a key never signs in, never
/// manages credentials (passwords, sessions, keys) and never has staff powers.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::auth::Scope")]
pub enum ApiKeyScope {
    /// Read your virtual numbers (`myVirtualNumbers`, `virtualNumber`, `node`).
    ReadNumbers,
    /// Take, change and release virtual numbers.
    WriteNumbers,
    /// Read call logs and statistics, and subscribe to `callLogged`.
    ReadCalls,
    /// Record calls on your numbers (and read back the log just recorded).
    RecordCalls,
}

/// A key a backend sends as `Authorization: Bearer sb_live_…` instead of a
/// person's password. Its secret is shown once, when it is made.
#[derive(Clone)]
pub struct ApiKey(api_keys::Model);

impl From<api_keys::Model> for ApiKey {
    fn from(model: api_keys::Model) -> Self {
        ApiKey(model)
    }
}

impl ConnectionNode for ApiKey {
    const NAME: &'static str = "ApiKey";
}

#[Object]
impl ApiKey {
    /// Opaque global id, for `revokeApiKey`.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::ApiKey, self.0.id)
    }

    /// What the key is for, as you named it.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The key's first characters (`sb_live_` and four more), to tell keys apart.
    async fn token_prefix(&self) -> &str {
        &self.0.token_prefix
    }

    /// What the key may do.
    async fn scopes(&self) -> Vec<ApiKeyScope> {
        Scopes::from_stored(&self.0.scopes)
            .iter()
            .map(ApiKeyScope::from)
            .collect()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the key stops working; `null` if never.
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }

    /// When the key was last used, to the minute; `null` if never.
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }

    /// When the key was revoked; `null` while it stands.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
}

/// A new key and its secret.
#[derive(SimpleObject)]
pub struct CreatedApiKey {
    api_key: ApiKey,
    /// The key itself (`sb_live_…`): store it now; it is never shown again.
    secret: String,
}

impl From<CreatedKey> for CreatedApiKey {
    fn from(created: CreatedKey) -> Self {
        CreatedApiKey {
            api_key: created.key.into(),
            secret: created.secret,
        }
    }
}

/// A key to make.
#[derive(InputObject)]
pub struct CreateApiKeyInput {
    /// What the key is for (1 to 100 characters), such as the backend that uses it.
    name: String,
    /// At least one; duplicates fold.
    scopes: Vec<ApiKeyScope>,
    /// When the key stops working: in the future, at most 366 days away; `null` for never.
    expires_at: Option<DateTime<Utc>>,
}

#[derive(Default)]
pub struct ApiKeyQuery;

#[Object]
impl ApiKeyQuery {
    /// Your API keys, newest first, revoked and expired ones included.
    async fn api_keys(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<ApiKey>, AppError> {
        let viewer = *ctx.viewer()?;
        let request = RelayArgs {
            first,
            after,
            last,
            before,
        }
        .page_request()?;
        let keys = ctx.service::<ApiKeyService>()?.clone();
        let rows = keys.list(&viewer, &request).await?;
        let count = async move { keys.count(&viewer).await };
        Ok(Connection::new(rows, |row| row.id, ApiKey::from, count))
    }
}

#[derive(Default)]
pub struct ApiKeyMutation;

#[Object]
impl ApiKeyMutation {
    /// Makes an API key for a backend. The answer carries its secret, which is
    /// never shown again; at most 50 live keys per user.
    async fn create_api_key(&self, ctx: &Context<'_>, input: CreateApiKeyInput) -> Result<CreatedApiKey, AppError> {
        let viewer = ctx.viewer()?;
        let name = KeyName::parse(&input.name)?;
        let scopes: Scopes = input.scopes.into_iter().map(Scope::from).collect();
        let new = NewApiKey::new(name, scopes, input.expires_at)?;
        Ok(ctx.service::<ApiKeyService>()?.create(viewer, new).await?.into())
    }

    /// Revokes one of your API keys: requests with it stop within seconds, open
    /// subscriptions included. Revoking a revoked key changes nothing.
    async fn revoke_api_key(&self, ctx: &Context<'_>, id: ID) -> Result<ApiKey, AppError> {
        let viewer = ctx.viewer()?;
        let key = ids::decode_existing(&id, NodeType::ApiKey, "id", KEY_NOT_FOUND)?;
        Ok(ctx.service::<ApiKeyService>()?.revoke(viewer, key).await?.into())
    }
}
