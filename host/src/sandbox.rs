//! The sandbox: engine, linker and the per-instance state and limits.
//!
//! One [`Engine`] and one pre-instantiated component ([`SourcePre`]) serve every account; each
//! account gets its own [`Store`] with its own WASI context (no preopened folders, no environment,
//! no arguments, sockets denied), its own `wasi:http` hooks (the egress check), its own memory
//! limit and its own wall deadline.

use crate::egress::Egress;
use crate::sink::SinkStdout;
use anyhow::{Context, Result};
use std::future::Future;
use std::path::Path;
use std::time::{Duration, Instant};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, UpdateDeadline,
};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

wasmtime::component::bindgen!({
    path: "../wit",
    world: "activecampaign:source/source",
    exports: { default: async },
});

pub(crate) use exports::activecampaign::source::connector::{Failure, FailureKind, ReadSummary};

/// How often the epoch ticks: the granularity of the deadline and of the guest's yields to other
/// accounts on the same thread.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(20);

/// Engine-wide settings.
#[derive(Debug, Clone)]
pub(crate) struct EngineOptions {
    /// Use the pooling allocator sized for this many instances (None: allocate on demand).
    pub(crate) pooling: Option<u32>,
    /// Linear memory limit per instance, bytes.
    pub(crate) memory_limit: usize,
    /// Keep compiled code here between runs (None: compile every time). The folder must be as
    /// trusted as the host binary: its files are loaded as native code.
    pub(crate) cache_dir: Option<std::path::PathBuf>,
}

/// The compiled component, linked and ready to instantiate, shared by all accounts.
pub(crate) struct Loaded {
    /// The engine (its epoch ticks in a background thread).
    pub(crate) engine: Engine,
    /// The pre-instantiated component.
    pub(crate) pre: SourcePre<Guest>,
    /// Time taken to compile (or load) the component.
    pub(crate) compile: Duration,
}

/// Builds the engine, compiles the component and links WASI and wasi:http.
pub(crate) fn load(component: &Path, opts: &EngineOptions) -> Result<Loaded> {
    let mut cfg = Config::new();
    cfg.epoch_interruption(true);
    if let Some(n) = opts.pooling {
        let mut p = PoolingAllocationConfig::new();
        // A Rust wasip2 component has a few core instances, memories and tables; these bounds
        // are generous per instance, and the memory size is the per-instance limit.
        p.total_component_instances(n)
            .total_core_instances(n * 8)
            .total_memories(n * 4)
            .total_tables(n * 8)
            .total_stacks(n)
            .max_memory_size(opts.memory_limit);
        cfg.allocation_strategy(InstanceAllocationStrategy::Pooling(p));
    }
    let engine = Engine::new(&cfg).map_err(anyhow::Error::from)?;
    let t = Instant::now();
    let comp = compile(&engine, component, opts.cache_dir.as_deref())?;
    let compile = t.elapsed();
    let mut linker = Linker::<Guest>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(anyhow::Error::from)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
        .map_err(anyhow::Error::from)?;
    let pre = linker
        .instantiate_pre(&comp)
        .map_err(anyhow::Error::from)
        .context("the component needs imports this host does not give")?;
    let pre = SourcePre::new(pre)
        .map_err(anyhow::Error::from)
        .context("the component does not export activecampaign:source/connector@0.2.0")?;
    let ticker = engine.clone();
    std::thread::spawn(move || loop {
        std::thread::sleep(EPOCH_TICK);
        ticker.increment_epoch();
    });
    Ok(Loaded {
        engine,
        pre,
        compile,
    })
}

/// Compiles the component, or loads the code compiled for these same bytes and this same engine
/// configuration from `cache`.
fn compile(engine: &Engine, path: &Path, cache: Option<&Path>) -> Result<Component> {
    use std::hash::{Hash, Hasher};
    let bytes = std::fs::read(path).with_context(|| {
        format!(
            "cannot read the component {} (build it with `make build`)",
            path.display()
        )
    })?;
    let cached = cache.map(|dir| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        bytes.hash(&mut h);
        engine.precompile_compatibility_hash().hash(&mut h);
        dir.join(format!("{:016x}.cwasm", h.finish()))
    });
    if let Some(file) = cached.as_ref().filter(|f| f.exists()) {
        // SAFETY: the cache folder is trusted like the host binary (see EngineOptions), the file
        // name is derived from the component bytes and the engine settings, and wasmtime checks
        // that the file was compiled by a compatible engine before using it.
        if let Ok(c) = unsafe { Component::deserialize_file(engine, file) } {
            return Ok(c);
        }
    }
    let comp = Component::new(engine, &bytes).map_err(|e| {
        anyhow::Error::from(e).context(format!("cannot compile the component {}", path.display()))
    })?;
    if let (Some(file), Ok(code)) = (cached, comp.serialize()) {
        // Best effort: a cache that cannot be written only costs the next run a compile.
        let tmp = file.with_extension(format!("tmp{}", std::process::id()));
        let _ = std::fs::create_dir_all(file.parent().unwrap_or(Path::new(".")))
            .and_then(|_| std::fs::write(&tmp, code))
            .and_then(|_| std::fs::rename(&tmp, &file));
    }
    Ok(comp)
}

/// The memory limit of one instance, with what it saw.
#[derive(Debug, Default)]
pub(crate) struct Limits {
    /// Most bytes of linear memory the instance may have.
    pub(crate) max: usize,
    /// Bytes of linear memory now (all memories of the instance).
    pub(crate) now: usize,
    /// Highest `now` seen.
    pub(crate) peak: usize,
    /// Bytes asked for when the limit refused growth.
    pub(crate) hit: Option<usize>,
}

impl wasmtime::ResourceLimiter for Limits {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self.now - current.min(self.now) + desired;
        if total > self.max {
            self.hit = Some(total);
            // An error (rather than `false`) traps at once: a Rust guest would otherwise abort
            // with a less telling "memory allocation failed".
            wasmtime::bail!(
                "memory limit: the instance asked for {} bytes of linear memory, over its limit of {}",
                total,
                self.max
            );
        }
        self.now = total;
        self.peak = self.peak.max(total);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}

/// The `wasi:http` hooks of one instance: every outgoing request passes the egress check.
pub(crate) struct Hooks {
    /// The allow-list, rate gate and log of this account.
    pub(crate) egress: Egress,
}

impl WasiHttpHooks for Hooks {
    fn send_request(
        &mut self,
        request: http::Request<wasmtime_wasi_http::WasiBody>,
        options: Option<wasmtime_wasi_http::RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ) -> Box<
        dyn Future<
                Output = Result<
                    (
                        http::Response<wasmtime_wasi_http::WasiBody>,
                        Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
                    ),
                    wasmtime_wasi_http::Error,
                >,
            > + Send,
    > {
        drop(fut);
        let scheme = request
            .uri()
            .scheme_str()
            .unwrap_or("")
            .to_ascii_lowercase();
        let authority = request
            .uri()
            .authority()
            .map(|a| a.to_string())
            .unwrap_or_default();
        let egress = self.egress.clone();
        let allowed = egress.decide(&scheme, &authority);
        Box::new(async move {
            if !allowed {
                return Err(wasmtime_wasi_http::Error::HttpRequestDenied);
            }
            // The request is begun and its connection driven on the I/O runtime, whose thread
            // never runs wasm: a request's start is not held up behind other accounts' work.
            // `send` connects first and takes the gate's slot just before writing the request,
            // so the gate's spacing is what the server sees.
            let task = io_runtime()
                .spawn(async move { crate::send::send(request, options, &egress).await });
            let res = task.await.map_err(|e| {
                wasmtime_wasi_http::Error::InternalError(Some(format!("request task: {e}")))
            })??;
            Ok((
                res,
                Box::new(async { Ok(()) }) as Box<dyn Future<Output = _> + Send>,
            ))
        })
    }
}

/// A one-thread runtime for outgoing connections, apart from the runtime that runs the
/// instances. It is created on first use; if it cannot be, requests fail with a clear error
/// from the task.
fn io_runtime() -> &'static tokio::runtime::Handle {
    static IO: std::sync::OnceLock<tokio::runtime::Handle> = std::sync::OnceLock::new();
    IO.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("ac-host-io".into())
            .spawn(move || {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => {
                        let _ = tx.send(rt.handle().clone());
                        // Run forever: the runtime serves every connection of the process.
                        rt.block_on(std::future::pending::<()>());
                    }
                    Err(e) => eprintln!("ac-host: cannot start the I/O runtime: {e}"),
                }
            })
            .ok();
        // Fall back to the caller's runtime if the I/O thread could not start.
        rx.recv()
            .unwrap_or_else(|_| tokio::runtime::Handle::current())
    })
}

/// The state of one instance's store.
pub(crate) struct Guest {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    hooks: Hooks,
    /// Its memory limit.
    pub(crate) limits: Limits,
    /// Set when the wall deadline stopped it.
    pub(crate) deadline_hit: bool,
}

impl WasiView for Guest {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for Guest {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

/// A store for one account: stdout into `stdout`, stderr into `stderr`, nothing else
/// reachable but `wasi:http` through the egress check, `memory_limit` bytes of memory, and a trap
/// once `deadline` passes.
pub(crate) fn new_store(
    engine: &Engine,
    stdout: SinkStdout,
    stderr: impl wasmtime_wasi::cli::StdoutStream + 'static,
    egress: Egress,
    memory_limit: usize,
    deadline: Instant,
) -> Store<Guest> {
    let wasi = WasiCtx::builder()
        .stdout(stdout)
        .stderr(stderr)
        // No preopens, no environment, no arguments (the builder's defaults), and no sockets:
        // the only way out is wasi:http.
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .build();
    let guest = Guest {
        wasi,
        http: WasiHttpCtx::new(),
        table: ResourceTable::new(),
        hooks: Hooks { egress },
        limits: Limits {
            max: memory_limit,
            ..Default::default()
        },
        deadline_hit: false,
    };
    let mut store = Store::new(engine, guest);
    store.limiter(|g| &mut g.limits);
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |mut ctx| {
        if Instant::now() >= deadline {
            ctx.data_mut().deadline_hit = true;
            return Err(wasmtime::Trap::Interrupt.into());
        }
        // Yield at every tick so that a busy instance cannot hold a thread other accounts need.
        Ok(UpdateDeadline::Yield(1))
    });
    store
}
