//! Whether WebKitGTK composites the page with OpenGL, decided before GTK starts.
//!
//! WebKitGTK draws a page in "accelerated compositing" mode by default: every layer (each
//! chart's canvas among them) becomes an OpenGL texture. With a GPU those live in video memory.
//! Without one — a virtual machine, a remote desktop, a container, Xvfb — Mesa runs OpenGL on
//! the CPU (llvmpipe), and the textures, the rasterizer's tile caches and its compiled shaders
//! all live in the web process's own memory. Measured on the 16-replica Replicas page (18 live
//! charts) under Xvfb with llvmpipe: the web process held 392 MB composited and 212 MB not
//! (the empty window: 264 MB and 181 MB), with the same pixels on screen. So when the machine
//! has no GPU, the app turns compositing off (`WEBKIT_DISABLE_COMPOSITING_MODE=1`, WebKitGTK's
//! own switch, inherited by the web process it starts).
//!
//! `SKEIN_WEBKIT_COMPOSITING` overrides the choice: `on` keeps WebKitGTK's default, `off`
//! turns compositing off, `auto` (the default, also for an empty or unknown value) decides as
//! above. A `WEBKIT_DISABLE_COMPOSITING_MODE` the user already set is left as it is.

use std::path::Path;

/// The environment variable that overrides the choice.
pub const ENV: &str = "SKEIN_WEBKIT_COMPOSITING";
/// WebKitGTK's switch: any value turns accelerated compositing off.
pub const WEBKIT_SWITCH: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";

/// What decided, for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// `WEBKIT_DISABLE_COMPOSITING_MODE` was already set: left alone.
    UserSwitch,
    /// `SKEIN_WEBKIT_COMPOSITING=on`: WebKitGTK's default.
    ForcedOn,
    /// `SKEIN_WEBKIT_COMPOSITING=off`.
    ForcedOff,
    /// A GPU render node exists and software OpenGL is not forced: WebKitGTK's default.
    Gpu,
    /// No GPU render node under `/dev/dri`, or `LIBGL_ALWAYS_SOFTWARE` is set: off.
    SoftwareGl,
}

impl Choice {
    /// Whether the app sets `WEBKIT_DISABLE_COMPOSITING_MODE=1`.
    pub fn disables(self) -> bool {
        matches!(self, Choice::ForcedOff | Choice::SoftwareGl)
    }
}

/// The choice, given `SKEIN_WEBKIT_COMPOSITING`, whether `WEBKIT_DISABLE_COMPOSITING_MODE` is
/// set, whether `LIBGL_ALWAYS_SOFTWARE` asks for software OpenGL (set to anything but `0` or
/// empty) and whether a GPU render node exists.
pub fn choose(
    setting: Option<&str>,
    user_switch: bool,
    libgl_software: Option<&str>,
    has_render_node: bool,
) -> Choice {
    if user_switch {
        return Choice::UserSwitch;
    }
    match setting.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        Some("on") => return Choice::ForcedOn,
        Some("off") => return Choice::ForcedOff,
        _ => {}
    }
    let software = libgl_software.is_some_and(|v| !v.is_empty() && v != "0");
    if software || !has_render_node {
        Choice::SoftwareGl
    } else {
        Choice::Gpu
    }
}

/// Whether `dir` (normally `/dev/dri`) holds a DRM render node (`renderD128`, …): the device
/// Mesa opens to draw OpenGL on a GPU.
pub fn has_render_node(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
        })
        .unwrap_or(false)
}

/// Applies [`choose`] to this process's environment and answers the choice. Call it in
/// `main` before any thread starts and before GTK starts.
pub fn apply() -> Choice {
    let choice = choose(
        std::env::var(ENV).ok().as_deref(),
        std::env::var_os(WEBKIT_SWITCH).is_some(),
        std::env::var("LIBGL_ALWAYS_SOFTWARE").ok().as_deref(),
        has_render_node(Path::new("/dev/dri")),
    );
    if choice.disables() {
        std::env::set_var(WEBKIT_SWITCH, "1");
    }
    choice
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_gpu_turns_compositing_off() {
        assert_eq!(choose(None, false, None, false), Choice::SoftwareGl);
        assert_eq!(choose(Some("auto"), false, None, false), Choice::SoftwareGl);
        assert_eq!(choose(Some(""), false, Some("1"), true), Choice::SoftwareGl);
        assert!(Choice::SoftwareGl.disables());
    }

    #[test]
    fn a_gpu_keeps_webkits_default() {
        assert_eq!(choose(None, false, None, true), Choice::Gpu);
        assert_eq!(choose(None, false, Some("0"), true), Choice::Gpu);
        assert!(!Choice::Gpu.disables());
    }

    #[test]
    fn the_setting_and_the_users_own_switch_win() {
        assert_eq!(choose(Some("ON"), false, None, false), Choice::ForcedOn);
        assert_eq!(choose(Some("off"), false, None, true), Choice::ForcedOff);
        assert_eq!(choose(Some("off"), true, None, false), Choice::UserSwitch);
        assert!(!Choice::UserSwitch.disables());
        assert!(!Choice::ForcedOn.disables());
    }

    #[test]
    fn render_nodes_are_found_by_name() -> std::io::Result<()> {
        let dir = std::env::temp_dir().join(format!("skein-dri-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        assert!(!has_render_node(&dir));
        std::fs::write(dir.join("card0"), b"")?;
        assert!(!has_render_node(&dir));
        std::fs::write(dir.join("renderD128"), b"")?;
        assert!(has_render_node(&dir));
        std::fs::remove_dir_all(&dir)?;
        assert!(!has_render_node(&dir));
        Ok(())
    }
}
