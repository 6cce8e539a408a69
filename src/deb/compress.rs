//! xz compression of the tar members: liblzma's multithreaded encoder with a fixed preset, block
//! size and check, so the bytes depend only on the input, never on the number of threads. With
//! the defaults (preset 6, 24 MiB blocks, CRC64) the output is the same as dpkg-deb 1.21's.

use std::io::{self, Read, Write};
use std::num::NonZeroUsize;

use xz2::stream::{Check, MtStreamBuilder, Stream};
use xz2::write::XzEncoder;

/// liblzma's own block size for preset 6 (3 × the 8 MiB dictionary), which dpkg-deb gets by
/// passing 0. Written out so a liblzma default change cannot change our bytes.
pub const DEFAULT_BLOCK_SIZE: u64 = 24 << 20;

/// Memory limit for decoding (.deb members written by dpkg need far less).
const DECODE_MEMLIMIT: u64 = 1 << 30;

/// xz settings. Only `threads` may vary between runs without changing the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XzOptions {
    /// liblzma preset (0–9).
    pub preset: u32,
    /// Uncompressed bytes per xz block; each block is compressed by one worker thread.
    pub block_size: u64,
    /// Worker threads.
    pub threads: u32,
}

impl Default for XzOptions {
    fn default() -> Self {
        XzOptions { preset: 6, block_size: DEFAULT_BLOCK_SIZE, threads: default_threads() }
    }
}

/// One thread per available CPU.
pub fn default_threads() -> u32 {
    std::thread::available_parallelism()
        .map(NonZeroUsize::get)
        .map_or(1, |n| u32::try_from(n).unwrap_or(u32::MAX))
}

/// Wraps `out` in a multithreaded xz encoder. Call `finish()` on the result.
pub fn xz_encoder<W: Write>(out: W, options: &XzOptions) -> io::Result<XzEncoder<W>> {
    let stream = MtStreamBuilder::new()
        .preset(options.preset)
        .block_size(options.block_size)
        .threads(options.threads.max(1))
        .check(Check::Crc64)
        .encoder()
        .map_err(io::Error::other)?;
    Ok(XzEncoder::new_stream(out, stream))
}

/// Decompresses an xz stream (several concatenated streams are accepted, as xz does).
pub fn xz_decoder<R: Read>(input: R) -> io::Result<xz2::read::XzDecoder<R>> {
    let stream = Stream::new_stream_decoder(DECODE_MEMLIMIT, xz2::stream::CONCATENATED)
        .map_err(io::Error::other)?;
    Ok(xz2::read::XzDecoder::new_stream(input, stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compress(data: &[u8], threads: u32) -> Vec<u8> {
        let options = XzOptions { block_size: 1 << 20, threads, ..XzOptions::default() };
        let mut enc = xz_encoder(Vec::new(), &options).unwrap();
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn output_does_not_depend_on_thread_count() {
        // Several blocks of mildly compressible, deterministic data.
        let mut data = Vec::new();
        let mut x: u32 = 12345;
        while data.len() < (3 << 20) + 777 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            data.extend_from_slice(format!("line {} {}\n", x % 1000, x >> 20).as_bytes());
        }
        let one = compress(&data, 1);
        assert_eq!(one, compress(&data, 2));
        assert_eq!(one, compress(&data, 4));
        let mut back = Vec::new();
        xz_decoder(&one[..]).unwrap().read_to_end(&mut back).unwrap();
        assert_eq!(back, data);
    }
}
