//! How a command that fails ends: the stable [`ErrorCode`] of its error, the exit status that
//! code maps to ([`exit_status`], the table in the README), and the error on standard error —
//! `skein: <message>` for people, or with `--json` one line `{"code": "...", "message": "..."}`.
//!
//! Standard output only ever holds a command's answer in its documented shape (some commands
//! print an answer and then fail, such as `lake expire` without `--yes`, which prints the
//! preview); the error goes to standard error in both modes, so it never mixes into an answer.
//!
//! The code is found by walking the error's chain for the first error that has one (the
//! engine crates' errors, or a [`Failure`] raised here); an error without one is `Internal`.

use std::process::ExitCode;

use skein_core::{ErrorCode, ErrorInfo};

/// A failure raised by the command line itself, with its code.
#[derive(Debug)]
pub struct Failure {
    /// Stable code.
    pub code: ErrorCode,
    /// What went wrong and how to fix it.
    pub message: String,
    /// An exit status other than the code's ([`exit_status`]): `skein doctor`'s 1 for a
    /// failed check.
    pub status: Option<u8>,
    /// The command printed the failure already (its answer says it, as `cache refresh`'s
    /// ERROR line does): without `--json` nothing more is printed.
    pub shown: bool,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// A [`Failure`] with `code` and `message`, as an `anyhow` error.
pub fn fail(code: ErrorCode, message: impl Into<String>) -> anyhow::Error {
    Failure {
        code,
        message: message.into(),
        status: None,
        shown: false,
    }
    .into()
}

/// The exit status of a failure with `code` (success is 0). Chosen so that the usage errors
/// clap reports itself (status 2) and `InvalidInput` share a status; 1 is what any error
/// without a code gets. The README's table lists the same numbers (a test checks it).
pub const fn exit_status(code: ErrorCode) -> u8 {
    match code {
        ErrorCode::Internal => 1,
        ErrorCode::InvalidInput => 2,
        ErrorCode::NotFound => 3,
        ErrorCode::ConnectionRefused => 4,
        ErrorCode::AuthFailed => 5,
        ErrorCode::Tls => 6,
        ErrorCode::Timeout => 7,
        ErrorCode::PermissionDenied => 8,
        ErrorCode::ReadOnlyReplica => 9,
        ErrorCode::Conflict => 10,
        ErrorCode::QueryFailed => 11,
        ErrorCode::Cancelled => 12,
    }
}

/// The code of `e`: that of the first error in its chain that has one, else `Internal`.
pub fn code_of(e: &anyhow::Error) -> ErrorCode {
    for cause in e.chain() {
        if let Some(f) = cause.downcast_ref::<Failure>() {
            return f.code;
        }
        if let Some(x) = cause.downcast_ref::<skein_console::Error>() {
            return x.code();
        }
        if let Some(x) = cause.downcast_ref::<skein_lake::Error>() {
            return x.code();
        }
        if let Some(x) = cause.downcast_ref::<skein_router::Error>() {
            return x.code();
        }
        if let Some(x) = cause.downcast_ref::<skein_pg::Error>() {
            return x.code();
        }
        if let Some(x) = cause.downcast_ref::<skein_core::Error>() {
            return x.code();
        }
        if let Some(x) = cause.downcast_ref::<skein_sandbox::Error>() {
            return x.code();
        }
        if let Some(x) = cause.downcast_ref::<std::io::Error>() {
            return match x.kind() {
                std::io::ErrorKind::NotFound => ErrorCode::NotFound,
                std::io::ErrorKind::AddrInUse => ErrorCode::Conflict,
                _ => ErrorCode::Internal,
            };
        }
    }
    ErrorCode::Internal
}

/// Prints `e` to standard error (one JSON line with `json`, else `skein: <message>`) and
/// returns the exit status of its code. `command` names it in the log.
pub fn report(e: &anyhow::Error, json: bool, command: &str) -> ExitCode {
    let code = code_of(e);
    let failure = e.chain().find_map(|c| c.downcast_ref::<Failure>());
    let status = failure
        .and_then(|f| f.status)
        .unwrap_or_else(|| exit_status(code));
    let message = format!("{e:#}");
    tracing::warn!(command, %code, status, "command failed: {message}");
    if json {
        let info = ErrorInfo { code, message };
        match serde_json::to_string(&info) {
            Ok(line) => eprintln!("{line}"),
            Err(_) => eprintln!("{{\"code\":\"{code}\",\"message\":\"\"}}"),
        }
    } else if !failure.is_some_and(|f| f.shown) {
        eprintln!("skein: {message}");
    }
    ExitCode::from(status)
}

/// Ends the program for an argument clap rejected: clap's own output and status (2, or 0 for
/// `--help` and `--version`), except that with `--json` among the arguments a rejected command
/// line is reported as `{"code": "InvalidInput", "message": ...}` on standard error.
pub fn usage(e: clap::Error) -> ExitCode {
    let json = std::env::args().skip(1).any(|a| a == "--json");
    if !e.use_stderr() || !json {
        e.exit();
    }
    let rendered = e.render().to_string();
    let first = rendered
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("invalid arguments")
        .trim()
        .trim_start_matches("error: ")
        .to_owned();
    let info = ErrorInfo {
        code: ErrorCode::InvalidInput,
        message: format!("{first} (see skein --help)"),
    };
    if let Ok(line) = serde_json::to_string(&info) {
        eprintln!("{line}");
    }
    ExitCode::from(exit_status(ErrorCode::InvalidInput))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code, in the order of the README's table.
    const ALL_CODES: [ErrorCode; 12] = [
        ErrorCode::Internal,
        ErrorCode::InvalidInput,
        ErrorCode::NotFound,
        ErrorCode::ConnectionRefused,
        ErrorCode::AuthFailed,
        ErrorCode::Tls,
        ErrorCode::Timeout,
        ErrorCode::PermissionDenied,
        ErrorCode::ReadOnlyReplica,
        ErrorCode::Conflict,
        ErrorCode::QueryFailed,
        ErrorCode::Cancelled,
    ];

    #[test]
    fn every_code_has_its_own_status_and_the_readme_lists_them() {
        let mut statuses: Vec<u8> = ALL_CODES.iter().map(|c| exit_status(*c)).collect();
        statuses.sort_unstable();
        statuses.dedup();
        assert_eq!(statuses.len(), ALL_CODES.len(), "two codes share a status");
        assert!(!statuses.contains(&0));
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
                .expect("README.md");
        for code in ALL_CODES {
            let row = format!("| `{code}` | {} |", exit_status(code));
            assert!(readme.contains(&row), "README lacks the row {row}");
        }
    }

    #[test]
    fn the_code_is_found_through_context() {
        use anyhow::Context;
        let inner: anyhow::Result<()> = Err(skein_core::Error::Connect {
            code: ErrorCode::AuthFailed,
            message: "password authentication failed".into(),
        }
        .into());
        let e = inner.context("connecting to primary").expect_err("error");
        assert_eq!(code_of(&e), ErrorCode::AuthFailed);
        assert_eq!(code_of(&anyhow::anyhow!("plain")), ErrorCode::Internal);
        assert_eq!(
            code_of(&fail(ErrorCode::NotFound, "no such cache")),
            ErrorCode::NotFound
        );
    }
}
