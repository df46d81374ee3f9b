//! TypeScript bindings of the RPC surface, generated from the Rust types with `ts-rs` into
//! one file, `ui/src/lib/bindings.ts`, which is committed. The test at the end of this file
//! fails when that file is out of date; `SKEIN_BLESS=1 cargo test -p skein-console bindings`
//! (or `make bindings`) rewrites it.
//!
//! 64-bit integers become `number`: they arrive as JSON numbers, and every figure Skein sends
//! (ms, bytes, rows, snapshot ids) stays below 2^53.

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
        if let Some(docs) = T::docs() {
            decl.push_str(&docs);
        }
        decl.push_str("export ");
        decl.push_str(&T::decl(self.cfg));
        self.decls.push((T::ident(self.cfg), decl));
        T::visit_dependencies(self);
    }
}

/// The whole bindings file: every type reachable from [`Request`], [`Response`] and
/// [`Event`], sorted by name.
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
    c.decls.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = String::from(
        "// Generated from crates/skein-console/src/rpc.rs by ts-rs. Do not edit by hand:\n\
         // run `make bindings` after changing the Rust types.\n\n",
    );
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
}
