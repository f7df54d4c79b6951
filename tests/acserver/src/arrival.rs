//! Kernel arrival stamps (off by default; `--kernel-arrival`): a request's start is the moment
//! its first bytes reached this server's socket, not the moment a server thread got the CPU to
//! read them.
//!
//! `make bench-host` runs the test server on the same two cores as the host under test and the
//! other jobs of the machine. A thread-per-connection server that waits 60 ms for the CPU stamps
//! a request 60 ms late, and one late stamp followed by an on-time one puts six requests the host
//! sent more than a second apart into one second here. The real API's edge does not share the
//! host's CPU; the kernel's receive time is what it would see. Linux only (`SO_TIMESTAMPNS`, read
//! with `MSG_PEEK` so the request itself is read as before); elsewhere, and for a packet the
//! kernel did not stamp (it turns stamping on a moment after the first socket asks), the
//! server's own read time stays the start.

use std::net::{TcpListener, TcpStream};
use std::time::Instant;

/// Asks the kernel to stamp each packet's receive time on the connections `listener` accepts
/// (accepted sockets inherit the option). Whether it could.
#[cfg(target_os = "linux")]
pub(crate) fn enable(listener: &TcpListener) -> bool {
    use std::os::fd::AsRawFd;
    let on: libc::c_int = 1;
    // SAFETY: a valid socket descriptor and a pointer to an int of the given size.
    let rc = unsafe {
        libc::setsockopt(
            listener.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    rc == 0
}

/// Kernel stamps are Linux-only.
#[cfg(not(target_os = "linux"))]
pub(crate) fn enable(_listener: &TcpListener) -> bool {
    false
}

/// Waits for the first byte on `stream` (without consuming it) and returns when the kernel
/// received it; `None` on end of stream, error or no stamp.
#[cfg(target_os = "linux")]
pub(crate) fn first_byte_at(stream: &TcpStream) -> Option<Instant> {
    use std::os::fd::AsRawFd;
    let mut byte = [0u8; 1];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
    };
    // Room for one control message holding a timespec (u64s for alignment).
    let mut control = [0u64; 8];
    // SAFETY: msghdr is plain data; every pointer set below outlives the call.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control) as _;
    // SAFETY: a valid socket and a msghdr whose buffers are valid for their stated lengths.
    let n = unsafe { libc::recvmsg(stream.as_raw_fd(), &mut msg, libc::MSG_PEEK) };
    if n <= 0 {
        return None;
    }
    // SAFETY: the CMSG macros walk the control buffer the kernel filled, within msg_controllen.
    let mut cmsg = unsafe { libc::CMSG_FIRSTHDR(&msg) };
    while !cmsg.is_null() {
        // SAFETY: cmsg points at a complete header inside the control buffer.
        let h = unsafe { &*cmsg };
        if h.cmsg_level == libc::SOL_SOCKET && h.cmsg_type == libc::SO_TIMESTAMPNS {
            // SAFETY: an SO_TIMESTAMPNS message carries a timespec; read unaligned to be safe.
            let ts: libc::timespec =
                unsafe { std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast()) };
            return Some(instant_of(ts.tv_sec as i64, ts.tv_nsec as i64));
        }
        // SAFETY: as above.
        cmsg = unsafe { libc::CMSG_NXTHDR(&msg, cmsg) };
    }
    None
}

/// Kernel stamps are Linux-only.
#[cfg(not(target_os = "linux"))]
pub(crate) fn first_byte_at(_stream: &TcpStream) -> Option<Instant> {
    None
}

/// The `Instant` of a wall-clock (CLOCK_REALTIME) stamp: now minus its age.
fn instant_of(sec: i64, nsec: i64) -> Instant {
    let stamp_ns = sec as i128 * 1_000_000_000 + nsec as i128;
    let now = Instant::now();
    let wall_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(stamp_ns);
    let age = (wall_ns - stamp_ns).clamp(0, 60_000_000_000) as u64;
    now.checked_sub(std::time::Duration::from_nanos(age))
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::time::Duration;

    /// A request sent now and peeked 200 ms later: (its kernel stamp's distance from the send,
    /// the connection), or `None` if the packet carried no stamp.
    #[cfg(target_os = "linux")]
    fn stamped(listener: &TcpListener) -> Option<(Duration, TcpStream)> {
        let mut client = TcpStream::connect(listener.local_addr().ok()?).ok()?;
        let (server, _) = listener.accept().ok()?;
        let sent = Instant::now();
        client.write_all(b"GET / HTTP/1.1\r\n\r\n").ok()?;
        // The server "gets the CPU" 200 ms later.
        std::thread::sleep(Duration::from_millis(200));
        let at = first_byte_at(&server)?;
        Some((
            at.saturating_duration_since(sent) + sent.saturating_duration_since(at),
            server,
        ))
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn the_stamp_is_the_arrival_not_the_read() {
        let Ok(listener) = TcpListener::bind("127.0.0.1:0") else {
            panic!("bind failed")
        };
        assert!(enable(&listener));
        // The kernel turns receive stamping on a moment after the first socket asks for it
        // (deferred work), so the first packets may carry none.
        let Some((off, server)) = (0..10).find_map(|_| stamped(&listener)) else {
            panic!("no kernel stamp in 10 tries")
        };
        assert!(
            off < Duration::from_millis(50),
            "stamp {off:?} from the send"
        );
        // Peeked, not consumed.
        let mut first = [0u8; 3];
        assert!((&server).read_exact(&mut first).is_ok());
        assert_eq!(&first, b"GET");
    }

    #[test]
    fn wall_stamps_become_instants() {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let ago = d.saturating_sub(Duration::from_millis(300));
        let at = instant_of(ago.as_secs() as i64, ago.subsec_nanos() as i64);
        let age = at.elapsed();
        assert!(
            age >= Duration::from_millis(300) && age < Duration::from_millis(400),
            "{age:?}"
        );
    }
}
