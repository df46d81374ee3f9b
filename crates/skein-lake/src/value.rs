//! DuckDB values as JSON, for rows shown in a table or printed with `--json`.

use duckdb::types::{TimeUnit, Value};
use serde_json::Value as Json;

/// Converts one DuckDB value to JSON. Decimals and 128-bit integers become strings so no
/// digit is lost; timestamps become RFC 3339 text in UTC.
pub(crate) fn to_json(v: Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Boolean(b) => Json::Bool(b),
        Value::TinyInt(i) => i.into(),
        Value::SmallInt(i) => i.into(),
        Value::Int(i) => i.into(),
        Value::BigInt(i) => i.into(),
        Value::UTinyInt(i) => i.into(),
        Value::USmallInt(i) => i.into(),
        Value::UInt(i) => i.into(),
        Value::UBigInt(i) => i.into(),
        Value::HugeInt(i) => Json::String(i.to_string()),
        Value::Float(f) => {
            serde_json::Number::from_f64(f64::from(f)).map_or(Json::Null, Json::Number)
        }
        Value::Double(f) => serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number),
        Value::Decimal(d) => Json::String(d.to_string()),
        Value::Text(s) => Json::String(s),
        Value::Blob(b) => Json::String(format!(
            "\\x{}",
            b.iter().map(|x| format!("{x:02x}")).collect::<String>()
        )),
        Value::Timestamp(unit, n) => {
            let micros = match unit {
                TimeUnit::Second => n * 1_000_000,
                TimeUnit::Millisecond => n * 1_000,
                TimeUnit::Microsecond => n,
                TimeUnit::Nanosecond => n / 1_000,
            };
            chrono::DateTime::from_timestamp_micros(micros).map_or(Json::Null, |t| {
                Json::String(t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
            })
        }
        Value::Date32(days) => chrono::NaiveDate::from_num_days_from_ce_opt(days + 719_163)
            .map_or(Json::Null, |d| Json::String(d.to_string())),
        Value::List(items) | Value::Array(items) => {
            Json::Array(items.into_iter().map(to_json).collect())
        }
        other => Json::String(format!("{other:?}")),
    }
}
