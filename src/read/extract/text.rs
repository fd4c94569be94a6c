//! An extract's bytes as UTF-8 text: as they are (UTF-8, or Windows-1252 decoded a chunk at a
//! time later), or UTF-16 with a byte-order mark decoded as it is read.

use super::*;

pub(super) enum Text {
    Plain(Hashing),
    Gzip(Box<flate2::read::MultiGzDecoder<Hashing>>),
    Utf16(Box<Utf16<Hashing>>),
    /// Rows made from another format (FHIR: read/fhir.rs), with the size and SHA-256 of the
    /// file as it was given.
    Converted {
        rows: std::io::Cursor<Vec<u8>>,
        bytes: u64,
        sha256: String,
    },
}

impl Read for Text {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Text::Plain(r) => r.read(buf),
            Text::Gzip(r) => r.read(buf),
            Text::Utf16(r) => r.read(buf),
            Text::Converted { rows, .. } => rows.read(buf),
        }
    }
}

impl Text {
    pub(super) fn finish(self) -> (u64, String) {
        match self {
            Text::Plain(r) => r.finish(),
            Text::Gzip(r) => r.into_inner().finish(),
            Text::Utf16(r) => r.inner.finish(),
            Text::Converted { bytes, sha256, .. } => (bytes, sha256),
        }
    }
}

/// UTF-16 text with a byte-order mark (Excel's "Unicode text", some EMIS exports), read as
/// UTF-8 a block at a time (encoding_rs's decoder, which drops the mark), so that the rest of
/// the reading path sees the text as any other.
pub(super) struct Utf16<R> {
    pub(super) inner: R,
    pub(super) decoder: encoding_rs::Decoder,
    pub(super) input: Vec<u8>,
    pub(super) output: Vec<u8>,
    /// Bytes of `output` already handed out.
    pub(super) given: usize,
    pub(super) done: bool,
}

impl<R: Read> Utf16<R> {
    pub(super) fn new(inner: R, encoding: &'static encoding_rs::Encoding) -> Utf16<R> {
        Utf16 {
            inner,
            decoder: encoding.new_decoder_with_bom_removal(),
            input: vec![0; 1 << 16],
            output: Vec::with_capacity(3 << 16),
            given: 0,
            done: false,
        }
    }
}

impl<R: Read> Read for Utf16<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.given == self.output.len() && !self.done {
            let n = self.inner.read(&mut self.input)?;
            let last = n == 0;
            self.output.clear();
            self.given = 0;
            let room = self.decoder.max_utf8_buffer_length(n).unwrap_or(3 * n + 16);
            self.output.resize(room, 0);
            let (_, read, written, _) =
                self.decoder
                    .decode_to_utf8(&self.input[..n], &mut self.output, last);
            debug_assert_eq!(read, n);
            self.output.truncate(written);
            self.done = last;
        }
        let take = buf.len().min(self.output.len() - self.given);
        buf[..take].copy_from_slice(&self.output[self.given..self.given + take]);
        self.given += take;
        Ok(take)
    }
}
