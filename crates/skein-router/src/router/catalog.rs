//! The router's function catalog ([`crate::functions`]): loading it, and reloading it in the
//! background after a statement named a function, operator or relation it did not hold.

use std::sync::atomic::Ordering;

use super::Router;
use crate::error::Result;
use crate::functions::load_functions;

impl Router {
    /// Reloads what the classifier knows of functions, operators, views and tables from the
    /// primary's catalog ([`load_functions`]). Runs at connect, after DDL through the router,
    /// from the monitor while unknown, and after a lag sample when a statement named something
    /// the catalog did not hold (at most every `catalog_reload_ms`). Returns how many
    /// functions it knows.
    ///
    /// Errors: the primary cannot be asked (the previous knowledge stays).
    pub async fn reload_functions(&self) -> Result<usize> {
        self.inner
            .catalog_loaded_ms
            .store(self.now_ms(), Ordering::Relaxed);
        let ticket = self.inner.catalog_reloads.fetch_add(1, Ordering::SeqCst) + 1;
        let loaded = match load_functions(&self.inner.cluster.primary).await {
            Ok(l) => l,
            Err(e) => {
                // Logged once per outage: the monitor asks again every tick while it fails.
                if !self.inner.catalog_failing.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        node = self.inner.cluster.primary.name(),
                        code = %e.code(),
                        "reading the function catalog failed (calls and relation reads go to the primary until it is read): {e}"
                    );
                }
                return Err(e);
            }
        };
        if self.inner.catalog_failing.swap(false, Ordering::Relaxed) {
            tracing::info!(
                node = self.inner.cluster.primary.name(),
                "function catalog read again"
            );
        }
        let n = loaded.len();
        // Cleared under the write lock: a classification made with the old knowledge (under
        // the read lock) cannot be stored after the clear.
        let mut functions = self
            .inner
            .functions
            .write()
            .unwrap_or_else(|p| p.into_inner());
        // A reload that started after this one already stored newer knowledge (a table
        // created in between is in it): keep that.
        if self.inner.catalog_stored.load(Ordering::SeqCst) > ticket {
            return Ok(n);
        }
        self.inner.catalog_stored.store(ticket, Ordering::SeqCst);
        *functions = loaded;
        self.inner
            .classified
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        drop(functions);
        Ok(n)
    }

    /// Whether the function catalog has been read from the primary.
    pub fn functions_known(&self) -> bool {
        self.inner
            .functions
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .is_known()
    }

    /// After a classification named something the catalog does not hold, reloads it in the
    /// background (at most every `catalog_reload_ms`, one reload at a time), so a function,
    /// operator, view or table created since becomes known. Needs a tokio runtime (does
    /// nothing outside one).
    pub(super) fn reload_catalog_after_a_miss(&self) {
        let inner = &self.inner;
        if !inner.catalog_missed.load(Ordering::Relaxed) {
            return;
        }
        let since = self
            .now_ms()
            .saturating_sub(inner.catalog_loaded_ms.load(Ordering::Relaxed));
        if since < inner.config.catalog_reload_ms {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if inner.catalog_reloading.swap(true, Ordering::AcqRel) {
            return;
        }
        inner.catalog_missed.store(false, Ordering::Relaxed);
        let router = self.clone();
        runtime.spawn(async move {
            let _ = router.reload_functions().await;
            router
                .inner
                .catalog_reloading
                .store(false, Ordering::Release);
        });
    }
}
