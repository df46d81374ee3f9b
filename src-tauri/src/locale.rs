//! A WebKitGTK workaround for the `C.UTF-8` locale (the default of Debian containers and
//! many CI images): WebKitGTK derives the page's language from the `LC_CTYPE` locale by
//! cutting it at the `.`, so `C.UTF-8` becomes the language tag `C`, which is not valid
//! BCP 47. `navigator.language` is then `"C"`, and `new Intl.NumberFormat(navigator.language)`
//! (uPlot does this when its module loads) throws `RangeError: invalid language tag: C`, so
//! the UI never starts and the window stays blank.
//!
//! For a plain `C` or `POSIX` locale WebKitGTK answers `en-US`, so when the effective
//! `LC_CTYPE` is a `C.*` or `POSIX.*` locale the app sets it to plain `C` before GTK starts
//! (measured here: blank window with `LANG=C.UTF-8`; Overview rendered with `LC_CTYPE=C`).
//! GTK and the webview keep working in UTF-8 internally; other locales are left alone.

/// The environment variable to set and its value, given the values of `LC_ALL`,
/// `LC_CTYPE` and `LANG` (the order in which the C library resolves `LC_CTYPE`); `None`
/// when nothing needs to change.
pub fn ctype_override(
    lc_all: Option<&str>,
    lc_ctype: Option<&str>,
    lang: Option<&str>,
) -> Option<(&'static str, &'static str)> {
    let (var, value) = [("LC_ALL", lc_all), ("LC_CTYPE", lc_ctype), ("LANG", lang)]
        .into_iter()
        .find_map(|(var, value)| value.filter(|v| !v.is_empty()).map(|v| (var, v)))?;
    let lower = value.to_ascii_lowercase();
    if !(lower.starts_with("c.") || lower.starts_with("posix.")) {
        return None;
    }
    Some(if var == "LC_ALL" {
        ("LC_ALL", "C")
    } else {
        ("LC_CTYPE", "C")
    })
}

/// Applies [`ctype_override`] to this process's environment. Call it first in `main`, before
/// any thread starts and before GTK reads the locale.
pub fn fix_webkit_language() {
    let get = |name: &str| std::env::var(name).ok();
    let (lc_all, lc_ctype, lang) = (get("LC_ALL"), get("LC_CTYPE"), get("LANG"));
    if let Some((var, value)) =
        ctype_override(lc_all.as_deref(), lc_ctype.as_deref(), lang.as_deref())
    {
        std::env::set_var(var, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_utf8_becomes_plain_c() {
        assert_eq!(
            ctype_override(None, None, Some("C.UTF-8")),
            Some(("LC_CTYPE", "C"))
        );
        assert_eq!(
            ctype_override(None, Some("c.utf8"), Some("de_DE.UTF-8")),
            Some(("LC_CTYPE", "C"))
        );
        assert_eq!(
            ctype_override(Some("POSIX.UTF-8"), None, None),
            Some(("LC_ALL", "C"))
        );
    }

    #[test]
    fn real_and_plain_locales_are_left_alone() {
        assert_eq!(ctype_override(None, None, Some("en_US.UTF-8")), None);
        assert_eq!(ctype_override(None, None, Some("C")), None);
        assert_eq!(ctype_override(Some(""), None, None), None);
        assert_eq!(ctype_override(None, None, None), None);
        // LC_ALL wins over a C.UTF-8 LANG.
        assert_eq!(
            ctype_override(Some("fr_FR.UTF-8"), None, Some("C.UTF-8")),
            None
        );
    }
}
