//! The raw baseline: what the two read scenarios cost with no GraphQL in the
//! way. It checks the same access token (HS256, the same issuer, audience and
//! required claims, 5 s leeway), runs the SQL Switchboard runs (sea-orm's
//! statements: every column, the limit bound, the page's numbers in one `IN`
//! query scoped to the owner) and writes the same JSON `data`, byte for byte.
//!
//! It answers `POST /graphql` with a JSON body: a query mentioning `callLogs`
//! gets the first 20 calls with their numbers, any other the first 20 numbers.
//! Not checked (Switchboard does it, with a few seconds of caching): that the
//! token's session still stands. Usage: `raw <database-url> <listen-address>`,
//! with `JWT_SECRET` in the environment.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use sqlx::{AssertSqlSafe, PgPool, Row, SqlitePool};
use uuid::Uuid;

const PAGE: i64 = 20;
const NUMBER_COLUMNS: &str = r#""id", "owner_id", "phone_number", "friendly_name", "friendly_name_folded", "country_code", "is_active", "released_at", "porting_order_id", "created_at", "updated_at""#;
const CALL_COLUMNS: &str = r#""id", "virtual_number_id", "owner_id", "direction", "status", "caller_number", "called_number", "counterpart_number", "counterpart_kind", "counterpart_extension", "started_at", "duration_seconds", "external_id", "created_at", "seq""#;

enum Db {
    Pg(PgPool),
    Lite(SqlitePool),
}

struct AppState {
    db: Db,
    key: DecodingKey,
    validation: Validation,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Claims {
    sub: Uuid,
    sid: Uuid,
    exp: i64,
    iat: i64,
}

#[derive(Deserialize)]
struct GraphqlBody {
    query: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NumberNode {
    id: String,
    phone_number: String,
    is_active: bool,
}

#[derive(Serialize)]
struct PhoneNumber {
    #[serde(rename = "phoneNumber")]
    phone_number: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CallNode {
    id: String,
    started_at: String,
    counterpart_number: Option<String>,
    virtual_number: PhoneNumber,
}

#[derive(Serialize)]
struct Nodes<T> {
    nodes: Vec<T>,
}

#[derive(Serialize)]
struct Data<T> {
    data: T,
}

#[derive(Serialize)]
struct NumbersData {
    #[serde(rename = "myVirtualNumbers")]
    my_virtual_numbers: Nodes<NumberNode>,
}

#[derive(Serialize)]
struct CallsData {
    #[serde(rename = "callLogs")]
    call_logs: Nodes<CallNode>,
}

fn global_id(kind: &str, key: Uuid) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{kind}:{key}"))
}

fn placeholders(pg: bool, from: usize, count: usize) -> String {
    (from..from + count)
        .map(|i| if pg { format!("${i}") } else { "?".to_owned() })
        .collect::<Vec<_>>()
        .join(", ")
}

fn refuse(status: StatusCode, code: &str) -> Response {
    let body = format!(r#"{{"errors":[{{"message":"{code}","extensions":{{"code":"{code}"}}}}]}}"#);
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Maps rows of either backend into values (the row types differ, the code does not).
macro_rules! numbers_from {
    ($rows:expr) => {
        $rows
            .iter()
            .map(|row| {
                Ok::<_, sqlx::Error>((
                    row.try_get::<Uuid, _>("id")?,
                    row.try_get::<String, _>("phone_number")?,
                    row.try_get::<bool, _>("is_active")?,
                ))
            })
            .collect::<Result<Vec<_>, _>>()
    };
}

macro_rules! calls_from {
    ($rows:expr) => {
        $rows
            .iter()
            .map(|row| {
                Ok::<_, sqlx::Error>((
                    row.try_get::<Uuid, _>("id")?,
                    row.try_get::<Uuid, _>("virtual_number_id")?,
                    row.try_get::<DateTime<Utc>, _>("started_at")?,
                    row.try_get::<String, _>("counterpart_number")?,
                    row.try_get::<String, _>("counterpart_kind")?,
                ))
            })
            .collect::<Result<Vec<_>, _>>()
    };
}

async fn numbers(state: &AppState, user: Uuid) -> Result<Vec<u8>, sqlx::Error> {
    let sql = |pg: bool| {
        format!(
            r#"SELECT {NUMBER_COLUMNS} FROM "virtual_numbers" WHERE "virtual_numbers"."owner_id" = {} AND "virtual_numbers"."released_at" IS NULL ORDER BY "virtual_numbers"."id" ASC LIMIT {}"#,
            placeholders(pg, 1, 1),
            placeholders(pg, 2, 1)
        )
    };
    let rows = match &state.db {
        Db::Pg(pool) => numbers_from!(
            sqlx::query(AssertSqlSafe(sql(true)))
                .bind(user)
                .bind(PAGE + 1)
                .fetch_all(pool)
                .await?
        )?,
        Db::Lite(pool) => numbers_from!(
            sqlx::query(AssertSqlSafe(sql(false)))
                .bind(user)
                .bind(PAGE + 1)
                .fetch_all(pool)
                .await?
        )?,
    };
    let nodes = rows
        .into_iter()
        .take(PAGE as usize)
        .map(|(id, phone_number, is_active)| NumberNode {
            id: global_id("VirtualNumber", id),
            phone_number,
            is_active,
        })
        .collect();
    Ok(serde_json::to_vec(&Data {
        data: NumbersData {
            my_virtual_numbers: Nodes { nodes },
        },
    })
    .expect("serialisable"))
}

async fn calls(state: &AppState, user: Uuid) -> Result<Vec<u8>, sqlx::Error> {
    let page_sql = |pg: bool| {
        format!(
            r#"SELECT {CALL_COLUMNS} FROM "call_logs" WHERE "call_logs"."owner_id" = {} ORDER BY "call_logs"."started_at" DESC, "call_logs"."id" DESC LIMIT {}"#,
            placeholders(pg, 1, 1),
            placeholders(pg, 2, 1)
        )
    };
    let mut rows = match &state.db {
        Db::Pg(pool) => calls_from!(
            sqlx::query(AssertSqlSafe(page_sql(true)))
                .bind(user)
                .bind(PAGE + 1)
                .fetch_all(pool)
                .await?
        )?,
        Db::Lite(pool) => calls_from!(
            sqlx::query(AssertSqlSafe(page_sql(false)))
                .bind(user)
                .bind(PAGE + 1)
                .fetch_all(pool)
                .await?
        )?,
    };
    rows.truncate(PAGE as usize);
    let mut wanted: Vec<Uuid> = rows.iter().map(|row| row.1).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let numbers_sql = |pg: bool| {
        format!(
            r#"SELECT {NUMBER_COLUMNS} FROM "virtual_numbers" WHERE "virtual_numbers"."id" IN ({}) AND "virtual_numbers"."owner_id" = {}"#,
            placeholders(pg, 1, wanted.len()),
            placeholders(pg, wanted.len() + 1, 1)
        )
    };
    let numbers: HashMap<Uuid, String> = if wanted.is_empty() {
        HashMap::new()
    } else {
        let found = match &state.db {
            Db::Pg(pool) => {
                let sql = numbers_sql(true);
                let mut query = sqlx::query(AssertSqlSafe(sql));
                for id in &wanted {
                    query = query.bind(*id);
                }
                numbers_from!(query.bind(user).fetch_all(pool).await?)?
            }
            Db::Lite(pool) => {
                let sql = numbers_sql(false);
                let mut query = sqlx::query(AssertSqlSafe(sql));
                for id in &wanted {
                    query = query.bind(*id);
                }
                numbers_from!(query.bind(user).fetch_all(pool).await?)?
            }
        };
        found.into_iter().map(|(id, phone, _)| (id, phone)).collect()
    };
    let nodes = rows
        .into_iter()
        .map(|(id, number_id, started_at, counterpart, kind)| CallNode {
            id: global_id("CallLog", id),
            started_at: started_at.to_rfc3339(),
            counterpart_number: (kind != "withheld").then_some(counterpart),
            virtual_number: PhoneNumber {
                phone_number: numbers.get(&number_id).cloned().unwrap_or_default(),
            },
        })
        .collect();
    Ok(serde_json::to_vec(&Data {
        data: CallsData {
            call_logs: Nodes { nodes },
        },
    })
    .expect("serialisable"))
}

async fn graphql(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
    else {
        return refuse(StatusCode::OK, "UNAUTHENTICATED");
    };
    let claims = match jsonwebtoken::decode::<Claims>(token, &state.key, &state.validation) {
        Ok(data) => data.claims,
        Err(_) => return refuse(StatusCode::OK, "UNAUTHENTICATED"),
    };
    let Ok(request) = serde_json::from_slice::<GraphqlBody>(&body) else {
        return refuse(StatusCode::BAD_REQUEST, "BAD_REQUEST");
    };
    let answer = if request.query.contains("callLogs") {
        calls(&state, claims.sub).await
    } else {
        numbers(&state, claims.sub).await
    };
    match answer {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(error) => {
            eprintln!("raw: {error}");
            refuse(StatusCode::OK, "INTERNAL_SERVER_ERROR")
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .ok_or_else(|| anyhow::anyhow!("usage: raw <database-url> <listen>"))?;
    let listen = args.next().unwrap_or_else(|| "127.0.0.1:8100".to_owned());
    let secret = std::env::var("JWT_SECRET")?;
    // The pool Switchboard opens by default (DATABASE_MAX_CONNECTIONS).
    let connections = 10;
    let db = if url.starts_with("postgres") {
        Db::Pg(
            sqlx::postgres::PgPoolOptions::new()
                .max_connections(connections)
                .connect(&url)
                .await?,
        )
    } else {
        let options: sqlx::sqlite::SqliteConnectOptions = url.parse()?;
        let options = options
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
            .busy_timeout(std::time::Duration::from_secs(10))
            .foreign_keys(true);
        Db::Lite(
            sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(connections)
                .connect_with(options)
                .await?,
        )
    };
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&["switchboard"]);
    validation.set_audience(&["switchboard-api"]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    validation.leeway = 5;
    let state = Arc::new(AppState {
        db,
        key: DecodingKey::from_secret(secret.as_bytes()),
        validation,
    });
    let app = Router::new().route("/graphql", post(graphql)).with_state(state);
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    eprintln!("raw baseline on {listen}");
    axum::serve(listener, app).await?;
    Ok(())
}
