//! Which profile the app opens at start: the first positional command-line argument, else
//! the value of `--profile FILE` (or `--profile=FILE`), else the environment variable
//! [`ENV`]; none of them means no profile (the UI shows its picker).
//!
//! Other flags are ignored rather than refused, so that a launcher adding options of its own
//! (a desktop entry, a test harness) does not stop the app from starting.

use std::ffi::OsString;
use std::path::PathBuf;

/// The environment variable naming a profile file.
pub const ENV: &str = "SKEIN_PROFILE";

/// The profile file to open, from the command-line arguments (without the program name) and
/// the value of [`ENV`]. Empty values count as absent.
pub fn profile_path(
    args: impl IntoIterator<Item = OsString>,
    env: Option<OsString>,
) -> Option<PathBuf> {
    let mut args = args.into_iter();
    let mut flagged = None;
    let mut positional = None;
    while let Some(arg) = args.next() {
        let text = arg.to_string_lossy();
        if text == "--profile" {
            flagged = flagged.or_else(|| args.next());
        } else if let Some(value) = text.strip_prefix("--profile=") {
            flagged = flagged.or_else(|| Some(OsString::from(value)));
        } else if text.starts_with('-') {
            continue;
        } else {
            positional = positional.or(Some(arg));
        }
    }
    positional
        .or(flagged)
        .or(env)
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn positional_argument() {
        let p = profile_path(args(&["a.toml"]), Some("env.toml".into()));
        assert_eq!(p, Some(PathBuf::from("a.toml")));
    }

    #[test]
    fn unknown_flags_are_skipped() {
        let p = profile_path(args(&["--verbose", "a.toml"]), None);
        assert_eq!(p, Some(PathBuf::from("a.toml")));
    }

    #[test]
    fn profile_flag_both_forms() {
        let p = profile_path(args(&["--profile", "b.toml"]), Some("env.toml".into()));
        assert_eq!(p, Some(PathBuf::from("b.toml")));
        let p = profile_path(args(&["--profile=c.toml"]), None);
        assert_eq!(p, Some(PathBuf::from("c.toml")));
    }

    #[test]
    fn environment_then_nothing() {
        let p = profile_path(args(&["--verbose"]), Some("env.toml".into()));
        assert_eq!(p, Some(PathBuf::from("env.toml")));
        assert_eq!(profile_path(args(&[]), Some("".into())), None);
        assert_eq!(profile_path(args(&[]), None), None);
    }
}
