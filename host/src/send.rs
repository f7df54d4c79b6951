//! How the `send_request` hook sends a request the egress check allowed: connect (and, for
//! https, the TLS handshake) first, then take the account's rate-gate slot, then write the
//! request, and tell the gate when its first bytes were written.
//!
//! wasmtime-wasi-http's `default_send_request` connects, handshakes and writes in one call, so a
//! gate taken before it spaces the moments requests are handed over, and a connection held up
//! for 100 ms (a stalled thread, a slow handshake) lets a later request arrive at the server
//! less than a second after an earlier one. Here the only step between the gate and the server
//! is writing the request on a connection that is already open, and the gate counts the request
//! from that write ([`crate::egress::Booking`]). The timeouts are the component's request
//! options, as in `default_send_request` (whose defaults this keeps).

use crate::egress::{Booking, Egress};
use bytes::Bytes;
use http_body_util::BodyExt;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::timeout;
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody};

/// wasmtime-wasi-http's timeout when the component sets none.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// A plain or TLS connection.
trait Stream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Stream for T {}

/// Sends `req` (already allowed by `egress`) and returns the response once its headers are in;
/// the body streams after that.
pub(crate) async fn send(
    mut req: http::Request<WasiBody>,
    options: Option<RequestOptions>,
    egress: &Egress,
) -> Result<http::Response<WasiBody>, Error> {
    let o = options.unwrap_or_default();
    let connect_timeout = o.connect_timeout.unwrap_or(DEFAULT_TIMEOUT);
    let first_byte_timeout = o.first_byte_timeout.unwrap_or(DEFAULT_TIMEOUT);
    // Tokio's interval panics on zero; 1 ns is as good as zero.
    let between_bytes = o
        .between_bytes_timeout
        .unwrap_or(DEFAULT_TIMEOUT)
        .max(Duration::from_nanos(1));
    let authority = req
        .uri()
        .authority()
        .ok_or(Error::HttpRequestUriInvalid)?
        .clone();
    let tls = req.uri().scheme() == Some(&http::uri::Scheme::HTTPS);
    let port = authority.port_u16().unwrap_or(if tls { 443 } else { 80 });
    let addrs = permitted_addresses(authority.host(), port, tls, connect_timeout, egress).await?;
    let tcp = match timeout(connect_timeout, TcpStream::connect(&addrs[..])).await {
        Ok(s) => s.map_err(Error::Connect)?,
        Err(_) => return Err(Error::ConnectionTimeout),
    };
    let _ = tcp.set_nodelay(true);
    let stream: Box<dyn Stream> = if tls {
        let name = server_name(authority.host())?;
        match timeout(connect_timeout, tls_connector().connect(name, tcp)).await {
            Ok(s) => Box::new(s.map_err(Error::Tls)?),
            Err(_) => return Err(Error::ConnectionTimeout),
        }
    } else {
        Box::new(tcp)
    };
    // The gate's booking, once taken: the first write after that confirms it.
    let booking = Arc::new(OnceLock::<Booking>::new());
    let stream = Stamped {
        inner: stream,
        booking: Arc::clone(&booking),
    };
    // An HTTP/1 handshake writes nothing: the connection stays idle until the request.
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    // Driven on its own task; if it fails, `send_request` below or the body reports it.
    tokio::spawn(conn);
    // The request goes to the origin server, so the request line carries only path and query.
    let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
    *req.uri_mut() = http::Uri::builder()
        .path_and_query(path)
        .build()
        .map_err(|_| Error::HttpRequestUriInvalid)?;
    let booked = Instant::now();
    let _ = booking.set(egress.gate.acquire().await);
    let res = timeout(first_byte_timeout, sender.send_request(req))
        .await
        .map_err(|_| Error::ConnectionReadTimeout)??;
    let t0 = booking
        .get()
        .and_then(Booking::written_at)
        .unwrap_or(booked);
    let mut log = egress.log.lock().unwrap_or_else(|e| e.into_inner());
    log.starts.push(t0);
    log.to_headers.push(t0.elapsed());
    drop(log);
    Ok(res.map(|incoming| {
        let mut timer = tokio::time::interval(between_bytes);
        timer.reset();
        TimedBody { incoming, timer }.boxed_unsync()
    }))
}

/// Resolves `host` and keeps the addresses the egress policy lets a connection go to; none left
/// is a refusal (logged, no connection opened, so no byte sent). The connection then goes to
/// exactly these addresses, never to a second resolution's.
async fn permitted_addresses(
    host: &str,
    port: u16,
    tls: bool,
    within: Duration,
    egress: &Egress,
) -> Result<Vec<std::net::SocketAddr>, Error> {
    let resolved: Vec<std::net::SocketAddr> =
        match timeout(within, tokio::net::lookup_host(format!("{host}:{port}"))).await {
            Ok(Ok(a)) => a.collect(),
            Ok(Err(_)) => {
                return Err(Error::DnsError {
                    rcode: None,
                    info_code: None,
                })
            }
            Err(_) => return Err(Error::DnsTimeout),
        };
    let origin = format!("{}://{host}:{port}", if tls { "https" } else { "http" });
    // The refusal is in the account's report (and, for check and discover, on stderr).
    egress
        .permitted(&origin, &resolved)
        .map_err(|_| Error::DestinationIpProhibited)
}

/// A connection that confirms the gate's booking on the first bytes written after it was taken
/// (the request; the TLS handshake happens below this, before the booking).
struct Stamped {
    inner: Box<dyn Stream>,
    booking: Arc<OnceLock<Booking>>,
}

impl Stamped {
    /// Confirms the booking if `written` says bytes went out.
    fn wrote(&self, written: &Poll<std::io::Result<usize>>) {
        if let Poll::Ready(Ok(n)) = written {
            if *n > 0 {
                if let Some(b) = self.booking.get() {
                    b.confirm();
                }
            }
        }
    }
}

impl AsyncRead for Stamped {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Stamped {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.wrote(&r);
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.wrote(&r);
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The TLS name of a host: an IP literal (IPv6 in brackets) or a DNS name.
fn server_name(host: &str) -> Result<rustls::pki_types::ServerName<'static>, Error> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<std::net::IpAddr>() {
        return Ok(ip.into());
    }
    Ok(rustls::pki_types::ServerName::try_from(host.to_string())?)
}

/// One TLS client configuration (webpki's root certificates) for every connection.
fn tls_connector() -> tokio_rustls::TlsConnector {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    let config = CONFIG.get_or_init(|| {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.into(),
        };
        Arc::new(
            rustls::ClientConfig::builder()
                .with_root_certificates(roots)
                .with_no_client_auth(),
        )
    });
    tokio_rustls::TlsConnector::from(Arc::clone(config))
}

/// A response body that fails when no data comes for the between-bytes timeout.
struct TimedBody {
    incoming: hyper::body::Incoming,
    timer: tokio::time::Interval,
}

impl http_body::Body for TimedBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Error>>> {
        match Pin::new(&mut self.incoming).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                self.timer.reset();
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) if e.is_timeout() => {
                Poll::Ready(Some(Err(Error::HttpResponseTimeout)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                ready!(self.timer.poll_tick(cx));
                Poll::Ready(Some(Err(Error::ConnectionReadTimeout)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.incoming.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.incoming.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_names_of_hosts_and_addresses() {
        assert!(matches!(
            server_name("acme.api-us1.com"),
            Ok(rustls::pki_types::ServerName::DnsName(_))
        ));
        assert!(matches!(
            server_name("127.0.0.1"),
            Ok(rustls::pki_types::ServerName::IpAddress(_))
        ));
        assert!(matches!(
            server_name("[::1]"),
            Ok(rustls::pki_types::ServerName::IpAddress(_))
        ));
        assert!(server_name("bad name!").is_err());
    }
}
