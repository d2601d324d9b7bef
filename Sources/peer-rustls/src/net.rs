//! Loopback TCP on non-blocking sockets, driven by poll(2) with the cell's deadline.

use std::io;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::unix::io::{AsRawFd, FromRawFd, RawFd};
use std::time::Instant;

use crate::failure::{Failure, Stage};

/// What a socket is awaited for.
#[derive(Clone, Copy)]
pub struct Interest {
    pub read: bool,
    pub write: bool,
}

/// Polls `fd` until it is ready for `interest` or `deadline` passes: `Ok(false)` then.
pub fn wait(fd: RawFd, interest: Interest, deadline: Instant) -> io::Result<bool> {
    let mut events = 0;
    if interest.read {
        events |= libc::POLLIN;
    }
    if interest.write {
        events |= libc::POLLOUT;
    }
    loop {
        let now = Instant::now();
        if now >= deadline {
            return Ok(false);
        }
        // Rounded up, so a wait never ends a little before the deadline and spins.
        let ms = (deadline - now).as_micros().saturating_add(999) / 1000;
        let mut pfd = libc::pollfd {
            fd,
            events,
            revents: 0,
        };
        // SAFETY: one pollfd that lives across the call.
        let n = unsafe { libc::poll(&mut pfd, 1, ms.min(i32::MAX as u128) as i32) };
        if n < 0 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        if n > 0 {
            return Ok(true);
        }
    }
}

/// Binds 127.0.0.1 port 0 and listens, non-blocking.
pub fn listen() -> Result<(TcpListener, u16), Failure> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| Failure::os(Stage::Setup, "listening", &e))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| Failure::os(Stage::Setup, "listening", &e))?;
    let port = listener
        .local_addr()
        .map_err(|e| Failure::os(Stage::Setup, "getsockname", &e))?
        .port();
    Ok((listener, port))
}

/// Polls the listener, then accepts the connection the kernel completed.
pub fn accept(
    listener: &TcpListener,
    deadline: Instant,
    timeout_ms: u64,
) -> Result<TcpStream, Failure> {
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream
                    .set_nonblocking(true)
                    .map_err(|e| Failure::os(Stage::TcpAccept, "accept", &e))?;
                no_delay(&stream).map_err(|e| Failure::os(Stage::TcpAccept, "TCP_NODELAY", &e))?;
                return Ok(stream);
            }
            Err(e)
                if e.kind() == io::ErrorKind::WouldBlock
                    || e.kind() == io::ErrorKind::Interrupted =>
            {
                let ready = wait(
                    listener.as_raw_fd(),
                    Interest {
                        read: true,
                        write: false,
                    },
                    deadline,
                )
                .map_err(|e| Failure::os(Stage::TcpAccept, "poll", &e))?;
                if !ready {
                    return Err(Failure::timeout(Stage::TcpAccept, timeout_ms));
                }
            }
            Err(e) => return Err(Failure::os(Stage::TcpAccept, "accept", &e)),
        }
    }
}

/// connect() on a non-blocking socket to 127.0.0.1:port: on EINPROGRESS, poll for writable, then
/// SO_ERROR holds the connect's result.
pub fn connect(port: u16, deadline: Instant, timeout_ms: u64) -> Result<TcpStream, Failure> {
    let fail = |e: &io::Error| Failure::os(Stage::TcpConnect, "connect", e);
    // SAFETY: plain system calls on a descriptor this function owns from here on.
    let fd = unsafe {
        libc::socket(
            libc::AF_INET,
            libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    };
    if fd < 0 {
        return Err(fail(&io::Error::last_os_error()));
    }
    // SAFETY: fd is a fresh socket no one else owns; the stream closes it on drop.
    let stream = unsafe { TcpStream::from_raw_fd(fd) };
    let addr = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(Ipv4Addr::LOCALHOST).to_be(),
        },
        sin_zero: [0; 8],
    };
    // SAFETY: addr is a sockaddr_in of the size passed.
    let rc = unsafe {
        libc::connect(
            fd,
            &addr as *const libc::sockaddr_in as *const libc::sockaddr,
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINPROGRESS) {
            return Err(fail(&err));
        }
        let ready = wait(
            fd,
            Interest {
                read: false,
                write: true,
            },
            deadline,
        )
        .map_err(|e| fail(&e))?;
        if !ready {
            return Err(Failure::timeout(Stage::TcpConnect, timeout_ms));
        }
        if let Some(err) = stream.take_error().map_err(|e| fail(&e))? {
            return Err(fail(&err));
        }
    }
    no_delay(&stream).map_err(|e| fail(&e))?;
    Ok(stream)
}

/// rustls writes a flight as several records, each its own `write_tls`: without TCP_NODELAY,
/// Nagle's algorithm holds the second segment until the first is acknowledged, and a delayed ACK
/// adds some 40 ms to a handshake.
fn no_delay(stream: &TcpStream) -> io::Result<()> {
    stream.set_nodelay(true)
}
