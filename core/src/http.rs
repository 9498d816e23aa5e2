//! HTTP/1.1 for IMDS: requests written into fixed buffers, responses read incrementally with
//! httparse (`Content-Length`, chunked, `Connection: close`), bodies bounded by the receive buffer.
//!
//! Only what IMDS needs: one request at a time on a connection, no pipelining, no redirects (a
//! 3xx is just a final status), no content codings. A response that does not fit the receive
//! buffer is [`ReadError::TooLarge`]; the caller never sees a partial body.

use core::fmt::{self, Write as _};
use core::ops::Range;

use crate::diagnostic::Method;
use crate::endpoint::Endpoint;
use crate::secret;
use crate::text::BufWriter;

/// Most headers accepted in one response.
const MAX_HEADERS: usize = 32;

/// The IMDSv2 token header sent with every request that uses a token.
pub(crate) const TOKEN_HEADER: &str = "x-aws-ec2-metadata-token";
/// The TTL header of the token request (and of its response).
pub(crate) const TOKEN_TTL_HEADER: &str = "x-aws-ec2-metadata-token-ttl-seconds";

/// One request to write.
pub(crate) struct Request<'a> {
    /// `PUT` for the token, `GET` otherwise.
    pub(crate) method: Method,
    /// Pieces of the path (after the endpoint's prefix), concatenated.
    pub(crate) path: [&'a str; 3],
    /// The IMDSv2 token to attach, if any.
    pub(crate) token: Option<&'a str>,
    /// The TTL to ask for (only written for `PUT`).
    pub(crate) token_ttl_secs: u32,
    /// The binding named in `User-Agent`.
    pub(crate) binding: &'a str,
}

/// Where a written request lies in the send buffer.
pub(crate) struct Written {
    /// Length of the whole request.
    pub(crate) len: usize,
    /// The request target (for diagnostics; never contains the token).
    pub(crate) target: Range<usize>,
}

/// Writes `request` for `endpoint` into `out`. Fails only when it does not fit.
pub(crate) fn write_request(
    out: &mut [u8],
    endpoint: &Endpoint,
    request: &Request<'_>,
) -> Result<Written, fmt::Error> {
    let mut w = BufWriter::new(out);
    w.write_str(request.method.as_str())?;
    w.write_char(' ')?;
    let target_start = w.len();
    let [first, second, third] = request.path;
    endpoint.write_target(first, &mut w)?;
    w.write_str(second)?;
    w.write_str(third)?;
    let target_end = w.len();
    w.write_str(" HTTP/1.1\r\nHost: ")?;
    endpoint.write_host_header(&mut w)?;
    write!(
        w,
        "\r\nUser-Agent: imds/{} ({})\r\nAccept: */*\r\n",
        crate::VERSION,
        request.binding
    )?;
    if request.method == Method::Put {
        write!(
            w,
            "{TOKEN_TTL_HEADER}: {}\r\nContent-Length: 0\r\n",
            request.token_ttl_secs
        )?;
    }
    if let Some(token) = request.token {
        write!(w, "{TOKEN_HEADER}: {token}\r\n")?;
    }
    w.write_str("\r\n")?;
    Ok(Written {
        len: w.len(),
        target: target_start..target_end,
    })
}

/// Why a response could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReadError {
    /// Not HTTP/1.x as IMDS sends it; the text says what.
    Malformed(&'static str),
    /// The response does not fit the receive buffer.
    TooLarge,
    /// The peer closed the connection before the response was complete.
    Closed,
}

/// Whether a response is complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Progress {
    /// More bytes are needed.
    Partial,
    /// The whole response is in the buffer.
    Complete,
}

/// The parts of a response head the client uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Head {
    /// The status code.
    pub(crate) status: u16,
    /// Whether the connection cannot be reused after this response.
    pub(crate) close: bool,
    /// The `x-aws-ec2-metadata-token-ttl-seconds` header, when present and numeric.
    pub(crate) token_ttl_secs: Option<u32>,
    /// Length of the head in the buffer (the body starts here).
    len: usize,
}

/// How the body's end is found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Body {
    /// `Content-Length`: the body ends at this buffer offset.
    Length { end: usize },
    /// Chunked: decoded in place; `decoded_end` is where the decoded body ends and `raw` where the
    /// undecoded bytes start.
    Chunked {
        decoded_end: usize,
        raw: usize,
        chunk: Chunk,
    },
    /// No framing: the body ends when the peer closes.
    UntilClose,
}

/// Where the chunked decoder is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Chunk {
    /// Expecting a chunk-size line.
    Size,
    /// Inside a chunk's data, with this many bytes left.
    Data(usize),
    /// Expecting the CRLF after a chunk's data.
    DataEnd,
    /// After the last chunk: trailer lines until an empty line.
    Trailers,
    /// The body is complete.
    Done,
}

/// Reads one response at a time into a fixed buffer, which it wipes ([`ResponseReader::wipe`])
/// when told and when dropped.
#[derive(Clone)]
pub(crate) struct ResponseReader<const N: usize> {
    buf: [u8; N],
    len: usize,
    /// Bytes from here on are zero: nothing was written there since the buffer was last wiped.
    /// (Decoding a chunked body moves bytes down and leaves copies above `len`; they are below
    /// this mark.)
    dirty: usize,
    head: Option<(Head, Body)>,
    complete: bool,
    /// How many bytes arrived behind the complete response (they answer no request: the
    /// connection cannot be trusted).
    excess: usize,
}

impl<const N: usize> ResponseReader<N> {
    /// An empty reader.
    pub(crate) const fn new() -> Self {
        Self {
            buf: [0; N],
            len: 0,
            dirty: 0,
            head: None,
            complete: false,
            excess: 0,
        }
    }

    /// Forgets the previous response and overwrites every byte of the buffer that held any of it
    /// (the rest of the buffer is zero already), so that the whole capacity is clean.
    pub(crate) fn wipe(&mut self) {
        if let Some(held) = self.buf.get_mut(..self.dirty) {
            secret::wipe_bytes(held);
        }
        self.dirty = 0;
        self.len = 0;
        self.head = None;
        self.complete = false;
        self.excess = 0;
    }

    /// The whole buffer, to check in tests that it was wiped.
    #[cfg(test)]
    pub(crate) fn raw_buffer(&self) -> &[u8; N] {
        &self.buf
    }

    /// How many bytes of the current response are buffered.
    pub(crate) const fn buffered(&self) -> usize {
        self.len
    }

    /// Whether any byte of the current response arrived.
    pub(crate) const fn started(&self) -> bool {
        self.len > 0
    }

    /// The head, once parsed. `close` also covers bytes that arrived after the response.
    pub(crate) fn head(&self) -> Option<Head> {
        self.head.map(|(head, _)| Head {
            close: head.close || self.excess > 0,
            ..head
        })
    }

    /// How many bytes arrived behind the complete response.
    pub(crate) const fn excess(&self) -> usize {
        self.excess
    }

    /// The body of a complete response (empty before).
    pub(crate) fn body(&self) -> &[u8] {
        self.body_range()
            .and_then(|range| self.buf.get(range))
            .unwrap_or(&[])
    }

    /// Where the body lies in the buffer, once complete.
    pub(crate) fn body_range(&self) -> Option<Range<usize>> {
        if !self.complete {
            return None;
        }
        let (head, body) = self.head?;
        let end = match body {
            Body::Length { end } => end,
            Body::Chunked { decoded_end, .. } => decoded_end,
            Body::UntilClose => self.len,
        };
        Some(head.len..end)
    }

    /// The buffer (for views of a body range kept by the caller).
    pub(crate) fn buffer(&self) -> &[u8] {
        &self.buf
    }

    /// Appends `data` and advances. Bytes after a complete response are dropped (and make the
    /// connection unusable).
    pub(crate) fn receive(&mut self, mut data: &[u8]) -> Result<Progress, ReadError> {
        // Each round stores at least one byte or fails, so this ends within data.len() + 1 rounds.
        loop {
            if self.complete {
                self.excess = self.excess.saturating_add(data.len());
                return Ok(Progress::Complete);
            }
            if data.is_empty() {
                return Ok(Progress::Partial);
            }
            let spare = N.saturating_sub(self.len);
            if spare == 0 {
                return Err(ReadError::TooLarge);
            }
            let take = spare.min(data.len());
            let (now, later) = data.split_at(take);
            let end = self.len + take;
            if let Some(slot) = self.buf.get_mut(self.len..end) {
                slot.copy_from_slice(now);
            }
            self.len = end;
            self.dirty = self.dirty.max(end);
            data = later;
            self.advance()?;
        }
    }

    /// The peer closed the connection.
    pub(crate) fn eof(&mut self) -> Result<Progress, ReadError> {
        if self.complete {
            return Ok(Progress::Complete);
        }
        match self.head {
            Some((_, Body::UntilClose)) => {
                self.complete = true;
                Ok(Progress::Complete)
            }
            _ => Err(ReadError::Closed),
        }
    }

    fn advance(&mut self) -> Result<(), ReadError> {
        if self.head.is_none() {
            match self.parse_head()? {
                Some(parsed) => self.head = Some(parsed),
                None => return Ok(()),
            }
        }
        let Some((head, body)) = self.head else {
            return Ok(());
        };
        match body {
            Body::Length { end } if end > N => return Err(ReadError::TooLarge),
            Body::Length { end } => {
                if self.len >= end {
                    self.excess = self.len.saturating_sub(end);
                    self.complete = true;
                }
            }
            Body::Chunked {
                decoded_end,
                raw,
                chunk,
            } => {
                let (decoded_end, raw, chunk) = self.decode_chunks(decoded_end, raw, chunk)?;
                self.head = Some((
                    head,
                    Body::Chunked {
                        decoded_end,
                        raw,
                        chunk,
                    },
                ));
                if chunk == Chunk::Done {
                    self.excess = self.len.saturating_sub(raw);
                    self.complete = true;
                }
            }
            Body::UntilClose => {}
        }
        Ok(())
    }

    /// Parses the head once it is whole; `None` while it is partial.
    fn parse_head(&self) -> Result<Option<(Head, Body)>, ReadError> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut headers);
        let input = self.buf.get(..self.len).unwrap_or(&[]);
        let head_len = match response.parse(input) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(httparse::Error::TooManyHeaders) => {
                return Err(ReadError::Malformed("too many header fields"));
            }
            Err(_) => return Err(ReadError::Malformed("not an HTTP/1.1 response")),
        };
        let status = response.code.unwrap_or(0);
        if !(200..=599).contains(&status) {
            return Err(ReadError::Malformed("unexpected informational status"));
        }
        let mut close_option = false;
        let mut keep_alive = false;
        let mut length: Option<usize> = None;
        let mut chunked = false;
        let mut token_ttl_secs = None;
        for header in response.headers.iter() {
            let name = header.name;
            let value = trim(header.value);
            if name.eq_ignore_ascii_case("content-length") {
                let parsed =
                    parse_decimal(value).ok_or(ReadError::Malformed("invalid Content-Length"))?;
                if length.is_some_and(|previous| previous != parsed) {
                    return Err(ReadError::Malformed("conflicting Content-Length headers"));
                }
                length = Some(parsed);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                if value.eq_ignore_ascii_case(b"chunked") && !chunked {
                    chunked = true;
                } else {
                    return Err(ReadError::Malformed("unsupported Transfer-Encoding"));
                }
            } else if name.eq_ignore_ascii_case("connection") {
                for option in value.split(|&b| b == b',').map(trim) {
                    if option.eq_ignore_ascii_case(b"close") {
                        close_option = true;
                    } else if option.eq_ignore_ascii_case(b"keep-alive") {
                        keep_alive = true;
                    }
                }
            } else if name.eq_ignore_ascii_case(TOKEN_TTL_HEADER) {
                token_ttl_secs = parse_decimal(value).and_then(|v| u32::try_from(v).ok());
            }
        }
        // HTTP/1.0 closes by default; HTTP/1.1 keeps the connection unless told otherwise.
        let mut close = close_option || (response.version != Some(1) && !keep_alive);
        let no_body = status == 204 || status == 304;
        let body = if no_body {
            Body::Length { end: head_len }
        } else if chunked {
            // A message with both is suspect (request smuggling): read it chunked, never reuse.
            if length.is_some() {
                close = true;
            }
            Body::Chunked {
                decoded_end: head_len,
                raw: head_len,
                chunk: Chunk::Size,
            }
        } else if let Some(length) = length {
            // Checked against the capacity by `advance`, once the status is known.
            Body::Length {
                end: head_len.saturating_add(length),
            }
        } else {
            close = true;
            Body::UntilClose
        };
        Ok(Some((
            Head {
                status,
                close,
                token_ttl_secs,
                len: head_len,
            },
            body,
        )))
    }

    /// Decodes as much chunked data as is buffered, moving data bytes down over the framing, then
    /// moves the undecoded rest down too so that the buffer's free space is at its end.
    fn decode_chunks(
        &mut self,
        mut decoded_end: usize,
        mut raw: usize,
        mut chunk: Chunk,
    ) -> Result<(usize, usize, Chunk), ReadError> {
        // Each round consumes bytes or returns, so this ends within the buffered length.
        loop {
            let pending = self.buf.get(raw..self.len).unwrap_or(&[]);
            match chunk {
                Chunk::Done => break,
                Chunk::Size => {
                    if pending.first().is_some_and(|b| !b.is_ascii_hexdigit()) {
                        return Err(ReadError::Malformed("invalid chunk size"));
                    }
                    match httparse::parse_chunk_size(pending) {
                        Ok(httparse::Status::Complete((used, 0))) => {
                            raw += used;
                            chunk = Chunk::Trailers;
                        }
                        Ok(httparse::Status::Complete((used, size))) => {
                            let size = usize::try_from(size)
                                .ok()
                                .filter(|&size| size <= N)
                                .ok_or(ReadError::TooLarge)?;
                            raw += used;
                            chunk = Chunk::Data(size);
                        }
                        Ok(httparse::Status::Partial) => break,
                        Err(_) => return Err(ReadError::Malformed("invalid chunk size")),
                    }
                }
                Chunk::Data(left) => {
                    let take = left.min(pending.len());
                    if take == 0 {
                        break;
                    }
                    self.buf.copy_within(raw..raw + take, decoded_end);
                    decoded_end += take;
                    raw += take;
                    chunk = if left == take {
                        Chunk::DataEnd
                    } else {
                        Chunk::Data(left - take)
                    };
                }
                Chunk::DataEnd => match pending {
                    [b'\r', b'\n', ..] => {
                        raw += 2;
                        chunk = Chunk::Size;
                    }
                    [] | [b'\r'] => break,
                    _ => return Err(ReadError::Malformed("chunk data longer than its size")),
                },
                Chunk::Trailers => match pending.iter().position(|&b| b == b'\n') {
                    Some(newline) => {
                        let line = pending.get(..newline).unwrap_or(&[]);
                        raw += newline + 1;
                        if line.is_empty() || line == b"\r" {
                            chunk = Chunk::Done;
                        }
                    }
                    None => break,
                },
            }
        }
        // Compact: undecoded bytes move down to the end of the decoded body.
        if raw > decoded_end && chunk != Chunk::Done {
            self.buf.copy_within(raw..self.len, decoded_end);
            self.len -= raw - decoded_end;
            raw = decoded_end;
        }
        Ok((decoded_end, raw, chunk))
    }
}

impl<const N: usize> Drop for ResponseReader<N> {
    /// Overwrites the whole buffer, whatever the mark says.
    fn drop(&mut self) {
        secret::wipe_bytes(&mut self.buf);
    }
}

/// `bytes` without leading and trailing spaces and tabs.
fn trim(bytes: &[u8]) -> &[u8] {
    let is_space = |b: &u8| *b == b' ' || *b == b'\t';
    let start = bytes
        .iter()
        .position(|b| !is_space(b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !is_space(b))
        .map_or(start, |i| i + 1);
    bytes.get(start..end).unwrap_or(&[])
}

/// A non-empty run of ASCII digits that fits a `usize` (at most 18 digits).
fn parse_decimal(digits: &[u8]) -> Option<usize> {
    if digits.is_empty() || digits.len() > 18 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    digits.iter().try_fold(0usize, |value, &digit| {
        value
            .checked_mul(10)?
            .checked_add(usize::from(digit - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    type Reader = ResponseReader<64>;

    fn read_all(chunks: &[&[u8]]) -> (Reader, Result<Progress, ReadError>) {
        let mut reader = Reader::new();
        let mut progress = Ok(Progress::Partial);
        for chunk in chunks {
            progress = reader.receive(chunk);
            if progress.is_err() {
                break;
            }
        }
        (reader, progress)
    }

    #[test]
    fn content_length_body_is_complete_only_when_whole() {
        let (reader, progress) =
            read_all(&[b"HTTP/1.1 200 OK\r\nContent-Len", b"gth: 5\r\n\r\nhel"]);
        assert_eq!(progress, Ok(Progress::Partial));
        assert_eq!(reader.body(), b"");
        let (reader, progress) =
            read_all(&[b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", b"lo"]);
        assert_eq!(progress, Ok(Progress::Complete));
        assert_eq!(reader.body(), b"hello");
        assert_eq!(
            reader.head().map(|h| (h.status, h.close)),
            Some((200, false))
        );
    }

    #[test]
    fn chunked_body_is_decoded_in_place_across_splits() {
        let response: &[u8] =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4;x=y\r\ndefg\r\n0\r\n\r\n";
        for split in 1..response.len() {
            let (first, second) = response.split_at(split);
            let mut reader = ResponseReader::<256>::new();
            let first_progress = reader.receive(first);
            assert_eq!(first_progress, Ok(Progress::Partial), "split at {split}");
            assert_eq!(
                reader.receive(second),
                Ok(Progress::Complete),
                "split at {split}"
            );
            assert_eq!(reader.body(), b"abcdefg", "split at {split}");
        }
    }

    #[test]
    fn chunked_framing_does_not_count_against_capacity() {
        // 20 one-byte chunks take 120 raw bytes but decode to 20: fits a 96-byte buffer.
        let mut reader = ResponseReader::<96>::new();
        assert_eq!(
            reader.receive(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Ok(Progress::Partial)
        );
        for _ in 0..20 {
            assert_eq!(reader.receive(b"1\r\nx\r\n"), Ok(Progress::Partial));
        }
        assert_eq!(
            reader.receive(b"0\r\nTrailer: y\r\n\r\n"),
            Ok(Progress::Complete)
        );
        assert_eq!(reader.body(), [b'x'; 20]);
    }

    #[test]
    fn bad_chunk_framing_is_malformed() {
        let (_, progress) =
            read_all(&[b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc"]);
        assert!(matches!(progress, Err(ReadError::Malformed(_))));
        let (_, progress) =
            read_all(&[b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"]);
        assert!(matches!(progress, Err(ReadError::Malformed(_))));
    }

    #[test]
    fn too_large_bodies_are_refused_never_truncated() {
        let (_, progress) = read_all(&[b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"]);
        assert_eq!(progress, Err(ReadError::TooLarge));
        let (_, progress) = read_all(&[b"HTTP/1.1 200 OK\r\n\r\n", &[b'a'; 60]]);
        assert_eq!(progress, Err(ReadError::TooLarge));
        let (_, progress) = read_all(&[&[b'H'; 65]]);
        assert!(progress.is_err());
    }

    #[test]
    fn close_delimited_body_ends_at_eof() {
        let (mut reader, progress) = read_all(&[b"HTTP/1.1 200 OK\r\n\r\nabc"]);
        assert_eq!(progress, Ok(Progress::Partial));
        assert_eq!(reader.eof(), Ok(Progress::Complete));
        assert_eq!(reader.body(), b"abc");
        assert_eq!(reader.head().map(|h| h.close), Some(true));
    }

    #[test]
    fn eof_before_the_end_is_closed() {
        let (mut reader, _) = read_all(&[b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"]);
        assert_eq!(reader.eof(), Err(ReadError::Closed));
        let mut reader = Reader::new();
        assert_eq!(reader.eof(), Err(ReadError::Closed));
    }

    #[test]
    fn connection_close_and_http_1_0_mark_the_connection_unusable() {
        let (reader, _) =
            read_all(&[b"HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n"]);
        assert_eq!(reader.head().map(|h| h.close), Some(true));
        let (reader, _) = read_all(&[b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"]);
        assert_eq!(reader.head().map(|h| h.close), Some(true));
        let (reader, _) = read_all(&[b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nextra"]);
        assert_eq!(reader.head().map(|h| h.close), Some(true));
    }

    #[test]
    fn ttl_header_is_read() {
        let mut reader = ResponseReader::<128>::new();
        let progress = reader.receive(
            b"HTTP/1.1 200 OK\r\nX-aws-ec2-metadata-token-ttl-seconds: 300\r\nContent-Length: 1\r\n\r\nt",
        );
        assert_eq!(progress, Ok(Progress::Complete));
        assert_eq!(reader.head().and_then(|h| h.token_ttl_secs), Some(300));
    }

    #[test]
    fn redirects_are_final_statuses() {
        let (reader, progress) =
            read_all(&[b"HTTP/1.1 301 Moved\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n"]);
        assert_eq!(progress, Ok(Progress::Complete));
        assert_eq!(reader.head().map(|h| h.status), Some(301));
    }

    #[test]
    fn conflicting_or_unsupported_framing_is_malformed() {
        let (_, progress) =
            read_all(&[b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"]);
        assert!(matches!(progress, Err(ReadError::Malformed(_))));
        let (_, progress) = read_all(&[b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"]);
        assert!(matches!(progress, Err(ReadError::Malformed(_))));
        let (_, progress) = read_all(&[b"HTTP/1.1 100 Continue\r\n\r\n"]);
        assert!(matches!(progress, Err(ReadError::Malformed(_))));
    }
}
