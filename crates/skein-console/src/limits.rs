//! The limits the RPC surface enforces, in one place: page sizes, row and session caps, and
//! the timeouts a front end waits out or shows. Each is a Rust constant, used where the limit
//! is enforced, and each is exported to the UI as an `export const` of the same name in the
//! generated bindings ([`crate::bindings`]), so the UI never copies a number.

/// One limit as the bindings export it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// The constant's name (`SNAPSHOTS_PAGE_MAX`).
    pub name: &'static str,
    /// Its value.
    pub value: u64,
    /// Its doc comment, one string per line.
    pub docs: &'static [&'static str],
}

/// Declares each limit as a `pub const` and lists them all in [`ALL`], so a limit cannot be
/// added without reaching the bindings.
macro_rules! limits {
    ($( $(#[doc = $doc:literal])* $name:ident: $ty:ty = $value:expr; )*) => {
        $( $(#[doc = $doc])* pub const $name: $ty = $value; )*

        /// Every limit of this module, in declaration order.
        pub const ALL: &[Limit] = &[
            $( Limit { name: stringify!($name), value: $name as u64, docs: &[$($doc),*] }, )*
        ];
    };
}

limits! {
    /// Snapshots one `snapshots` page holds at most: its `limit` is 1 to this.
    SNAPSHOTS_PAGE_MAX: u32 = 500;
    /// Rows one `time_travel` page holds at most: its `limit` is 1 to this.
    TIME_TRAVEL_PAGE_MAX: u32 = 1000;
    /// Rows a `run_query` returns at most: its `max_rows` is clamped to 1 to this (the rest
    /// are counted in `row_count`, and `truncated` says so).
    RUN_QUERY_MAX_ROWS: u32 = 10_000;
    /// Workbench routing sessions kept at once; a new one past this drops the least recently
    /// used (with its pinned connection and read-your-writes position).
    WORKBENCH_SESSIONS_MAX: usize = 64;
    /// Maintenance jobs `jobs` lists at most (the newest; older ones fall off).
    JOBS_KEPT: usize = 50;
    /// Recently opened profiles remembered (`profiles`' `recent`).
    RECENT_PROFILES_MAX: usize = 10;
    /// Each step of a `diagnose` (DNS, TCP, TLS, login, …) waits this long at most, ms.
    DIAGNOSE_STEP_TIMEOUT_MS: u64 = 5_000;
    /// The console's work timeout, ms: lake reads, fingerprints, refreshes and a Workbench
    /// statement fail with `Timeout` past it (a statement is cancelled on its server first).
    /// The desktop app and `skein serve` run with this default.
    WORK_TIMEOUT_MS: u64 = 60_000;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_limit_is_listed_once_with_docs() {
        let mut names: Vec<&str> = ALL.iter().map(|l| l.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len(), "a limit is listed twice");
        assert!(ALL.iter().all(|l| !l.docs.is_empty() && l.value > 0));
        assert_eq!(
            ALL.iter().find(|l| l.name == "RUN_QUERY_MAX_ROWS"),
            Some(&Limit {
                name: "RUN_QUERY_MAX_ROWS",
                value: 10_000,
                docs: ALL[2].docs
            })
        );
    }
}
