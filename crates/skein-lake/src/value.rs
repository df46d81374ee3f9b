//! DuckDB values as [`Cell`]s, for rows shown in a table or printed with `--json`.

use duckdb::types::{TimeUnit, Value};
use serde::{Deserialize, Serialize};

/// One value of a row read from the lake, serialised as plain JSON: `null` (SQL NULL, or a
/// float that is not finite), `true`/`false`, a number (integers up to 64 bits signed, and
/// floats), a string (text; and, so no digit is lost, decimals, 128-bit integers and unsigned
/// integers past `i64::MAX`; timestamps as RFC 3339 in UTC, dates as `YYYY-MM-DD`, blobs as
/// `\x` hex, any other type as DuckDB's debug text), or an array of cells (lists and arrays).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(untagged)]
pub enum Cell {
    /// SQL NULL.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer that fits in `i64`.
    Int(i64),
    /// A finite float.
    Float(f64),
    /// Text, or a value written as text (see the type's docs).
    Text(String),
    /// A list or an array.
    List(Vec<Cell>),
}

impl Cell {
    /// The integer, for [`Cell::Int`].
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Cell::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The text, for [`Cell::Text`].
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Cell::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The cell as one line of text: `None` for NULL, text as is, anything else as its JSON.
    pub fn to_text(&self) -> Option<String> {
        match self {
            Cell::Null => None,
            Cell::Text(s) => Some(s.clone()),
            other => Some(serde_json::to_string(other).unwrap_or_default()),
        }
    }
}

fn float(f: f64) -> Cell {
    if f.is_finite() {
        Cell::Float(f)
    } else {
        Cell::Null
    }
}

/// Converts one DuckDB value to a cell (see [`Cell`] for what becomes what).
pub(crate) fn to_cell(v: Value) -> Cell {
    match v {
        Value::Null => Cell::Null,
        Value::Boolean(b) => Cell::Bool(b),
        Value::TinyInt(i) => Cell::Int(i.into()),
        Value::SmallInt(i) => Cell::Int(i.into()),
        Value::Int(i) => Cell::Int(i.into()),
        Value::BigInt(i) => Cell::Int(i),
        Value::UTinyInt(i) => Cell::Int(i.into()),
        Value::USmallInt(i) => Cell::Int(i.into()),
        Value::UInt(i) => Cell::Int(i.into()),
        Value::UBigInt(i) => i64::try_from(i).map_or_else(|_| Cell::Text(i.to_string()), Cell::Int),
        Value::HugeInt(i) => Cell::Text(i.to_string()),
        Value::Float(f) => float(f64::from(f)),
        Value::Double(f) => float(f),
        Value::Decimal(d) => Cell::Text(d.to_string()),
        Value::Text(s) => Cell::Text(s),
        Value::Blob(b) => Cell::Text(format!(
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
            chrono::DateTime::from_timestamp_micros(micros).map_or(Cell::Null, |t| {
                Cell::Text(t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
            })
        }
        Value::Date32(days) => chrono::NaiveDate::from_num_days_from_ce_opt(days + 719_163)
            .map_or(Cell::Null, |d| Cell::Text(d.to_string())),
        Value::List(items) | Value::Array(items) => {
            Cell::List(items.into_iter().map(to_cell).collect())
        }
        other => Cell::Text(format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_plain_json_and_read_back() {
        let row = vec![
            to_cell(Value::Null),
            to_cell(Value::Boolean(true)),
            to_cell(Value::Int(-3)),
            to_cell(Value::UBigInt(u64::MAX)),
            to_cell(Value::Double(1.5)),
            to_cell(Value::Double(f64::NAN)),
            to_cell(Value::Text("a".into())),
            to_cell(Value::List(vec![Value::Int(1), Value::Null])),
        ];
        let json = serde_json::to_string(&row).expect("cells serialise");
        assert_eq!(
            json,
            r#"[null,true,-3,"18446744073709551615",1.5,null,"a",[1,null]]"#
        );
        let back: Vec<Cell> = serde_json::from_str(&json).expect("cells deserialise");
        assert_eq!(back, row);
        assert_eq!(row[2].as_i64(), Some(-3));
        assert_eq!(row[6].as_str(), Some("a"));
        assert_eq!(row[7].to_text().as_deref(), Some("[1,null]"));
        assert_eq!(row[0].to_text(), None);
    }
}
