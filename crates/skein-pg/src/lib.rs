//! PostgreSQL I/O for Skein: a pool per node, read-only replica connections, role/health/lag
//! probes, the replication pipeline and slots, replay control, the role's privileges, table fingerprints and LSN arithmetic.
//!
//! Every probe has a timeout; an unreachable node is reported as down in the reading, never
//! as an error of the whole call.

mod cascade;
mod error;
pub mod fingerprint;
pub mod lag;
pub mod lsn;
pub mod node;
pub mod privileges;
pub mod replication;

pub use error::{describe, Error, Result};
pub use fingerprint::{Fingerprint, TableFingerprint};
pub use lag::{LagLevel, LagSample, NodeRole, NodeStatus, ReplicaState, TlsSession};
pub use lsn::Lsn;
pub use node::{Cluster, Node};
pub use privileges::{Allowed, Privileges};
pub use replication::{
    Conflicts, NodeReplication, ReplicationOptions, ReplicationReading, ReplicationSettings, Slot,
    WalReceiver, WalSender,
};
