//! The raw bytes of an input, before they are text: read and hashed a block ahead on a thread
//! of its own ([`Hashing`], the size and SHA-256 of each input for the manifest), and the
//! buffers a finished file's reader leaves to the next file's ([`spare`]).

use std::io::Read;
use std::sync::mpsc;

use sha2::{Digest, Sha256};

/// The raw bytes of an input: a file, a pipe or stdin, read from the start without seeking.
pub type Raw = Box<dyn Read + Send>;

/// A reader that hashes (SHA-256) and counts the raw bytes it passes on. The file is read and
/// hashed on a thread of its own, a block ahead: on the thread that splits records, hashing
/// was an eighth of a run's time (and that thread is the one a run waits for).
pub struct Hashing {
    blocks: mpsc::Receiver<std::io::Result<(Vec<u8>, usize)>>,
    /// Blocks read, given back to be filled again.
    back: mpsc::SyncSender<Vec<u8>>,
    block: Vec<u8>,
    /// Bytes of `block` that hold the file, and how many of them were passed on.
    len: usize,
    at: usize,
    worker: Option<std::thread::JoinHandle<(u64, String)>>,
}

/// The size of the blocks read ahead.
const HASH_BLOCK: usize = 1 << 20;

impl Hashing {
    pub fn new(mut inner: Raw) -> Hashing {
        let (tx, blocks) = mpsc::sync_channel(4);
        let (back, returned) = mpsc::sync_channel::<Vec<u8>>(4);
        let worker = std::thread::Builder::new()
            .name("opal-hash".into())
            .spawn(move || {
                let mut hasher = Sha256::new();
                let mut bytes = 0u64;
                loop {
                    let mut b = returned.try_recv().unwrap_or_default();
                    b.resize(HASH_BLOCK, 0);
                    // A whole block, or what is left of the input.
                    let mut n = 0;
                    while n < b.len() {
                        match inner.read(&mut b[n..]) {
                            Ok(0) => break,
                            Ok(k) => n += k,
                            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                            Err(e) => {
                                let _ = tx.send(Err(e));
                                return (bytes, String::new());
                            }
                        }
                    }
                    hasher.update(&b[..n]);
                    bytes += n as u64;
                    // The end, or a reader that has stopped listening.
                    if n == 0 || tx.send(Ok((b, n))).is_err() {
                        break;
                    }
                }
                let digest = hasher.finalize();
                (bytes, digest.iter().map(|b| format!("{b:02x}")).collect())
            });
        let (worker, failed) = match worker {
            Ok(w) => (Some(w), None),
            Err(e) => (None, Some(e)),
        };
        let h = Hashing {
            blocks,
            back,
            block: Vec::new(),
            len: 0,
            at: 0,
            worker,
        };
        if let Some(e) = failed {
            // No thread: the first read says so.
            let (tx, blocks) = mpsc::sync_channel(1);
            let _ = tx.send(Err(e));
            return Hashing { blocks, ..h };
        }
        h
    }

    /// Hash what is left unread, then the totals.
    pub fn finish(mut self) -> (u64, String) {
        let _ = std::io::copy(&mut self, &mut std::io::sink());
        self.worker
            .take()
            .and_then(|w| w.join().ok())
            .unwrap_or_default()
    }
}

impl Read for Hashing {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.len {
            match self.blocks.recv() {
                Ok(Ok((b, n))) => {
                    let used = std::mem::replace(&mut self.block, b);
                    let _ = self.back.try_send(used);
                    (self.len, self.at) = (n, 0);
                }
                Ok(Err(e)) => return Err(e),
                // The end of the input.
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.len - self.at);
        buf[..n].copy_from_slice(&self.block[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Buffers of finished readers, taken by the next file's: a run of many files (60 EPD months)
/// otherwise gives every file fresh pages for its text and records — a page fault for every
/// 4 KiB read, a fifth of the time of a run of many months. At most [`spare::KEEP`] of each
/// are kept (memory stays flat), and [`release_spare_buffers`] frees them when reading ends.
pub mod spare {
    use std::sync::Mutex;

    use crate::read::records::Buffers;

    pub const KEEP: usize = 2;
    static TEXT: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
    static RECORDS: Mutex<Vec<Buffers>> = Mutex::new(Vec::new());

    fn put<T>(pool: &Mutex<Vec<T>>, v: T) {
        if let Ok(mut p) = pool.lock() {
            if p.len() < KEEP {
                p.push(v);
            }
        }
    }

    fn take<T: Default>(pool: &Mutex<Vec<T>>) -> T {
        pool.lock()
            .ok()
            .and_then(|mut p| p.pop())
            .unwrap_or_default()
    }

    pub fn put_text(mut v: Vec<u8>) {
        v.clear();
        put(&TEXT, v);
    }

    pub fn take_text() -> Vec<u8> {
        take(&TEXT)
    }

    pub fn put_records(b: Buffers) {
        put(&RECORDS, b);
    }

    pub fn take_records() -> Buffers {
        take(&RECORDS)
    }

    pub fn release() {
        if let Ok(mut p) = TEXT.lock() {
            *p = Vec::new();
        }
        if let Ok(mut p) = RECORDS.lock() {
            *p = Vec::new();
        }
    }
}

/// Free the buffers kept for the next file (see [`spare`]): called when every input is read.
pub fn release_spare_buffers() {
    spare::release();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::factors::hex_sha256;

    /// The file read a block ahead on its own thread: what is read is the input, byte for
    /// byte, across block ends, and the size and SHA-256 are of the whole input even when
    /// only part of it was read.
    #[test]
    fn hashing_ahead_passes_every_byte_and_hashes_the_whole() {
        let data: Vec<u8> = (0..HASH_BLOCK * 2 + 12_345)
            .map(|i| (i % 251) as u8)
            .collect();
        let mut h = Hashing::new(Box::new(std::io::Cursor::new(data.clone())));
        let mut got = Vec::new();
        let mut buf = [0u8; 7_001];
        loop {
            let n = h.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        assert!(got == data);
        assert_eq!(h.finish(), (data.len() as u64, hex_sha256(&data)));
        let mut h = Hashing::new(Box::new(std::io::Cursor::new(data.clone())));
        h.read_exact(&mut buf).unwrap();
        assert_eq!(&buf[..], &data[..buf.len()]);
        assert_eq!(h.finish(), (data.len() as u64, hex_sha256(&data)));
        let mut empty = Hashing::new(Box::new(std::io::empty()));
        assert_eq!(empty.read(&mut buf).unwrap(), 0);
        assert_eq!(empty.finish(), (0, hex_sha256(b"")));
    }
}
