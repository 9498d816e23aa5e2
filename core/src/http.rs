//! HTTP/1.1 for IMDS: requests written into fixed buffers, responses read incrementally with
//! httparse (`Content-Length`, chunked, `Connection: close`), bodies bounded by the receive buffer.
