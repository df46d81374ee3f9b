//! Change detection for caches, one entry point for refreshes, cache states and snapshots of
//! several caches: the change feed ([`crate::feed`]) when the primary has one, else the scan
//! fingerprint ([`skein_pg::Fingerprint`]). A refresh record's `fingerprint` column holds
//! either a feed mark (`feed:…`) or a scan digest, and each is judged the way it was taken.

use skein_pg::{Cluster, Fingerprint, Lsn};

use crate::error::Result;
use crate::feed::{self, FeedStatus, Mark, Verdict};
use crate::lake::Lake;

/// How a refresh's mark was taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detection {
    /// By the change feed: no scan.
    Feed,
    /// By scanning the tables on the primary; why the feed could not be used.
    Scan(String),
}

impl Lake {
    /// Consumes the change feed now (see [`feed::consume`]). A failure (the primary or the
    /// catalog unreachable, a permission missing in the catalog) is
    /// [`FeedStatus::Unavailable`] with the error: checks then fall back to the scan, and a
    /// mark the feed took reads unknown, never unchanged.
    pub async fn change_feed(&self, cluster: &Cluster) -> FeedStatus {
        match feed::consume(&cluster.primary, &self.catalog).await {
            Ok(status) => status,
            Err(e) => {
                tracing::debug!("change feed unavailable: {e}");
                FeedStatus::Unavailable(format!("the change feed could not be read: {e}"))
            }
        }
    }

    /// Marks for several table lists at once, all at one snapshot (one scan of each table at
    /// most, on the fallback), with the primary LSN a replica must have replayed to hold what
    /// they describe. `feed` is a consumption made for this call, if any.
    ///
    /// Errors: a table that does not exist (`NotFound`); the primary unreachable.
    pub(crate) async fn take_marks(
        &self,
        cluster: &Cluster,
        lists: &[&[String]],
        feed: Option<&FeedStatus>,
    ) -> Result<(Vec<String>, Lsn, Detection)> {
        let mut all: Vec<String> = Vec::new();
        for t in lists.iter().flat_map(|l| l.iter()) {
            if !all.contains(t) {
                all.push(t.clone());
            }
        }
        let status = match feed {
            Some(s) => s.clone(),
            None => self.change_feed(cluster).await,
        };
        let why = match &status {
            FeedStatus::Available(g) => match feed::take_mark(&cluster.primary, &all, g).await? {
                Some((mark, lsn)) => {
                    let marks = lists
                        .iter()
                        .map(|l| {
                            Mark {
                                tables: l
                                    .iter()
                                    .filter_map(|t| all.iter().position(|a| a == t))
                                    .map(|i| mark.tables[i].clone())
                                    .collect(),
                                ..mark.clone()
                            }
                            .encode()
                        })
                        .collect();
                    return Ok((marks, lsn, Detection::Feed));
                }
                None => "a transaction older than the change feed is still open on the primary"
                    .to_owned(),
            },
            FeedStatus::Unavailable(why) => why.clone(),
        };
        let fp = Fingerprint::take(&cluster.primary, &all).await?;
        let marks = lists
            .iter()
            .map(|l| {
                Fingerprint {
                    tables: l
                        .iter()
                        .filter_map(|t| fp.tables.iter().find(|f| &f.table == t).cloned())
                        .collect(),
                    lsn: fp.lsn,
                }
                .digest()
            })
            .collect();
        Ok((marks, fp.lsn, Detection::Scan(why)))
    }

    /// Whether `tables` changed since a refresh recorded `recorded` (its `fingerprint`
    /// column): a feed mark is judged by the feed (no scan), a scan digest by a new scan.
    /// `feed` is a consumption made for this call, if any.
    ///
    /// Errors: the primary or the catalog cannot be reached; a table that does not exist
    /// (scan digests only: the feed says [`Verdict::Changed`]).
    pub(crate) async fn changed_since(
        &self,
        cluster: &Cluster,
        tables: &[String],
        recorded: &str,
        feed: Option<&FeedStatus>,
    ) -> Result<Verdict> {
        if let Some(mark) = Mark::decode(recorded) {
            let status = match feed {
                Some(s) => s.clone(),
                None => self.change_feed(cluster).await,
            };
            return feed::judge(&cluster.primary, &self.catalog, &mark, &status).await;
        }
        let fp = Fingerprint::take(&cluster.primary, tables).await?;
        Ok(if fp.digest() == recorded {
            Verdict::Unchanged
        } else {
            Verdict::Changed("the monitored tables' scan fingerprint moved".into())
        })
    }
}
