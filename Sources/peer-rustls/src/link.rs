//! One TLS connection over one non-blocking socket: rustls's `read_tls`, `process_new_packets`
//! and `write_tls`, and poll(2) on what rustls wants (`wants_read`, `wants_write`).

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::unix::io::AsRawFd;
use std::time::{Duration, Instant};

use rustls::Connection;

use crate::net::{wait, Interest};

/// Why a step of the connection could not go on.
pub enum Stop {
    /// rustls refused something; it has queued its alert, which `read_once` tried to send.
    Tls(rustls::Error),
    Os(io::Error),
    Timeout,
    /// TCP ended during the handshake.
    Closed,
}

/// What one read of application data gave.
pub enum Plain {
    Data(usize),
    /// The other side's close_notify.
    CloseNotify,
    /// TCP ended without close_notify.
    Truncated,
}

/// Fatal alerts seen leaving in the clear, read from the TLS records this side writes: rustls
/// sends its alerts itself and does not say which. An encrypted alert (TLS 1.3 after
/// ServerHello, TLS 1.2 after ChangeCipherSpec) is a longer record and stays unread.
#[derive(Default)]
struct RecordWatch {
    header: Vec<u8>,
    remaining: usize,
    alert: Option<Vec<u8>>,
    fatal_alert_sent: Option<u8>,
}

impl RecordWatch {
    fn saw(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if self.remaining == 0 {
                let take = (5 - self.header.len()).min(bytes.len());
                self.header.extend_from_slice(&bytes[..take]);
                bytes = &bytes[take..];
                if self.header.len() == 5 {
                    self.remaining = u16::from_be_bytes([self.header[3], self.header[4]]) as usize;
                    // ContentType alert (21), two bytes: a plaintext alert (RFC 8446 §5.1).
                    self.alert = (self.header[0] == 21 && self.remaining == 2).then(Vec::new);
                    self.header.clear();
                }
                continue;
            }
            let take = self.remaining.min(bytes.len());
            if let Some(alert) = &mut self.alert {
                alert.extend_from_slice(&bytes[..take]);
                if alert.len() == 2 && alert[0] == 2 {
                    self.fatal_alert_sent = Some(alert[1]);
                }
            }
            self.remaining -= take;
            bytes = &bytes[take..];
        }
    }
}

/// The socket as rustls writes to it, with the records watched on the way.
struct Watched<'a> {
    socket: &'a TcpStream,
    watch: &'a mut RecordWatch,
}

impl Write for Watched<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = (&*self.socket).write(buf)?;
        self.watch.saw(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A rustls connection and its socket.
pub struct Link {
    pub conn: Connection,
    socket: TcpStream,
    pub deadline: Instant,
    tcp_eof: bool,
    watch: RecordWatch,
}

impl Link {
    pub fn new(conn: Connection, socket: TcpStream, deadline: Instant) -> Link {
        Link {
            conn,
            socket,
            deadline,
            tcp_eof: false,
            watch: RecordWatch::default(),
        }
    }

    /// The fatal alert this side sent in the clear, if any.
    pub fn alert_sent(&self) -> Option<u8> {
        self.watch.fatal_alert_sent
    }

    /// Writes what rustls has queued until the socket would block; true if anything moved.
    pub fn flush_once(&mut self) -> Result<bool, Stop> {
        let mut moved = false;
        while self.conn.wants_write() {
            let mut out = Watched {
                socket: &self.socket,
                watch: &mut self.watch,
            };
            match self.conn.write_tls(&mut out) {
                Ok(_) => moved = true,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Stop::Os(e)),
            }
        }
        Ok(moved)
    }

    /// Reads what the socket has (once) and has rustls process it; true if anything came.
    pub fn read_once(&mut self) -> Result<bool, Stop> {
        if self.tcp_eof || !self.conn.wants_read() {
            return Ok(false);
        }
        match self.conn.read_tls(&mut &self.socket) {
            Ok(0) => {
                self.tcp_eof = true;
                Ok(true)
            }
            Ok(_) => match self.conn.process_new_packets() {
                Ok(_) => Ok(true),
                Err(e) => {
                    // rustls queued its alert: send it before the caller closes.
                    self.flush_within(Duration::from_millis(250));
                    Err(Stop::Tls(e))
                }
            },
            Err(e)
                if e.kind() == io::ErrorKind::WouldBlock
                    || e.kind() == io::ErrorKind::Interrupted =>
            {
                Ok(false)
            }
            Err(e) => Err(Stop::Os(e)),
        }
    }

    /// Polls for what rustls wants (and `read` allows), until the deadline.
    pub fn wait(&mut self, read: bool) -> Result<(), Stop> {
        let interest = Interest {
            read: read && !self.tcp_eof && self.conn.wants_read(),
            write: self.conn.wants_write(),
        };
        let interest = if interest.read || interest.write {
            interest
        } else {
            Interest {
                read: true,
                write: false,
            }
        };
        match wait(self.socket.as_raw_fd(), interest, self.deadline) {
            Ok(true) => Ok(()),
            Ok(false) => Err(Stop::Timeout),
            Err(e) => Err(Stop::Os(e)),
        }
    }

    /// Drives the handshake to its end, and sends this side's last flight.
    pub fn handshake(&mut self) -> Result<(), Stop> {
        while self.conn.is_handshaking() {
            let wrote = self.flush_once()?;
            let read = self.read_once()?;
            if self.tcp_eof && self.conn.is_handshaking() {
                return Err(Stop::Closed);
            }
            if !wrote && !read {
                self.wait(true)?;
            }
        }
        self.flush()
    }

    /// Sends everything rustls has queued.
    pub fn flush(&mut self) -> Result<(), Stop> {
        while self.conn.wants_write() {
            if !self.flush_once()? {
                match wait(
                    self.socket.as_raw_fd(),
                    Interest {
                        read: false,
                        write: true,
                    },
                    self.deadline,
                ) {
                    Ok(true) => {}
                    Ok(false) => return Err(Stop::Timeout),
                    Err(e) => return Err(Stop::Os(e)),
                }
            }
        }
        Ok(())
    }

    /// Reads some application data, or how the stream ended.
    pub fn read_plain(&mut self, buf: &mut [u8]) -> Result<Plain, Stop> {
        loop {
            match self.try_read_plain(buf)? {
                Some(p) => return Ok(p),
                None => {
                    let wrote = self.flush_once()?;
                    let read = self.read_once()?;
                    if !wrote && !read {
                        self.wait(true)?;
                    }
                }
            }
        }
    }

    /// Application data rustls already holds, without touching the socket; `None` when it has none.
    pub fn try_read_plain(&mut self, buf: &mut [u8]) -> Result<Option<Plain>, Stop> {
        match self.conn.reader().read(buf) {
            Ok(0) => Ok(Some(Plain::CloseNotify)),
            Ok(n) => Ok(Some(Plain::Data(n))),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(Some(Plain::Truncated)),
            Err(e) => Err(Stop::Os(e)),
        }
    }

    /// Writes all of `data` as application data, and sends it.
    pub fn write_plain(&mut self, data: &[u8]) -> Result<usize, Stop> {
        let mut done = 0;
        while done < data.len() {
            let n = self.conn.writer().write(&data[done..]).map_err(Stop::Os)?;
            done += n;
            if n == 0 && !self.flush_once()? {
                self.wait(false)?;
            }
        }
        self.flush()?;
        Ok(done)
    }

    /// Best effort, never past `budget` nor the deadline: send what rustls queued.
    pub fn flush_within(&mut self, budget: Duration) {
        let saved = self.deadline;
        self.deadline = saved.min(Instant::now() + budget);
        let _ = self.flush();
        self.deadline = saved;
    }

    /// After a failure this peer found (not rustls): close_notify, best effort.
    pub fn close_notify_within(&mut self, budget: Duration) {
        self.conn.send_close_notify();
        self.flush_within(budget);
    }

    /// Ends TCP: our half first, then what the other side still sends is read and dropped
    /// (within `budget`), so an alert in flight arrives before the kernel answers with a reset.
    pub fn linger_close(&mut self, budget: Duration) {
        let _ = self.socket.shutdown(Shutdown::Write);
        let until = self.deadline.min(Instant::now() + budget);
        let mut sink = [0u8; 4096];
        while !self.tcp_eof {
            match (&self.socket).read(&mut sink) {
                Ok(0) => break,
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    match wait(
                        self.socket.as_raw_fd(),
                        Interest {
                            read: true,
                            write: false,
                        },
                        until,
                    ) {
                        Ok(true) => continue,
                        _ => break,
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sees_a_plaintext_fatal_alert_split_across_writes() {
        let mut watch = RecordWatch::default();
        watch.saw(&[22, 3, 3, 0, 1, 9]);
        watch.saw(&[21, 3]);
        watch.saw(&[3, 0, 2, 2]);
        watch.saw(&[48]);
        assert_eq!(watch.fatal_alert_sent, Some(48));
    }

    #[test]
    fn ignores_an_encrypted_alert_and_a_warning() {
        let mut watch = RecordWatch::default();
        watch.saw(&[21, 3, 3, 0, 2, 1, 0]);
        watch.saw(&[23, 3, 3, 0, 3, 2, 48, 0]);
        assert_eq!(watch.fatal_alert_sent, None);
    }
}
