"""The event-file reader of :mod:`._tfrecord` in Python and numpy: nothing to compile.

Same input, same outputs, same rules as the numba kernel (framing, CRC-32C,
resynchronisation over damage, the Event/Summary/TensorProto wire format, the
rollback of a malformed record, "later data wins"); tests run both on the same
files, damaged ones included, and require equal results.

Why a second reader: the kernel needs numba, and numba's first compile of it
takes seconds (and importing numba and loading its cache a fraction of one,
in every new process). A logdir of a few megabytes, what most runs are, reads
here in less time than that. :mod:`._scan` picks the reader.

How it stays quick without a compiler: CRC-32C is computed for all of a file's
records at once in numpy (one table step per byte column over every record in
flight, long records in 64-byte chunks joined with a precomputed "append 64
zero bytes" map); the framing is walked optimistically in windows of records
and checked in one batch, with the kernel's byte-exact logic applied only at a
record that failed; the protobuf walk is Python on ``bytes``, ~10 us a record.
"""

from __future__ import annotations

import struct

import numpy as np

__all__ = ["crc32c_spans", "masked_crc32c_spans", "purge_superseded", "scan_events"]

# Shared with the numba kernel (_tfrecord imports them from here).
STAT_RECORDS = 0  #: records whose framing and both CRCs are valid
STAT_CORRUPT = 1  #: records skipped: data CRC mismatch, malformed proto, or a damaged stretch resynchronised over
STAT_TRUNCATED = 2  #: 1 when the file ends inside a record
STAT_SKIPPED_BYTES = 3  #: bytes jumped over while resynchronising
STAT_MALFORMED = 4  #: records with a valid CRC whose Event proto could not be parsed
N_STATS = 5

CRC32C_POLY = 0x82F63B78  # Castagnoli, reflected
MASK_DELTA = 0xA282EAD8
HPARAMS_PREFIX = b"_hparams_/"

# TensorFlow DataType enum values (tensorboard/compat/proto/types.proto).
DT_FLOAT = 1
DT_DOUBLE = 2
DT_INT32 = 3
DT_INT64 = 9
DT_BFLOAT16 = 14
DT_HALF = 19


def make_crc_tables() -> np.ndarray:
    """Slice-by-8 tables for CRC-32C, as int64 (numba never mixes signed/unsigned); row 0 is the byte table."""
    tables = np.zeros((8, 256), dtype=np.int64)
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ CRC32C_POLY if c & 1 else c >> 1
        tables[0, i] = c
    for i in range(256):
        c = int(tables[0, i])
        for k in range(1, 8):
            c = (c >> 8) ^ int(tables[0, c & 0xFF])
            tables[k, i] = c
    return tables


_T0 = make_crc_tables()[0].astype(np.uint32)
_CHUNK = 64  # bytes a record is cut into for the batched CRC
_VECTOR_CHUNKS = 16  # spans of more chunks are joined one by one in Python
_SHIFT: np.ndarray | None = None  # 4 x 256: the CRC register after 64 more zero bytes, by byte of the register


def _shift_tables() -> np.ndarray:
    """Tables of the linear map "run the register over _CHUNK zero bytes", one per register byte."""
    global _SHIFT
    if _SHIFT is None:
        state = (np.arange(256, dtype=np.uint32)[None, :] << (8 * np.arange(4, dtype=np.uint32)[:, None])).ravel()
        for _ in range(_CHUNK):
            state = _T0[state & 0xFF] ^ (state >> 8)
        _SHIFT = state.reshape(4, 256)
    return _SHIFT


def _shift(reg: np.ndarray) -> np.ndarray:
    s = _shift_tables()
    return s[0][reg & 0xFF] ^ s[1][(reg >> 8) & 0xFF] ^ s[2][(reg >> 16) & 0xFF] ^ s[3][reg >> 24]


def crc32c_spans(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """CRC-32C of each ``buf[starts[i] : starts[i] + lengths[i]]`` (uint8 buf), all at once; uint32."""
    starts = np.asarray(starts, dtype=np.int64)
    lengths = np.asarray(lengths, dtype=np.int64)
    k = starts.shape[0]
    if k == 0:
        return np.zeros(0, dtype=np.uint32)
    # Cut every span into 64-byte chunks, the first one short (right-aligned: a CRC register
    # at zero stays zero over leading zero bytes, so a short chunk is a zero-padded full one).
    n_chunks = np.maximum(1, -(-lengths // _CHUNK))
    first = np.zeros(k, dtype=np.int64)
    np.cumsum(n_chunks[:-1], out=first[1:])
    total = int(first[-1] + n_chunks[-1])
    span_of = np.repeat(np.arange(k), n_chunks)
    idx_in_span = np.arange(total) - first[span_of]
    head = lengths - (n_chunks - 1) * _CHUNK  # real bytes in each span's first chunk (0 for an empty span)
    pad = np.where(idx_in_span == 0, _CHUNK - head[span_of], 0)  # leading virtual zeros of each chunk
    # Byte j of chunk c is buf[origin[c] + j] once j >= pad[c].
    origin = starts[span_of] + np.where(idx_in_span == 0, -pad, head[span_of] + (idx_in_span - 1) * _CHUNK)
    is_first = idx_in_span == 0
    order = np.argsort(pad, kind="stable")  # chunks in flight at column j are a prefix of this order
    pad_o = pad[order]
    origin_o = origin[order]
    init_o = np.where(is_first[order], np.uint32(0xFFFFFFFF), np.uint32(0))
    reg = np.zeros(total, dtype=np.uint32)
    live = np.searchsorted(pad_o, np.arange(_CHUNK + 1), side="right")  # chunks in flight at column j
    for j in range(_CHUNK):
        lo, hi = (live[j - 1] if j else 0), live[j]
        if hi > lo:
            reg[lo:hi] = init_o[lo:hi]  # a span's first chunk starts the register at ~0
        if hi:
            r = reg[:hi]
            reg[:hi] = _T0[(r ^ buf[origin_o[:hi] + j]) & 0xFF] ^ (r >> 8)
    chunk_reg = np.empty(total, dtype=np.uint32)
    chunk_reg[order] = reg
    # An empty span never started its register: its CRC register is the initial ~0.
    out = np.where(lengths == 0, np.uint32(0xFFFFFFFF), chunk_reg[first])
    # reg(A || B) = shift_len(B)(reg(A)) ^ reg0(B), and every chunk after a span's first is _CHUNK bytes.
    multi = np.flatnonzero((n_chunks > 1) & (n_chunks <= _VECTOR_CHUNKS))
    acc = out[multi]
    rest = n_chunks[multi]
    i = 1
    while multi.size:  # all short spans at once, one chunk index at a time
        acc = _shift(acc) ^ chunk_reg[first[multi] + i]
        i += 1
        done = rest == i
        out[multi[done]] = acc[done]
        multi, acc, rest = multi[~done], acc[~done], rest[~done]
    long_spans = np.flatnonzero(n_chunks > _VECTOR_CHUNKS)
    if long_spans.size:  # a graph or a big hparams record: one span at a time, in Python ints
        s0, s1, s2, s3 = (t.tolist() for t in _shift_tables())
        for k in long_spans.tolist():
            c = int(out[k])
            for r in chunk_reg[first[k] + 1 : first[k] + n_chunks[k]].tolist():
                c = s0[c & 0xFF] ^ s1[(c >> 8) & 0xFF] ^ s2[(c >> 16) & 0xFF] ^ s3[c >> 24] ^ r
            out[k] = c
    return out ^ np.uint32(0xFFFFFFFF)


def masked_crc32c_spans(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """TFRecord's masked CRC-32C (``rotr(crc, 15) + 0xa282ead8``) of each span, as int64."""
    c = crc32c_spans(buf, starts, lengths).astype(np.int64)
    return ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + MASK_DELTA) & 0xFFFFFFFF


def _u32_at(buf: np.ndarray, pos: np.ndarray) -> np.ndarray:
    return (
        buf[pos].astype(np.int64)
        | (buf[pos + 1].astype(np.int64) << 8)
        | (buf[pos + 2].astype(np.int64) << 16)
        | (buf[pos + 3].astype(np.int64) << 24)
    )


_RESYNC_WINDOW = 1 << 16  # offsets examined at once when looking for the next header


def _next_header(buf: np.ndarray, q: int, n: int) -> int:
    """The first offset >= q holding a plausible record header (valid length CRC, length that fits), or -1."""
    while q + 12 <= n:
        hi = min(n - 12, q + _RESYNC_WINDOW - 1)
        pos = np.arange(q, hi + 1, dtype=np.int64)
        length = np.zeros(pos.shape[0], dtype=np.uint64)
        for k in range(8):
            length |= buf[pos + k].astype(np.uint64) << np.uint64(8 * k)
        limit = n - pos - 16
        fits = (limit >= 0) & (length <= np.maximum(limit, 0).astype(np.uint64))
        cand = pos[fits]
        if cand.size:
            ok = masked_crc32c_spans(buf, cand, np.full(cand.shape[0], 8)) == _u32_at(buf, cand + 8)
            hit = np.flatnonzero(ok)
            if hit.size:
                return int(cand[hit[0]])
        q = hi + 1
    return -1


_WALK_WINDOW = 4096  # records walked before their CRCs are checked in one batch


def _frame(buf: np.ndarray, data: bytes, stats: list[int]) -> list[tuple[int, int]]:
    """(start, end) of the data of every record whose framing and both CRCs are valid, in file order.

    Mirrors the kernel's loop: a record that fails is resynchronised over from
    the next plausible header; the tail is truncated or skipped the same way.
    """
    n = len(data)
    unpack_q = struct.Struct("<q").unpack_from
    spans: list[tuple[int, int]] = []
    pos = 0
    while pos < n:
        # Walk the lengths optimistically, then check the CRCs of the whole window at once.
        heads: list[int] = []
        lens: list[int] = []
        p = pos
        while p < n and len(heads) < _WALK_WINDOW:
            if n - p < 12:
                break
            ln = unpack_q(data, p)[0]
            if ln < 0 or ln > n - p - 16:
                break
            heads.append(p)
            lens.append(ln)
            p += 16 + ln
        n_ok = 0
        if heads:
            h = np.asarray(heads, dtype=np.int64)
            ln_a = np.asarray(lens, dtype=np.int64)
            starts = np.concatenate([h, h + 12])
            lengths = np.concatenate([np.full(h.shape[0], 8, dtype=np.int64), ln_a])
            crc = masked_crc32c_spans(buf, starts, lengths)
            stored = _u32_at(buf, np.concatenate([h + 8, h + 12 + ln_a]))
            good = (crc[: h.shape[0]] == stored[: h.shape[0]]) & (crc[h.shape[0] :] == stored[h.shape[0] :])
            bad = np.flatnonzero(~good)
            n_ok = int(bad[0]) if bad.size else len(heads)
            spans.extend((a + 12, a + 12 + b) for a, b in zip(heads[:n_ok], lens[:n_ok]))
        if n_ok == len(heads) and n_ok == _WALK_WINDOW:
            pos = p
            continue
        pos = heads[n_ok] if n_ok < len(heads) else p
        if pos >= n:
            break
        # The kernel's logic for one record at pos (it did not check out, or the walk stopped there).
        if n - pos < 12:
            stats[STAT_TRUNCATED] = 1
            break
        length = unpack_q(data, pos)[0]
        header_valid = int(masked_crc32c_spans(buf, [pos], [8])[0]) == int(_u32_at(buf, np.array([pos + 8]))[0])
        fits = 0 <= length <= n - pos - 16
        if header_valid and fits:
            a = pos + 12
            if int(masked_crc32c_spans(buf, [a], [length])[0]) == int(_u32_at(buf, np.array([a + length]))[0]):
                spans.append((a, a + length))  # only when the walk stopped for the window, never here in practice
                pos = a + length + 4
                continue
        q = _next_header(buf, pos + 1, n)
        if q < 0:
            if header_valid and not fits:
                stats[STAT_TRUNCATED] = 1  # a genuine header whose data never got written
            else:
                stats[STAT_CORRUPT] += 1
                stats[STAT_SKIPPED_BYTES] += n - pos
            break
        stats[STAT_CORRUPT] += 1
        stats[STAT_SKIPPED_BYTES] += q - pos
        pos = q
    stats[STAT_RECORDS] += len(spans)
    return spans


# --- the protobuf wire format, as the kernel walks it -------------------------------------------
# Integers behave as the kernel's int64: a varint wraps into the sign bit.

_M64 = (1 << 64) - 1
_S63 = 1 << 63


def _varint(d: bytes, p: int, end: int) -> tuple[int, int]:
    """(value, new_p); new_p == -1 when malformed (more than 10 bytes, or cut off by ``end``)."""
    if p < end:
        b = d[p]
        if b < 0x80:
            return b, p + 1
    result = 0
    shift = 0
    while p < end and shift < 64:
        b = d[p]
        p += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            result &= _M64
            return (result - (1 << 64) if result & _S63 else result), p
        shift += 7
    result &= _M64
    return (result - (1 << 64) if result & _S63 else result), -1


def _skip_field(d: bytes, p: int, end: int, wt: int) -> int:
    if wt == 0:
        return _varint(d, p, end)[1]
    if wt == 1:
        return p + 8 if p + 8 <= end else -1
    if wt == 2:
        ln, p = _varint(d, p, end)
        if p < 0 or ln < 0 or ln > end - p:
            return -1
        return p + ln
    if wt == 5:
        return p + 4 if p + 4 <= end else -1
    return -1


def _len_field(d: bytes, p: int, end: int) -> tuple[int, int]:
    ln, q = _varint(d, p, end)
    if q < 0 or ln < 0 or ln > end - q:
        return -1, -1
    return q, q + ln


_unpack_f = struct.Struct("<f").unpack_from
_unpack_d = struct.Struct("<d").unpack_from
_unpack_I = struct.Struct("<I").unpack_from
_unpack_q = struct.Struct("<q").unpack_from
_pack_I = struct.Struct("<I").pack


def _f32_bits(bits: int) -> float:
    return _unpack_f(_pack_I(bits & 0xFFFFFFFF))[0]


def _half_to_float(h: int) -> float:
    sign = (h >> 15) & 1
    exp = (h >> 10) & 0x1F
    mant = h & 0x3FF
    if exp == 0:
        v = mant * 5.960464477539063e-08  # 2**-24
    elif exp == 31:
        v = float("inf") if mant == 0 else float("nan")
    else:
        v = (1.0 + mant / 1024.0) * 2.0 ** (exp - 15)
    return -v if sign else v


def _first_fixed(d: bytes, p: int, end: int, packed: bool, width: int, found: int) -> tuple[int, int]:
    if packed:
        s0, s1 = _len_field(d, p, end)
        if s0 < 0:
            return -1, found
        if found < 0 and s1 - s0 >= width:
            found = s0
        return s1, found
    if p + width > end:
        return -1, found
    if found < 0:
        found = p
    return p + width, found


def _tensor_scalar(d: bytes, start: int, end: int) -> tuple[int, float]:
    """Parse a TensorProto; (1, value) a kept scalar, (0, 0.0) not one, (-1, 0.0) malformed."""
    dtype = 0
    numel = 1
    c_start = c_stop = -1
    fv_p = dv_p = -1
    hv, iv, lv = -1, 0, 0
    have_h = have_i = have_l = False
    p = start
    while p < end:
        key, p = _varint(d, p, end)
        if p < 0:
            return -1, 0.0
        field = key >> 3
        wt = key & 7
        if field == 1 and wt == 0:
            dtype, p = _varint(d, p, end)
        elif field == 2 and wt == 2:
            s0, s1 = _len_field(d, p, end)
            if s0 < 0:
                return -1, 0.0
            q = s0
            while q < s1:
                k2, q = _varint(d, q, s1)
                if q < 0:
                    return -1, 0.0
                if (k2 >> 3) == 2 and (k2 & 7) == 2:  # dim
                    d0, d1 = _len_field(d, q, s1)
                    if d0 < 0:
                        return -1, 0.0
                    size = 0
                    r = d0
                    while r < d1:
                        k3, r = _varint(d, r, d1)
                        if r < 0:
                            return -1, 0.0
                        if (k3 >> 3) == 1 and (k3 & 7) == 0:
                            size, r = _varint(d, r, d1)
                        else:
                            r = _skip_field(d, r, d1, k3 & 7)
                        if r < 0:
                            return -1, 0.0
                    if size != 1:
                        numel = 2
                    q = d1
                elif (k2 >> 3) == 3 and (k2 & 7) == 0:  # unknown_rank
                    ur, q = _varint(d, q, s1)
                    if ur != 0:
                        numel = 2
                else:
                    q = _skip_field(d, q, s1, k2 & 7)
                if q < 0:
                    return -1, 0.0
            p = s1
        elif field == 4 and wt == 2:
            c_start, c_stop = _len_field(d, p, end)
            if c_start < 0:
                return -1, 0.0
            p = c_stop
        elif field == 5 and (wt == 2 or wt == 5):
            p, fv_p = _first_fixed(d, p, end, wt == 2, 4, fv_p)
            if p < 0:
                return -1, 0.0
        elif field == 6 and (wt == 2 or wt == 1):
            p, dv_p = _first_fixed(d, p, end, wt == 2, 8, dv_p)
            if p < 0:
                return -1, 0.0
        elif (field == 13 or field == 7 or field == 10) and (wt == 2 or wt == 0):
            if wt == 2:
                s0, s1 = _len_field(d, p, end)
                if s0 < 0:
                    return -1, 0.0
                got = s1 > s0
                if got:
                    v, q = _varint(d, s0, s1)
                    if q < 0:
                        return -1, 0.0
                p = s1
            else:
                v, p = _varint(d, p, end)
                if p < 0:
                    return -1, 0.0
                got = True
            if got:
                if field == 13 and not have_h:
                    hv, have_h = v, True
                elif field == 7 and not have_i:
                    iv, have_i = v, True
                elif field == 10 and not have_l:
                    lv, have_l = v, True
        else:
            p = _skip_field(d, p, end, wt)
            if p < 0:
                return -1, 0.0
    if numel != 1:
        return 0, 0.0
    clen = c_stop - c_start if c_start >= 0 else 0
    if dtype == DT_FLOAT:
        if clen > 0:
            if clen != 4:
                return 0, 0.0
            fv_p = c_start
        if fv_p < 0:
            return 0, 0.0
        return 1, _unpack_f(d, fv_p)[0]
    if dtype == DT_DOUBLE:
        if clen > 0:
            if clen != 8:
                return 0, 0.0
            dv_p = c_start
        if dv_p < 0:
            return 0, 0.0
        return 1, _unpack_d(d, dv_p)[0]
    if dtype == DT_HALF or dtype == DT_BFLOAT16:
        if clen > 0:
            if clen != 2:
                return 0, 0.0
            hv = d[c_start] | (d[c_start + 1] << 8)
            have_h = True
        if not have_h:
            return 0, 0.0
        hv &= 0xFFFF
        if dtype == DT_HALF:
            return 1, _half_to_float(hv)
        return 1, _f32_bits(hv << 16)
    if dtype == DT_INT32:
        if clen > 0:
            if clen != 4:
                return 0, 0.0
            iv = _unpack_I(d, c_start)[0]
            have_i = True
        if not have_i:
            return 0, 0.0
        iv &= 0xFFFFFFFF
        if iv >= 0x80000000:
            iv -= 0x100000000
        return 1, float(iv)
    if dtype == DT_INT64:
        if clen > 0:
            if clen != 8:
                return 0, 0.0
            lv = _unpack_q(d, c_start)[0]
            have_l = True
        if not have_l:
            return 0, 0.0
        return 1, float(lv)
    return 0, 0.0


def scan_events(buf: np.ndarray):
    """Parse every record of an event file held in ``buf`` (a 1-D uint8 array).

    Returns exactly what :func:`lrreport.ingest._tfrecord.scan_events` returns
    for the same bytes: ``(tag_id, step, wall_time, value, tag_off, tag_len,
    starts, specials, stats)``.
    """
    buf = np.ascontiguousarray(buf, dtype=np.uint8)
    d = buf.tobytes()
    stats = [0] * N_STATS
    spans = _frame(buf, d, stats)

    out_tag: list[int] = []
    out_step: list[int] = []
    out_wall: list[float] = []
    out_val: list[float] = []
    tag_ids: dict[bytes, int] = {}
    tag_off: list[int] = []
    tag_len: list[int] = []
    starts: list[tuple[int, int]] = []
    specials: list[tuple[int, int, int]] = []
    plen = len(HPARAMS_PREFIX)
    n_malformed = 0
    varint = _varint
    skip = _skip_field
    len_field = _len_field

    for a, b in spans:
        # Pass 1 over the Event: wall_time, step, session_log; checks the framing of every field.
        wall = 0.0
        step = 0
        is_start = False
        p = a
        while p < b:
            key, p = varint(d, p, b)
            if p < 0:
                break
            field = key >> 3
            wt = key & 7
            if field == 1 and wt == 1:
                if p + 8 > b:
                    p = -1
                    break
                wall = _unpack_d(d, p)[0]
                p += 8
            elif field == 2 and wt == 0:
                step, p = varint(d, p, b)
            elif field == 7 and wt == 2:
                s0, s1 = len_field(d, p, b)
                if s0 < 0:
                    p = -1
                    break
                q = s0
                while q < s1:
                    k2, q = varint(d, q, s1)
                    if q < 0:
                        break
                    if (k2 >> 3) == 1 and (k2 & 7) == 0:
                        status_val, q = varint(d, q, s1)
                        is_start = status_val == 1  # SessionLog.START
                    else:
                        q = skip(d, q, s1, k2 & 7)
                    if q < 0:
                        break
                p = s1 if q >= 0 else -1
            else:
                p = skip(d, p, b, wt)
            if p < 0:
                break
        if p < 0:
            n_malformed += 1
            continue

        # Pass 2: the summary values. A malformed record is rolled back whole.
        first_out = len(out_val)
        first_special = len(specials)
        new_tags: list[bytes] = []
        ok = True
        p = a
        while p < b and ok:
            key, p = varint(d, p, b)
            wt = key & 7
            if not ((key >> 3) == 5 and wt == 2):
                p = skip(d, p, b, wt)  # checked in pass 1
                continue
            s0, s1 = len_field(d, p, b)
            p = s1
            q = s0
            while q < s1:
                k2, q = varint(d, q, s1)
                if q < 0:
                    ok = False
                    break
                if not ((k2 >> 3) == 1 and (k2 & 7) == 2):
                    q = skip(d, q, s1, k2 & 7)
                    if q < 0:
                        ok = False
                        break
                    continue
                v0, v1 = len_field(d, q, s1)
                if v0 < 0:
                    ok = False
                    break
                q = v1
                t0 = t1 = v0
                kind = 0  # 0 none/other, 1 simple_value, 2 tensor
                sval = 0.0
                x0 = x1 = -1
                r = v0
                while r < v1:
                    k3, r = varint(d, r, v1)
                    if r < 0:
                        break
                    f3 = k3 >> 3
                    w3 = k3 & 7
                    if f3 == 1 and w3 == 2:
                        t0, t1 = len_field(d, r, v1)
                        r = t1
                    elif f3 == 2 and w3 == 5:
                        if r + 4 > v1:
                            r = -1
                        else:
                            sval = _unpack_f(d, r)[0]
                            kind = 1
                            r += 4
                    elif f3 == 8 and w3 == 2:
                        x0, x1 = len_field(d, r, v1)
                        kind = 2
                        r = x1
                    else:
                        if 3 <= f3 <= 6:
                            kind = 0  # old-style histogram, image, histo, audio
                        r = skip(d, r, v1, w3)
                    if r < 0:
                        break
                if r < 0:
                    ok = False
                    break
                tl = t1 - t0
                if tl >= plen and d.startswith(HPARAMS_PREFIX, t0):
                    specials.append((len(out_val), v0, v1 - v0))
                    continue
                if kind == 0:
                    continue
                if kind == 2:
                    st, sval = _tensor_scalar(d, x0, x1)
                    if st < 0:
                        ok = False
                        break
                    if st == 0:
                        continue
                tag = d[t0:t1]
                tid = tag_ids.get(tag)
                if tid is None:
                    tid = len(tag_off)
                    tag_ids[tag] = tid
                    tag_off.append(t0)
                    tag_len.append(tl)
                    new_tags.append(tag)
                out_tag.append(tid)
                out_step.append(step)
                out_wall.append(wall)
                out_val.append(sval)
        if not ok:
            del out_tag[first_out:], out_step[first_out:], out_wall[first_out:], out_val[first_out:]
            del specials[first_special:]
            if new_tags:
                for t in new_tags:
                    del tag_ids[t]
                del tag_off[len(tag_off) - len(new_tags) :], tag_len[len(tag_len) - len(new_tags) :]
            n_malformed += 1
            continue
        if is_start:
            starts.append((len(out_val), step))

    stats[STAT_CORRUPT] += n_malformed
    stats[STAT_MALFORMED] += n_malformed
    return (
        np.array(out_tag, dtype=np.int32),
        np.array(out_step, dtype=np.int64),
        np.array(out_wall, dtype=np.float64),
        np.array(out_val, dtype=np.float64),
        np.array(tag_off, dtype=np.int64),
        np.array(tag_len, dtype=np.int64),
        np.array(starts, dtype=np.int64).reshape(-1, 2),
        np.array(specials, dtype=np.int64).reshape(-1, 3),
        np.array(stats, dtype=np.int64),
    )


def purge_superseded(tag_id, step, tag_stream, start_pos, start_step, start_stream) -> np.ndarray:
    """The numba kernel's :func:`~lrreport.ingest._tfrecord.purge_superseded`, vectorised (the same
    keep-mask): a point is dropped when a restart of its tag's stream placed after it
    (``start_pos`` > its index) restarts at a step at or below its own."""
    n = int(tag_id.shape[0])
    keep = np.ones(n, dtype=np.bool_)
    if n == 0 or int(start_pos.shape[0]) == 0:
        return keep
    tag_stream = np.asarray(tag_stream, dtype=np.int64)
    n_streams = max(1, int(tag_stream.max()) + 1) if len(tag_stream) else 1
    point_stream = tag_stream[np.asarray(tag_id, dtype=np.int64)]
    start_pos = np.asarray(start_pos, dtype=np.int64)
    start_step = np.asarray(start_step, dtype=np.int64)
    start_stream = np.asarray(start_stream, dtype=np.int64)
    for k in np.unique(start_stream).tolist():
        if not 0 <= k < n_streams:
            continue
        m = start_stream == k
        order = np.argsort(start_pos[m], kind="mergesort")
        pos, st = start_pos[m][order], start_step[m][order]
        lowest_after = np.minimum.accumulate(st[::-1])[::-1]  # the lowest restart step from here on
        pts = np.flatnonzero(point_stream == k)
        first = np.searchsorted(pos, pts, side="right")  # the first restart placed after the point
        has = first < len(pos)
        low = lowest_after[np.minimum(first, len(pos) - 1)]
        keep[pts[has & (step[pts] >= low)]] = False
    return keep
