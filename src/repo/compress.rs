//! Index compression assembled from cached pieces, so that publishing one package into a suite
//! of 10,000 does not recompress 6 MB of Packages text.
//!
//! The Packages text is cut into chunks at package boundaries chosen by a hash of the package
//! name (content-defined: adding a package changes one chunk, the others stay byte-identical).
//! Each chunk is compressed once and cached under the SHA-256 of its text:
//!
//! * **gzip**: the chunk as raw deflate ending with a sync flush (byte-aligned, not final), as
//!   pigz does; the file is one gzip member: header, the pieces, an empty final block, CRC-32
//!   and length of the whole text.
//! * **xz**: the chunk as one independent xz block; the file is one xz stream: header, the
//!   blocks, an index listing every block, footer.
//!
//! Both outputs are ordinary single-stream files that any decoder reads; the tests decode them
//! with flate2/xz2 and with the `gzip` and `xz` tools.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::{Compress, Compression, Crc, FlushCompress};
use sha2::{Digest, Sha256};

use super::fsio;
use crate::fsx;

/// xz preset of each block. On 10,000 stanzas (7.2 MB), preset 0 gives 1.90 MB in 0.21 s,
/// preset 6 1.55 MB in 1.73 s: a full index has to stay below half of apt-ftparchive's time,
/// and chunks are cached, so speed wins. apt prefers the .xz variant.
const XZ_PRESET: u32 = 0;
/// Dictionary of each block: liblzma's smallest, instead of preset 0's 256 KiB. The matches in
/// Packages text are near (field names, the stanza before, other versions of the same
/// package), and with preset 0's short match-finder search a small window also finds them
/// better. On the 10,000-stanza benchmark Packages (6.4 MB, 160 KB chunks, one encoder per
/// chunk, best of 5 on one core): 1,822,516 B in 222 ms with 64 KiB, 1,766,184 B in 203 ms
/// with 4 KiB.
const XZ_DICT: u32 = 4 << 10;
/// gzip level of each piece. On the 10,000-stanza benchmark Packages (6.4 MB, 160 KB chunks,
/// zlib-rs): level 1 is 2.79 MB in 18 ms (zlib-rs's "quick" strategy, fixed Huffman codes
/// only), level 2 1.81 MB in 31 ms, level 6 1.76 MB in 42 ms (32 KiB window); .gz is the
/// fallback for clients without xz, so 2.
const GZ_LEVEL: u32 = 2;
/// Deflate window of each piece, as a power of two: 4 KiB instead of 32 KiB. As with the xz
/// dictionary, the matches are near; the small window is both quicker and smaller (level 2,
/// best of 5: 1,808,630 B in 31.1 ms with 32 KiB, 1,698,738 B in 21.8 ms with 4 KiB). Any
/// gzip reader decodes it: the window only bounds match distances.
const GZ_WINDOW_BITS: u8 = 12;
/// A chunk ends after a package whose name hash is 0 modulo this (about 256 packages, ~160 KB).
const CHUNK_MODULUS: u64 = 256;
/// A chunk also ends once it is this big (one package with very many versions).
const CHUNK_MAX: usize = 256 * 1024;

const XZ_MAGIC: [u8; 6] = [0xfd, b'7', b'z', b'X', b'Z', 0];
/// Stream flags: check type CRC64.
const XZ_FLAGS: [u8; 2] = [0, 4];

/// One index compressed, plus the chunk keys used (for cache collection).
#[derive(Debug)]
pub struct Compressed {
    pub gz: Vec<u8>,
    pub xz: Vec<u8>,
    pub chunk_keys: Vec<String>,
}

/// One compressed chunk.
#[derive(Debug, Clone)]
struct Piece {
    deflate: Vec<u8>,
    xz_block: Vec<u8>,
    xz_unpadded: u64,
    len: u64,
}

/// The on-disk chunk cache in `.cts-repo/cache/`, plus what was loaded this run.
#[derive(Debug)]
pub struct ChunkCache {
    dir: Option<PathBuf>,
    memory: HashMap<String, Piece>,
}

impl ChunkCache {
    /// A cache stored under `dir` (created on first write).
    pub fn new(dir: &Path) -> ChunkCache {
        let dir =
            dir.join(format!("gz{GZ_LEVEL}w{GZ_WINDOW_BITS}-xz{XZ_PRESET}d{}k", XZ_DICT >> 10));
        ChunkCache { dir: Some(dir), memory: HashMap::new() }
    }

    /// A cache that only lives in memory.
    #[cfg(test)]
    pub fn in_memory() -> ChunkCache {
        ChunkCache { dir: None, memory: HashMap::new() }
    }

    fn load(&self, key: &str) -> Option<Piece> {
        let path = self.dir.as_ref()?.join(key);
        // A missing or unreadable cache file is a miss: the chunk is compressed again.
        let bytes = fsx::read(&path).ok()?;
        decode_piece(&bytes)
    }

    fn store(&self, key: &str, piece: &Piece) -> fsx::Result<()> {
        if let Some(dir) = &self.dir {
            fsio::write_once(&dir.join(key), &encode_piece(piece))?;
        }
        Ok(())
    }
}

/// Cache file: lengths, then deflate piece, then xz block.
fn encode_piece(p: &Piece) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + p.deflate.len() + p.xz_block.len());
    for n in [p.len, p.xz_unpadded, p.deflate.len() as u64, p.xz_block.len() as u64] {
        out.extend_from_slice(&n.to_le_bytes());
    }
    out.extend_from_slice(&p.deflate);
    out.extend_from_slice(&p.xz_block);
    out
}

fn decode_piece(bytes: &[u8]) -> Option<Piece> {
    let n = |i: usize| -> Option<u64> {
        Some(u64::from_le_bytes(bytes.get(i * 8..i * 8 + 8)?.try_into().ok()?))
    };
    let (len, xz_unpadded, dl, xl) = (n(0)?, n(1)?, n(2)? as usize, n(3)? as usize);
    if bytes.len() != 32 + dl + xl {
        return None;
    }
    Some(Piece {
        deflate: bytes[32..32 + dl].to_vec(),
        xz_block: bytes[32 + dl..].to_vec(),
        xz_unpadded,
        len,
    })
}

fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

/// Cuts `stanzas` (each `(package name, stanza without trailing newline)`, sorted by name) into
/// chunks at content-defined boundaries. Returns byte ranges into the Packages text, where
/// each stanza is followed by a blank line.
fn chunk_ranges(stanzas: &[(&str, &str)]) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let (mut start, mut pos) = (0, 0);
    for (i, (name, text)) in stanzas.iter().enumerate() {
        pos += text.len() + 2;
        let next_differs = stanzas.get(i + 1).is_none_or(|(n, _)| n != name);
        let boundary = next_differs && fnv1a(name).is_multiple_of(CHUNK_MODULUS);
        if boundary || pos - start >= CHUNK_MAX || i + 1 == stanzas.len() {
            ranges.push(start..pos);
            start = pos;
        }
    }
    ranges
}

/// The Packages text of `stanzas`: each followed by a blank line.
pub fn packages_text(stanzas: &[(&str, &str)]) -> String {
    let mut text = String::with_capacity(stanzas.iter().map(|(_, t)| t.len() + 2).sum());
    for (_, t) in stanzas {
        text.push_str(t);
        text.push_str("\n\n");
    }
    text
}

/// Compresses `text`, the [`packages_text`] of `stanzas`, into gzip and xz, reusing cached
/// chunks.
pub fn compress(
    text: &str,
    stanzas: &[(&str, &str)],
    cache: &mut ChunkCache,
) -> fsx::Result<Compressed> {
    let ranges = chunk_ranges(stanzas);
    let keys: Vec<String> =
        crate::par::map(&ranges, 4, |r| hex::encode(Sha256::digest(&text.as_bytes()[r.clone()])));

    let mut missing: Vec<usize> = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        if cache.memory.contains_key(key) || missing.iter().any(|&m| keys[m] == *key) {
            continue;
        }
        match cache.load(key) {
            Some(p) if p.len as usize == ranges[i].len() => {
                cache.memory.insert(key.clone(), p);
            }
            _ => missing.push(i),
        }
    }
    let made = compress_parallel(&missing, &ranges, text.as_bytes());
    for (i, piece) in missing.iter().zip(made) {
        cache.store(&keys[*i], &piece)?;
        cache.memory.insert(keys[*i].clone(), piece);
    }
    let pieces: Vec<&Piece> = keys.iter().map(|k| &cache.memory[k]).collect();
    let (gz, xz) = (assemble_gzip(&pieces, text.as_bytes()), assemble_xz(&pieces));
    Ok(Compressed { gz, xz, chunk_keys: keys })
}

fn compress_parallel(
    which: &[usize],
    ranges: &[std::ops::Range<usize>],
    text: &[u8],
) -> Vec<Piece> {
    crate::par::map(which, 1, |&i| make_piece(&text[ranges[i].clone()]))
}

fn make_piece(data: &[u8]) -> Piece {
    let (xz_block, xz_unpadded) = xz_block(data);
    Piece { deflate: deflate_sync(data), xz_block, xz_unpadded, len: data.len() as u64 }
}

/// Raw deflate of `data` ending in a sync flush: byte-aligned, no final block.
fn deflate_sync(data: &[u8]) -> Vec<u8> {
    let mut c = Compress::new_with_window_bits(Compression::new(GZ_LEVEL), false, GZ_WINDOW_BITS);
    let mut out = Vec::with_capacity(data.len() / 3 + 64);
    loop {
        if out.capacity() - out.len() < 64 {
            out.reserve(out.capacity().max(4096));
        }
        let consumed = c.total_in() as usize;
        // In-memory deflate cannot fail except on misuse of the API.
        let _ = c.compress_vec(&data[consumed..], &mut out, FlushCompress::Sync);
        if c.total_in() as usize == data.len() && out.len() < out.capacity() {
            return out;
        }
    }
}

fn assemble_gzip(pieces: &[&Piece], text: &[u8]) -> Vec<u8> {
    let total: usize = pieces.iter().map(|p| p.deflate.len()).sum();
    let mut out = Vec::with_capacity(total + 20);
    // Magic, deflate, no flags, mtime 0, no extra flags, OS = Unix.
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
    for p in pieces {
        out.extend_from_slice(&p.deflate);
    }
    // An empty final block with fixed Huffman codes.
    out.extend_from_slice(&[0x03, 0x00]);
    let mut crc = Crc::new();
    crc.update(text);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(text.len() as u32).to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = Crc::new();
    crc.update(data);
    crc.sum()
}

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn get_varint(data: &[u8], pos: &mut usize) -> Option<u64> {
    let mut n = 0u64;
    for shift in (0..63).step_by(7) {
        let b = *data.get(*pos)?;
        *pos += 1;
        n |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(n);
        }
    }
    None
}

/// Compresses `data` as a one-block xz stream and returns that block (padded to 4 bytes) and
/// its unpadded size, read back from the stream's index.
fn xz_block(data: &[u8]) -> (Vec<u8>, u64) {
    let mut options =
        xz2::stream::LzmaOptions::new_preset(XZ_PRESET).expect("liblzma knows preset 0");
    options.dict_size(XZ_DICT);
    let mut filters = xz2::stream::Filters::new();
    filters.lzma2(&options);
    let stream = xz2::stream::Stream::new_stream_encoder(&filters, xz2::stream::Check::Crc64)
        .expect("liblzma accepts LZMA2 preset 0 with a 4 KiB dictionary and CRC64");
    let mut enc = xz2::write::XzEncoder::new_stream(Vec::with_capacity(data.len() / 3), stream);
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(data);
    let xz = enc.finish().unwrap_or_default();
    parse_single_block(&xz).expect("liblzma writes one block per stream")
}

fn parse_single_block(xz: &[u8]) -> Option<(Vec<u8>, u64)> {
    let footer = xz.get(xz.len().checked_sub(12)?..)?;
    let backward = (u64::from(u32::from_le_bytes(footer[4..8].try_into().ok()?)) + 1) * 4;
    let index_start = xz.len().checked_sub(12 + backward as usize)?;
    let index = &xz[index_start..xz.len() - 12];
    let mut pos = 1;
    if index.first() != Some(&0) || get_varint(index, &mut pos)? != 1 {
        return None;
    }
    let unpadded = get_varint(index, &mut pos)?;
    let padded = unpadded.div_ceil(4) * 4;
    let block = xz.get(12..12 + padded as usize)?.to_vec();
    Some((block, unpadded))
}

fn assemble_xz(pieces: &[&Piece]) -> Vec<u8> {
    let total: usize = pieces.iter().map(|p| p.xz_block.len()).sum();
    let mut out = Vec::with_capacity(total + 64 + pieces.len() * 8);
    out.extend_from_slice(&XZ_MAGIC);
    out.extend_from_slice(&XZ_FLAGS);
    out.extend_from_slice(&crc32(&XZ_FLAGS).to_le_bytes());
    for p in pieces {
        out.extend_from_slice(&p.xz_block);
    }
    let mut index = vec![0u8];
    put_varint(&mut index, pieces.len() as u64);
    for p in pieces {
        put_varint(&mut index, p.xz_unpadded);
        put_varint(&mut index, p.len);
    }
    while index.len() % 4 != 0 {
        index.push(0);
    }
    let crc = crc32(&index);
    index.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&index);
    let mut tail = ((index.len() / 4 - 1) as u32).to_le_bytes().to_vec();
    tail.extend_from_slice(&XZ_FLAGS);
    out.extend_from_slice(&crc32(&tail).to_le_bytes());
    out.extend_from_slice(&tail);
    out.extend_from_slice(b"YZ");
    out
}

/// Removes cache files no index uses any more. `keep` holds the chunk keys still in use.
pub fn collect_cache(
    cache_root: &Path,
    keep: &std::collections::HashSet<String>,
) -> fsx::Result<usize> {
    let mut removed = 0;
    for path in fsio::files_below(cache_root)? {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if !keep.contains(&name) && fsio::remove_if_exists(&path)? {
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // tests may use std::fs directly
mod tests {
    use super::*;
    use std::io::Read;

    fn stanzas(n: usize) -> Vec<(String, String)> {
        (0..n)
            .map(|i| {
                let name = format!("pkg{i:05}");
                let text = format!("Package: {name}\nVersion: 1.{i}\nArchitecture: amd64");
                (name, text)
            })
            .collect()
    }

    fn check(list: &[(String, String)], cache: &mut ChunkCache) -> Compressed {
        let refs: Vec<(&str, &str)> = list.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let text: String = list.iter().map(|(_, t)| format!("{t}\n\n")).collect();
        assert_eq!(packages_text(&refs), text);
        let c = compress(&text, &refs, cache).unwrap();
        let mut gz = String::new();
        flate2::read::GzDecoder::new(&c.gz[..]).read_to_string(&mut gz).unwrap();
        assert_eq!(gz, text);
        let mut xz = String::new();
        xz2::read::XzDecoder::new(&c.xz[..]).read_to_string(&mut xz).unwrap();
        assert_eq!(xz, text);
        c
    }

    #[test]
    fn round_trips_and_reuses_chunks() {
        let mut cache = ChunkCache::in_memory();
        let mut list = stanzas(2000);
        let first = check(&list, &mut cache);
        assert!(first.chunk_keys.len() > 5, "{}", first.chunk_keys.len());
        list.insert(1000, ("pkg00999a".into(), "Package: pkg00999a\nVersion: 1".into()));
        let second = check(&list, &mut cache);
        let new: Vec<_> =
            second.chunk_keys.iter().filter(|k| !first.chunk_keys.contains(k)).collect();
        assert!(new.len() <= 2, "{} new chunks", new.len());
    }

    #[test]
    fn empty_index() {
        let c = check(&[], &mut ChunkCache::in_memory());
        assert!(c.chunk_keys.is_empty());
    }

    #[test]
    fn system_tools_read_it() {
        let list = stanzas(500);
        let c = check(&list, &mut ChunkCache::in_memory());
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes, tool) in [("P.gz", &c.gz, "gzip"), ("P.xz", &c.xz, "xz")] {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            match std::process::Command::new(tool).arg("-t").arg(&path).status() {
                Ok(s) => assert!(s.success(), "{tool} -t failed"),
                Err(_) => assert!(crate::testing::skip_without(tool)),
            }
        }
    }
}
