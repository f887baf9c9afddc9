//! Call logs in GraphQL: the types (`types`), `callLogs` and the nested
//! `VirtualNumber.callLogs` connection (`queries`), `recordCall` (`record`),
//! `callStats` (`stats`), `callBreakdown` and `callHeatmap` (`reports`), the
//! CSV export link (`exports`) and `callLogged` (`subscription`).

pub mod exports;
pub mod queries;
pub mod record;
pub mod reports;
pub mod stats;
pub mod subscription;
pub mod types;

pub use exports::ExportMutation;
pub use queries::{CallQuery, number_call_logs};
pub use record::CallMutation;
pub use reports::ReportQuery;
pub use stats::StatsQuery;
pub use subscription::CallSubscription;
pub use types::{CallLog, CallLogFilter};
