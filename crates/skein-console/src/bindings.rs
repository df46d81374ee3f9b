//! TypeScript bindings of the RPC surface, generated from the Rust types with `ts-rs` into
//! one file, `ui/src/lib/bindings.ts`, which is committed. The test at the end of this file
//! fails when that file is out of date; `SKEIN_BLESS=1 cargo test -p skein-console bindings`
//! (or `make bindings`) rewrites it.
//!
//! 64-bit integers become `number`: they arrive as JSON numbers, and every figure Skein sends
//! (ms, bytes, rows, snapshot ids) stays below 2^53.
//!
//! Besides the types, the file holds values the UI must not copy by hand: every limit of
//! [`crate::limits`] as an `export const` of the same name, and `ERROR_CODES`, every
//! [`skein_core::ErrorCode`] in declaration order (`as const`, so its element type is
//! `ErrorCode`). `JsonValue` (any JSON value) stays exported for code that handles cells and
//! change maps generically; nothing on the wire is typed with it.

use std::collections::HashSet;

use ts_rs::{Config, TypeVisitor, TS};

use crate::rpc::{Event, Request, Response};

/// Where the bindings live, relative to the repository root.
pub const BINDINGS_PATH: &str = "ui/src/lib/bindings.ts";

struct Collect<'a> {
    cfg: &'a Config,
    seen: HashSet<String>,
    decls: Vec<(String, String)>,
}

impl TypeVisitor for Collect<'_> {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        // Dedupe by name: some types (serde_json's `JsonValue`) reach here under several
        // type ids.
        if T::output_path().is_none() || !self.seen.insert(T::ident(self.cfg)) {
            return;
        }
        let mut decl = String::new();
        let docs = T::docs().or_else(|| {
            (T::ident(self.cfg) == "JsonValue").then(|| {
                doc_comment(&[
                    " Any JSON value. Nothing on the wire is typed with it: a `Cell` and a",
                    " snapshot's `changes` are both assignable to it.",
                ])
            })
        });
        if let Some(docs) = docs {
            decl.push_str(&docs);
        }
        decl.push_str("export ");
        decl.push_str(&T::decl(self.cfg));
        self.decls.push((T::ident(self.cfg), decl));
        T::visit_dependencies(self);
    }
}

/// A TypeScript doc comment of `lines`, as ts-rs writes them.
fn doc_comment(lines: &[&str]) -> String {
    let mut out = String::from("/**\n");
    for l in lines {
        out.push_str(" *");
        out.push_str(l.trim_end());
        out.push('\n');
    }
    out.push_str(" */\n");
    out
}

/// The `export const` lines: the limits, then `ERROR_CODES`.
fn constants() -> String {
    let mut out = String::new();
    for l in crate::limits::ALL {
        out.push_str(&doc_comment(l.docs));
        out.push_str(&format!("export const {} = {};\n\n", l.name, l.value));
    }
    out.push_str(&doc_comment(&[
        " Every `ErrorCode`, in the order the Rust enum declares them.",
    ]));
    let codes: Vec<String> = skein_core::ErrorCode::ALL
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect();
    out.push_str(&format!(
        "export const ERROR_CODES = [{}] as const;\n\n",
        codes.join(", ")
    ));
    out
}

/// The whole bindings file: the constants, then every type reachable from [`Request`],
/// [`Response`] and [`Event`] (and `JsonValue`), sorted by name.
pub fn typescript() -> String {
    let cfg = Config::new().with_large_int("number");
    let mut c = Collect {
        cfg: &cfg,
        seen: HashSet::new(),
        decls: Vec::new(),
    };
    c.visit::<Request>();
    c.visit::<Response>();
    c.visit::<Event>();
    c.visit::<serde_json::Value>();
    c.decls.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = String::from(
        "// Generated from crates/skein-console/src/rpc.rs (types, by ts-rs), limits.rs and\n\
         // skein-core's ErrorCode. Do not edit by hand: run `make bindings` after changing them.\n\n",
    );
    out.push_str(&constants());
    for (_, decl) in c.decls {
        out.push_str(&decl);
        out.push_str("\n\n");
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bindings_are_up_to_date() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let path = root.join(BINDINGS_PATH);
        let fresh = typescript();
        if std::env::var_os("SKEIN_BLESS").is_some() {
            std::fs::write(&path, &fresh).expect("writing the bindings");
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == fresh,
            "{BINDINGS_PATH} is out of date with the RPC types: run `make bindings` and commit it"
        );
    }

    #[test]
    fn bindings_declare_the_rpc_enums() {
        let ts = typescript();
        for name in ["Request", "Response", "Event", "ErrorInfo", "LagSample"] {
            assert!(
                ts.contains(&format!("export type {name} =")),
                "{name} is missing from the bindings"
            );
        }
        assert!(!ts.contains("bigint"), "64-bit integers must map to number");
        let mut names: Vec<&str> = ts
            .lines()
            .filter_map(|l| l.strip_prefix("export type "))
            .filter_map(|l| l.split([' ', '<']).next())
            .collect();
        let all = names.len();
        names.dedup();
        assert_eq!(all, names.len(), "a type is declared twice");
    }

    /// The quoted strings of the one line of `ts` that starts with `prefix`.
    fn quoted(ts: &str, prefix: &str) -> Vec<String> {
        let line = ts
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line starts with {prefix}"));
        line.split('"')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn error_codes_list_every_code_of_the_enum() {
        let ts = typescript();
        let listed = quoted(&ts, "export const ERROR_CODES = [");
        let union = quoted(&ts, "export type ErrorCode = ");
        assert_eq!(
            listed, union,
            "ERROR_CODES and the ErrorCode type name the same codes"
        );
        assert_eq!(listed.len(), skein_core::ErrorCode::iter().count());
        assert!(
            ts.contains("] as const;"),
            "a literal tuple, typed ErrorCode"
        );
    }

    #[test]
    fn every_limit_is_an_export_const() {
        let ts = typescript();
        for l in crate::limits::ALL {
            let line = format!("export const {} = {};", l.name, l.value);
            assert!(ts.contains(&line), "{line} is missing from the bindings");
        }
        assert!(ts.contains("export const RUN_QUERY_MAX_ROWS = 10000;"));
        assert!(ts.contains("export type JsonValue ="), "kept for the UI");
    }
}
