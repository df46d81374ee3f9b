//! `skein status [--json] [--watch]`: every node's role, reachability, state, the node it
//! streams from (its upstream: the primary, or another replica when it cascades), lag, timeline
//! and whether Skein's session to it is encrypted (`pg_stat_ssl`).

use std::time::Duration;

use skein_pg::{lag, Cluster, LagSample};

use crate::output;

/// Prints one sample, or one a second until interrupted with `--watch`.
pub async fn run(profile: &skein_core::Profile, json: bool, watch: bool) -> anyhow::Result<()> {
    let cluster = Cluster::from_profile(profile)?;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    // One listener for the whole run: a Ctrl-C that arrives while a sample is being taken
    // (seconds, when a node or its tunnel is reconnecting) must not be lost.
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    loop {
        let sample = tokio::select! {
            _ = &mut interrupted, if watch => return Ok(()),
            s = lag::sample(&cluster) => s,
        };
        if json {
            output::line(&serde_json::to_string(&sample)?);
        } else {
            if watch {
                print!("\x1b[2J\x1b[H");
            }
            print_table(profile, &sample);
        }
        if !watch {
            return Ok(());
        }
        tokio::select! {
            _ = &mut interrupted => return Ok(()),
            _ = tick.tick() => {}
        }
    }
}

fn print_table(profile: &skein_core::Profile, sample: &LagSample) {
    output::line(&format!(
        "profile: {} ({})",
        profile.name,
        profile
            .source
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    ));
    let rows: Vec<Vec<String>> = sample
        .nodes
        .iter()
        .map(|n| {
            vec![
                n.name.clone(),
                format!("{:?}", n.role).to_lowercase(),
                if n.reachable { "yes" } else { "no" }.into(),
                serde_json::to_value(n.state)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                n.upstream.clone().unwrap_or_else(|| "-".into()),
                n.lag_bytes
                    .map(|b| b.to_string())
                    .unwrap_or_else(|| "-".into()),
                n.replay_lag_ms
                    .map(|b| b.to_string())
                    .unwrap_or_else(|| "-".into()),
                n.lsn.map(|l| l.to_string()).unwrap_or_else(|| "-".into()),
                n.timeline_id
                    .map(|t| t.to_string())
                    .unwrap_or_else(|| "-".into()),
                match (&n.tls, n.reachable) {
                    (Some(t), _) => t.version.clone(),
                    (None, true) => "off".into(),
                    (None, false) => "-".into(),
                },
                n.error
                    .as_ref()
                    .map(|e| format!("{}: {}", e.code, e.message))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    output::table(
        &[
            "NAME",
            "ROLE",
            "REACHABLE",
            "STATE",
            "UPSTREAM",
            "LAG_BYTES",
            "REPLAY_LAG_MS",
            "LSN",
            "TIMELINE",
            "TLS",
            "ERROR",
        ],
        &rows,
    );
    print_tunnels(profile);
}

/// One note per node reached through an SSH tunnel: the SSH server, the loopback port, restarts.
fn print_tunnels(profile: &skein_core::Profile) {
    let tunnels = skein_core::tunnel::tunnels();
    for node in profile.nodes() {
        let Some(ssh) = &node.ssh else { continue };
        let target = skein_core::conninfo::parse(&node.url)
            .ok()
            .and_then(|i| skein_core::tunnel::forward_target(&i.config));
        let t = tunnels
            .iter()
            .find(|t| &t.ssh == ssh && Some((t.host.clone(), t.port)) == target);
        let state = match t {
            Some(t) if t.running => format!(
                "127.0.0.1:{}{}",
                t.local_port,
                match t.restarts {
                    0 => String::new(),
                    n => format!(", restarted {n}×"),
                }
            ),
            Some(_) => "down, restarting".into(),
            None => "not open".into(),
        };
        output::line(&format!(
            "{}: through an SSH tunnel via {ssh} ({state})",
            node.name
        ));
    }
}
