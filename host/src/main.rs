//! `ac-host`: a wasmtime host for the ActiveCampaign source component.
//!
//! It loads the component that `connector.json` names, calls its typed `connector` interface
//! (spec, check, discover, read), lets its requests reach only the config's `api_url` origin,
//! bounds each instance's memory and wall time, streams its output into per-stream files with a
//! crash-safe state file, and runs many accounts at once in one process.

mod account;
mod accounts;
mod catalog;
mod cli;
mod egress;
mod held;
mod manifest;
mod outdir;
mod sandbox;
mod send;
mod sink;

use anyhow::{Context, Result};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match cli::parse(&argv) {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{}", cli::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("ac-host: {e:#}\n{}", cli::USAGE);
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ac-host: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("ac-host: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn read_text(path: &Path, what: &str) -> Result<String> {
    std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the {what} file {}", path.display()))
}

/// Runs the command; Ok(false) when it ran but something failed (already reported).
async fn run(args: cli::Args) -> Result<bool> {
    let manifest = manifest::Manifest::load(&args.connector, args.component.as_deref())?;
    let mut jobs = Vec::new();
    if args.command == cli::Command::Run {
        let path = args.accounts.as_deref().context("--accounts")?;
        let base = path.parent().unwrap_or(Path::new("."));
        let list = accounts::parse(&read_text(path, "accounts")?, base)?;
        let out = args.out.as_deref().context("--out")?;
        for a in accounts::shard(list, args.shard) {
            jobs.push(account::Job {
                out: out.join(&a.name),
                name: a.name,
                config: a.config,
                catalog: a.catalog,
            });
        }
    }
    let pooling = args.pooling.then(|| (jobs.len().max(1)) as u32);
    let loaded = sandbox::load(
        &manifest.component,
        &sandbox::EngineOptions {
            pooling,
            memory_limit: args.memory_limit,
            cache_dir: args.cache_dir.clone(),
        },
    )?;
    let config = match &args.config {
        Some(p) => Some(read_text(p, "config")?),
        None => None,
    };
    let catalog = match &args.catalog {
        Some(p) => Some(read_text(p, "catalog")?),
        None => None,
    };
    match args.command {
        cli::Command::Spec
        | cli::Command::Check
        | cli::Command::Discover
        | cli::Command::Catalog => {
            simple_call(&loaded, &args, config.as_deref().unwrap_or("{}")).await
        }
        cli::Command::Read => {
            let out = args.out.clone().context("--out")?;
            jobs.push(account::Job {
                name: out
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "account".into()),
                config: config.unwrap_or_default(),
                catalog,
                out,
            });
            run_jobs(&loaded, &manifest, &args, jobs).await
        }
        cli::Command::Run => run_jobs(&loaded, &manifest, &args, jobs).await,
    }
}

/// spec, check, discover: one instance, one call, the answer on stdout.
async fn simple_call(loaded: &sandbox::Loaded, args: &cli::Args, config: &str) -> Result<bool> {
    let egress = simple_egress(args, config)?;
    let sink_dir = std::env::temp_dir().join(format!("ac-host-{}", std::process::id()));
    let out = outdir::OutDir::open(&sink_dir)?;
    let (stdout, _writer) = sink::spawn_writer(sink::LineSink::new(out))?;
    let deadline = Instant::now() + Duration::from_secs(args.deadline_secs);
    let mut store = sandbox::new_store(
        &loaded.engine,
        stdout,
        std::io::stderr(),
        egress.clone(),
        args.memory_limit,
        deadline,
    );
    let inst = loaded
        .pre
        .instantiate_async(&mut store)
        .await
        .map_err(anyhow::Error::from)?;
    let c = inst.activecampaign_source_connector();
    let r = match &args.command {
        cli::Command::Spec => Ok(c.call_spec(&mut store).await.map_err(anyhow::Error::from)?),
        cli::Command::Check => match c
            .call_check(&mut store, config)
            .await
            .map_err(anyhow::Error::from)?
        {
            Ok(s) => {
                let v = serde_json::json!({"type": "CONNECTION_STATUS", "connectionStatus": {
                    "status": if s.succeeded { "SUCCEEDED" } else { "FAILED" }, "message": s.message}});
                if s.succeeded {
                    Ok(v.to_string())
                } else {
                    Err(v.to_string())
                }
            }
            Err(f) => Err(f.message),
        },
        command => c
            .call_discover(&mut store, config)
            .await
            .map_err(anyhow::Error::from)?
            .map_err(|f| f.message)
            .map(|text| match command {
                cli::Command::Catalog => catalog::configured(&text),
                _ => text,
            }),
    };
    let _ = std::fs::remove_dir_all(&sink_dir);
    let refused = report_refusals(&egress);
    match r {
        Ok(text) => {
            println!("{text}");
            Ok(refused == 0)
        }
        Err(text) => {
            println!("{text}");
            Ok(false)
        }
    }
}

/// The egress check of spec, check and discover: the config's origin (or `--allow`), and the
/// address policy of its host.
fn simple_egress(args: &cli::Args, config: &str) -> Result<egress::Egress> {
    let origin = match serde_json::from_str::<serde_json::Value>(config)
        .ok()
        .and_then(|v| v.get("api_url").and_then(|u| u.as_str()).map(String::from))
    {
        Some(u) => vec![egress::Origin::parse(&u).context("the config's api_url")?],
        None => Vec::new(),
    };
    let api_host = origin.first().map(|o| o.host.clone()).unwrap_or_default();
    let allow = if args.allow.is_empty() {
        origin
    } else {
        parse_allow(&args.allow)?
    };
    Ok(egress::Egress {
        allow: Arc::new(allow),
        gate: Arc::new(egress::RateGate::new(5)),
        log: Arc::default(),
        addresses: egress::AddressPolicy::new(&api_host, args.allow_private),
    })
}

/// Says on stderr what the egress check refused; returns how many requests.
fn report_refusals(egress: &egress::Egress) -> u64 {
    let (refused, to) = egress
        .log
        .lock()
        .map(|l| {
            (
                l.refused_total(),
                l.refused.keys().cloned().collect::<Vec<_>>(),
            )
        })
        .unwrap_or_default();
    if refused > 0 {
        eprintln!(
            "ac-host: egress refused {refused} request(s) (outside the allow-list or to an address not on the public internet): {}",
            to.join(", ")
        );
    }
    refused
}

fn parse_allow(list: &[String]) -> Result<Vec<egress::Origin>> {
    list.iter()
        .map(|u| egress::Origin::parse(u).with_context(|| format!("--allow {u}")))
        .collect()
}

/// read and run: every job at once, one report line each, then a summary line.
async fn run_jobs(
    loaded: &sandbox::Loaded,
    manifest: &manifest::Manifest,
    args: &cli::Args,
    jobs: Vec<account::Job>,
) -> Result<bool> {
    let policy = account::Policy {
        memory_limit: args.memory_limit,
        deadline: Duration::from_secs(args.deadline_secs),
        allow_override: if args.allow.is_empty() {
            None
        } else {
            Some(parse_allow(&args.allow)?)
        },
        allow_private: args.allow_private,
    };
    let started = Instant::now();
    let cpu0 = cpu_time();
    let shared = Arc::new((loaded.pre.clone(), manifest.clone(), policy));
    let mut tasks = Vec::new();
    for job in jobs {
        let s = shared.clone();
        tasks.push(tokio::spawn(async move {
            account::run(&s.0, &s.1, &s.2, job).await
        }));
    }
    let mut all_ok = true;
    let (mut records, mut deletions, mut requests, mut refused) = (0u64, 0u64, 0u64, 0u64);
    let mut inst_ms = Vec::new();
    let mut mem = Vec::new();
    let n = tasks.len();
    for t in tasks {
        let r = match t.await {
            Ok(r) => r,
            Err(e) => account::Report {
                account: "?".into(),
                error: Some(format!("the account's task failed: {e}")),
                ..Default::default()
            },
        };
        all_ok &= r.ok;
        records += r.records;
        deletions += r.deletions;
        requests += r.requests;
        refused += r.refused.values().sum::<u64>();
        inst_ms.push(r.instantiate_ms);
        mem.push(r.peak_memory_bytes);
        if let Some(e) = &r.error {
            eprintln!("ac-host: account {}: {e}", r.account);
        }
        for h in &r.held_back {
            eprintln!(
                "ac-host: account {}: {}: held back ({}); fix: {}",
                r.account, h.stream, h.why, h.fix
            );
        }
        println!("{}", serde_json::to_string(&r)?);
    }
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_time() - cpu0;
    let summary = serde_json::json!({"summary": {
        "accounts": n,
        "ok": all_ok,
        "records": records,
        "deletions": deletions,
        "requests": requests,
        "refused": refused,
        "wall_s": wall,
        "requests_per_s": requests as f64 / wall.max(1e-9),
        "compile_ms": loaded.compile.as_secs_f64() * 1000.0,
        "instantiate_ms_max": inst_ms.iter().cloned().fold(0.0, f64::max),
        "instantiate_ms_mean": inst_ms.iter().sum::<f64>() / (inst_ms.len().max(1) as f64),
        "instance_memory_bytes_max": mem.iter().max().copied().unwrap_or(0),
        "host_peak_rss_bytes": peak_rss(),
        "host_cpu_s": cpu,
        "host_cpu_us_per_record": if records > 0 { cpu * 1e6 / records as f64 } else { 0.0 },
    }});
    println!("{summary}");
    Ok(all_ok)
}

/// User + system CPU time of this process, seconds.
fn cpu_time() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return 0.0;
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Peak resident set of this process, bytes (Linux: ru_maxrss is in kilobytes).
fn peak_rss() -> u64 {
    // SAFETY: as above.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return 0;
    }
    ru.ru_maxrss as u64 * 1024
}
