//! The application behind every front end: the open [`Console`] (or none yet), the list of
//! recently opened profiles, one event channel that outlives profile switches, and
//! [`App::rpc`], the single entry point the Tauri command and `POST /api/rpc` forward to.
//!
//! Recent profiles live in `<config>/skein/recent.json` (`$SKEIN_CONFIG_DIR`, else
//! `$XDG_CONFIG_HOME/skein`, else `~/.config/skein`): a JSON array of absolute paths, newest
//! first, at most [`RECENT_MAX`].

use std::path::{Path, PathBuf};
use std::sync::RwLock;

use skein_core::{ErrorInfo, Profile};
use tokio::sync::broadcast;

use crate::console::{Console, ConsoleOptions};
use crate::error::{Error, Result};
use crate::rpc::{Event, ProfileList, Request, Response};

/// Recent profiles remembered ([`crate::limits::RECENT_PROFILES_MAX`]).
pub const RECENT_MAX: usize = crate::limits::RECENT_PROFILES_MAX;

/// Events buffered per subscriber before a slow one starts missing them (an hour of lag
/// events for 16 replicas is not kept here: history is asked for with `lag_history`).
const EVENT_BUFFER: usize = 1024;

/// The application (see the module header). Share it behind an `Arc`.
pub struct App {
    console: RwLock<Option<Console>>,
    events: broadcast::Sender<Event>,
    options: ConsoleOptions,
    config_dir: Option<PathBuf>,
}

impl App {
    /// An application with no profile open, remembering recent profiles in the default
    /// configuration directory.
    pub fn new(options: ConsoleOptions) -> App {
        App::with_config_dir(options, default_config_dir())
    }

    /// An application that keeps its recent-profiles list in `config_dir` (`None`: nowhere).
    /// The first application of a process also names the process's lake writer
    /// (`console@<host>#<id>`, [`crate::console_id`]) unless the process named it before.
    pub fn with_config_dir(options: ConsoleOptions, config_dir: Option<PathBuf>) -> App {
        skein_lake::identity::set_writer("console", crate::console_id().as_deref());
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        App {
            console: RwLock::new(None),
            events,
            options,
            config_dir,
        }
    }

    /// Every event from now on (lag ticks, cache states, refreshes, lake changes).
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// The open console.
    pub fn console(&self) -> Option<Console> {
        self.console.read().ok().and_then(|c| c.clone())
    }

    /// Opens the profile file at `path`, closing the open one. Errors: `NotFound` for a
    /// missing file, `InvalidInput` (with file, line and field) for a malformed one.
    pub fn open_profile(&self, path: &Path) -> Result<ProfileList> {
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let profile = Profile::load(&path)?;
        self.open(profile)?;
        tracing::info!(profile = %path.display(), "profile opened");
        self.remember(&path);
        let list = self.profiles();
        let _ = self.events.send(Event::ProfileOpened(list.clone()));
        Ok(list)
    }

    /// Opens an already-read profile, closing the open one.
    pub fn open(&self, profile: Profile) -> Result<()> {
        let console = Console::open(profile, self.options, self.events.clone())?;
        let mut slot = self
            .console
            .write()
            .map_err(|_| Error::Internal("the open console was poisoned by a panic".into()))?;
        if let Some(old) = slot.replace(console) {
            old.close();
        }
        Ok(())
    }

    /// The open profile and the recent ones.
    pub fn profiles(&self) -> ProfileList {
        ProfileList {
            current: self.console().map(|c| c.profile_info()),
            recent: self.recent(),
        }
    }

    /// Answers one request with the response of the same method. Errors cross as
    /// `{ code, message }`; a response of another method (a slip in the dispatch below) is
    /// `Internal` rather than a wrong answer.
    pub async fn rpc(&self, request: Request) -> std::result::Result<Response, ErrorInfo> {
        // Only the method is logged: parameters may hold SQL or a typed-in password.
        let method = request.method();
        let response = self.dispatch(request).await.map_err(|e| {
            let info = e.info();
            if info.code == skein_core::ErrorCode::Internal {
                tracing::warn!(%method, code = %info.code, "request failed: {}", info.message);
            } else {
                tracing::debug!(%method, code = %info.code, "request failed: {}", info.message);
            }
            info
        })?;
        if response.method() != method {
            return Err(Error::Internal(format!(
                "the console answered {method} with a {} response",
                response.method()
            ))
            .info());
        }
        Ok(response)
    }

    async fn dispatch(&self, request: Request) -> Result<Response> {
        match request {
            Request::Profiles => return Ok(Response::Profiles(self.profiles())),
            Request::OpenProfile { path } => {
                return Ok(Response::OpenProfile(self.open_profile(Path::new(&path))?))
            }
            Request::Diagnose {
                profile,
                target,
                passwords,
            } => {
                return Ok(Response::Diagnose(
                    crate::editor::diagnose(&profile, target.as_deref(), &passwords).await?,
                ))
            }
            Request::ProfileForEdit { path } => {
                let edit = crate::editor::profile_for_edit(self, path.as_deref())?;
                return Ok(Response::ProfileForEdit(Box::new(edit)));
            }
            Request::SaveProfile {
                path,
                profile,
                passwords,
                open,
            } => {
                return Ok(Response::SaveProfile(crate::editor::save_profile(
                    self, &path, &profile, &passwords, open,
                )?))
            }
            Request::SaveAlertRules { rules } => {
                let console = self.console().ok_or(Error::NoProfile)?;
                let path = console.profile().source.clone().ok_or_else(|| {
                    Error::InvalidInput(
                        "this profile was not read from a file: edit its [alerts] table by hand"
                            .into(),
                    )
                })?;
                skein_core::profile_write::save_alerts(&path, &rules)?;
                tracing::info!(profile = %path.display(), "alert rules saved");
                self.open_profile(&path)?;
                let console = self.console().ok_or(Error::NoProfile)?;
                return Ok(Response::SaveAlertRules(console.alerts()));
            }
            Request::ParseConninfo { conninfo } => {
                return Ok(Response::ParseConninfo(
                    skein_core::profile_write::ConnDraft::parse(&conninfo)
                        .map_err(Error::InvalidInput)?,
                ))
            }
            _ => {}
        }
        let console = self.console().ok_or(Error::NoProfile)?;
        Ok(match request {
            Request::Overview => Response::Overview(console.overview().await),
            Request::LagHistory { since_ms } => Response::LagHistory(console.lag_history(since_ms)),
            Request::Caches => Response::Caches(console.caches().await?),
            Request::RefreshCache { name, force } => {
                Response::RefreshCache(console.refresh_cache(&name, force).await?)
            }
            Request::CreateCache(spec) => {
                Response::CreateCache(console.save_cache(&spec, false).await?)
            }
            Request::UpdateCache(spec) => {
                Response::UpdateCache(console.save_cache(&spec, true).await?)
            }
            Request::DeleteCache { name } => {
                console.delete_cache(&name).await?;
                Response::DeleteCache
            }
            Request::SetCachePaused { name, paused } => {
                Response::SetCachePaused(console.set_cache_paused(&name, paused).await?)
            }
            Request::SuggestMonitor { query } => {
                Response::SuggestMonitor(skein_lake::lifecycle::tables_of(&query)?)
            }
            Request::SuggestKey { query } => {
                Response::SuggestKey(console.suggest_key(&query).await?)
            }
            Request::CacheRefreshes { name, limit } => {
                Response::CacheRefreshes(console.cache_refreshes(&name, limit).await?)
            }
            Request::SnapshotDiff(req) => Response::SnapshotDiff(console.snapshot_diff(req).await?),
            Request::SnapshotSideBySide(req) => {
                Response::SnapshotSideBySide(console.side_by_side(req).await?)
            }
            Request::Timeline { limit } => {
                Response::Timeline(console.lake().await?.timeline(limit as usize).await?)
            }
            Request::TableHistory { table, limit } => Response::TableHistory(
                console
                    .lake()
                    .await?
                    .table_history(&table, limit as usize)
                    .await?,
            ),
            Request::Bookmarks => Response::Bookmarks(console.lake().await?.bookmarks().await?),
            Request::SetBookmark { name, version } => {
                let b = console.lake().await?.set_bookmark(&name, version).await?;
                console.lake_changed();
                Response::SetBookmark(b)
            }
            Request::DeleteBookmark { name } => {
                console.lake().await?.delete_bookmark(&name).await?;
                console.lake_changed();
                Response::DeleteBookmark
            }
            Request::PreviewRestore {
                table,
                version,
                limit,
            } => Response::PreviewRestore(
                console
                    .lake()
                    .await?
                    .preview_restore(&table, version, limit)
                    .await?,
            ),
            Request::Restore {
                table,
                version,
                previewed,
            } => Response::Restore(console.restore(&table, version, previewed).await?),
            Request::SnapshotCaches { names } => {
                Response::SnapshotCaches(console.snapshot_caches(&names).await?)
            }
            Request::Snapshots { limit, before } => {
                Response::Snapshots(console.snapshots(limit, before).await?)
            }
            Request::SnapshotChanges { id } => {
                Response::SnapshotChanges(console.lake().await?.snapshot_changes(id).await?)
            }
            Request::LakeTables => Response::LakeTables(console.lake().await?.tables().await?),
            Request::TimeTravel {
                table,
                at,
                limit,
                offset,
            } => Response::TimeTravel(console.time_travel(&table, at, limit, offset).await?),
            Request::ExportLagChart { node, format } => Response::ExportLagChart(
                crate::chart::lag_chart(&console.lag_history(None), &node, format)?,
            ),
            Request::LakeStats => Response::LakeStats(console.lake().await?.stats().await?),
            Request::PreviewExpire { target } => Response::PreviewExpire(
                console
                    .lake()
                    .await?
                    .expire_snapshots(&target, true)
                    .await?,
            ),
            Request::ExpireSnapshots { versions } => Response::ExpireSnapshots(
                console
                    .start_job(crate::jobs::JobKind::ExpireSnapshots { versions })
                    .await?,
            ),
            Request::PreviewDeleteFiles { orphaned } => {
                let lake = console.lake().await?;
                Response::PreviewDeleteFiles(if orphaned {
                    lake.delete_orphaned_files(true).await?
                } else {
                    lake.cleanup_old_files(true).await?
                })
            }
            Request::DeleteFiles { orphaned } => Response::DeleteFiles(
                console
                    .start_job(crate::jobs::JobKind::DeleteFiles { orphaned })
                    .await?,
            ),
            Request::PreviewCompaction => {
                Response::PreviewCompaction(console.lake().await?.compaction_preview().await?)
            }
            Request::Compact { what } => Response::Compact(
                console
                    .start_job(crate::jobs::JobKind::Compact { what })
                    .await?,
            ),
            Request::Jobs => Response::Jobs(console.jobs()),
            Request::ExplainQuery { sql, session } => {
                Response::ExplainQuery(console.explain_query(&sql, session.as_deref()).await?)
            }
            Request::RunQuery {
                sql,
                session,
                max_rows,
            } => Response::RunQuery(
                console
                    .run_query(&sql, session.as_deref(), max_rows)
                    .await?,
            ),
            Request::CancelQuery { session } => {
                Response::CancelQuery(console.cancel_query(&session).await?)
            }
            Request::Routing => Response::Routing(console.routing()),
            Request::Privileges => Response::Privileges(console.privileges()),
            Request::PauseReplay { node } => {
                console.set_replay(&node, true).await?;
                Response::PauseReplay
            }
            Request::ResumeReplay { node } => {
                console.set_replay(&node, false).await?;
                Response::ResumeReplay
            }
            Request::Replication => Response::Replication(console.replication().await),
            Request::DropSlot { node, slot } => {
                console.drop_slot(&node, &slot).await?;
                Response::DropSlot
            }
            Request::Alerts => Response::Alerts(console.alerts()),
            Request::AcknowledgeAlert { id } => {
                Response::AcknowledgeAlert(console.acknowledge_alert(id)?)
            }
            Request::Profiles
            | Request::OpenProfile { .. }
            | Request::Diagnose { .. }
            | Request::ProfileForEdit { .. }
            | Request::SaveProfile { .. }
            | Request::SaveAlertRules { .. }
            | Request::ParseConninfo { .. } => {
                unreachable!("answered above without a console")
            }
        })
    }

    fn recent_file(&self) -> Option<PathBuf> {
        self.config_dir.as_ref().map(|d| d.join("recent.json"))
    }

    /// Recently opened profiles that still exist, newest first.
    pub fn recent(&self) -> Vec<String> {
        let Some(file) = self.recent_file() else {
            return Vec::new();
        };
        std::fs::read_to_string(file)
            .ok()
            .and_then(|t| serde_json::from_str::<Vec<String>>(&t).ok())
            .unwrap_or_default()
            .into_iter()
            .filter(|p| Path::new(p).exists())
            .collect()
    }

    /// Puts `path` first in the recent list. A failure to write it is not an error for the
    /// user (the profile is open); it is only not remembered.
    pub(crate) fn remember(&self, path: &Path) {
        let Some(file) = self.recent_file() else {
            return;
        };
        let path = path.display().to_string();
        let mut list = self.recent();
        list.retain(|p| *p != path);
        list.insert(0, path);
        list.truncate(RECENT_MAX);
        let written = serde_json::to_string_pretty(&list)
            .map_err(std::io::Error::other)
            .and_then(|text| {
                if let Some(dir) = file.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                std::fs::write(&file, text)
            });
        if let Err(e) = written {
            tracing::warn!(file = %file.display(), "the recent profiles are not remembered: {e}");
        }
    }
}

fn default_config_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("SKEIN_CONFIG_DIR") {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CONFIG_HOME") {
        return Some(PathBuf::from(d).join("skein"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config").join("skein"))
}
