//! Diagnosis of a profile's connections and the connection editor's RPC methods against a
//! real sandbox (a primary, one streaming replica and a lake): a good profile passes every
//! step; a wrong or expired password fails at `auth`, a replica the primary does not list fails at
//! `replication`, a stopped node fails at `tcp`, each with its fix and the later steps
//! skipped; a profile saved from the editor keeps its comments, validates, is remembered and
//! opens.

use std::path::Path;
use std::time::Duration;

use skein_console::diagnose::{self, Diagnosis, StepKind, StepStatus, TargetKind};
use skein_console::rpc::{ProfileDraft, SaveOutcome};
use skein_console::{App, ConsoleOptions, Request, Response};
use skein_core::Profile;
use skein_sandbox::ScratchSandbox;

const TIMEOUT: Duration = Duration::from_secs(5);

fn status_of(d: &Diagnosis, kind: StepKind) -> StepStatus {
    d.step(kind)
        .unwrap_or_else(|| panic!("no {kind:?} step in {d:#?}"))
        .status
}

fn assert_all_ok(d: &Diagnosis) {
    for s in &d.steps {
        assert_eq!(s.status, StepStatus::Ok, "{}: {s:?}", d.target);
        assert!(s.fix.is_none(), "{}: {s:?}", d.target);
    }
}

/// Every step after `kind` is skipped, naming `kind`.
fn assert_rest_skipped(d: &Diagnosis, kind: StepKind) {
    let at = d
        .steps
        .iter()
        .position(|s| s.step == kind)
        .expect("the failed step");
    for s in &d.steps[at + 1..] {
        assert_eq!(s.status, StepStatus::Skipped, "{s:?}");
        assert!(s.detail.contains(kind.name()), "{s:?}");
    }
}

fn with_text(profile: &Path, edit: impl Fn(&str) -> String) -> Profile {
    let text = edit(&std::fs::read_to_string(profile).expect("profile"));
    Profile::parse(&text, profile).expect("edited profile")
}

/// The profile connecting as `user` with `password` from a passfile written at `passfile`
/// (mode 0600).
fn with_passfile(profile: &Path, passfile: &Path, user: &str, password: &str) -> Profile {
    std::fs::write(passfile, format!("127.0.0.1:*:*:{user}:{password}\n")).expect("write");
    std::fs::set_permissions(
        passfile,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .expect("chmod");
    with_text(profile, |t| {
        t.lines()
            .map(|l| {
                if l.starts_with("passfile") {
                    format!("passfile = \"{}\"", passfile.display())
                } else {
                    l.replace("user=postgres", &format!("user={user}"))
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diagnosis_of_good_and_broken_profiles() {
    let sandbox = ScratchSandbox::up("diagnose", 1).await.expect("sandbox");
    let good = Profile::load(&sandbox.profile).expect("profile");
    // Before the lake is first opened its catalog has no DuckLake tables yet: still ok.
    let fresh = diagnose::lake(&good, TIMEOUT).await;
    assert_all_ok(&fresh);
    let catalog = fresh.step(StepKind::Catalog).expect("catalog");
    assert!(catalog.detail.contains("creates it"), "{catalog:?}");
    drop(skein_lake::Lake::open(&good).await.expect("lake"));

    // A good profile: every step of every node and of the lake is ok.
    let all = diagnose::profile(&good, TIMEOUT).await;
    let targets: Vec<(&str, TargetKind)> =
        all.iter().map(|d| (d.target.as_str(), d.kind)).collect();
    assert_eq!(
        targets,
        [
            ("primary", TargetKind::Primary),
            ("replica1", TargetKind::Replica),
            ("lake", TargetKind::Lake)
        ]
    );
    for d in &all {
        assert_all_ok(d);
    }
    let primary = &all[0];
    let kinds: Vec<StepKind> = primary.steps.iter().map(|s| s.step).collect();
    assert_eq!(
        kinds,
        [
            StepKind::Dns,
            StepKind::Tcp,
            StepKind::Tls,
            StepKind::Auth,
            StepKind::Privileges,
            StepKind::Replication
        ]
    );
    let auth = primary.step(StepKind::Auth).expect("auth");
    assert!(
        auth.detail
            .starts_with("connected as postgres to tpch (PostgreSQL 15"),
        "{auth:?}"
    );
    let repl = all[1].step(StepKind::Replication).expect("replication");
    assert!(
        repl.detail.contains("streams to it as 'replica1'"),
        "{repl:?}"
    );
    let lake = &all[2];
    let kinds: Vec<StepKind> = lake.steps.iter().map(|s| s.step).collect();
    assert_eq!(&kinds[4..], [StepKind::Catalog, StepKind::DataPath]);
    assert!(lake
        .step(StepKind::Catalog)
        .expect("catalog")
        .detail
        .starts_with("DuckLake "));

    // A wrong password: auth fails with the fix, the rest is skipped.
    let dir = sandbox.dir.clone();
    let wrong = with_passfile(
        &sandbox.profile,
        &dir.join("wrong-pgpass"),
        "postgres",
        "not-the-password",
    );
    let d = diagnose::target(&wrong, Some("primary"), TIMEOUT)
        .await
        .expect("primary");
    assert_eq!(status_of(&d, StepKind::Tcp), StepStatus::Ok);
    let auth = d.step(StepKind::Auth).expect("auth");
    assert_eq!(auth.status, StepStatus::Fail, "{d:#?}");
    assert!(auth.detail.contains("28P01"), "{auth:?}");
    assert!(!auth.detail.contains("not-the-password"), "{auth:?}");
    assert!(
        auth.fix
            .as_deref()
            .is_some_and(|f| f.contains("skein secret set primary")),
        "{auth:?}"
    );
    assert_rest_skipped(&d, StepKind::Auth);

    // An expired password (VALID UNTIL in the past): PostgreSQL answers with a wrong
    // password's words; the fix names both, and how to renew it.
    let admin = skein_core::conninfo::connect(&format!(
        "{} password={}",
        sandbox.conninfo("primary", skein_sandbox::DEMO_DATABASE),
        sandbox.password().expect("password")
    ))
    .await
    .expect("admin connection");
    admin
        .batch_execute(
            "DROP ROLE IF EXISTS skein_expired; \
             CREATE ROLE skein_expired LOGIN PASSWORD 'expired-pw' VALID UNTIL '2000-01-01'",
        )
        .await
        .expect("expired role");
    let expired = with_passfile(
        &sandbox.profile,
        &dir.join("expired-pgpass"),
        "skein_expired",
        "expired-pw",
    );
    assert!(
        expired.primary.url.contains("skein_expired"),
        "{}",
        expired.primary.url
    );
    let d = diagnose::target(&expired, Some("primary"), TIMEOUT)
        .await
        .expect("primary");
    let auth = d.step(StepKind::Auth).expect("auth");
    assert_eq!(auth.status, StepStatus::Fail, "{d:#?}");
    assert!(!auth.detail.contains("expired-pw"), "{auth:?}");
    assert!(
        auth.fix
            .as_deref()
            .is_some_and(|f| f.contains("expired") && f.contains("VALID UNTIL")),
        "{auth:?}"
    );
    assert_rest_skipped(&d, StepKind::Auth);

    // TLS required of a server without it: tls fails with the fix, auth is skipped.
    let tls = with_text(&sandbox.profile, |t| {
        t.replace("dbname=tpch\"", "dbname=tpch sslmode=require\"")
    });
    let d = diagnose::target(&tls, Some("primary"), TIMEOUT)
        .await
        .expect("primary");
    let step = d.step(StepKind::Tls).expect("tls");
    assert_eq!(step.status, StepStatus::Fail, "{d:#?}");
    assert!(step.detail.contains("does not accept TLS"), "{step:?}");
    assert!(
        step.fix
            .as_deref()
            .is_some_and(|f| f.contains("turn ssl on")),
        "{step:?}"
    );
    assert_rest_skipped(&d, StepKind::Tls);

    // A replica the primary does not list under the name the profile gives it.
    let renamed = with_text(&sandbox.profile, |t| {
        t.replace(
            "name = \"replica1\"",
            "name = \"replica1\"\napplication_name = \"not-streaming\"",
        )
    });
    let d = diagnose::target(&renamed, Some("replica1"), TIMEOUT)
        .await
        .expect("replica1");
    let repl = d.step(StepKind::Replication).expect("replication");
    assert_eq!(repl.status, StepStatus::Fail, "{d:#?}");
    assert!(repl.detail.contains("'not-streaming'"), "{repl:?}");
    assert!(
        repl.fix
            .as_deref()
            .is_some_and(|f| f.contains("application_name")),
        "{repl:?}"
    );

    // A node behind an SSH server that does not answer: tcp fails with ssh's words and the fix.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let tunnelled = with_text(&sandbox.profile, |t| {
        t.replace(
            "name = \"replica1\"",
            &format!("name = \"replica1\"\nssh = \"root@127.0.0.1\"\nssh_port = {closed}"),
        )
    });
    let d = diagnose::target(&tunnelled, Some("replica1"), TIMEOUT)
        .await
        .expect("replica1");
    assert_eq!(status_of(&d, StepKind::Dns), StepStatus::Skipped, "{d:#?}");
    let tcp = d.step(StepKind::Tcp).expect("tcp");
    assert_eq!(tcp.status, StepStatus::Fail, "{d:#?}");
    assert!(tcp.detail.contains("ssh"), "{tcp:?}");
    assert!(tcp.fix.as_deref().is_some_and(|f| !f.is_empty()), "{tcp:?}");
    assert_rest_skipped(&d, StepKind::Tcp);
    skein_core::tunnel::shutdown_all();

    // A stopped node: tcp fails with the fix; the primary sees one standby fewer.
    sandbox.stop_node("replica1").expect("stop");
    let d = diagnose::target(&good, Some("replica1"), TIMEOUT)
        .await
        .expect("replica1");
    let tcp = d.step(StepKind::Tcp).expect("tcp");
    assert_eq!(tcp.status, StepStatus::Fail, "{d:#?}");
    assert!(tcp.detail.contains("refused"), "{tcp:?}");
    assert!(
        tcp.fix
            .as_deref()
            .is_some_and(|f| f.contains("start the server")),
        "{tcp:?}"
    );
    assert_rest_skipped(&d, StepKind::Tcp);
    // The primary's view: eventually no WAL sender for the stopped standby.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let p = diagnose::target(&good, Some("primary"), TIMEOUT)
            .await
            .expect("primary");
        let repl = p.step(StepKind::Replication).expect("replication").clone();
        if repl.status == StepStatus::Warn {
            assert!(repl.detail.contains("profile names 1"), "{repl:?}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the primary still lists the stopped standby: {repl:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let unknown = diagnose::target(&good, Some("nope"), TIMEOUT)
        .await
        .expect_err("unknown node");
    assert!(unknown.to_string().contains("nope"), "{unknown}");
}

fn draft_of(resp: Response) -> ProfileDraft {
    match resp {
        Response::ProfileForEdit(e) => e.profile.clone(),
        other => panic!("profile_for_edit answered {other:?}"),
    }
}

fn saved(resp: Response) -> SaveOutcome {
    match resp {
        Response::SaveProfile(o) => o,
        other => panic!("save_profile answered {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editor_reads_diagnoses_saves_and_opens_a_profile() {
    let sandbox = ScratchSandbox::up("editor", 1).await.expect("sandbox");
    let config = tempfile::tempdir().expect("config dir");
    let app = App::with_config_dir(ConsoleOptions::default(), Some(config.path().to_owned()));

    // The sandbox's profile, read into the editor's fields.
    let path = sandbox.profile.display().to_string();
    let draft = draft_of(
        app.rpc(Request::ProfileForEdit {
            path: Some(path.clone()),
        })
        .await
        .expect("profile_for_edit"),
    );
    assert_eq!(draft.primary.conn.host, "127.0.0.1");
    assert_eq!(draft.replicas.len(), 1);
    assert!(draft.passfile.ends_with("pgpass"));

    // Test the lake from the (unsaved) draft.
    match app
        .rpc(Request::Diagnose {
            profile: draft.clone(),
            target: None,
            passwords: Vec::new(),
        })
        .await
        .expect("diagnose")
    {
        Response::Diagnose(d) => {
            assert_eq!(d.kind, TargetKind::Lake);
            assert_all_ok(&d);
        }
        other => panic!("diagnose answered {other:?}"),
    }

    // A new file, written from the draft with a replica renamed: saved, remembered, opened.
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("edited.toml");
    let original = std::fs::read_to_string(&sandbox.profile).expect("profile");
    std::fs::write(&file, format!("# my stack — keep this note\n{original}")).expect("copy");
    let mut edited = draft.clone();
    edited.name = "edited".into();
    edited.replicas[0].region = "eu-west".into();
    let out = saved(
        app.rpc(Request::SaveProfile {
            path: file.display().to_string(),
            profile: edited.clone(),
            passwords: Vec::new(),
            open: true,
        })
        .await
        .expect("save_profile"),
    );
    assert!(out.saved, "{out:?}");
    assert_eq!(out.open_error, None);
    assert_eq!(
        out.profiles.current.as_ref().map(|c| c.name.as_str()),
        Some("edited")
    );
    assert_eq!(out.profiles.recent.first(), Some(&out.path));
    let text = std::fs::read_to_string(&file).expect("saved");
    assert!(text.starts_with("# my stack — keep this note\n"), "{text}");
    assert!(text.contains("region = \"eu-west\""), "{text}");
    assert_eq!(
        Profile::load(&file).expect("valid").replicas[0]
            .region
            .as_deref(),
        Some("eu-west")
    );
    // Read back for editing: the same fields.
    let again = draft_of(
        app.rpc(Request::ProfileForEdit { path: None })
            .await
            .expect("open profile's"),
    );
    assert_eq!(again, edited);

    // An invalid draft: nothing written, the field named.
    let mut broken = edited.clone();
    broken.replicas[0].name = "primary".into();
    let out = saved(
        app.rpc(Request::SaveProfile {
            path: file.display().to_string(),
            profile: broken,
            passwords: Vec::new(),
            open: false,
        })
        .await
        .expect("save_profile"),
    );
    assert!(!out.saved);
    let problem = out.problem.expect("problem");
    assert_eq!(problem.field, "replicas[0].name");
    assert!(problem.message.contains("used twice"), "{problem:?}");
    assert_eq!(
        std::fs::read_to_string(&file).expect("file"),
        text,
        "nothing written"
    );

    let relative = app
        .rpc(Request::SaveProfile {
            path: "relative.toml".into(),
            profile: edited,
            passwords: Vec::new(),
            open: false,
        })
        .await
        .expect_err("a relative path");
    assert!(relative.message.contains("absolute"), "{relative:?}");
    if let Some(c) = app.console() {
        c.close();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_stack_with_a_monitoring_role() {
    let security = skein_sandbox::SandboxSecurity {
        tls: true,
        client_cert: false,
        profile_role: skein_sandbox::ProfileRole::Monitor,
    };
    let sandbox = ScratchSandbox::up_with("diagnose-tls", 1, security)
        .await
        .expect("TLS sandbox");
    let profile = Profile::load(&sandbox.profile).expect("profile");
    drop(skein_lake::Lake::open(&profile).await.expect("lake"));
    let all = diagnose::profile(&profile, TIMEOUT).await;
    for d in &all {
        assert!(!d.failed(), "{d:#?}");
        let tls = d.step(StepKind::Tls).expect("tls");
        assert_eq!(tls.status, StepStatus::Ok, "{tls:?}");
        assert!(tls.detail.starts_with("TLSv1."), "{tls:?}");
        assert!(tls.detail.contains("sslmode=verify-full"), "{tls:?}");
        let auth = d.step(StepKind::Auth).expect("auth");
        assert!(
            auth.detail.starts_with("connected as skein_monitor"),
            "{auth:?}"
        );
    }
    for d in &all[..2] {
        let p = d.step(StepKind::Privileges).expect("privileges");
        assert_eq!(p.status, StepStatus::Ok, "{p:?}");
        assert!(
            p.detail.contains("works: lag and replication details"),
            "{p:?}"
        );
        assert!(
            p.detail.contains("disabled: ") && p.detail.contains("replay pause/resume"),
            "{p:?}"
        );
        assert_eq!(
            status_of(d, StepKind::Replication),
            StepStatus::Ok,
            "{d:#?}"
        );
    }

    // The server's certificate against another CA (the system's roots): tls fails with the fix.
    let ca = sandbox.dir.join("tls").join("ca.crt").display().to_string();
    let other_ca = with_text(&sandbox.profile, |t| t.replace(&ca, "system"));
    let d = diagnose::target(&other_ca, Some("primary"), TIMEOUT)
        .await
        .expect("primary");
    let tls = d.step(StepKind::Tls).expect("tls");
    assert_eq!(tls.status, StepStatus::Fail, "{d:#?}");
    assert!(
        tls.fix
            .as_deref()
            .is_some_and(|f| f.contains("sslrootcert")),
        "{tls:?}"
    );
    assert_rest_skipped(&d, StepKind::Tls);

    // A plain connection to a TLS-only server: refused by pg_hba.conf, with the fix.
    let plain = with_text(&sandbox.profile, |t| {
        t.replace("sslmode=verify-full", "sslmode=disable")
    });
    let d = diagnose::target(&plain, Some("primary"), TIMEOUT)
        .await
        .expect("primary");
    assert!(d.failed(), "{d:#?}");
    let failed = d
        .steps
        .iter()
        .find(|s| s.status == StepStatus::Fail)
        .expect("a failed step");
    assert_eq!(failed.step, StepKind::Tls, "{d:#?}");
    assert!(
        failed
            .fix
            .as_deref()
            .is_some_and(|f| f.contains("sslmode=require")),
        "{failed:?}"
    );
}
