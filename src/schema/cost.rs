//! What each field of this schema costs, for the request guard's calculated
//! cost (see the README's Security section for the figures of typical queries).

use async_graphql::Value;
use chrono::{DateTime, Utc};

use crate::{
    calls::periods::MAX_BUCKETS,
    graphql::cost::{Arguments, FieldCost},
    paging::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE},
};

/// A count over the filtered rows (`totalCount`).
pub const COUNT_COST: u64 = 10;
/// An aggregate over the filtered rows (`callStats`).
pub const STATS_COST: u64 = 50;
/// Buckets of a report that one point pays for (each is one row of an index scan).
pub const BUCKETS_PER_POINT: u64 = 10;
/// What each phone number of a porting request adds: its parse (up to 10 µs)
/// and its share of the batched lookups and, for an order, of the writes.
pub const PORTING_NUMBER_COST: u64 = 1;
/// A porting check's own work: two batched lookups.
pub const PORTABILITY_CHECK_COST: u64 = 2;
/// Creating porting orders: a transaction that locks, checks and writes.
pub const PORTING_ORDER_COST: u64 = 10;
/// A password hash (argon2id, about 50 ms of a core): `login`, `register`, `refresh`,
/// `createUser`, `resetPassword`.
pub const PASSWORD_COST: u64 = 100;

const PAGE_ITEMS: &[&str] = &["edges", "nodes"];
const BUCKETS: &[&str] = &["buckets"];
const CELLS: &[&str] = &["cells"];
/// Cells of `callHeatmap`: every hour of every weekday.
const HEATMAP_CELLS: u64 = 7 * 24;

/// The cost of one field of this schema.
pub fn field_cost(name: &str, arguments: &Arguments<'_>) -> FieldCost {
    match name {
        "myVirtualNumbers" | "virtualNumbers" | "callLogs" | "users" | "auditEvents" | "myPortingOrders"
        | "portingOrders" | "events" => FieldCost {
            own: 1,
            repeat: page_size(arguments),
            repeated: PAGE_ITEMS,
        },
        "totalCount" => FieldCost {
            own: COUNT_COST,
            ..FieldCost::PLAIN
        },
        "callStats" => FieldCost {
            own: STATS_COST,
            repeat: buckets(arguments).div_ceil(BUCKETS_PER_POINT),
            repeated: BUCKETS,
        },
        // A grouped aggregate, paged like a list.
        "callBreakdown" => FieldCost {
            own: STATS_COST,
            repeat: page_size(arguments),
            repeated: PAGE_ITEMS,
        },
        "callHeatmap" => FieldCost {
            own: STATS_COST,
            repeat: HEATMAP_CELLS.div_ceil(BUCKETS_PER_POINT),
            repeated: CELLS,
        },
        // Priced by the numbers they parse and look up, so that aliases cannot
        // multiply a hundred numbers' work for the price of one field.
        "checkPortability" => {
            let numbers = list_length(arguments.get("phoneNumbers"));
            FieldCost {
                own: PORTABILITY_CHECK_COST + PORTING_NUMBER_COST * numbers,
                // One answer per number.
                repeat: numbers,
                repeated: FieldCost::EVERY_CHILD,
            }
        }
        "createPortingOrder" => FieldCost {
            own: PORTING_ORDER_COST
                + PORTING_NUMBER_COST
                    * list_length(arguments.get("input").and_then(|input| match input {
                        Value::Object(mut fields) => fields.shift_remove("phoneNumbers"),
                        _ => None,
                    })),
            ..FieldCost::PLAIN
        },
        "login" | "register" | "refresh" | "createUser" | "resetPassword" => FieldCost {
            own: PASSWORD_COST,
            ..FieldCost::PLAIN
        },
        _ => FieldCost::PLAIN,
    }
}

/// Items a list argument holds (a single value stands for a list of one; the
/// validation that follows refuses anything else).
fn list_length(value: Option<Value>) -> u64 {
    match value {
        Some(Value::List(items)) => items.len() as u64,
        Some(Value::Null) | None => 0,
        Some(_) => 1,
    }
}

/// Items a page can hold: `first` or `last` (0 to 100), 20 without either.
fn page_size(arguments: &Arguments<'_>) -> u64 {
    let size = arguments.integer("first").or_else(|| arguments.integer("last"));
    size.map_or(DEFAULT_PAGE_SIZE, |size| {
        u64::try_from(size).unwrap_or(MAX_PAGE_SIZE).min(MAX_PAGE_SIZE)
    })
}

/// Buckets a `callStats` can return: worked out from its range when the filter
/// bounds it on both sides, otherwise as many as it may ever return.
fn buckets(arguments: &Arguments<'_>) -> u64 {
    let Some(Value::Enum(period)) = arguments.get("groupBy") else {
        return 0;
    };
    let period_seconds: i64 = match period.as_str() {
        "HOUR" => 3_600,
        "DAY" => 86_400,
        "WEEK" => 7 * 86_400,
        // The shortest month, so the estimate never falls short.
        _ => 28 * 86_400,
    };
    let instant = |filter: &Value, name: &str| match filter {
        Value::Object(fields) => match fields.get(name) {
            Some(Value::String(text)) => text.parse::<DateTime<Utc>>().ok(),
            _ => None,
        },
        _ => None,
    };
    let most = MAX_BUCKETS as u64;
    let Some(filter) = arguments.get("filter") else {
        return most;
    };
    match (instant(&filter, "startedAfter"), instant(&filter, "startedBefore")) {
        (Some(after), Some(before)) if before > after => {
            let periods = (before - after).num_seconds() / period_seconds + 2;
            u64::try_from(periods).unwrap_or(most).min(most)
        }
        (Some(_), Some(_)) => 0,
        _ => most,
    }
}
