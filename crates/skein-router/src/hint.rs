//! Routing hints: block comments `/* skein:… */` in a statement's text, found with
//! PostgreSQL's own scanner (`pg_query::scan_tokens`, libpg_query), so text that only looks
//! like a hint — inside a string literal, a quoted identifier or a dollar-quoted body — is not
//! one. [`hints`] is the one parser; everything that reads hints goes through it:
//!
//! - the router ([`crate::classify`], rule `hint`): `primary` sends a statement to the
//!   primary; `replica` / `replica=NAME` asks for a replica (that one when it can serve),
//!   which never overrides a write or an unsafe call; any other `skein:` word is taken for a
//!   mistyped hint and sends the statement to the primary, the conservative reading;
//! - the console: `cache` asks for a fresh cache to serve the read, and a `primary` or
//!   `replica` hint keeps the read off the caches;
//! - cache definitions (`skein-lake`): a cache query is judged without its hints
//!   ([`strip_hints`]).
//!
//! Line comments (`-- skein:primary`) are not hints.

use std::ops::Range;

/// One `/* skein:… */` comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hint {
    /// `/* skein:primary */`.
    Primary,
    /// `/* skein:replica */` (`None`) or `/* skein:replica=NAME */` (`Some(NAME)`).
    Replica(Option<String>),
    /// `/* skein:cache */`.
    Cache,
    /// Any other `/* skein:WORD */`: the text after `skein:`, trimmed.
    Unknown(String),
}

impl Hint {
    /// The hint as written (`skein:replica=replica1`).
    pub fn text(&self) -> String {
        match self {
            Hint::Primary => "skein:primary".into(),
            Hint::Replica(None) => "skein:replica".into(),
            Hint::Replica(Some(n)) => format!("skein:replica={n}"),
            Hint::Cache => "skein:cache".into(),
            Hint::Unknown(w) => format!("skein:{w}"),
        }
    }

    /// Whether it says which node serves the statement (`primary` or `replica`).
    pub fn names_a_node(&self) -> bool {
        matches!(self, Hint::Primary | Hint::Replica(_))
    }
}

fn parse(body: &str) -> Option<Hint> {
    let h = body.trim().strip_prefix("skein:")?.trim();
    Some(match h {
        "primary" => Hint::Primary,
        "replica" => Hint::Replica(None),
        "cache" => Hint::Cache,
        _ => match h.split_once('=').map(|(k, v)| (k.trim(), v.trim())) {
            Some(("replica", "")) => Hint::Replica(None),
            Some(("replica", name)) => Hint::Replica(Some(name.to_owned())),
            _ => Hint::Unknown(h.to_owned()),
        },
    })
}

/// Every hint comment of `sql` with its byte range, in order. None when `sql` does not
/// scan (an unterminated literal or comment): such a statement does not parse either, and
/// goes to the primary for that.
fn hint_comments(sql: &str) -> Vec<(Range<usize>, Hint)> {
    if !sql.contains("skein:") {
        return Vec::new();
    }
    let Ok(tokens) = pg_query::scan_tokens(sql) else {
        return Vec::new();
    };
    let comment = pg_query::protobuf::Token::CComment as i32;
    tokens
        .iter()
        .filter(|t| t.token == comment)
        .filter_map(|t| {
            let range = usize::try_from(t.start).ok()?..usize::try_from(t.end).ok()?;
            let text = sql.get(range.clone())?;
            let body = text.strip_prefix("/*")?;
            let body = body.strip_suffix("*/").unwrap_or(body);
            parse(body).map(|h| (range, h))
        })
        .collect()
}

/// The `/* skein:… */` hints of `sql`, in the order they appear (see the module header for
/// what each means and who reads it). Empty when there are none, and for text PostgreSQL's
/// scanner rejects.
///
/// ```
/// use skein_router::hint::{hints, Hint};
/// assert_eq!(
///     hints("/* skein:replica=r1 */ SELECT '/* skein:primary */'"),
///     [Hint::Replica(Some("r1".into()))]
/// );
/// ```
pub fn hints(sql: &str) -> Vec<Hint> {
    hint_comments(sql).into_iter().map(|(_, h)| h).collect()
}

/// `sql` with its hint comments replaced by a space (other comments kept).
pub fn strip_hints(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut at = 0;
    for (range, _) in hint_comments(sql) {
        out.push_str(&sql[at..range.start]);
        out.push(' ');
        at = range.end;
    }
    out.push_str(&sql[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_are_comments_the_scanner_sees() {
        assert_eq!(hints("/* skein:primary */ SELECT 1"), [Hint::Primary]);
        assert_eq!(hints("SELECT 1 /*skein:replica*/"), [Hint::Replica(None)]);
        assert_eq!(
            hints("/* skein: replica = r2 */ SELECT 1"),
            [Hint::Replica(Some("r2".into()))]
        );
        assert_eq!(
            hints("/* skein:replica= */ SELECT 1"),
            [Hint::Replica(None)]
        );
        assert_eq!(
            hints("/* skein:cache */ SELECT 1 /* skein:primry */"),
            [Hint::Cache, Hint::Unknown("primry".into())]
        );
        // Not comments: a literal, a quoted identifier, a dollar-quoted string, a line comment.
        assert!(hints("SELECT '/* skein:primary */'").is_empty());
        assert!(hints(r#"SELECT 1 AS "/* skein:primary */""#).is_empty());
        assert!(hints("SELECT $$ /* skein:primary */ $$").is_empty());
        assert!(hints("SELECT 1 -- skein:primary").is_empty());
        assert!(hints("/* why */ SELECT 1").is_empty());
        assert!(
            hints("SELECT 'open /* skein:primary */").is_empty(),
            "does not scan"
        );
        assert_eq!(Hint::Replica(Some("r1".into())).text(), "skein:replica=r1");
        assert!(Hint::Primary.names_a_node() && !Hint::Cache.names_a_node());
    }

    #[test]
    fn stripping_removes_hints_and_keeps_other_comments() {
        assert_eq!(
            strip_hints("/* skein:primary */ SELECT /* why */ 1"),
            "  SELECT /* why */ 1"
        );
        assert_eq!(strip_hints("SELECT 1 /* open"), "SELECT 1 /* open");
        assert_eq!(
            strip_hints("SELECT '/* skein:cache */' /* skein:cache */"),
            "SELECT '/* skein:cache */'  "
        );
        assert_eq!(strip_hints("SELECT 1"), "SELECT 1");
    }
}
