//! Helpers shared by the console's tests against real servers: a sandbox with an `App` on it
//! (the console closed before the sandbox stops), and console options that tick fast.
//!
//! Each test target uses some of these; the rest would be dead code there.
#![allow(dead_code)]

use std::time::Duration;

use skein_console::{App, ConsoleOptions};
use skein_sandbox::ScratchSandbox;

/// A sandbox and the app on it: the console is closed, then the sandbox stopped and removed,
/// when the test ends, pass or fail.
pub struct Stack {
    /// Stopped and removed when dropped, after the console is closed.
    pub sandbox: ScratchSandbox,
    pub app: App,
}

impl Drop for Stack {
    fn drop(&mut self) {
        if let Some(c) = self.app.console() {
            c.close();
        }
    }
}

/// A sample every 250 ms, the caches looked at every 500 ms, a minute of history, nothing
/// kept on disk.
pub fn fast() -> ConsoleOptions {
    ConsoleOptions {
        lag_interval: Some(Duration::from_millis(250)),
        cache_interval: Duration::from_millis(500),
        retention: Duration::from_secs(60),
        full_resolution: Duration::from_secs(30),
        work_timeout: Duration::from_secs(30),
        scheduler_max: 2,
        persist_lag: false,
    }
}

/// [`fast`], keeping the lag and alert history under the state directory.
pub fn fast_persisted() -> ConsoleOptions {
    ConsoleOptions {
        persist_lag: true,
        ..fast()
    }
}
