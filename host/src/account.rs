//! One account's read: instantiate, call `read` through the typed interface, classify the end.

use crate::egress::{AddressPolicy, Egress, Origin, RateGate};
use crate::manifest::Manifest;
use crate::outdir::OutDir;
use crate::sandbox::{new_store, Failure, FailureKind, Guest, ReadSummary, SourcePre};
use crate::sink::{self, LineSink};
use anyhow::{bail, Context, Result};
use serde::Serialize;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::time::error::Elapsed;
use wasmtime::Store;

/// What to read for one account.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    /// Account name (the output sub-folder in `run`).
    pub(crate) name: String,
    /// The config JSON text.
    pub(crate) config: String,
    /// The configured catalog JSON text, if any.
    pub(crate) catalog: Option<String>,
    /// Output folder.
    pub(crate) out: PathBuf,
}

/// Host-side limits of every account.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    /// Linear memory per instance, bytes.
    pub(crate) memory_limit: usize,
    /// Wall time per account.
    pub(crate) deadline: Duration,
    /// Origins allowed instead of the config's `api_url` (tests and proxies); None: the rule.
    pub(crate) allow_override: Option<Vec<Origin>>,
    /// `--allow-private`: connections may go to private and loopback addresses too.
    pub(crate) allow_private: bool,
}

/// What happened to one account.
#[derive(Debug, Serialize, Default)]
pub(crate) struct Report {
    /// Account name.
    pub(crate) account: String,
    /// Whether everything asked was read and saved, with nothing refused.
    pub(crate) ok: bool,
    /// What went wrong, and what to do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
    /// Records saved in this run.
    pub(crate) records: u64,
    /// Deletions found in this run (summed over the streams' summaries).
    pub(crate) deletions: u64,
    /// STATE messages saved in this run.
    pub(crate) states: u64,
    /// Time spent saving them (flush + state.json replace), ms.
    pub(crate) saving_ms: f64,
    /// Requests let through.
    pub(crate) requests: u64,
    /// Requests refused by the egress check, per origin.
    pub(crate) refused: std::collections::BTreeMap<String, u64>,
    /// Most requests begun in any one second.
    pub(crate) max_requests_in_one_second: usize,
    /// Mean time from a request's start to its response headers, ms.
    pub(crate) headers_ms_mean: f64,
    /// Largest time from a request's start to its response headers, ms.
    pub(crate) headers_ms_max: f64,
    /// Rate budget of this account (requests per second).
    pub(crate) rate: u32,
    /// Wall time of the read, ms.
    pub(crate) wall_ms: u64,
    /// Time to instantiate the component, ms (fractional).
    pub(crate) instantiate_ms: f64,
    /// Linear memory of the instance right after instantiation, bytes.
    pub(crate) initial_memory_bytes: usize,
    /// Peak linear memory of the instance, bytes.
    pub(crate) peak_memory_bytes: usize,
    /// Per-stream records, requests and failures as `read` reported them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) streams: Vec<Value>,
    /// What the read held back per stream (deletions the guard kept, a resumed pass, a
    /// fallback), why, and the fix.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) held_back: Vec<crate::held::Held>,
    /// This output folder's run number (`_ab_run` in its stream files).
    pub(crate) run: u64,
}

/// Reads the parts of the config the host needs: the origin and the rate budget.
fn host_view_of_config(config: &str, manifest: &Manifest) -> Result<(Origin, u32)> {
    let v: Value = serde_json::from_str(config).context("the config is not JSON")?;
    let url = v
        .get("api_url")
        .and_then(Value::as_str)
        .context("the config has no api_url (e.g. \"https://ACCOUNT.api-us1.com\")")?;
    let origin = Origin::parse(url).context("the config's api_url")?;
    let rate = match v.get(&manifest.rate_field) {
        None | Some(Value::Null) => manifest.requests_per_second,
        Some(n) => match n.as_f64() {
            Some(f) if f >= 1.0 => f.floor() as u32,
            _ => bail!(
                "the config's {} must be a number of at least 1",
                manifest.rate_field
            ),
        },
    };
    Ok((origin, rate))
}

/// Runs one account to its end; never panics on bad input, always returns a report.
pub(crate) async fn run(
    pre: &SourcePre<Guest>,
    manifest: &Manifest,
    policy: &Policy,
    job: Job,
) -> Report {
    let mut report = Report {
        account: job.name.clone(),
        ..Default::default()
    };
    if let Err(e) = run_inner(pre, manifest, policy, job, &mut report).await {
        report.ok = false;
        report.error = Some(format!("{e:#}"));
    }
    report
}

/// What a call that reached the component gave back.
struct Called {
    /// Time to instantiate the component.
    instantiate: Duration,
    /// Linear memory right after instantiation, bytes.
    initial_memory: usize,
    /// `read`'s answer.
    answer: Result<ReadSummary, Failure>,
}

/// The call's end: `Err(Elapsed)` when the deadline cut it short, `Ok(Err(_))` when it trapped.
type Outcome = Result<wasmtime::Result<Called>, Elapsed>;

/// What the store recorded about why it stopped the instance.
struct Stops {
    /// Bytes the instance asked for over its memory limit, if it did.
    memory_asked: Option<usize>,
    /// The memory limit, bytes.
    memory_max: usize,
    /// Whether the wall deadline trapped it.
    deadline_hit: bool,
}

impl Stops {
    fn of(guest: &Guest) -> Stops {
        Stops {
            memory_asked: guest.limits.hit,
            memory_max: guest.limits.max,
            deadline_hit: guest.deadline_hit,
        }
    }
}

/// Sets up the account's output, egress and store, calls `read`, then fills the report in.
async fn run_inner(
    pre: &SourcePre<Guest>,
    manifest: &Manifest,
    policy: &Policy,
    job: Job,
    report: &mut Report,
) -> Result<()> {
    let (origin, rate) = host_view_of_config(&job.config, manifest)?;
    report.rate = rate;
    let out = OutDir::open(&job.out)?;
    let state = out.state_text();
    let (stdout, writer) =
        sink::spawn_writer(LineSink::new(out)).context("cannot start the output writer thread")?;
    let stderr = open_stderr_log(&job.out)?;
    let egress = egress_for(policy, origin, rate);
    let start = Instant::now();
    let deadline = start + policy.deadline;
    let mut store = new_store(
        pre.engine(),
        stdout.clone(),
        wasmtime_wasi::cli::OutputFile::new(stderr),
        egress.clone(),
        policy.memory_limit,
        deadline,
    );
    let outcome = call_read(pre, &mut store, &job, state.as_deref(), deadline).await;
    report.wall_ms = start.elapsed().as_millis() as u64;
    let stops = Stops::of(store.data());
    report.peak_memory_bytes = store.data().limits.peak;
    // Dropping the store drops the component's stdout handles; then the writer thread drains
    // what is queued and hands the sink back.
    drop(store);
    drop(stdout);
    count_requests(&egress, report);
    let mut sink = join_writer(writer).await?;
    report.held_back = std::mem::take(&mut sink.held);
    report.run = sink.out.run;
    let mut problems = save_output(&mut sink, report);
    let output_failed = sink.failed.is_some();
    problems.extend(outcome_problems(
        outcome,
        &stops,
        policy.deadline,
        output_failed,
        report,
    ));
    problems.extend(refused_problem(report));
    conclude(report, problems, sink.last_error.as_deref());
    Ok(())
}

/// The component's stderr goes to `stderr.log` in the output folder, appended across runs.
fn open_stderr_log(out: &Path) -> Result<std::fs::File> {
    let path = out.join("stderr.log");
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))
}

/// The egress check of one account: the config's origin (or the override) at its rate.
fn egress_for(policy: &Policy, origin: Origin, rate: u32) -> Egress {
    Egress {
        addresses: AddressPolicy::new(&origin.host, policy.allow_private),
        allow: Arc::new(
            policy
                .allow_override
                .clone()
                .unwrap_or_else(|| vec![origin]),
        ),
        gate: Arc::new(RateGate::new(rate)),
        log: Arc::default(),
    }
}

/// Instantiates the component and calls `read`, both within `deadline`.
async fn call_read(
    pre: &SourcePre<Guest>,
    store: &mut Store<Guest>,
    job: &Job,
    state: Option<&str>,
    deadline: Instant,
) -> Outcome {
    // Waiting on the network is not wasm execution, so the epoch alone cannot stop a run that is
    // blocked on a request: the same deadline also bounds the whole call.
    tokio::time::timeout_at(deadline.into(), async {
        let t = Instant::now();
        let inst = pre.instantiate_async(&mut *store).await?;
        let instantiate = t.elapsed();
        let initial_memory = store.data().limits.now;
        let connector = inst.activecampaign_source_connector();
        let catalog = match job.catalog.as_deref() {
            Some(text) => Ok(crate::catalog::configured(text)),
            // No catalog: the account's streams, each incremental where offered, deletions
            // tracked (discover costs the key check and the custom object schemas: 2 requests).
            None => connector
                .call_discover(&mut *store, &job.config)
                .await?
                .and_then(|text| default_catalog(&text)),
        };
        let answer = match catalog {
            Ok(catalog) => {
                connector
                    .call_read(&mut *store, &job.config, Some(&catalog), state)
                    .await?
            }
            Err(f) => Err(f),
        };
        Ok::<_, wasmtime::Error>(Called {
            instantiate,
            initial_memory,
            answer,
        })
    })
    .await
}

/// The configured catalog of `discover`'s answer (a CATALOG message): every stream incremental
/// where offered, deletions tracked.
fn default_catalog(discovered: &str) -> Result<String, Failure> {
    match serde_json::from_str::<Value>(discovered) {
        Ok(v) => Ok(crate::catalog::from_discovered(&v).to_string()),
        Err(e) => Err(Failure {
            kind: FailureKind::SystemError,
            message: format!("discover answered a catalog that is not JSON ({e}); pass --catalog"),
        }),
    }
}

/// Copies the egress log's counts into the report.
fn count_requests(egress: &Egress, report: &mut Report) {
    let log = egress.log.lock().unwrap_or_else(|e| e.into_inner());
    report.requests = log.allowed;
    report.refused = log.refused.clone();
    report.max_requests_in_one_second = log.max_in_one_second();
    (report.headers_ms_mean, report.headers_ms_max) = log.headers_ms();
}

/// Waits, off the async worker threads, until the writer thread hands the sink back.
async fn join_writer(writer: JoinHandle<LineSink>) -> Result<LineSink> {
    tokio::task::spawn_blocking(move || writer.join())
        .await
        .ok()
        .and_then(|r| r.ok())
        .context("the output writer thread failed")
}

/// Flushes the output, copies what was saved into the report, and says what could not be saved.
fn save_output(sink: &mut LineSink, report: &mut Report) -> Vec<String> {
    let flushed = sink.out.flush();
    report.records = sink.out.records;
    report.states = sink.out.states_saved;
    report.saving_ms = sink.out.saving.as_secs_f64() * 1000.0;
    let mut problems = Vec::new();
    if let Some(f) = &sink.failed {
        problems.push(format!("the host could not save the output: {f}"));
    }
    if let Err(e) = flushed {
        problems.push(format!("the host could not save the output: {e:#}"));
    }
    problems
}

/// What went wrong in the call itself, with the per-stream summary put into the report.
fn outcome_problems(
    outcome: Outcome,
    stops: &Stops,
    deadline: Duration,
    output_failed: bool,
    report: &mut Report,
) -> Vec<String> {
    let mut problems = Vec::new();
    let called = match outcome {
        Err(_) => return vec![deadline_text(deadline)],
        Ok(Err(e)) => {
            return trap_problem(&e, stops, deadline, output_failed)
                .into_iter()
                .collect()
        }
        Ok(Ok(called)) => called,
    };
    report.instantiate_ms = called.instantiate.as_secs_f64() * 1000.0;
    report.initial_memory_bytes = called.initial_memory;
    match called.answer {
        Err(f) => problems.push(format!("{}: {}", kind_text(f.kind), f.message)),
        Ok(summary) => summarize(&summary, report, &mut problems),
    }
    problems
}

/// Why the instance trapped, in the user's terms. None when the output could not be saved: the
/// trap is then only the consequence, and that failure is already reported.
fn trap_problem(
    e: &wasmtime::Error,
    stops: &Stops,
    deadline: Duration,
    output_failed: bool,
) -> Option<String> {
    if let Some(asked) = stops.memory_asked {
        Some(format!(
            "memory limit reached: the instance asked for {:.1} MB of linear memory, over its limit of {:.1} MB (--memory-mb); the state saved before it is kept",
            asked as f64 / 1e6,
            stops.memory_max as f64 / 1e6
        ))
    } else if stops.deadline_hit {
        Some(deadline_text(deadline))
    } else if !output_failed {
        Some(format!("the component stopped: {e:#}"))
    } else {
        None
    }
}

/// Requests the egress check refused, per origin.
fn refused_problem(report: &Report) -> Option<String> {
    if report.refused.is_empty() {
        return None;
    }
    let list: Vec<String> = report
        .refused
        .iter()
        .map(|(o, n)| format!("{o} ({n}x)"))
        .collect();
    Some(format!(
        "egress refused {} request(s) (hosts outside the allow-list, or addresses not on the public internet): {}",
        report.refused.values().sum::<u64>(),
        list.join(", ")
    ))
}

/// Sets `ok` or the error; the component's last error is added when no problem already says it.
fn conclude(report: &mut Report, mut problems: Vec<String>, last_error: Option<&str>) {
    if problems.is_empty() {
        report.ok = true;
        return;
    }
    if let Some(last) = last_error {
        if !problems.iter().any(|p| p.contains(last)) {
            problems.push(format!("last error the component reported: {last}"));
        }
    }
    report.error = Some(problems.join("; "));
}

fn deadline_text(d: Duration) -> String {
    format!(
        "wall deadline of {} s reached (--deadline-secs); the state saved before it is kept, run again to go on",
        d.as_secs()
    )
}

fn kind_text(k: FailureKind) -> &'static str {
    match k {
        FailureKind::ConfigError => "config error",
        FailureKind::TransientError => "transient error",
        FailureKind::SystemError => "system error",
    }
}

fn summarize(s: &ReadSummary, report: &mut Report, problems: &mut Vec<String>) {
    for st in &s.streams {
        report.deletions += st.deletions;
        let mut v = serde_json::json!({
            "name": st.name, "records": st.records, "deletions": st.deletions, "requests": st.requests, "millis": st.millis,
        });
        if let Some(f) = &st.failure {
            v["failure"] = Value::String(format!("{}: {}", kind_text(f.kind), f.message));
            problems.push(format!(
                "stream {} failed ({}): {}",
                st.name,
                kind_text(f.kind),
                f.message
            ));
        }
        report.streams.push(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        Manifest {
            component: "x.wasm".into(),
            requests_per_second: 5,
            rate_field: "requests_per_second".into(),
        }
    }

    #[test]
    fn config_gives_origin_and_rate() {
        let (o, r) = host_view_of_config(
            r#"{"api_url":"http://127.0.0.1:9","api_key":"k"}"#,
            &manifest(),
        )
        .unwrap();
        assert_eq!(o.to_string(), "http://127.0.0.1:9");
        assert_eq!(r, 5);
        let (_, r) = host_view_of_config(
            r#"{"api_url":"https://a.api-us1.com","requests_per_second":3}"#,
            &manifest(),
        )
        .unwrap();
        assert_eq!(r, 3);
        let e = host_view_of_config(r#"{"api_key":"k"}"#, &manifest()).unwrap_err();
        assert!(format!("{e:#}").contains("api_url"));
        let e = host_view_of_config(
            r#"{"api_url":"https://a.api-us1.com","requests_per_second":0}"#,
            &manifest(),
        )
        .unwrap_err();
        assert!(format!("{e:#}").contains("at least 1"));
        assert!(host_view_of_config("nope", &manifest()).is_err());
    }
}
