//! The WASI edge: HTTP through wasi:http with several requests in flight (wasi:io poll), clocks,
//! files, stdout/stderr with the key masked. Nothing here decides anything: the engine, the
//! output writers and the commands do.

use crate::commands::{read_std_file, resolve_path, Host};
use crate::documents::config::Config;
use crate::engine::{HttpResponse, Transport, TransportError};
use crate::output::redact::Redactor;
use crate::output::Terminal;
use std::io::Write;
use wasi::clocks::{monotonic_clock, wall_clock};
use wasi::http::outgoing_handler::{self, FutureIncomingResponse};
use wasi::http::types::{
    ErrorCode, Fields, Method, OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};
use wasi::io::poll::{self, Pollable};
use wasi::io::streams::StreamError;

/// Largest body accepted for one page (a page of 100 records is a few MB at most).
const MAX_BODY: usize = 64 * 1024 * 1024;
/// Timeouts set on every request (the host default is 10 minutes each).
const CONNECT_TIMEOUT_NS: u64 = 15_000_000_000;
const FIRST_BYTE_TIMEOUT_NS: u64 = 90_000_000_000;
const BETWEEN_BYTES_TIMEOUT_NS: u64 = 30_000_000_000;

/// HTTP to the one configured host.
pub(crate) struct WasiTransport {
    scheme: Scheme,
    authority: String,
    api_key: String,
    pending: Vec<(u64, FutureIncomingResponse, Pollable)>,
}

impl Drop for WasiTransport {
    /// Requests still in flight when the read ends (a page begun ahead of its turn that the read
    /// did not need) go with the transport. A pollable is a child resource of its future, so it
    /// is dropped first: the other order traps in the host ("resource has children").
    fn drop(&mut self) {
        for (_, future, pollable) in self.pending.drain(..) {
            drop(pollable);
            drop(future);
        }
    }
}

impl WasiTransport {
    /// A transport bound to the config's host; no request can go elsewhere.
    pub(crate) fn new(config: &Config) -> WasiTransport {
        let scheme = if config.base.scheme == "http" {
            Scheme::Http
        } else {
            Scheme::Https
        };
        WasiTransport {
            scheme,
            authority: config.base.authority.clone(),
            api_key: config.api_key.expose().to_owned(),
            pending: Vec::new(),
        }
    }

    fn begin(&self, path_and_query: &str) -> Result<FutureIncomingResponse, TransportError> {
        let headers = Fields::from_list(&[
            ("api-token".to_string(), self.api_key.as_bytes().to_vec()),
            ("accept".to_string(), b"application/json".to_vec()),
            (
                "user-agent".to_string(),
                concat!("source-activecampaign/", env!("CARGO_PKG_VERSION"))
                    .as_bytes()
                    .to_vec(),
            ),
        ])
        .map_err(|_| "the request headers were refused by the host".to_string())?;
        let req = OutgoingRequest::new(headers);
        req.set_method(&Method::Get)
            .map_err(|_| "the host refused the method")?;
        req.set_scheme(Some(&self.scheme))
            .map_err(|_| "the host refused the scheme")?;
        req.set_authority(Some(&self.authority))
            .map_err(|_| "the host refused the authority")?;
        req.set_path_with_query(Some(path_and_query))
            .map_err(|_| "the host refused the path")?;
        let body = req
            .body()
            .map_err(|_| "the request body could not be opened")?;
        let opts = RequestOptions::new();
        let _ = opts.set_connect_timeout(Some(CONNECT_TIMEOUT_NS));
        let _ = opts.set_first_byte_timeout(Some(FIRST_BYTE_TIMEOUT_NS));
        let _ = opts.set_between_bytes_timeout(Some(BETWEEN_BYTES_TIMEOUT_NS));
        let fut = outgoing_handler::handle(req, Some(opts)).map_err(|e| describe_error(&e))?;
        OutgoingBody::finish(body, None).map_err(|e| describe_error(&e))?;
        Ok(fut)
    }
}

/// A person-readable transport error, and whether retrying can cure it.
fn describe_error(e: &ErrorCode) -> TransportError {
    let why: String = match e {
        ErrorCode::DnsError(_) => {
            return TransportError::Permanent(
                "the host name does not resolve (DNS error); check 'api_url'".into(),
            )
        }
        ErrorCode::TlsCertificateError => {
            return TransportError::Permanent(
                "the host's TLS certificate was refused; check 'api_url'".into(),
            )
        }
        ErrorCode::DestinationIpProhibited => {
            return TransportError::Permanent(
                "the host refused to connect: 'api_url' resolves to a loopback or private address (see the host's log)".into(),
            )
        }
        ErrorCode::HttpRequestDenied => {
            return TransportError::Permanent(
                "the host refused the request (outside its allow-list); check 'api_url'".into(),
            )
        }
        ErrorCode::ConnectionRefused => "connection refused".into(),
        ErrorCode::ConnectionTerminated
        | ErrorCode::ConnectionReadTimeout
        | ErrorCode::ConnectionWriteTimeout => format!("connection broken ({e:?})"),
        ErrorCode::ConnectionTimeout => "connecting timed out".into(),
        ErrorCode::TlsProtocolError | ErrorCode::TlsAlertReceived(_) => {
            format!("TLS failed ({e:?})")
        }
        ErrorCode::HttpResponseTimeout => "no answer in time (first-byte timeout)".into(),
        other => format!("{other:?}"),
    };
    TransportError::Network(why)
}

/// Reads a whole response.
fn collect(resp: wasi::http::types::IncomingResponse) -> Result<HttpResponse, String> {
    let status = resp.status();
    let headers = resp
        .headers()
        .entries()
        .into_iter()
        .map(|(k, v)| {
            (
                k.to_ascii_lowercase(),
                String::from_utf8_lossy(&v).into_owned(),
            )
        })
        .collect();
    let body = resp
        .consume()
        .map_err(|_| "the response body could not be opened")?;
    let mut bytes = Vec::new();
    {
        let stream = body
            .stream()
            .map_err(|_| "the response body could not be read")?;
        loop {
            match stream.blocking_read(1 << 20) {
                Ok(chunk) => {
                    bytes.extend_from_slice(&chunk);
                    if bytes.len() > MAX_BODY {
                        return Err(format!("the answer is larger than {} MB", MAX_BODY >> 20));
                    }
                }
                Err(StreamError::Closed) => break,
                Err(StreamError::LastOperationFailed(e)) => {
                    let why = wasi::http::types::http_error_code(&e)
                        .map(|c| describe_error(&c).to_string())
                        .unwrap_or_else(|| e.to_debug_string());
                    return Err(format!(
                        "the answer was cut off after {} bytes ({why})",
                        bytes.len()
                    ));
                }
            }
        }
    }
    drop(body);
    drop(resp);
    Ok(HttpResponse {
        status,
        headers,
        body: bytes,
    })
}

impl Transport for WasiTransport {
    fn start(&mut self, ticket: u64, path_and_query: &str) -> Result<(), TransportError> {
        let fut = self.begin(path_and_query)?;
        let p = fut.subscribe();
        self.pending.push((ticket, fut, p));
        Ok(())
    }

    fn wait(&mut self, deadline_ns: u64) -> Vec<(u64, Result<HttpResponse, TransportError>)> {
        let now = monotonic_clock::now();
        if self.pending.is_empty() {
            if deadline_ns != u64::MAX && deadline_ns > now {
                monotonic_clock::subscribe_instant(deadline_ns).block();
            }
            return vec![];
        }
        let timer =
            (deadline_ns != u64::MAX).then(|| monotonic_clock::subscribe_instant(deadline_ns));
        let mut list: Vec<&Pollable> = self.pending.iter().map(|(_, _, p)| p).collect();
        if let Some(t) = &timer {
            list.push(t);
        }
        let mut ready: Vec<usize> = poll::poll(&list)
            .into_iter()
            .map(|i| i as usize)
            .filter(|&i| i < self.pending.len())
            .collect();
        drop(list);
        ready.sort_unstable();
        let mut done = Vec::new();
        for i in ready.into_iter().rev() {
            let (ticket, fut, pollable) = self.pending.swap_remove(i);
            drop(pollable);
            let result = match fut.get() {
                Some(Ok(Ok(resp))) => collect(resp).map_err(TransportError::Network),
                Some(Ok(Err(code))) => Err(describe_error(&code)),
                Some(Err(())) | None => Err("the host lost the response".into()),
            };
            done.push((ticket, result));
        }
        done
    }

    fn now_ns(&mut self) -> u64 {
        monotonic_clock::now()
    }

    fn wall_ms(&mut self) -> u64 {
        let t = wall_clock::now();
        t.seconds * 1000 + (t.nanoseconds / 1_000_000) as u64
    }
}

/// stdout and stderr with the key masked in both; nothing here decides what is written.
pub(crate) struct StdTerminal {
    out: std::io::BufWriter<std::io::Stdout>,
    redactor: Redactor,
}

impl StdTerminal {
    /// A terminal masking nothing until [`Terminal::mask`] is called.
    pub(crate) fn new() -> StdTerminal {
        StdTerminal {
            out: std::io::BufWriter::with_capacity(1 << 16, std::io::stdout()),
            redactor: Redactor::new(""),
        }
    }
}

impl Terminal for StdTerminal {
    fn mask(&mut self, secret: &str) {
        self.redactor = Redactor::new(secret);
    }
    fn out(&mut self, line: &str) {
        let clean = self.redactor.clean(line);
        let _ = self.out.write_all(clean.as_bytes());
        let _ = self.out.write_all(b"\n");
    }
    fn err(&mut self, text: &str) {
        let _ = self.out.flush();
        eprintln!("{}", self.redactor.clean(text));
    }
    fn flush(&mut self) {
        let _ = self.out.flush();
    }
}

impl Drop for StdTerminal {
    fn drop(&mut self) {
        let _ = self.out.flush();
    }
}

/// Files through WASI's filesystem, HTTP through wasi:http, the wall clock.
pub(crate) struct WasiHost;

impl Host for WasiHost {
    /// A relative path is the caller's: joined to `PWD` when the host passed it (the README's
    /// wrapper does), since the sandbox has no working directory of its own.
    fn read_file(&mut self, what: &str, path: &str) -> Result<String, String> {
        let pwd = std::env::var("PWD").ok();
        read_std_file(what, &resolve_path(path, pwd.as_deref()))
    }
    fn transport(&mut self, config: &Config) -> Box<dyn Transport> {
        Box::new(WasiTransport::new(config))
    }
    fn wall_ms(&mut self) -> u64 {
        let t = wall_clock::now();
        t.seconds * 1000 + (t.nanoseconds / 1_000_000) as u64
    }
}
