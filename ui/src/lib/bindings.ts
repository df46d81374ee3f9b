// Generated from crates/skein-console/src/rpc.rs (types, by ts-rs), limits.rs and
// skein-core's ErrorCode. Do not edit by hand: run `make bindings` after changing them.

/**
 * Snapshots one `snapshots` page holds at most: its `limit` is 1 to this.
 */
export const SNAPSHOTS_PAGE_MAX = 500;

/**
 * Rows one `time_travel` page holds at most: its `limit` is 1 to this.
 */
export const TIME_TRAVEL_PAGE_MAX = 1000;

/**
 * Rows a `run_query` returns at most: its `max_rows` is clamped to 1 to this (the rest
 * are counted in `row_count`, and `truncated` says so).
 */
export const RUN_QUERY_MAX_ROWS = 10000;

/**
 * Workbench routing sessions kept at once; a new one past this drops the least recently
 * used (with its pinned connection and read-your-writes position).
 */
export const WORKBENCH_SESSIONS_MAX = 64;

/**
 * Maintenance jobs `jobs` lists at most (the newest; older ones fall off).
 */
export const JOBS_KEPT = 50;

/**
 * Recently opened profiles remembered (`profiles`' `recent`).
 */
export const RECENT_PROFILES_MAX = 10;

/**
 * Each step of a `diagnose` (DNS, TCP, TLS, login, …) waits this long at most, ms.
 */
export const DIAGNOSE_STEP_TIMEOUT_MS = 5000;

/**
 * The console's work timeout, ms: lake reads, fingerprints, refreshes and a Workbench
 * statement fail with `Timeout` past it (a statement is cancelled on its server first).
 * The desktop app and `skein serve` run with this default.
 */
export const WORK_TIMEOUT_MS = 60000;

/**
 * Every `ErrorCode`, in the order the Rust enum declares them.
 */
export const ERROR_CODES = ["ConnectionRefused", "AuthFailed", "Tls", "Timeout", "Cancelled", "ReadOnlyReplica", "NotFound", "InvalidInput", "Conflict", "QueryFailed", "Internal", "PermissionDenied"] as const;

/**
 * One alert: fired, maybe acknowledged, maybe cleared.
 */
export type Alert = { 
/**
 * Id, unique within the profile's alert log.
 */
id: number, 
/**
 * The rule that fired.
 */
rule: AlertRule, 
/**
 * What it is about: a node, `slot NAME on NODE`, `APP on NODE` (a WAL sender), a cache,
 * or a kind of maintenance job.
 */
subject: string, 
/**
 * Critical or warning (by rule).
 */
severity: Severity, 
/**
 * The newest reading while it is active, the last one in breach once cleared.
 */
message: string, 
/**
 * The measured value in the rule's unit (ms, bytes, conflicts a minute, transactions,
 * seconds); `null` for rules that are a state (down, promoted, failed).
 */
value: number | null, 
/**
 * The rule's threshold in the same unit.
 */
threshold: number | null, 
/**
 * When it fired, ms since the Unix epoch.
 */
fired_at_ms: number, 
/**
 * When someone acknowledged it.
 */
acknowledged_at_ms: number | null, 
/**
 * When it cleared (`null`: active).
 */
cleared_at_ms: number | null, };

/**
 * An `alert` event: one change and the alert after it.
 */
export type AlertChange = { 
/**
 * Fired, acknowledged or cleared.
 */
change: AlertChangeKind, 
/**
 * The alert as it is now.
 */
alert: Alert, };

/**
 * What happened to an alert.
 */
export type AlertChangeKind = "fired" | "acknowledged" | "cleared";

/**
 * What an alert watches.
 */
export type AlertRule = "lag" | "lag_bytes" | "node_down" | "promoted" | "slot_retained" | "slot_headroom" | "conflict_rate" | "xmin_age" | "cache_stale" | "cache_age" | "refresh_failed" | "maintenance_failed";

/**
 * The `[alerts]` table (see the module header). Every key is optional.
 */
export type AlertRules = { 
/**
 * Consecutive breaching samples before a rule fires (≥ 1).
 */
fire_after: number, 
/**
 * Consecutive healthy samples before a fired rule clears (≥ 1).
 */
clear_after: number, 
/**
 * Replay lag at or past which a replica is in breach, ms (0: off).
 */
lag_ms: number, 
/**
 * WAL behind the primary at or past which a replica is in breach, bytes (0: off).
 */
lag_bytes: number, 
/**
 * A node that does not answer is in breach.
 */
node_down: boolean, 
/**
 * A replica out of recovery (promoted) or on another timeline than the primary.
 */
promoted: boolean, 
/**
 * WAL a non-temporary replication slot retains, bytes (0: off).
 */
slot_retained_bytes: number, 
/**
 * `safe_wal_size` below this is in breach, bytes (0: only `wal_status` lost or
 * unreserved, which always is).
 */
slot_headroom_bytes: number, 
/**
 * Recovery conflicts a minute on a replica (`pg_stat_database_conflicts`, over the last
 * minute) at or past which it is in breach (0: off).
 */
conflicts_per_minute: number, 
/**
 * `age(backend_xmin)` of a WAL sender (the xmin a `hot_standby_feedback` replica holds
 * back), transactions (0: off).
 */
xmin_age: number, 
/**
 * A cache stale or edited for this long is in breach, s (0: off).
 */
cache_stale_s: number, 
/**
 * A cache whose data is older than this is in breach, s (0: off).
 */
cache_age_s: number, 
/**
 * A cache whose last refresh ended in ERROR is in breach.
 */
refresh_failed: boolean, 
/**
 * The last maintenance job of a kind failed.
 */
maintenance_failed: boolean, };

/**
 * The Alerts page: active alerts, the history, the rules and how delivery is going.
 */
export type AlertsView = { 
/**
 * Active alerts, newest first.
 */
active: Array<Alert>, 
/**
 * Every kept alert (active ones too), newest first, at most [`HISTORY_KEPT`].
 */
history: Array<Alert>, 
/**
 * The rules in force (the profile's `[alerts]`).
 */
rules: AlertRules, 
/**
 * Each delivery target (`skein serve`'s webhook or command): whether it works.
 */
deliveries: Array<DeliveryStatus>, 
/**
 * Where the history is kept; `null` when no state directory is known (kept in memory).
 */
log_path: string | null, };

/**
 * Whether an action is allowed, and if not why: `{ "allowed": false, "reason": "needs
 * superuser or EXECUTE on pg_wal_replay_pause() …" }`. The reason names the privilege the
 * role lacks and the statement that grants it; `null` when allowed.
 */
export type Allowed = { 
/**
 * The role may do it.
 */
allowed: boolean, 
/**
 * Why not, and how to allow it; `null` when allowed.
 */
reason: string | null, };

/**
 * Where in history to read a table.
 */
export type At = "latest" | { "version": number } | { "timestamp": string };

/**
 * One thing that needs attention.
 */
export type Attention = { 
/**
 * Critical or warning.
 */
severity: Severity, 
/**
 * What it is about (`replica2`, `cache pricing_summary`, `lake`).
 */
subject: string, 
/**
 * What is wrong, for a person.
 */
message: string, };

/**
 * A named snapshot.
 */
export type Bookmark = { 
/**
 * The name: a letter, then letters, digits, `_` or `-` (at most 63).
 */
name: string, 
/**
 * The snapshot it names.
 */
snapshot_id: number, 
/**
 * When it was set, ms since the Unix epoch.
 */
created_at_ms: number, 
/**
 * Its snapshot no longer exists (expired): time travel to it fails.
 */
expired: boolean, };

/**
 * A cache: a source query materialised into a lake table.
 */
export type CacheDefinition = { 
/**
 * Name; also the lake table's name (`<lake>.main.<name>`).
 */
name: string, 
/**
 * Source query in PostgreSQL's SQL, sent as is to a replica (or the primary).
 */
query: string, 
/**
 * Source tables whose fingerprint decides whether a refresh is needed.
 */
monitor: Array<string>, 
/**
 * Time to live in seconds: past it, a refresh rewrites the cache even when the
 * monitored tables did not change. `None`: no TTL.
 */
ttl_seconds: number | null, 
/**
 * When the cache was defined, ms since the Unix epoch.
 */
created_at_ms: number, 
/**
 * The console's scheduler leaves a paused cache alone (the newest row of
 * `<lake>.skein.cache_settings`); a refresh by hand still works.
 */
paused: boolean, 
/**
 * Columns of the query's result that identify a row: a snapshot diff of the cache's table
 * matches rows by them ([`Lake::diff`]). Empty: whole rows are compared. Proposed from the
 * source's primary key or the query's `GROUP BY` ([`Lake::suggest_key`]).
 */
key: Array<string>, };

/**
 * One cache a consistent snapshot wrote, and the rows it holds now.
 */
export type CacheRows = { 
/**
 * Cache name.
 */
name: string, 
/**
 * Rows the cache holds after the commit (`count(*)` of its lake table in that commit).
 */
rows: number, };

/**
 * What defines a cache, as created or edited.
 */
export type CacheSpec = { 
/**
 * Name: letters, digits and `_`; also the lake table's name.
 */
name: string, 
/**
 * Source query in PostgreSQL's SQL.
 */
query: string, 
/**
 * Source tables whose changes make the cache stale.
 */
monitor: Array<string>, 
/**
 * Time to live, seconds; with one, the scheduler refreshes the cache when it has passed
 * and the sources changed. `null`: refreshed by hand only.
 */
ttl_seconds: number | null, 
/**
 * Columns of the query's result that identify a row (see [`CacheDefinition::key`]);
 * each must be a column the query returns. Empty: none.
 */
key: Array<string>, };

/**
 * Where a cache stands.
 */
export type CacheState = "empty" | "fresh" | "edited" | "stale" | "restored" | "expired" | "unknown";

/**
 * A cache with its last refresh and current state.
 */
export type CacheStatus = { 
/**
 * The newest refresh that wrote data.
 */
last_refresh: RefreshRecord | null, 
/**
 * Age of the data, ms (now − last refresh).
 */
age_ms: number | null, 
/**
 * Fresh, stale, expired, …
 */
state: CacheState, 
/**
 * Why the state is `Unknown`.
 */
state_error: ErrorInfo | null, 
/**
 * When the state was decided by comparing a fingerprint taken on the primary with the
 * refresh's (ms since the Unix epoch): `Fresh`, `Stale` and `Expired` are as of then.
 * `None` when no fingerprint was needed (`Empty`, `Edited`) or could be taken.
 */
checked_at_ms: number | null, 
/**
 * Name; also the lake table's name (`<lake>.main.<name>`).
 */
name: string, 
/**
 * Source query in PostgreSQL's SQL, sent as is to a replica (or the primary).
 */
query: string, 
/**
 * Source tables whose fingerprint decides whether a refresh is needed.
 */
monitor: Array<string>, 
/**
 * Time to live in seconds: past it, a refresh rewrites the cache even when the
 * monitored tables did not change. `None`: no TTL.
 */
ttl_seconds: number | null, 
/**
 * When the cache was defined, ms since the Unix epoch.
 */
created_at_ms: number, 
/**
 * The console's scheduler leaves a paused cache alone (the newest row of
 * `<lake>.skein.cache_settings`); a refresh by hand still works.
 */
paused: boolean, 
/**
 * Columns of the query's result that identify a row: a snapshot diff of the cache's table
 * matches rows by them ([`Lake::diff`]). Empty: whole rows are compared. Proposed from the
 * source's primary key or the query's `GROUP BY` ([`Lake::suggest_key`]).
 */
key: Array<string>, };

/**
 * A cache as the console sees it: its stored status plus what this console is doing.
 */
export type CacheView = { 
/**
 * Definition, last refresh and state (from the lake and a fingerprint on the primary).
 */
status: CacheStatus, 
/**
 * When the console first saw it in its current stale, edited or expired state (ms since
 * the Unix epoch).
 */
stale_since_ms: number | null, 
/**
 * A refresh is running.
 */
refreshing: boolean, 
/**
 * The last refresh this console ran (SKIPPED, REFRESHED or ERROR).
 */
last_outcome: RefreshOutcome | null, 
/**
 * When the scheduler looks at it next (ms since the Unix epoch): caches with a TTL that
 * are not paused. It refreshes them then if their sources changed.
 */
next_run_ms: number | null, };

/**
 * What a consistent snapshot of caches wrote.
 */
export type CachesSnapshot = { 
/**
 * The caches and the rows each holds now, in the order asked.
 */
caches: Array<CacheRows>, 
/**
 * The one DuckLake snapshot that holds them all.
 */
snapshot_id: number | null, 
/**
 * The source's WAL position the data was read at (see the module header).
 */
lsn: string, 
/**
 * The node that served the reads.
 */
served_by: string, 
/**
 * Wall time, ms.
 */
duration_ms: number, };

/**
 * One value of a row read from the lake, serialised as plain JSON: `null` (SQL NULL, or a
 * float that is not finite), `true`/`false`, a number (integers up to 64 bits signed, and
 * floats), a string (text; and, so no digit is lost, decimals, 128-bit integers and unsigned
 * integers past `i64::MAX`; timestamps as RFC 3339 in UTC, dates as `YYYY-MM-DD`, blobs as
 * `\x` hex, any other type as DuckDB's debug text), or an array of cells (lists and arrays).
 */
export type Cell = null | boolean | number | number | string | Array<Cell>;

/**
 * An exported chart, ready to save.
 */
export type ChartFile = { 
/**
 * A file name to save it under (`skein-lag-replica1-20261122T091403Z.png`).
 */
file_name: string, 
/**
 * `image/png` or `image/svg+xml`.
 */
mime: string, 
/**
 * The content: base64 for PNG, the document's text for SVG.
 */
data: string, 
/**
 * Samples drawn.
 */
samples: number, };

/**
 * An exported chart's file format.
 */
export type ChartFormat = "png" | "svg";

/**
 * One column of a table at some snapshot.
 */
export type Column = { 
/**
 * Column name.
 */
name: string, 
/**
 * DuckDB type (`VARCHAR`, `DECIMAL(15,2)`, `BIGINT`).
 */
data_type: string, };

/**
 * A compaction DuckLake offers; each writes a snapshot (author `skein`, a message) and has no
 * dry run: its preview is the table's files ([`Lake::compaction_preview`]).
 */
export type Compaction = "merge_adjacent_files" | "rewrite_data_files" | "flush_inlined_data";

/**
 * `pg_stat_database_conflicts`, summed over databases: queries on the standby cancelled by
 * recovery, per cause, since the statistics were last reset.
 */
export type Conflicts = { 
/**
 * `confl_snapshot`: the rows a query could still see were removed (vacuum on the primary).
 */
snapshot: number, 
/**
 * `confl_lock`: a lock the replayed WAL needed.
 */
lock: number, 
/**
 * `confl_bufferpin`: a pinned buffer.
 */
bufferpin: number, 
/**
 * `confl_deadlock`.
 */
deadlock: number, 
/**
 * `confl_tablespace`: a dropped tablespace.
 */
tablespace: number, 
/**
 * Conflicts a minute (all causes) over the last minute of readings: the difference of two
 * readings, so the console fills it in; `None` from [`read`] and until two readings
 * a few seconds apart exist.
 */
per_minute: number | null, };

/**
 * One libpq connection split into the fields the editor shows. Empty text means "not set"
 * (libpq's default applies: port 5432, the OS user, a database named like the user,
 * `sslmode=prefer`).
 */
export type ConnDraft = { 
/**
 * `host`: a name, an address or a Unix-socket directory; comma-separated for several.
 */
host: string, 
/**
 * `port`, as written (comma-separated when there are several hosts).
 */
port: string, 
/**
 * `user`: the role to log in as.
 */
user: string, 
/**
 * `dbname`.
 */
dbname: string, 
/**
 * `sslmode`: one of [`SSLMODES`], or empty for libpq's default (`prefer`).
 */
sslmode: string, 
/**
 * `sslrootcert`: the CA certificates the server's certificate must chain to (a path).
 */
sslrootcert: string, 
/**
 * `sslcert`: the client certificate (a path).
 */
sslcert: string, 
/**
 * `sslkey`: the client certificate's private key (a path; the key itself never goes in
 * a profile).
 */
sslkey: string, 
/**
 * Every other libpq key, in the order written (`application_name`, `connect_timeout`,
 * `options`, `hostaddr`, …).
 */
params: Array<ConnParam>, };

/**
 * A libpq key and its value.
 */
export type ConnParam = { 
/**
 * The libpq key (`connect_timeout`).
 */
key: string, 
/**
 * Its value, unquoted.
 */
value: string, };

/**
 * How one delivery target is doing.
 */
export type DeliveryStatus = { 
/**
 * `webhook` or `command`.
 */
kind: string, 
/**
 * Where to (a webhook's scheme and host, never its path or query, which may carry a
 * token; a command's program name).
 */
target: string, 
/**
 * The last attempt failed and it is retrying (or gave up on that alert).
 */
failing: boolean, 
/**
 * The last failure's reason.
 */
last_error: string | null, 
/**
 * Changes delivered since start.
 */
delivered: number, 
/**
 * Changes given up on after every retry failed.
 */
dropped: number, 
/**
 * Changes waiting to be sent.
 */
queued: number, 
/**
 * When the last delivery succeeded, ms since the Unix epoch.
 */
last_ok_ms: number | null, };

/**
 * Every step of one node or of the lake, in order.
 */
export type Diagnosis = { 
/**
 * Node name, or `lake`.
 */
target: string, 
/**
 * Primary, replica or lake.
 */
kind: TargetKind, 
/**
 * `host:port/dbname` (no user, no password).
 */
address: string, 
/**
 * The steps, in the order they ran.
 */
steps: Array<Step>, 
/**
 * Wall time of the whole diagnosis, ms.
 */
took_ms: number, };

/**
 * How a row differs between the two versions.
 */
export type DiffKind = "added" | "removed" | "changed";

/**
 * What to compare, and which page of the differing rows to return.
 */
export type DiffRequest = { 
/**
 * `table` (schema `main`) or `schema.table`.
 */
table: string, 
/**
 * The older snapshot id.
 */
from: number, 
/**
 * The newer snapshot id.
 */
to: number, 
/**
 * Columns that identify a row; `null`: the cache's declared key when the table is a
 * cache's, else none; `[]`: compare whole rows.
 */
key: Array<string> | null, 
/**
 * Only rows of this kind in the page (the counts are always of every kind).
 */
only: DiffKind | null, 
/**
 * Page size (1–`DIFF_PAGE_MAX`, 1000).
 */
limit: number, 
/**
 * Differing rows to skip (of the kind asked for).
 */
offset: number, };

/**
 * One differing row. Cells are in [`TableDiff::columns`] order.
 */
export type DiffRow = { 
/**
 * Added, removed or changed.
 */
kind: DiffKind, 
/**
 * The row in the older version (removed, changed).
 */
old: Array<Cell> | null, 
/**
 * The row in the newer version (added, changed).
 */
new: Array<Cell> | null, 
/**
 * For a changed row, the columns whose values differ.
 */
changed: Array<string>, };

/**
 * What kind of failure an error is. Serialised as its name (`"ReadOnlyReplica"`).
 */
export type ErrorCode = "ConnectionRefused" | "AuthFailed" | "Tls" | "Timeout" | "Cancelled" | "ReadOnlyReplica" | "NotFound" | "InvalidInput" | "Conflict" | "QueryFailed" | "Internal" | "PermissionDenied";

/**
 * The shape an error crosses a boundary in (RPC, `--json`): `{ "code", "message" }`.
 */
export type ErrorInfo = { 
/**
 * Stable code.
 */
code: ErrorCode, 
/**
 * One line for a person: what went wrong and how to fix it.
 */
message: string, };

/**
 * Something that happened, pushed to every subscriber. The sampler's readings come in one
 * `tick` event a sampling period (the profile's `[sampling] interval_ms`, 250 ms unless set).
 */
export type Event = { "kind": "tick", "data": Tick } | { "kind": "caches", "data": Array<CacheView> } | { "kind": "refresh_started", "data": { 
/**
 * Cache name.
 */
cache: string, 
/**
 * Whether it was forced.
 */
force: boolean, } } | { "kind": "refresh_finished", "data": RefreshOutcome } | { "kind": "lake", "data": LakeSummary } | { "kind": "job", "data": Job } | { "kind": "profile_opened", "data": ProfileList } | { "kind": "privileges", "data": Array<NodePrivileges> } | { "kind": "replication", "data": ReplicationReading } | { "kind": "alert", "data": AlertChange } | { "kind": "delivery", "data": DeliveryStatus };

/**
 * Which snapshots to expire.
 */
export type ExpireTarget = { "older_than": string } | { "versions": Array<number> };

/**
 * Why the editor's profile was not saved: the field at fault, as the profile loader names
 * it (`replicas[1].url`, `lake.data_path`), and what is wrong with it.
 */
export type FieldProblem = { 
/**
 * Dotted path of the field.
 */
field: string, 
/**
 * What is wrong and how to fix it.
 */
message: string, };

/**
 * The table at one snapshot that changed it.
 */
export type HistoryPoint = { 
/**
 * `snapshot_id`.
 */
snapshot_id: number, 
/**
 * `snapshot_time`, ms since the Unix epoch.
 */
time_ms: number, 
/**
 * Rows (`count(*) AT (VERSION => n)`); `null` when the table did not exist then (dropped).
 */
rows: number | null, 
/**
 * Data files alive.
 */
data_files: number, 
/**
 * Bytes of the data and delete files alive.
 */
bytes: number, 
/**
 * Rows deleted from data files (the delete files' `delete_count`).
 */
deleted_rows: number, 
/**
 * Rows not in a data file: inlined in the catalog.
 */
inlined_rows: number, 
/**
 * The snapshot changed the table's schema (created, altered, dropped).
 */
schema_change: boolean, 
/**
 * What the snapshot was (see [`crate::MarkKind`]).
 */
kind: MarkKind, };

/**
 * A maintenance job.
 */
export type Job = { 
/**
 * Id, unique within this console.
 */
id: number, 
/**
 * What it does.
 */
kind: JobKind, 
/**
 * One line for a person ("expire 12 snapshots").
 */
title: string, 
/**
 * Running, done or failed.
 */
state: JobState, 
/**
 * Start, ms since the Unix epoch.
 */
started_ms: number, 
/**
 * End, ms since the Unix epoch.
 */
finished_ms: number | null, 
/**
 * What it did (done only).
 */
result: JobResult | null, 
/**
 * Why it failed (failed only).
 */
error: ErrorInfo | null, };

/**
 * What a job does.
 */
export type JobKind = { "kind": "expire_snapshots", 
/**
 * The snapshot ids the preview listed.
 */
versions: Array<number>, } | { "kind": "compact", 
/**
 * Which one.
 */
what: Compaction, } | { "kind": "delete_files", 
/**
 * Orphaned files rather than files scheduled for deletion.
 */
orphaned: boolean, };

/**
 * What a finished job did.
 */
export type JobResult = { 
/**
 * One line for a person.
 */
message: string, 
/**
 * Snapshots expired or files deleted.
 */
items: number, 
/**
 * Bytes reclaimed (file deletions of local files; `null` otherwise).
 */
bytes: number | null, };

/**
 * Where a job stands.
 */
export type JobState = "running" | "done" | "failed";

/**
 * Any JSON value. Nothing on the wire is typed with it: a `Cell` and a
 * snapshot's `changes` are both assignable to it.
 */
export type JsonValue = number | string | boolean | Array<JsonValue> | { [key in string]: JsonValue } | null;

/**
 * A proposed key and where it comes from.
 */
export type KeySuggestion = { 
/**
 * Result columns, in the order of their source.
 */
key: Array<string>, 
/**
 * Where the proposal comes from, for a person: `the query's GROUP BY`, `the primary key
 * of public.nation`.
 */
source: string, };

/**
 * Lag history, one series per node, in columns (ready for a chart).
 */
export type LagHistory = { 
/**
 * The profile's thresholds, ms.
 */
thresholds: Thresholds, 
/**
 * Seconds of history kept.
 */
retention_s: number, 
/**
 * The newest seconds kept at full resolution (every sample); before them, one point a
 * second (the sample of each second with the greatest replay lag, an unknown lag
 * counting as the greatest; its time the second's start).
 */
full_resolution_s: number, 
/**
 * The sampling period, ms (the profile's `[sampling] interval_ms`, unless the console was
 * opened with another).
 */
interval_ms: number, 
/**
 * One series per node, primary first.
 */
nodes: Array<NodeSeries>, };

/**
 * Where the replay lag stands against the profile's thresholds.
 */
export type LagLevel = "ok" | "warning" | "critical";

/**
 * One reading of the whole cluster.
 */
export type LagSample = { 
/**
 * When the sample was taken, ms since the Unix epoch.
 */
taken_at_ms: number, 
/**
 * Every node, primary first.
 */
nodes: Array<NodeStatus>, };

/**
 * The lake as the editor shows it.
 */
export type LakeDraft = { 
/**
 * The DuckDB catalog name (`lake`); empty for the default.
 */
name: string, 
/**
 * The catalog database's connection.
 */
catalog: ConnDraft, 
/**
 * Directory (or object-store URL) of the lake's data files.
 */
data_path: string, 
/**
 * SSH tunnel to the catalog.
 */
ssh: SshDraft, 
/**
 * `[lake.storage]`, the object store of an `s3://…` data path (ignored, and the table
 * removed, for a directory).
 */
storage: StorageDraft, };

/**
 * A file a cleanup deletes (or deleted).
 */
export type LakeFile = { 
/**
 * Absolute path (or URL) as DuckLake reports it.
 */
path: string, 
/**
 * Size before deletion (the file system's, or the object store's); `null` when it cannot
 * be read.
 */
bytes: number | null, };

/**
 * What the lake holds, and what maintenance could reclaim.
 */
export type LakeStats = { 
/**
 * Snapshots (`<lake>.snapshots()`).
 */
snapshots: number, 
/**
 * The oldest snapshot (`id`, `time_ms`: ms since the Unix epoch); `null` when the
 * lake has none.
 */
oldest_snapshot: SnapshotRef | null, 
/**
 * The newest snapshot, likewise: never expired.
 */
newest_snapshot: SnapshotRef | null, 
/**
 * Data and delete files the catalog lists (`ducklake_data_file` + `ducklake_delete_file`).
 */
files: number, 
/**
 * Their bytes (`file_size_bytes`).
 */
bytes: number, 
/**
 * Files only older snapshots reference (`end_snapshot` set): expiring those snapshots
 * schedules them for deletion.
 */
old_files: number, 
/**
 * Their bytes.
 */
old_bytes: number, 
/**
 * Files already scheduled for deletion (`ducklake_files_scheduled_for_deletion`): cleanup
 * deletes them.
 */
scheduled_files: number, 
/**
 * Their bytes (from the file system, or the object store's `size`; `null` when one
 * cannot be read).
 */
scheduled_bytes: number | null, 
/**
 * Live rows held inlined in the catalog rather than in Parquet files (the catalog's
 * `ducklake_inlined_data_*` tables); flushing inlined data writes them out.
 */
inlined_rows: number, };

/**
 * The lake's state.
 */
export type LakeSummary = { 
/**
 * Whether the lake's catalog answered.
 */
reachable: boolean, 
/**
 * Snapshots in the lake.
 */
snapshots: number | null, 
/**
 * The current snapshot.
 */
current_snapshot: number | null, 
/**
 * Why it is unreachable.
 */
error: ErrorInfo | null, 
/**
 * The object store of an `s3://…` data path, with its health; `null` for a directory.
 */
store: StoreView | null, 
/**
 * Other writers active on the lake: everyone but this console who committed in the last
 * [`crate::watcher::WRITERS_WINDOW_SECS`] seconds (other consoles, CLIs, other tools),
 * newest first (`Lake::writers`, from `snapshots()`). Kept from the last read while the
 * lake is unreachable.
 */
writers: Array<WriterActivity>, };

/**
 * One table in the lake.
 */
export type LakeTable = { 
/**
 * `schema.table`.
 */
name: string, 
/**
 * Column names, in order.
 */
columns: Array<string>, };

/**
 * A WAL position in bytes. Displays and parses as PostgreSQL prints it (`X/Y`, hex).
 * Crosses the RPC boundary as its text form (`"0/3000148"`).
 */
export type Lsn = string;

/**
 * What a snapshot was, by who wrote it and what it says.
 */
export type MarkKind = "refresh" | "together" | "restore" | "schema" | "maintenance" | "catalog" | "other";

/**
 * A PostgreSQL node as the editor shows it.
 */
export type NodeDraft = { 
/**
 * Node name (`primary`, `replica1`): letters, digits, `-` and `_`.
 */
name: string, 
/**
 * Its connection.
 */
conn: ConnDraft, 
/**
 * Region label for nearest-region routing; empty for none.
 */
region: string, 
/**
 * Relative weight for balancing reads (≥ 1).
 */
weight: number, 
/**
 * How the primary's `pg_stat_replication.application_name` names this replica; empty:
 * the replica's `cluster_name`, then its name.
 */
application_name: string, 
/**
 * SSH tunnel.
 */
ssh: SshDraft, };

/**
 * One node as the profile names it.
 */
export type NodeInfo = { 
/**
 * Name from the profile.
 */
name: string, 
/**
 * Primary or replica.
 */
role: NodeRole, 
/**
 * `host:port/dbname`.
 */
address: string, };

/**
 * A password typed in the connection editor, for the OS keyring (never written to a file;
 * its `Debug` does not show it).
 */
export type NodePassword = { 
/**
 * Node name, `lake` for the lake's catalog, or `lake.storage` for the object store's
 * secret key (stored as `s3:KEY_ID@ENDPOINT`).
 */
node: string, 
/**
 * The password.
 */
password: string, };

/**
 * What the profile's role may do on one node ([`skein_pg::privileges::probe`]).
 */
export type NodePrivileges = { 
/**
 * Node name.
 */
node: string, 
/**
 * The probe's answer; `null` until the node answered one (down since the console
 * opened, or the probe failed: see `error`).
 */
privileges: Privileges | null, 
/**
 * Why the last probe failed; `null` when it answered.
 */
error: ErrorInfo | null, 
/**
 * When the privileges were last read, ms since the Unix epoch.
 */
probed_at_ms: number | null, };

/**
 * One node's replication.
 */
export type NodeReplication = { 
/**
 * Node name from the profile.
 */
name: string, 
/**
 * Role as the profile says.
 */
role: NodeRole, 
/**
 * Whether the node answered.
 */
reachable: boolean, 
/**
 * `pg_is_in_recovery()`; `None` when down.
 */
in_recovery: boolean | null, 
/**
 * The node's WAL position: `pg_current_wal_lsn()` out of recovery, else
 * `pg_last_wal_receive_lsn()` (or the replay LSN when nothing was received).
 */
position: Lsn | null, 
/**
 * Out of recovery: `pg_current_wal_flush_lsn()`, the WAL senders may send up to it.
 */
flush_position: Lsn | null, 
/**
 * `pg_last_wal_replay_lsn()` on a replica.
 */
replay_lsn: Lsn | null, 
/**
 * `pg_stat_replication` on this node, by `application_name`.
 */
senders: Array<WalSender>, 
/**
 * A replica: the WAL sender that feeds it, matched by `application_name` (the profile's,
 * else the replica's `cluster_name`, else its name) as the lag probe matches it, among the
 * primary's senders first, else another replica's (a cascading replica); `None` when no
 * reachable node lists one. Its byte lags are against that node's position.
 */
upstream_sender: WalSender | null, 
/**
 * A replica: the profile name of the node whose `pg_stat_replication` lists
 * `upstream_sender` (`primary`, or the replica it cascades from); `None` with no sender.
 */
upstream: string | null, 
/**
 * `pg_stat_wal_receiver` on a replica; `None` when no receiver runs (or it is hidden:
 * see `notes`).
 */
receiver: WalReceiver | null, 
/**
 * `pg_replication_slots` on this node, by name.
 */
slots: Array<Slot>, 
/**
 * `pg_stat_database_conflicts` summed, on a replica.
 */
conflicts: Conflicts | null, 
/**
 * The settings that shape replication on this node.
 */
settings: ReplicationSettings | null, 
/**
 * What could not be read and why (a view the role may not read, NULL columns).
 */
notes: Array<ErrorInfo>, 
/**
 * Why the node is down.
 */
error: ErrorInfo | null, };

/**
 * A node's role.
 */
export type NodeRole = "primary" | "replica";

/**
 * One node's routing figures.
 */
export type NodeRouting = { 
/**
 * Node name.
 */
name: string, 
/**
 * Primary or replica.
 */
role: NodeRole, 
/**
 * Whether reads may go to it (always true for the primary).
 */
in_rotation: boolean, 
/**
 * Why it is out of rotation.
 */
reason: string | null, 
/**
 * The profile's weight (`[[replicas]] weight`, default 1; 0 for the primary).
 */
configured_weight: number, 
/**
 * Its effective weight now: the configured weight, halved past `lag_warning_ms`
 * (so 1 becomes 0.5) and halved when its recovery conflicts a minute reach the router's
 * `conflicts_per_minute`, 0 when out of rotation (and for the primary).
 */
weight: number, 
/**
 * Out of rotation but healthy again: ms left of `recovery_ms` before it returns, if it
 * stays healthy, as of its last lag sample (it counts down sample by sample). `None` when
 * in rotation or not (yet) healthy (a promoted replica is not: it is out of recovery).
 */
recovering_ms: number | null, 
/**
 * Replay lag at the last observation, ms.
 */
lag_ms: number | null, 
/**
 * Recovery conflicts a minute at the last observation ([`Router::observe_conflicts`]).
 */
conflicts_per_minute: number | null, 
/**
 * `pg_last_wal_replay_lsn()` at the last observation.
 */
replay_lsn: Lsn | null, 
/**
 * Statements classified as reads that it served.
 */
reads: number, 
/**
 * Statements that had to run on the primary (writes, locks, session state) it served.
 */
writes: number, 
/**
 * Reads that failed on it and were retried on the primary.
 */
retried: number, };

/**
 * One node's lag history. The vectors have the same length, oldest first.
 */
export type NodeSeries = { 
/**
 * Node name.
 */
name: string, 
/**
 * Primary or replica.
 */
role: NodeRole, 
/**
 * Sample times, ms since the Unix epoch.
 */
t_ms: Array<number>, 
/**
 * Replay lag, ms (`null` when unknown: the node or the primary did not answer).
 */
replay_lag_ms: Array<number | null>, 
/**
 * Bytes of WAL behind the primary.
 */
lag_bytes: Array<number | null>, 
/**
 * `pg_stat_replication.write_lag` (WAL written on the replica: the network), ms; `null`
 * when unknown (and for samples read back from disk, which keep replay lag only).
 */
write_lag_ms: Array<number | null>, 
/**
 * `pg_stat_replication.flush_lag` (WAL flushed on the replica: network and fsync), ms.
 */
flush_lag_ms: Array<number | null>, 
/**
 * Cumulative recovery conflicts (`pg_stat_database_conflicts`, all causes) at each
 * sample; the difference of two points is the conflicts between them.
 */
conflicts: Array<number | null>, 
/**
 * State at each sample.
 */
state: Array<ReplicaState>, };

/**
 * One node's reading.
 */
export type NodeStatus = { 
/**
 * Node name from the profile.
 */
name: string, 
/**
 * Role as the profile says.
 */
role: NodeRole, 
/**
 * Whether the node answered this sample.
 */
reachable: boolean, 
/**
 * What the node is doing.
 */
state: ReplicaState, 
/**
 * Bytes of WAL the primary has written that this replica has not replayed (0 for the
 * primary). `None` when it cannot be known (primary or replica unreachable).
 */
lag_bytes: number | null, 
/**
 * Replay lag in ms (see the module header for its source). `None` when unknown.
 */
replay_lag_ms: number | null, 
/**
 * `pg_stat_replication.write_lag` of the WAL sender that feeds it (on its upstream), ms;
 * 0 when its `write_lsn` has reached the upstream's position (PostgreSQL keeps a stale
 * figure, then NULL, after an idle catch-up), as [`crate::replication`] says. `None` when
 * unknown (no sender, or hidden without `pg_monitor`).
 */
write_lag_ms: number | null, 
/**
 * `pg_stat_replication.flush_lag` of the same sender, ms; 0 when its `flush_lsn` has
 * reached the upstream's position.
 */
flush_lag_ms: number | null, 
/**
 * A replica: the profile name of the node whose `pg_stat_replication` lists the WAL sender
 * that feeds it: `primary`, or another replica when it cascades. `None` for the primary,
 * and when no reachable node lists a sender for it.
 */
upstream: string | null, 
/**
 * Bytes of WAL the upstream has that this replica has not replayed: the upstream's
 * position (the primary's `pg_current_wal_lsn()`; an upstream replica's
 * `max(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())`) minus this replica's
 * `pg_last_wal_replay_lsn()`, never below 0. Equals `lag_bytes` when the upstream is the
 * primary. `None` without an upstream or a replay LSN, or for a promoted node.
 */
upstream_lag_bytes: number | null, 
/**
 * `pg_stat_replication.replay_lag` on the upstream for this replica's WAL sender, ms; 0
 * when `upstream_lag_bytes` is 0. `None` when unknown (no upstream, or the column is
 * NULL or hidden).
 */
upstream_replay_lag_ms: number | null, 
/**
 * Primary: `pg_current_wal_lsn()`; replica: `pg_last_wal_replay_lsn()`.
 */
lsn: Lsn | null, 
/**
 * Replica: `pg_last_wal_receive_lsn()`.
 */
receive_lsn: Lsn | null, 
/**
 * Replica: `pg_last_xact_replay_timestamp()`, RFC 3339.
 */
last_replay_at: string | null, 
/**
 * The timeline the node is on (see the module header for its source); `None` when it
 * is down or the role may not ask.
 */
timeline_id: number | null, 
/**
 * The TLS session of Skein's connection to the node (`pg_stat_ssl`); `None` when the
 * connection is not encrypted or the node is down.
 */
tls: TlsSession | null, 
/**
 * Lag against the thresholds.
 */
level: LagLevel, 
/**
 * Why the node is down or degraded.
 */
error: ErrorInfo | null, };

/**
 * The stack at a glance.
 */
export type Overview = { 
/**
 * The open profile.
 */
profile: ProfileInfo, 
/**
 * The newest lag sample (`null` until the first tick).
 */
lag: LagSample | null, 
/**
 * The lake.
 */
lake: LakeSummary, 
/**
 * Caches by state.
 */
caches: Array<CacheView>, 
/**
 * What needs attention, worst first.
 */
attention: Array<Attention>, 
/**
 * What the profile's role may do on each node, primary first.
 */
privileges: Array<NodePrivileges>, };

/**
 * A connection string taken apart: its fields and, separately, the password it carried
 * (which the editor moves to the keyring; it never goes back into a profile).
 */
export type ParsedConn = { 
/**
 * The fields.
 */
conn: ConnDraft, 
/**
 * The `password` the string carried, if any.
 */
password: string | null, };

/**
 * What the node's connection role may do (see the module header for each fact's source).
 */
export type Privileges = { 
/**
 * The role the connection logs in as (`current_user`).
 */
role: string, 
/**
 * `pg_roles.rolsuper`.
 */
superuser: boolean, 
/**
 * Has the privileges of `pg_monitor` (which includes `pg_read_all_stats`,
 * `pg_read_all_settings` and `pg_stat_scan_tables`).
 */
pg_monitor: boolean, 
/**
 * Pausing and resuming WAL replay on a replica (`pg_wal_replay_pause()`,
 * `pg_wal_replay_resume()`).
 */
replay_control: Allowed, 
/**
 * Promoting a replica (`pg_promote()`).
 */
promote: Allowed, 
/**
 * Ending other roles' sessions (`pg_terminate_backend()`).
 */
terminate: Allowed, 
/**
 * Reading other roles' WAL senders' state and lags in `pg_stat_replication`.
 */
read_replication_stats: Allowed, 
/**
 * Dropping replication slots (`pg_drop_replication_slot()`).
 */
drop_slots: Allowed, };

/**
 * A whole profile as the editor shows it (see the module header).
 */
export type ProfileDraft = { 
/**
 * Display name of the stack.
 */
name: string, 
/**
 * A libpq password file to look passwords up in; empty for none.
 */
passfile: string, 
/**
 * The primary.
 */
primary: NodeDraft, 
/**
 * The replicas, in order.
 */
replicas: Array<NodeDraft>, 
/**
 * The lake.
 */
lake: LakeDraft, 
/**
 * Lag thresholds, ms.
 */
thresholds: Thresholds, };

/**
 * A profile file opened in the connection editor.
 */
export type ProfileEdit = { 
/**
 * The file.
 */
path: string, 
/**
 * Its contents as the editor's fields.
 */
profile: ProfileDraft, };

/**
 * The profile, without secrets.
 */
export type ProfileInfo = { 
/**
 * Display name.
 */
name: string, 
/**
 * The file it was read from.
 */
path: string | null, 
/**
 * Nodes, primary first: name, role and `host:port/db` (no user, no password).
 */
nodes: Array<NodeInfo>, 
/**
 * The lake's DuckDB catalog name.
 */
lake_name: string, 
/**
 * The lake's data path.
 */
lake_data_path: string, 
/**
 * Lag thresholds, ms.
 */
thresholds: Thresholds, };

/**
 * The open profile and the recent ones.
 */
export type ProfileList = { 
/**
 * The open profile; `null` before one is opened.
 */
current: ProfileInfo | null, 
/**
 * Recently opened profile files, newest first.
 */
recent: Array<string>, };

/**
 * A statement's result, as text (PostgreSQL's text output of each value).
 */
export type QueryResult = { 
/**
 * Where it ran and why.
 */
route: QueryRoute, 
/**
 * Column names of the last statement that returned rows.
 */
columns: Array<string>, 
/**
 * Rows, at most `max_rows`; `null` is SQL NULL.
 */
rows: Array<Array<string | null>>, 
/**
 * Rows the statement returned in all.
 */
row_count: number, 
/**
 * Whether `rows` holds fewer than `row_count`.
 */
truncated: boolean, 
/**
 * Rows affected, for a statement that returns none (`UPDATE`, `INSERT`, …).
 */
affected: number | null, 
/**
 * Wall time, ms.
 */
elapsed_ms: number, 
/**
 * How stale the serving node was.
 */
staleness: Staleness, };

/**
 * Where a statement goes and why.
 */
export type QueryRoute = { 
/**
 * Primary, replica or cache.
 */
target: QueryTarget, 
/**
 * The node that serves it (`lake` for a cache).
 */
node: string, 
/**
 * The rule that decided (`statement`, `locking`, `read`, `cache`, …).
 */
rule: string, 
/**
 * For a person: why.
 */
reason: string, 
/**
 * The LSN a replica must have replayed first (read-your-writes).
 */
needs_lsn: Lsn | null, 
/**
 * The caches that serve it, if any.
 */
caches: Array<string>, };

/**
 * Where a statement goes.
 */
export type QueryTarget = "primary" | "replica" | "cache";

/**
 * The outcome of one refresh, as `skein cache refresh --json` prints it.
 */
export type RefreshOutcome = { 
/**
 * Cache name.
 */
cache: string, 
/**
 * SKIPPED, REFRESHED or ERROR.
 */
result: RefreshResult, 
/**
 * One line for a person: why it skipped, what it wrote, or what failed.
 */
message: string, 
/**
 * Rows in the cache after this refresh (the previous count when skipped; `None` on error
 * before any refresh).
 */
rows: number | null, 
/**
 * Wall time of this call, ms.
 */
duration_ms: number, 
/**
 * The snapshot that holds the cache's data after this call.
 */
snapshot_id: number | null, 
/**
 * The node that served the read (REFRESHED only).
 */
served_by: string | null, 
/**
 * The error, on ERROR.
 */
error: ErrorInfo | null, };

/**
 * The newest refresh that wrote a cache's data.
 */
export type RefreshRecord = { 
/**
 * Unique id, also in the snapshot's `commit_extra_info`.
 */
refresh_id: string, 
/**
 * When the refresh committed, ms since the Unix epoch.
 */
refreshed_at_ms: number, 
/**
 * Fingerprint digest of the monitored tables, taken before the data was read.
 */
fingerprint: string, 
/**
 * Primary LSN the fingerprint is valid at.
 */
source_lsn: string, 
/**
 * The node that served the read.
 */
served_by: string, 
/**
 * Rows written.
 */
rows: number, 
/**
 * Wall time of the refresh, ms.
 */
duration_ms: number, 
/**
 * The snapshot that holds the data (looked up by `refresh_id`).
 */
snapshot_id: number | null, 
/**
 * The snapshot of the cache's refresh before this one, if any: a snapshot diff from it
 * to [`RefreshRecord::snapshot_id`] is what this refresh changed.
 */
previous_snapshot_id: number | null, 
/**
 * Set when this record is a restore ([`Lake::restore`]): the snapshot whose data the
 * cache's table was put back to. The cache is then [`CacheState::Restored`].
 */
restored_from: number | null, 
/**
 * Digest of the definition the refresh ran ([`CacheDefinition::digest`]); `None` for a
 * record written before Skein recorded it, which counts as another definition.
 */
definition_digest: string | null, };

/**
 * What a refresh did.
 */
export type RefreshResult = "SKIPPED" | "REFRESHED" | "ERROR";

/**
 * What a node is doing.
 */
export type ReplicaState = "primary" | "streaming" | "catching_up" | "paused" | "disconnected" | "promoted" | "down";

/**
 * One reading of every node's replication.
 */
export type ReplicationReading = { 
/**
 * When it was taken, ms since the Unix epoch.
 */
taken_at_ms: number, 
/**
 * Every node, primary first, in profile order.
 */
nodes: Array<NodeReplication>, };

/**
 * The settings that shape replication, from `current_setting()`, in ms and bytes.
 */
export type ReplicationSettings = { 
/**
 * `hot_standby_feedback`: the replica reports its oldest snapshot, holding the primary's
 * vacuum back instead of having its queries cancelled.
 */
hot_standby_feedback: boolean, 
/**
 * `max_standby_streaming_delay`, ms; -1 waits forever.
 */
max_standby_streaming_delay_ms: number, 
/**
 * `max_slot_wal_keep_size`, bytes; -1: slots may retain WAL without limit.
 */
max_slot_wal_keep_size_bytes: number, 
/**
 * `wal_keep_size`, bytes.
 */
wal_keep_size_bytes: number, };

/**
 * A request from a front end.
 */
export type Request = { "method": "overview" } | { "method": "lag_history", "params": { 
/**
 * Only samples taken after this instant.
 */
since_ms: number | null, } } | { "method": "caches" } | { "method": "refresh_cache", "params": { 
/**
 * Cache name.
 */
name: string, 
/**
 * Rewrite even when nothing changed.
 */
force: boolean, } } | { "method": "create_cache", "params": CacheSpec } | { "method": "update_cache", "params": CacheSpec } | { "method": "delete_cache", "params": { 
/**
 * Cache name.
 */
name: string, } } | { "method": "set_cache_paused", "params": { 
/**
 * Cache name.
 */
name: string, 
/**
 * Pause (true) or resume (false).
 */
paused: boolean, } } | { "method": "suggest_monitor", "params": { 
/**
 * The source query.
 */
query: string, } } | { "method": "suggest_key", "params": { 
/**
 * The source query.
 */
query: string, } } | { "method": "cache_refreshes", "params": { 
/**
 * Cache name.
 */
name: string, 
/**
 * At most this many (1–500).
 */
limit: number, } } | { "method": "snapshot_caches", "params": { 
/**
 * Cache names.
 */
names: Array<string>, } } | { "method": "snapshots", "params": { 
/**
 * Page size (1–`SNAPSHOTS_PAGE_MAX`, 500).
 */
limit: number, 
/**
 * Only snapshots with ids below this one (the next page); the newest when `null`.
 */
before: number | null, } } | { "method": "snapshot_changes", "params": { 
/**
 * `snapshot_id`.
 */
id: number, } } | { "method": "lake_tables" } | { "method": "snapshot_diff", "params": DiffRequest } | { "method": "snapshot_side_by_side", "params": SideBySideRequest } | { "method": "timeline", "params": { 
/**
 * At most this many (1–20,000).
 */
limit: number, } } | { "method": "table_history", "params": { 
/**
 * `table` (schema `main`) or `schema.table`.
 */
table: string, 
/**
 * At most this many points (1–1000).
 */
limit: number, } } | { "method": "bookmarks" } | { "method": "set_bookmark", "params": { 
/**
 * A letter, then letters, digits, `_` or `-` (at most 63).
 */
name: string, 
/**
 * The snapshot id.
 */
version: number, } } | { "method": "delete_bookmark", "params": { 
/**
 * The name.
 */
name: string, } } | { "method": "preview_restore", "params": { 
/**
 * `table` (schema `main`) or `schema.table`.
 */
table: string, 
/**
 * The snapshot to restore it to.
 */
version: number, 
/**
 * Rows of the diff to return (1–1000).
 */
limit: number, } } | { "method": "restore", "params": { 
/**
 * As previewed.
 */
table: string, 
/**
 * As previewed.
 */
version: number, 
/**
 * The preview's `current` snapshot.
 */
previewed: number, } } | { "method": "time_travel", "params": { 
/**
 * `table` (schema `main`) or `schema.table`.
 */
table: string, 
/**
 * Where in history.
 */
at: At, 
/**
 * Page size (1–`TIME_TRAVEL_PAGE_MAX`, 1000).
 */
limit: number, 
/**
 * Rows to skip.
 */
offset: number, } } | { "method": "export_lag_chart", "params": { 
/**
 * Node name.
 */
node: string, 
/**
 * PNG or SVG.
 */
format: ChartFormat, } } | { "method": "lake_stats" } | { "method": "preview_expire", "params": { 
/**
 * Older than an instant, or chosen ids.
 */
target: ExpireTarget, } } | { "method": "expire_snapshots", "params": { 
/**
 * Snapshot ids.
 */
versions: Array<number>, } } | { "method": "preview_delete_files", "params": { 
/**
 * Orphaned files (`ducklake_delete_orphaned_files`) rather than files scheduled for
 * deletion by expired snapshots (`ducklake_cleanup_old_files`).
 */
orphaned: boolean, } } | { "method": "delete_files", "params": { 
/**
 * As in the preview.
 */
orphaned: boolean, } } | { "method": "preview_compaction" } | { "method": "compact", "params": { 
/**
 * Merge adjacent files, rewrite files with deletes, or flush inlined data.
 */
what: Compaction, } } | { "method": "jobs" } | { "method": "profiles" } | { "method": "open_profile", "params": { 
/**
 * Path of a profile TOML file.
 */
path: string, } } | { "method": "explain_query", "params": { 
/**
 * One SQL statement (or several, which run together on the primary).
 */
sql: string, 
/**
 * The routing session (affinity hint; keeps read-your-writes and session state
 * across runs); none: a one-off.
 */
session: string | null, } } | { "method": "run_query", "params": { 
/**
 * As in `explain_query`.
 */
sql: string, 
/**
 * As in `explain_query`.
 */
session: string | null, 
/**
 * Rows to return at most (1–`RUN_QUERY_MAX_ROWS`, 10,000).
 */
max_rows: number, } } | { "method": "cancel_query", "params": { 
/**
 * The routing session, as given to `run_query`.
 */
session: string, } } | { "method": "routing" } | { "method": "privileges" } | { "method": "pause_replay", "params": { 
/**
 * Replica name.
 */
node: string, } } | { "method": "resume_replay", "params": { 
/**
 * Replica name.
 */
node: string, } } | { "method": "replication" } | { "method": "drop_slot", "params": { 
/**
 * Node the slot is on.
 */
node: string, 
/**
 * `slot_name`.
 */
slot: string, } } | { "method": "alerts" } | { "method": "acknowledge_alert", "params": { 
/**
 * The alert's id.
 */
id: number, } } | { "method": "save_alert_rules", "params": { 
/**
 * The rules, all of them.
 */
rules: AlertRules, } } | { "method": "diagnose", "params": { 
/**
 * The profile as the connection editor holds it (saved or not).
 */
profile: ProfileDraft, 
/**
 * Node name; `null` for the lake.
 */
target: string | null, 
/**
 * Passwords typed in the editor.
 */
passwords: Array<NodePassword>, } } | { "method": "profile_for_edit", "params": { 
/**
 * Path of a profile TOML file; `null` for the open profile's file.
 */
path: string | null, } } | { "method": "save_profile", "params": { 
/**
 * Absolute path of the profile file (`~/` is the home directory).
 */
path: string, 
/**
 * The profile.
 */
profile: ProfileDraft, 
/**
 * Passwords typed in the editor.
 */
passwords: Array<NodePassword>, 
/**
 * Open it once saved.
 */
open: boolean, } } | { "method": "parse_conninfo", "params": { 
/**
 * The connection string.
 */
conninfo: string, } };

/**
 * The answer to a [`Request`], tagged with the same method name.
 */
export type Response = { "method": "overview", "result": Overview } | { "method": "lag_history", "result": LagHistory } | { "method": "caches", "result": Array<CacheView> } | { "method": "refresh_cache", "result": RefreshOutcome } | { "method": "create_cache", "result": CacheDefinition } | { "method": "update_cache", "result": CacheDefinition } | { "method": "delete_cache" } | { "method": "set_cache_paused", "result": CacheDefinition } | { "method": "suggest_monitor", "result": Array<string> } | { "method": "suggest_key", "result": KeySuggestion | null } | { "method": "cache_refreshes", "result": Array<RefreshRecord> } | { "method": "snapshot_caches", "result": CachesSnapshot } | { "method": "snapshots", "result": SnapshotPage } | { "method": "snapshot_changes", "result": SnapshotChanges } | { "method": "lake_tables", "result": Array<LakeTable> } | { "method": "snapshot_diff", "result": TableDiff } | { "method": "snapshot_side_by_side", "result": SideBySide } | { "method": "timeline", "result": Timeline } | { "method": "table_history", "result": TableHistory } | { "method": "bookmarks", "result": Array<Bookmark> } | { "method": "set_bookmark", "result": Bookmark } | { "method": "delete_bookmark" } | { "method": "preview_restore", "result": RestorePreview } | { "method": "restore", "result": RestoreResult } | { "method": "time_travel", "result": TimeTravelPage } | { "method": "export_lag_chart", "result": ChartFile } | { "method": "lake_stats", "result": LakeStats } | { "method": "preview_expire", "result": Array<Snapshot> } | { "method": "expire_snapshots", "result": Job } | { "method": "preview_delete_files", "result": Array<LakeFile> } | { "method": "delete_files", "result": Job } | { "method": "preview_compaction", "result": Array<TableFiles> } | { "method": "compact", "result": Job } | { "method": "jobs", "result": Array<Job> } | { "method": "profiles", "result": ProfileList } | { "method": "open_profile", "result": ProfileList } | { "method": "explain_query", "result": QueryRoute } | { "method": "run_query", "result": QueryResult } | { "method": "cancel_query", "result": string | null } | { "method": "routing", "result": RoutingStats } | { "method": "privileges", "result": Array<NodePrivileges> } | { "method": "pause_replay" } | { "method": "resume_replay" } | { "method": "replication", "result": ReplicationReading } | { "method": "drop_slot" } | { "method": "alerts", "result": AlertsView } | { "method": "acknowledge_alert", "result": Alert } | { "method": "save_alert_rules", "result": AlertsView } | { "method": "diagnose", "result": Diagnosis } | { "method": "profile_for_edit", "result": ProfileEdit } | { "method": "save_profile", "result": SaveOutcome } | { "method": "parse_conninfo", "result": ParsedConn };

/**
 * What restoring a table to a snapshot would apply.
 */
export type RestorePreview = { 
/**
 * The table as asked.
 */
table: string, 
/**
 * The snapshot it would be restored to.
 */
version: number, 
/**
 * The lake's current snapshot, the preview's "now": pass it to [`Lake::restore`].
 */
current: number, 
/**
 * The cache whose table it is, if any (it becomes `restored`).
 */
cache: string | null, 
/**
 * From `current` to `version`: rows the restore adds back, removes and changes, with the
 * first of them.
 */
diff: TableDiff, };

/**
 * What a restore did.
 */
export type RestoreResult = { 
/**
 * The table as asked.
 */
table: string, 
/**
 * The snapshot it was restored to.
 */
version: number, 
/**
 * The snapshot the restore committed.
 */
snapshot_id: number | null, 
/**
 * Rows added back, removed and changed (as the preview counted them).
 */
added: number, 
/**
 * See `added`.
 */
removed: number, 
/**
 * See `added`.
 */
changed: number, 
/**
 * Rows in the table now.
 */
rows: number, 
/**
 * The cache marked restored, if the table is one's.
 */
cache: string | null, };

/**
 * A column whose type differs between the versions.
 */
export type Retyped = { 
/**
 * Column name.
 */
name: string, 
/**
 * Its DuckDB type in the older version.
 */
from: string, 
/**
 * Its DuckDB type in the newer version.
 */
to: string, };

/**
 * The router's state, for the console's Overview.
 */
export type RoutingStats = { 
/**
 * Whether reads are split at all (`[router] read_splitting`).
 */
read_splitting: boolean, 
/**
 * The balancing policy's name.
 */
policy: string, 
/**
 * Every replica is out of rotation: reads go to the primary.
 */
all_out: boolean, 
/**
 * Reads that went to the primary because no replica qualified (none in rotation, or
 * read-your-writes timed out).
 */
fallbacks: number, 
/**
 * Reads served from the lake by fresh caches (counted by the caller that serves them,
 * [`Router::count_cache_read`]).
 */
cache_reads: number, 
/**
 * Primary first, then the replicas in profile order.
 */
nodes: Array<NodeRouting>, };

/**
 * The answer to `save_profile`.
 */
export type SaveOutcome = { 
/**
 * The file (absolute).
 */
path: string, 
/**
 * Whether the file was written.
 */
saved: boolean, 
/**
 * Why it was not (nothing was written then).
 */
problem: FieldProblem | null, 
/**
 * Why opening it failed, when asked to open it (the file is saved).
 */
open_error: ErrorInfo | null, 
/**
 * The open profile and the recent ones, after saving.
 */
profiles: ProfileList, };

/**
 * The columns that differ between the versions (by name).
 */
export type SchemaDiff = { 
/**
 * Only in the newer version.
 */
added: Array<Column>, 
/**
 * Only in the older version.
 */
dropped: Array<Column>, 
/**
 * In both, with another type.
 */
retyped: Array<Retyped>, };

/**
 * How bad an attention item is.
 */
export type Severity = "critical" | "warning" | "info";

/**
 * A table as of snapshot `from` beside the same table as of snapshot `to`, one page of lines.
 */
export type SideBySide = { 
/**
 * The table as asked.
 */
table: string, 
/**
 * The left grid's snapshot id.
 */
from: number, 
/**
 * The right grid's snapshot id (the current one when none was asked).
 */
to: number, 
/**
 * Whether `to` is the lake's current snapshot when read.
 */
to_is_current: boolean, 
/**
 * The key lines are aligned and ordered by; empty when whole rows were aligned.
 */
key: Array<string>, 
/**
 * `asked`, `cache`, or `null` when whole rows were aligned.
 */
key_source: string | null, 
/**
 * Why the key asked for was not used, when it was not.
 */
note: string | null, 
/**
 * The left version's columns.
 */
left: Array<Column>, 
/**
 * The right version's columns.
 */
right: Array<Column>, 
/**
 * Columns added, dropped, retyped between the two.
 */
schema: SchemaDiff, 
/**
 * Lines in all (rows in both, plus rows in one only).
 */
total: number, 
/**
 * Lines whose row is the same in both.
 */
same: number, 
/**
 * Rows only on the right.
 */
added: number, 
/**
 * Rows only on the left.
 */
removed: number, 
/**
 * Rows on both sides with other values.
 */
changed: number, 
/**
 * The first line of the page.
 */
offset: number, 
/**
 * The page of lines.
 */
rows: Array<SideRow>, 
/**
 * The line of the first difference after the page, if any (to jump to it).
 */
next_difference: number | null, 
/**
 * The line of the last difference before the page, if any.
 */
previous_difference: number | null, };

/**
 * Which table, which two snapshots, and which lines of the aligned rows to return.
 */
export type SideBySideRequest = { 
/**
 * `table` (schema `main`) or `schema.table`.
 */
table: string, 
/**
 * The snapshot id of the left grid (usually the older one).
 */
from: number, 
/**
 * The snapshot id of the right grid; `null`: the current snapshot.
 */
to: number | null, 
/**
 * Columns that align rows; `null`: the cache's declared key when the table is a cache's,
 * else whole rows; `[]`: whole rows.
 */
key: Array<string> | null, 
/**
 * Lines in the page (1–`SIDE_PAGE_MAX`, 1000).
 */
limit: number, 
/**
 * Lines to skip, in key order.
 */
offset: number, };

/**
 * One line of the two grids: a row in the left version, the right version, or both.
 */
export type SideRow = { 
/**
 * How the row differs; `null` when it is the same in both versions.
 */
kind: DiffKind | null, 
/**
 * The row in the left version, in [`SideBySide::left`] column order (`null`: added).
 */
left: Array<Cell> | null, 
/**
 * The row in the right version, in [`SideBySide::right`] column order (`null`: removed).
 */
right: Array<Cell> | null, 
/**
 * For a changed row, the columns (both versions have) whose values differ.
 */
changed: Array<string>, };

/**
 * A row of `pg_replication_slots`.
 */
export type Slot = { 
/**
 * `slot_name`.
 */
name: string, 
/**
 * `physical` or `logical`.
 */
slot_type: string, 
/**
 * Output plugin of a logical slot.
 */
plugin: string | null, 
/**
 * Database of a logical slot.
 */
database: string | null, 
/**
 * A temporary slot (dropped with its session).
 */
temporary: boolean, 
/**
 * Someone streams from it now.
 */
active: boolean, 
/**
 * The backend using it.
 */
active_pid: number | null, 
/**
 * The WAL sender's `application_name` when a sender on this node uses it.
 */
used_by: string | null, 
/**
 * `reserved`, `extended`, `unreserved` or `lost`; `None` for a slot that never reserved WAL.
 */
wal_status: string | null, 
/**
 * `safe_wal_size`: bytes that can still be written before the slot's WAL is at risk;
 * `None` when `max_slot_wal_keep_size` is -1 (unlimited) or the slot is lost.
 */
safe_wal_size: number | null, 
/**
 * `restart_lsn`: the oldest WAL the slot needs.
 */
restart_lsn: Lsn | null, 
/**
 * `confirmed_flush_lsn` of a logical slot.
 */
confirmed_flush_lsn: Lsn | null, 
/**
 * WAL kept for the slot: the node's position minus `restart_lsn`, bytes.
 */
retained_bytes: number | null, 
/**
 * `age(xmin)`, transactions.
 */
xmin_age: number | null, 
/**
 * `age(catalog_xmin)`, transactions.
 */
catalog_xmin_age: number | null, 
/**
 * Since when the slot has been inactive, ms since the Unix epoch. PostgreSQL 15 keeps no
 * such time, so the console fills in when it first saw it inactive; `None` from [`read`].
 */
inactive_since_ms: number | null, };

/**
 * One DuckLake snapshot.
 */
export type Snapshot = { 
/**
 * `snapshot_id`.
 */
id: number, 
/**
 * `snapshot_time`, ms since the Unix epoch.
 */
time_ms: number, 
/**
 * `snapshot_time`, RFC 3339 in UTC.
 */
time: string, 
/**
 * `schema_version`: rises with every schema change.
 */
schema_version: number, 
/**
 * `changes` (a `MAP(VARCHAR, VARCHAR[])`): keys such as `tables_created`,
 * `tables_inserted_into`, `inlined_insert`, each with the table names or ids it touched;
 * sorted by key, empty when the snapshot records none.
 */
changes: Record<string, Array<string>>, 
/**
 * `author` (Skein writes `skein`).
 */
author: string | null, 
/**
 * `commit_message`.
 */
commit_message: string | null, 
/**
 * `commit_extra_info` (Skein writes JSON with the cache and refresh id).
 */
commit_extra_info: string | null, 
/**
 * The process that made the commit: `writer` in `commit_extra_info` when it is a JSON
 * object that has one (`console@host#id`, `cli@host`; see [`crate::identity`]).
 */
writer: string | null, 
/**
 * The schema changes among `changes`, for the history's schema marks: any of
 * `schemas_created`, `schemas_dropped`, `tables_created`, `tables_dropped`,
 * `tables_altered` (columns added, dropped, renamed or retyped), `views_created`,
 * `views_dropped`. A cache refresh re-creates its table, so it shows `tables_created`.
 */
schema_changes: Array<string>, };

/**
 * A snapshot with its per-table changes.
 */
export type SnapshotChanges = { 
/**
 * The snapshot.
 */
snapshot: Snapshot, 
/**
 * Tables it touched, by name.
 */
tables: Array<TableChange>, };

/**
 * A page of snapshots.
 */
export type SnapshotPage = { 
/**
 * Newest first.
 */
snapshots: Array<Snapshot>, 
/**
 * Snapshots in the lake.
 */
total: number, 
/**
 * `before` for the next page; `null` on the last page.
 */
next_before: number | null, };

/**
 * A snapshot a time-travel read resolved to.
 */
export type SnapshotRef = { 
/**
 * `snapshot_id`.
 */
id: number, 
/**
 * `snapshot_time`, ms since the Unix epoch.
 */
time_ms: number, };

/**
 * SSH tunnel settings of a node or of the lake's catalog (profile keys `ssh`, `ssh_jump`,
 * `ssh_config`, `ssh_port`). Empty `ssh`: no tunnel.
 */
export type SshDraft = { 
/**
 * `ssh`: the SSH server to tunnel through (`me@bastion`).
 */
ssh: string, 
/**
 * `ssh_jump`: a jump host on the way (`ssh -J`).
 */
jump: string, 
/**
 * `ssh_config`: an ssh_config file to use (`ssh -F`).
 */
config: string, 
/**
 * `ssh_port`: the SSH server's port, when not 22 or the config's.
 */
port: number | null, };

/**
 * How far behind the primary the data that answered was.
 */
export type Staleness = { 
/**
 * Served by the primary: live data.
 */
live: boolean, 
/**
 * The serving replica's replay lag at the last sample, ms
 * (`pg_stat_replication.replay_lag` on the primary).
 */
replay_lag_ms: number | null, 
/**
 * Its WAL bytes behind the primary at the last sample.
 */
lag_bytes: number | null, 
/**
 * For a cache: the lake snapshot read.
 */
snapshot_id: number | null, 
/**
 * For a cache: when it was last refreshed (RFC 3339).
 */
refreshed_at: string | null, 
/**
 * For a cache: when it was checked fresh (RFC 3339): a fingerprint of its monitored
 * tables taken then on the primary equalled the refresh's.
 */
checked_at: string | null, 
/**
 * For a person.
 */
summary: string, };

/**
 * One check and what it found.
 */
export type Step = { 
/**
 * Which check.
 */
step: StepKind, 
/**
 * How it came out.
 */
status: StepStatus, 
/**
 * What was found (`TLSv1.3 TLS_AES_256_GCM_SHA384 (256 bits)`, `connected as
 * skein_monitor to app (PostgreSQL 15.8)`), or the error.
 */
detail: string, 
/**
 * What to do about a `warn` or a `fail`.
 */
fix: string | null, };

/**
 * Which check a step is.
 */
export type StepKind = "dns" | "tcp" | "tls" | "auth" | "privileges" | "replication" | "catalog" | "data_path";

/**
 * How a step came out.
 */
export type StepStatus = "ok" | "warn" | "fail" | "skipped";

/**
 * `[lake.storage]` as the editor shows it: empty text means "not set". The secret key is
 * never part of it: it goes to the OS keyring (`skein secret set storage`, or the editor's
 * secret key field).
 */
export type StorageDraft = { 
/**
 * `host:port` of an S3-compatible store; empty for AWS S3.
 */
endpoint: string, 
/**
 * The region (`us-east-1`, `garage`).
 */
region: string, 
/**
 * `path` or `vhost`; empty for DuckDB's default (`vhost`).
 */
url_style: string, 
/**
 * HTTPS to the endpoint; `null` for DuckDB's default (on).
 */
use_ssl: boolean | null, 
/**
 * The access key id; its secret key is in the keyring or an AWS credentials file.
 */
key_id: string, 
/**
 * A profile of the AWS credentials file.
 */
aws_profile: string, 
/**
 * An AWS credentials file other than `~/.aws/credentials`.
 */
credentials_file: string, 
/**
 * A health endpoint the console polls (`http://host:3903/health` for Garage).
 */
health_url: string, };

/**
 * The store's health endpoint's answer.
 */
export type StoreHealth = "healthy" | "degraded" | "unavailable";

/**
 * The lake's object store as the console shows it.
 */
export type StoreView = { 
/**
 * `host:port`, or `AWS S3`.
 */
endpoint: string, 
/**
 * The bucket.
 */
bucket: string, 
/**
 * The key prefix of the data path.
 */
prefix: string, 
/**
 * Where the credentials come from (never the secret).
 */
credentials: string, 
/**
 * From `[lake.storage] health_url`; `null` when none is set.
 */
health: StoreHealth | null, 
/**
 * What the health endpoint said (its first line, or why it did not answer).
 */
health_detail: string | null, };

/**
 * One table's part in a snapshot.
 */
export type TableChange = { 
/**
 * `schema.table`.
 */
table: string, 
/**
 * The snapshot created the table (`tables_created`; a cache refresh re-creates its table).
 */
created: boolean, 
/**
 * The snapshot changed the table's schema (`tables_altered`).
 */
altered: boolean, 
/**
 * Rows inserted (`table_changes` rows with `change_type = 'insert'`).
 */
inserted: number, 
/**
 * Rows deleted (`change_type = 'delete'`).
 */
deleted: number, 
/**
 * Rows updated (`change_type = 'update_postimage'`).
 */
updated: number, };

/**
 * The difference of a table between snapshot `from` and snapshot `to`, with one page of its
 * rows (added first, then removed, then changed; each in key, else column, order).
 */
export type TableDiff = { 
/**
 * The table as asked (`name` or `schema.name`).
 */
table: string, 
/**
 * The older snapshot id.
 */
from: number, 
/**
 * The newer snapshot id.
 */
to: number, 
/**
 * The key rows were matched by; empty when whole rows were compared.
 */
key: Array<string>, 
/**
 * Where the key comes from: `asked`, `cache` (the cache's declared key), or `null` when
 * whole rows were compared.
 */
key_source: string | null, 
/**
 * The kind of row the page holds, when only one was asked for.
 */
only: DiffKind | null, 
/**
 * The first row of the page, as asked.
 */
offset: number, 
/**
 * Why the asked key was not used, when it was not.
 */
note: string | null, 
/**
 * The columns rows were compared on (both versions have them), in the newer version's order.
 */
columns: Array<string>, 
/**
 * Columns added, dropped, retyped.
 */
schema: SchemaDiff, 
/**
 * Rows only in `to` (exact count).
 */
added: number, 
/**
 * Rows only in `from` (exact count).
 */
removed: number, 
/**
 * Rows whose key is in both with other values (exact count; 0 without a key).
 */
changed: number, 
/**
 * The page of differing rows asked for.
 */
rows: Array<DiffRow>, };

/**
 * One table's current files: what a compaction works on (`ducklake_list_files`).
 */
export type TableFiles = { 
/**
 * `schema.table`.
 */
table: string, 
/**
 * Data files at the current snapshot.
 */
data_files: number, 
/**
 * Their bytes.
 */
bytes: number, 
/**
 * Data files that carry a delete file (rows deleted since they were written).
 */
files_with_deletes: number, };

/**
 * A table's history, oldest first.
 */
export type TableHistory = { 
/**
 * The table as asked.
 */
table: string, 
/**
 * The newest snapshots that changed it, oldest first (at most the limit asked for).
 */
points: Array<HistoryPoint>, };

/**
 * A page of a table's rows, as of some snapshot.
 */
export type TableRows = { 
/**
 * Column names.
 */
columns: Array<string>, 
/**
 * Rows of cells, in column order.
 */
rows: Array<Array<Cell>>, 
/**
 * Total rows of the table at that snapshot (exact `count(*)`).
 */
total: number, };

/**
 * What was diagnosed.
 */
export type TargetKind = "primary" | "replica" | "lake";

/**
 * Lag thresholds (warning lowers a replica's standing, critical takes it out of rotation) and
 * the WAL an inactive replication slot may retain before it needs attention.
 */
export type Thresholds = { 
/**
 * Replay lag (ms) past which a replica is "lagging" (amber).
 */
lag_warning_ms: number, 
/**
 * Replay lag (ms) past which a replica is out of rotation (red).
 */
lag_critical_ms: number, 
/**
 * Bytes of WAL an inactive replication slot may retain (`pg_current_wal_lsn() −
 * restart_lsn`) before it is a warning (default 1 GiB).
 */
slot_wal_warning_bytes: number, };

/**
 * One sampler tick, in one event so that a front end applies it at once: every place that
 * shows a lag, a rotation or an attention item shows this tick's.
 */
export type Tick = { 
/**
 * The lag sample of every node.
 */
lag: LagSample, 
/**
 * The replication reading (as `replication` answers), when this tick took one: every
 * tick when sampling once a second or slower, else once a second.
 */
replication: ReplicationReading | null, 
/**
 * The router's counters and rotation after this sample.
 */
routing: RoutingStats, 
/**
 * What needs attention, worst first, from this tick's sample, the newest replication
 * reading and this rotation: the same list `overview` answers.
 */
attention: Array<Attention>, };

/**
 * A page of a table as of a snapshot.
 */
export type TimeTravelPage = { 
/**
 * `schema.table` as asked.
 */
table: string, 
/**
 * The snapshot the read resolved to.
 */
snapshot: SnapshotRef, 
/**
 * Whether that snapshot is the current one.
 */
latest: boolean, 
/**
 * The table's columns and types at that snapshot (its schema then).
 */
schema: Array<Column>, 
/**
 * Columns, rows and the exact row count at that snapshot.
 */
rows: TableRows, 
/**
 * Rows skipped.
 */
offset: number, 
/**
 * How the request resolved when a person should know (a timestamp after the newest
 * snapshot reads the newest); `null` otherwise.
 */
note: string | null, };

/**
 * The lake's newest snapshots as marks, oldest first.
 */
export type Timeline = { 
/**
 * Oldest first.
 */
marks: Array<TimelineMark>, 
/**
 * Every table a mark touched, by name: the lanes.
 */
tables: Array<string>, 
/**
 * Snapshots in the lake (more than `marks` when the limit cut the oldest).
 */
total: number, 
/**
 * The lake's bookmarks (named snapshots), by snapshot.
 */
bookmarks: Array<Bookmark>, };

/**
 * One snapshot on the timeline.
 */
export type TimelineMark = { 
/**
 * `snapshot_id`.
 */
id: number, 
/**
 * `snapshot_time`, ms since the Unix epoch.
 */
time_ms: number, 
/**
 * What it was.
 */
kind: MarkKind, 
/**
 * The tables it touched (`schema.table`, Skein's `skein.*` records left out); empty: it
 * sits on the lake's lane.
 */
tables: Array<string>, 
/**
 * `author`.
 */
author: string | null, 
/**
 * `commit_message`.
 */
message: string | null, };

/**
 * An encrypted session, as `pg_stat_ssl` reports it for the connection's backend.
 */
export type TlsSession = { 
/**
 * Protocol version (`TLSv1.3`).
 */
version: string, 
/**
 * Cipher suite (`TLS_AES_256_GCM_SHA384`).
 */
cipher: string, 
/**
 * Key bits of the cipher.
 */
bits: number | null, };

/**
 * The row of `pg_stat_wal_receiver`: the replica's side of the stream.
 */
export type WalReceiver = { 
/**
 * `streaming`, `starting`, `waiting`, `restarting`, `stopping`; `None` when hidden.
 */
status: string | null, 
/**
 * First position received when the receiver started.
 */
receive_start_lsn: Lsn | null, 
/**
 * Last position received and written to disk.
 */
written_lsn: Lsn | null, 
/**
 * Last position received and flushed to disk.
 */
flushed_lsn: Lsn | null, 
/**
 * Last position the upstream reported in a keepalive or data message.
 */
latest_end_lsn: Lsn | null, 
/**
 * Timeline of `flushed_lsn`.
 */
received_tli: number | null, 
/**
 * When the upstream sent its last message, RFC 3339 UTC.
 */
last_msg_send_time: string | null, 
/**
 * When the last message arrived, RFC 3339 UTC.
 */
last_msg_receipt_time: string | null, 
/**
 * `now() − last_msg_receipt_time`, ms.
 */
receipt_age_ms: number | null, 
/**
 * The slot it streams through (`primary_slot_name`), if any.
 */
slot_name: string | null, 
/**
 * The upstream's host (`sender_host`).
 */
sender_host: string | null, 
/**
 * The upstream's port (`sender_port`).
 */
sender_port: number | null, 
/**
 * `conninfo` with `password` and `sslpassword` removed.
 */
conninfo: string | null, 
/**
 * Why the receiver is judged stalled: it says `streaming`, yet received nothing for
 * [`ReplicationOptions::stall_after`] while the primary has WAL it has not received.
 * `None` when it is not.
 */
stalled: string | null, };

/**
 * A row of `pg_stat_replication`: one WAL sender and the standby it feeds.
 */
export type WalSender = { 
/**
 * The sender's backend pid.
 */
pid: number, 
/**
 * `application_name` of the standby (its `cluster_name` by default).
 */
application_name: string, 
/**
 * The standby's address (`client_addr`); `None` over a Unix socket.
 */
client_addr: string | null, 
/**
 * `startup`, `catchup`, `streaming`, `backup` or `stopping`; `None` when hidden.
 */
state: string | null, 
/**
 * Last WAL position sent.
 */
sent_lsn: Lsn | null, 
/**
 * Last position the standby wrote to disk.
 */
write_lsn: Lsn | null, 
/**
 * Last position the standby flushed to disk.
 */
flush_lsn: Lsn | null, 
/**
 * Last position the standby replayed.
 */
replay_lsn: Lsn | null, 
/**
 * Bytes between the node's position and `sent_lsn` (not yet sent).
 */
sent_lag_bytes: number | null, 
/**
 * Bytes between the node's position and `write_lsn`.
 */
write_lag_bytes: number | null, 
/**
 * Bytes between the node's position and `flush_lsn`.
 */
flush_lag_bytes: number | null, 
/**
 * Bytes between the node's position and `replay_lsn`.
 */
replay_lag_bytes: number | null, 
/**
 * `write_lag`, ms; 0 when `write_lag_bytes` is 0 (caught up at that step: PostgreSQL
 * keeps the last measured lag for a while after an idle catch-up, or shows NULL).
 */
write_lag_ms: number | null, 
/**
 * `flush_lag`, ms; 0 when `flush_lag_bytes` is 0.
 */
flush_lag_ms: number | null, 
/**
 * `replay_lag`, ms; 0 when `replay_lag_bytes` is 0.
 */
replay_lag_ms: number | null, 
/**
 * `async`, `potential`, `sync` or `quorum`.
 */
sync_state: string | null, 
/**
 * `sync_priority` (0 for an asynchronous standby).
 */
sync_priority: number | null, 
/**
 * `reply_time`: when the standby last sent a status message, RFC 3339 UTC.
 */
reply_time: string | null, 
/**
 * `now() − reply_time`, ms.
 */
reply_age_ms: number | null, 
/**
 * `age(backend_xmin)`: how many transactions old the xmin this standby holds back on the
 * node is (`hot_standby_feedback`); `None` when it holds none.
 */
backend_xmin_age: number | null, };

/**
 * A writer of the lake seen in its recent snapshots.
 */
export type WriterActivity = { 
/**
 * The snapshots' `author` (`skein` for Skein, whatever another tool set, `null` for none).
 */
author: string | null, 
/**
 * The writer in `commit_extra_info` (`console@host#id`, `cli@host`); `null` for a commit
 * that names none (another tool, or Skein before writers were recorded).
 */
writer: string | null, 
/**
 * Its commits in the window.
 */
commits: number, 
/**
 * Its newest commit in the window: snapshot id.
 */
last_snapshot_id: number, 
/**
 * Its newest commit's `snapshot_time`, ms since the epoch.
 */
last_commit_ms: number, 
/**
 * Its newest commit's `commit_message`.
 */
last_message: string | null, };
