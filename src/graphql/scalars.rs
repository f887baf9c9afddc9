//! `Long`: the 64-bit integer scalar for figures that can pass GraphQL's
//! 32-bit `Int` (counts and duration totals).

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};

/// A 64-bit signed integer (see the scalar's description in the schema).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Long(pub i64);

/// A 64-bit signed integer, sent as a JSON number. Used where a figure can pass
/// 2^31 − 1 (counts, duration totals). Every value this API returns is a count of
/// rows or a sum of call durations (at most 86,400 s each), far below 2^53, so
/// JavaScript's `number` holds it exactly; inputs also accept a decimal string.
#[Scalar(name = "Long")]
impl ScalarType for Long {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::Number(number) => number
                .as_i64()
                .map(Long)
                .ok_or_else(|| InputValueError::custom("not a 64-bit integer")),
            Value::String(text) => text
                .parse()
                .map(Long)
                .map_err(|_| InputValueError::custom("not a 64-bit integer")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::Number(self.0.into())
    }
}

impl From<i64> for Long {
    fn from(value: i64) -> Self {
        Long(value)
    }
}

impl TryFrom<u64> for Long {
    type Error = std::num::TryFromIntError;

    fn try_from(value: u64) -> Result<Self, Self::Error> {
        i64::try_from(value).map(Long)
    }
}

/// A calendar date (see the scalar's description in the schema).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date(pub chrono::NaiveDate);

/// A calendar date without a time or zone, written `YYYY-MM-DD` (ISO 8601),
/// such as a port's FOC date.
#[Scalar(
    name = "Date",
    specified_by_url = "https://www.rfc-editor.org/rfc/rfc3339#section-5.6"
)]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(Date)
                .map_err(|_| InputValueError::custom("not a date written YYYY-MM-DD")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}
