//! A throwaway sandbox for one test or benchmark: its own directory under `/tmp`, no demo
//! data unless asked for, stopped and removed when dropped (pass or fail).

use std::ops::Deref;
use std::path::PathBuf;

use crate::error::Result;
use crate::sandbox::{Cascade, Sandbox, SandboxOptions, SandboxSecurity};

/// A sandbox that goes away when dropped. Derefs to [`Sandbox`].
#[derive(Debug)]
pub struct ScratchSandbox(Sandbox);

impl ScratchSandbox {
    /// Starts a primary and `replicas` streaming replicas in `/tmp/skein-<tag>-<pid>`, with an
    /// empty lake and no demo data.
    pub async fn up(tag: &str, replicas: usize) -> Result<ScratchSandbox> {
        ScratchSandbox::up_with(tag, replicas, SandboxSecurity::default()).await
    }

    /// [`ScratchSandbox::up`] secured as `security` says (TLS, client certificates, the
    /// profile's role).
    pub async fn up_with(
        tag: &str,
        replicas: usize,
        security: SandboxSecurity,
    ) -> Result<ScratchSandbox> {
        ScratchSandbox::start(tag, replicas, 0.0, security, Vec::new()).await
    }

    /// [`ScratchSandbox::up_with`] with cascading replicas: each [`Cascade`] streams from
    /// another replica instead of the primary (`replica2` from `replica1`).
    /// Errors: as [`Sandbox::up_with`], and `InvalidInput` for a cascade that names no replica
    /// of the sandbox or an upstream built after its replica.
    pub async fn up_cascade(
        tag: &str,
        replicas: usize,
        cascade: Vec<Cascade>,
        security: SandboxSecurity,
    ) -> Result<ScratchSandbox> {
        ScratchSandbox::start(tag, replicas, 0.0, security, cascade).await
    }

    /// [`ScratchSandbox::up`] with the TPC-H demo data at `scale` (0.01 ≈ 87k rows, 0.1 ≈
    /// 866k rows) in the `tpch` database, as `skein sandbox up --scale` loads it.
    /// Errors: as [`Sandbox::up`], and `InvalidInput` for a scale other than 0 or 0.01–10.
    pub async fn up_with_tpch(tag: &str, replicas: usize, scale: f64) -> Result<ScratchSandbox> {
        ScratchSandbox::start(tag, replicas, scale, SandboxSecurity::default(), Vec::new()).await
    }

    /// [`ScratchSandbox::up`] with the lake's data in a three-node Garage cluster
    /// (`s3://lake/data/`), whatever `SKEIN_TEST_OBJECT_STORE` says.
    pub async fn up_object_store(tag: &str, replicas: usize) -> Result<ScratchSandbox> {
        ScratchSandbox::start_with(
            tag,
            replicas,
            0.0,
            SandboxSecurity::default(),
            Vec::new(),
            true,
        )
        .await
    }

    async fn start(
        tag: &str,
        replicas: usize,
        scale: f64,
        security: SandboxSecurity,
        cascade: Vec<Cascade>,
    ) -> Result<ScratchSandbox> {
        ScratchSandbox::start_with(
            tag,
            replicas,
            scale,
            security,
            cascade,
            object_store_for_tests(),
        )
        .await
    }

    async fn start_with(
        tag: &str,
        replicas: usize,
        scale: f64,
        security: SandboxSecurity,
        cascade: Vec<Cascade>,
        object_store: bool,
    ) -> Result<ScratchSandbox> {
        let dir = PathBuf::from(format!("/tmp/skein-{tag}-{}", std::process::id()));
        Sandbox::up_with(
            SandboxOptions {
                dir,
                replicas,
                scale,
                cascade,
                object_store,
            },
            security,
        )
        .await
        .map(ScratchSandbox)
    }
}

/// `SKEIN_TEST_OBJECT_STORE=1`: every scratch sandbox keeps its lake in a three-node Garage
/// cluster, so the same tests run against object storage (`scripts/test.sh` runs the lake's
/// suite both ways).
pub fn object_store_for_tests() -> bool {
    std::env::var("SKEIN_TEST_OBJECT_STORE").is_ok_and(|v| v == "1")
}

impl Deref for ScratchSandbox {
    type Target = Sandbox;
    fn deref(&self) -> &Sandbox {
        &self.0
    }
}

impl std::ops::DerefMut for ScratchSandbox {
    fn deref_mut(&mut self) -> &mut Sandbox {
        &mut self.0
    }
}

impl Drop for ScratchSandbox {
    fn drop(&mut self) {
        let _ = Sandbox::down(&self.0.dir);
    }
}
