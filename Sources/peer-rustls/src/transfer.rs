//! `--transfer N`: the pattern both ways at once, each byte checked.

use crate::cell::Cell;
use crate::exchange::{pattern_mismatch, transfer_byte};
use crate::failure::{Failure, Stage};
use crate::link::{Link, Plain};

const CHUNK: usize = 16384;

/// What a server holds unechoed before it stops reading (PEER-PROTOCOL.md: 1 MiB).
const MAX_UNECHOED: usize = 1 << 20;

impl Cell<'_> {
    /// The client: writes the pattern and reads the echo in one loop; only when neither moved
    /// does it poll, for what rustls wants.
    pub fn send_transfer(&mut self, link: &mut Link) -> Result<(), Failure> {
        let total = self.req.transfer;
        let mut chunk = vec![0u8; CHUNK];
        let mut buf = vec![0u8; CHUNK];
        while self.exchange.received < total
            || self.exchange.sent < total
            || link.conn.wants_write()
        {
            let mut moved = false;
            if self.exchange.sent < total {
                let start = self.exchange.sent;
                let n = CHUNK.min(total - start);
                for (i, b) in chunk[..n].iter_mut().enumerate() {
                    *b = transfer_byte(start + i);
                }
                let accepted = self.hand_to_rustls(link, &chunk[..n])?;
                moved |= accepted > 0;
            }
            moved |= self.pump(link)?;
            moved |= self.take_pattern(link, &mut buf, None)?;
            if !moved {
                link.wait(true)
                    .map_err(|s| self.failure(s, Stage::Data, link))?;
            }
        }
        self.log_transfer_done(total);
        Ok(())
    }

    /// The server: echoes what it reads as it reads it, holding at most 1 MiB unechoed.
    pub fn echo_transfer(&mut self, link: &mut Link) -> Result<(), Failure> {
        let total = self.req.transfer;
        let mut pending: Vec<u8> = Vec::new();
        let mut buf = vec![0u8; CHUNK];
        while self.exchange.received < total || !pending.is_empty() || link.conn.wants_write() {
            let mut moved = false;
            if !pending.is_empty() {
                let accepted = self.hand_to_rustls(link, &pending)?;
                pending.drain(..accepted);
                moved |= accepted > 0;
            }
            let reading = pending.len() < MAX_UNECHOED;
            let wrote = link
                .flush_once()
                .map_err(|s| self.failure(s, Stage::Data, link))?;
            moved |= wrote;
            if reading {
                moved |= link
                    .read_once()
                    .map_err(|s| self.failure(s, Stage::Data, link))?;
                moved |= self.take_pattern(link, &mut buf, Some(&mut pending))?;
            }
            if !moved {
                link.wait(reading)
                    .map_err(|s| self.failure(s, Stage::Data, link))?;
            }
        }
        self.log_transfer_done(total);
        Ok(())
    }

    /// Gives rustls as much of `bytes` as it takes, counted as sent; how much it took.
    fn hand_to_rustls(&mut self, link: &mut Link, bytes: &[u8]) -> Result<usize, Failure> {
        let accepted = std::io::Write::write(&mut link.conn.writer(), bytes)
            .map_err(|e| Failure::os(Stage::Data, "rustls writer", &e))?;
        self.exchange.count_sent(&bytes[..accepted]);
        Ok(accepted)
    }

    fn log_transfer_done(&mut self, total: usize) {
        self.out.log(&format!(
            "transfer done: {} bytes each way, {}",
            total,
            self.exchange.digest_received.text()
        ));
    }

    /// One write and one read on the socket.
    fn pump(&mut self, link: &mut Link) -> Result<bool, Failure> {
        let wrote = link
            .flush_once()
            .map_err(|s| self.failure(s, Stage::Data, link))?;
        let read = link
            .read_once()
            .map_err(|s| self.failure(s, Stage::Data, link))?;
        Ok(wrote || read)
    }

    /// Takes the pattern bytes rustls holds, checks and counts them, and queues them for the echo.
    fn take_pattern(
        &mut self,
        link: &mut Link,
        buf: &mut [u8],
        mut echo: Option<&mut Vec<u8>>,
    ) -> Result<bool, Failure> {
        let total = self.req.transfer;
        let mut moved = false;
        while self.exchange.received < total {
            match link
                .try_read_plain(buf)
                .map_err(|s| self.failure(s, Stage::Data, link))?
            {
                None => break,
                Some(Plain::Data(n)) => {
                    if let Some(m) = pattern_mismatch(&buf[..n], self.exchange.received) {
                        self.exchange.count_received(&buf[..n]);
                        return Err(Failure::ours(Stage::Data, m));
                    }
                    self.exchange.count_received(&buf[..n]);
                    if let Some(pending) = echo.as_mut() {
                        pending.extend_from_slice(&buf[..n]);
                    }
                    moved = true;
                }
                Some(Plain::CloseNotify) => {
                    return Err(Failure::ours(
                        Stage::Data,
                        format!(
                            "peer sent close_notify after {} of {} bytes",
                            self.exchange.received, total
                        ),
                    ))
                }
                Some(Plain::Truncated) => {
                    return Err(Failure::ours(
                        Stage::Data,
                        format!(
                            "the stream ended without close_notify after {} of {} bytes",
                            self.exchange.received, total
                        ),
                    ))
                }
            }
        }
        Ok(moved)
    }
}
