//! The rollup tables behind `callStats`: `call_rollups` (one row per owner and
//! quarter hour, UTC) and `call_number_rollups` (one row per virtual number
//! and quarter hour), and the same two per UTC hour (`call_hour_rollups`,
//! `call_number_hour_rollups`, migration 000024). Each row holds, side by side, the number of calls of
//! every direction × status × counterpart kind, and the talk time of every
//! direction × counterpart kind (only completed calls have talk time), so any
//! combination of those filters is a sum of columns over a few thousand rows.

use sea_orm::ActiveEnum;

use super::call_logs::{CallDirection, CallStatus, CounterpartKind};

/// The length of one rollup bucket: every offset of every current IANA zone is
/// a whole number of quarter hours, so local hours and days are whole buckets.
pub const BUCKET_SECONDS: i64 = 900;

/// The length of one hourly bucket: four quarter hours.
pub const HOUR_SECONDS: i64 = 3_600;

/// Per owner: `(owner_id, bucket_start)`.
pub const OWNER_TABLE: &str = "call_rollups";
/// Per number: `(virtual_number_id, bucket_start)`, with `owner_id`.
pub const NUMBER_TABLE: &str = "call_number_rollups";
/// Per owner and UTC hour, the same columns.
pub const OWNER_HOUR_TABLE: &str = "call_hour_rollups";
/// Per number and UTC hour, the same columns.
pub const NUMBER_HOUR_TABLE: &str = "call_number_hour_rollups";

/// Per number, every call it ever had: `(virtual_number_id)`, with `owner_id`
/// and `calls` (migration 000022).
pub const TOTALS_TABLE: &str = "call_number_totals";

/// Each figure of `callStats` and the generated column holding it for every
/// call of the row (the sum of its fine columns; migration 000021).
pub const TOTAL_COLUMNS: [(&str, &str); 6] = [
    ("total_calls", "t_calls"),
    ("inbound_calls", "t_inbound"),
    ("outbound_calls", "t_outbound"),
    ("completed_calls", "t_completed"),
    ("missed_calls", "t_missed"),
    ("total_duration_seconds", "t_duration"),
];

/// The column counting calls of one direction, status and counterpart kind.
pub fn count_column(direction: CallDirection, status: CallStatus, kind: CounterpartKind) -> String {
    format!("n_{}_{}_{}", direction.to_value(), status.to_value(), kind.to_value())
}

/// The column summing the talk time of one direction and counterpart kind.
pub fn duration_column(direction: CallDirection, kind: CounterpartKind) -> String {
    format!("d_{}_{}", direction.to_value(), kind.to_value())
}
