"""Numba kernels behind :mod:`lrreport.ingest.tfevents`: TFRecord framing and Event wire format.

A TFRecord file is a sequence of records, each::

    uint64 length | uint32 masked_crc32c(length bytes) | data[length] | uint32 masked_crc32c(data)

(``tensorflow/core/lib/io/record_writer.cc``; the mask is ``rotr(crc, 15) + 0xa282ead8``).
The data of each record in an event file is a serialized ``tensorboard.Event``
(``tensorboard/compat/proto/event.proto``). :func:`scan_events` walks the
framing and the protobuf wire format of a whole file in one compiled pass and
returns column arrays of the scalar points it found; Python touches only
distinct tag names and the few ``_hparams_/*`` values.

Why a hand-written wire parser: a Python loop over ``Event.FromString`` tops
out below a million records a second; this walks the bytes at memory speed.
Every ``@njit`` here is ``cache=JIT_CACHE`` (see :mod:`lrreport._environment`: numba's
cache when it has a writable place, else none) and ``nogil=True`` (several files parse
in parallel threads). The first call after an install compiles for 10-25 s on 2 cores;
later processes load the machine code from numba's cache (~0.5 s with numba's import).
That start-up cost is why :mod:`._scan` gives a process's first megabytes to
:mod:`._tfrecord_py`, the same reader in Python.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# The format's constants and the scan statistics' indices are shared with the Python reader.
# (numba's cache is keyed on this file alone: fine for these, they are the format's and never change.)
from . import _tfrecord_py as _fmt
from ._tfrecord_py import N_STATS, STAT_CORRUPT, STAT_MALFORMED, STAT_RECORDS, STAT_SKIPPED_BYTES, STAT_TRUNCATED
from .._environment import JIT_CACHE


_DT_FLOAT, _DT_DOUBLE, _DT_INT32, _DT_INT64 = _fmt.DT_FLOAT, _fmt.DT_DOUBLE, _fmt.DT_INT32, _fmt.DT_INT64
_DT_BFLOAT16, _DT_HALF = _fmt.DT_BFLOAT16, _fmt.DT_HALF
_MASK_DELTA = _fmt.MASK_DELTA
_CRC_TABLES = _fmt.make_crc_tables()
_HPARAMS_PREFIX = np.frombuffer(_fmt.HPARAMS_PREFIX, dtype=np.uint8).copy()

__all__ = ["N_STATS", "crc32c", "masked_crc32c", "purge_superseded", "scan_events"]


@njit(cache=JIT_CACHE, nogil=True)
def _crc32c_update(buf, start, end, crc):
    t = _CRC_TABLES
    crc = crc ^ 0xFFFFFFFF
    p = start
    while p + 8 <= end:
        lo = crc ^ (
            np.int64(buf[p]) | (np.int64(buf[p + 1]) << 8) | (np.int64(buf[p + 2]) << 16) | (np.int64(buf[p + 3]) << 24)
        )
        crc = (
            t[7, lo & 0xFF]
            ^ t[6, (lo >> 8) & 0xFF]
            ^ t[5, (lo >> 16) & 0xFF]
            ^ t[4, (lo >> 24) & 0xFF]
            ^ t[3, np.int64(buf[p + 4])]
            ^ t[2, np.int64(buf[p + 5])]
            ^ t[1, np.int64(buf[p + 6])]
            ^ t[0, np.int64(buf[p + 7])]
        )
        p += 8
    while p < end:
        crc = t[0, (crc ^ np.int64(buf[p])) & 0xFF] ^ (crc >> 8)
        p += 1
    return crc ^ 0xFFFFFFFF


@njit(cache=JIT_CACHE, nogil=True)
def crc32c(buf, start, end):
    """CRC-32C of ``buf[start:end]`` (a uint8 array), as a non-negative int."""
    return _crc32c_update(buf, start, end, np.int64(0))


@njit(cache=JIT_CACHE, nogil=True)
def masked_crc32c(buf, start, end):
    """TFRecord's masked CRC-32C of ``buf[start:end]``."""
    c = _crc32c_update(buf, start, end, np.int64(0))
    return ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + _MASK_DELTA) & 0xFFFFFFFF


@njit(cache=JIT_CACHE, nogil=True, inline="always")
def _u32(buf, p):
    return np.int64(buf[p]) | (np.int64(buf[p + 1]) << 8) | (np.int64(buf[p + 2]) << 16) | (np.int64(buf[p + 3]) << 24)


@njit(cache=JIT_CACHE, nogil=True, inline="always")
def _i64(buf, p):
    return _u32(buf, p) | (_u32(buf, p + 4) << 32)  # wraps into the sign bit, as int64 bits should


@njit(cache=JIT_CACHE, nogil=True, inline="always")
def _f32(bits):
    """The float32 whose bits are ``bits`` (low 32 bits of an int), as float64."""
    return np.float64(np.uint32(bits & 0xFFFFFFFF).view(np.float32))


@njit(cache=JIT_CACHE, nogil=True, inline="always")
def _f64(bits):
    return np.int64(bits).view(np.float64)


@njit(cache=JIT_CACHE, nogil=True)
def _header_ok(buf, pos, n):
    """True when a record header at ``pos`` has a valid length CRC and a length that fits the file."""
    if pos + 12 > n:
        return False
    length = _i64(buf, pos)
    if length < 0 or length > n - pos - 16:
        return False
    return masked_crc32c(buf, pos, pos + 8) == _u32(buf, pos + 8)


@njit(cache=JIT_CACHE, nogil=True, inline="always")
def _varint(buf, p, end):
    """Decode a varint at ``p``; returns (value, new_p) with new_p == -1 when malformed."""
    result = np.int64(0)
    shift = 0
    while p < end and shift < 64:
        b = np.int64(buf[p])
        p += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, p
        shift += 7
    return result, -1


@njit(cache=JIT_CACHE, nogil=True)
def _skip_field(buf, p, end, wire_type):
    """Skip one field's payload; returns the new position, -1 when malformed."""
    if wire_type == 0:
        _, p = _varint(buf, p, end)
        return p
    if wire_type == 1:
        return p + 8 if p + 8 <= end else -1
    if wire_type == 2:
        ln, p = _varint(buf, p, end)
        if p < 0 or ln < 0 or ln > end - p:
            return -1
        return p + ln
    if wire_type == 5:
        return p + 4 if p + 4 <= end else -1
    return -1  # groups (3, 4) never occur in these protos; 6, 7 are invalid


@njit(cache=JIT_CACHE, nogil=True, inline="always")
def _len_field(buf, p, end):
    """Read a length prefix; returns (start, stop) of the payload, start == -1 when malformed."""
    ln, q = _varint(buf, p, end)
    if q < 0 or ln < 0 or ln > end - q:
        return -1, -1
    return q, q + ln


@njit(cache=JIT_CACHE, nogil=True)
def _half_to_float(h):
    sign = (h >> 15) & 1
    exp = (h >> 10) & 0x1F
    mant = h & 0x3FF
    if exp == 0:
        v = mant * 5.960464477539063e-08  # 2**-24
    elif exp == 31:
        v = np.inf if mant == 0 else np.nan
    else:
        v = (1.0 + mant / 1024.0) * 2.0 ** (exp - 15)
    return -v if sign else v


@njit(cache=JIT_CACHE, nogil=True, inline="always")
def _first_fixed(buf, p, end, packed, width, found):
    """Walk one float_val/double_val field (packed or a single fixed-width value) at ``p``;
    return (position after it, or -1 if it runs past ``end``; position of the first value
    seen so far, ``found`` when one was already seen, else -1)."""
    if packed:
        s0, s1 = _len_field(buf, p, end)
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


@njit(cache=JIT_CACHE, nogil=True)
def _tensor_scalar(buf, start, end):
    """Parse a TensorProto; returns (status, value): status 1 scalar kept, 0 not a kept scalar, -1 malformed."""
    dtype = 0
    numel = 1  # no tensor_shape: a scalar
    c_start = -1
    c_stop = -1
    fv_p, dv_p, hv, iv, lv = -1, -1, np.int64(-1), np.int64(0), np.int64(0)
    have_h = False
    have_i = False
    have_l = False
    p = start
    while p < end:
        key, p = _varint(buf, p, end)
        if p < 0:
            return -1, 0.0
        field = key >> 3
        wt = key & 7
        if field == 1 and wt == 0:
            dtype, p = _varint(buf, p, end)
        elif field == 2 and wt == 2:
            s0, s1 = _len_field(buf, p, end)
            if s0 < 0:
                return -1, 0.0
            q = s0
            while q < s1:
                k2, q = _varint(buf, q, s1)
                if q < 0:
                    return -1, 0.0
                if (k2 >> 3) == 2 and (k2 & 7) == 2:  # dim
                    d0, d1 = _len_field(buf, q, s1)
                    if d0 < 0:
                        return -1, 0.0
                    size = np.int64(0)
                    r = d0
                    while r < d1:
                        k3, r = _varint(buf, r, d1)
                        if r < 0:
                            return -1, 0.0
                        if (k3 >> 3) == 1 and (k3 & 7) == 0:
                            size, r = _varint(buf, r, d1)
                        else:
                            r = _skip_field(buf, r, d1, k3 & 7)
                        if r < 0:
                            return -1, 0.0
                    if size != 1:
                        numel = 2  # zero, several, or unknown (-1) elements: not a scalar
                    q = d1
                elif (k2 >> 3) == 3 and (k2 & 7) == 0:  # unknown_rank
                    ur, q = _varint(buf, q, s1)
                    if ur != 0:
                        numel = 2
                else:
                    q = _skip_field(buf, q, s1, k2 & 7)
                if q < 0:
                    return -1, 0.0
            p = s1
        elif field == 4 and wt == 2:
            c_start, c_stop = _len_field(buf, p, end)
            if c_start < 0:
                return -1, 0.0
            p = c_stop
        elif field == 5 and (wt == 2 or wt == 5):  # float_val, packed or not
            p, fv_p = _first_fixed(buf, p, end, wt == 2, 4, fv_p)
            if p < 0:
                return -1, 0.0
        elif field == 6 and (wt == 2 or wt == 1):  # double_val, packed or not
            p, dv_p = _first_fixed(buf, p, end, wt == 2, 8, dv_p)
            if p < 0:
                return -1, 0.0
        elif (field == 13 or field == 7 or field == 10) and (wt == 2 or wt == 0):  # half/int/int64 varints
            if wt == 2:
                s0, s1 = _len_field(buf, p, end)
                if s0 < 0:
                    return -1, 0.0
                if s1 > s0:
                    v, q = _varint(buf, s0, s1)
                    if q < 0:
                        return -1, 0.0
                    if field == 13 and not have_h:
                        hv = v
                        have_h = True
                    elif field == 7 and not have_i:
                        iv = v
                        have_i = True
                    elif field == 10 and not have_l:
                        lv = v
                        have_l = True
                p = s1
            else:
                v, p = _varint(buf, p, end)
                if p < 0:
                    return -1, 0.0
                if field == 13 and not have_h:
                    hv = v
                    have_h = True
                elif field == 7 and not have_i:
                    iv = v
                    have_i = True
                elif field == 10 and not have_l:
                    lv = v
                    have_l = True
        else:
            p = _skip_field(buf, p, end, wt)
            if p < 0:
                return -1, 0.0
    if numel != 1:
        return 0, 0.0
    clen = c_stop - c_start if c_start >= 0 else 0
    if dtype == _DT_FLOAT:
        if clen > 0:
            if clen != 4:
                return 0, 0.0
            fv_p = c_start
        if fv_p < 0:
            return 0, 0.0
        return 1, _f32(_u32(buf, fv_p))
    if dtype == _DT_DOUBLE:
        if clen > 0:
            if clen != 8:
                return 0, 0.0
            dv_p = c_start
        if dv_p < 0:
            return 0, 0.0
        return 1, _f64(_i64(buf, dv_p))
    if dtype == _DT_HALF or dtype == _DT_BFLOAT16:
        if clen > 0:
            if clen != 2:
                return 0, 0.0
            hv = np.int64(buf[c_start]) | (np.int64(buf[c_start + 1]) << 8)
            have_h = True
        if not have_h:
            return 0, 0.0
        hv = hv & 0xFFFF
        if dtype == _DT_HALF:
            return 1, _half_to_float(hv)
        return 1, _f32(hv << 16)
    if dtype == _DT_INT32:
        if clen > 0:
            if clen != 4:
                return 0, 0.0
            iv = _u32(buf, c_start)
            have_i = True
        if not have_i:
            return 0, 0.0
        iv = iv & 0xFFFFFFFF
        if iv >= 0x80000000:
            iv -= 0x100000000
        return 1, np.float64(iv)
    if dtype == _DT_INT64:
        if clen > 0:
            if clen != 8:
                return 0, 0.0
            lv = _i64(buf, c_start)
            have_l = True
        if not have_l:
            return 0, 0.0
        return 1, np.float64(lv)
    return 0, 0.0


# Why the kernel below takes every array as an argument and returns a status
# instead of growing its outputs: numba reference-counts array variables that a
# loop may reassign, and that bookkeeping alone halved the throughput. When an
# output fills up, the kernel rolls the current record back and returns; the
# Python driver grows the array and resumes at that record.
_DONE = 0
_FULL_POINTS = 1
_FULL_TAGS = 2
_FULL_STARTS = 3
_FULL_SPECIALS = 4
_FNV_OFFSET = -3750763034362895579  # FNV-1a 64-bit offset basis, as int64
_FNV_PRIME = 1099511628211


@njit(cache=JIT_CACHE, nogil=True, inline="always")
def _fnv(buf, t0, t1):
    h = np.int64(_FNV_OFFSET)
    for j in range(t0, t1):
        h = (h ^ np.int64(buf[j])) * np.int64(_FNV_PRIME)
    return h


@njit(cache=JIT_CACHE, nogil=True)
def _rebuild_table(buf, table, thash, tag_off, tag_len, tag_slot, n_tags):
    table[:] = -1
    mask = table.shape[0] - 1
    for k in range(n_tags):
        h = _fnv(buf, tag_off[k], tag_off[k] + tag_len[k])
        s = h & mask
        while table[s] >= 0:
            s = (s + 1) & mask
        table[s] = k
        thash[s] = h
        tag_slot[k] = s


@njit(cache=JIT_CACHE, nogil=True)
def _next_header(buf, q, n):
    """The first offset >= q holding a plausible record header, or -1.

    A header is never 12 zero bytes (the masked CRC of a zero length is not zero), so a
    run of zeros (a sparse or preallocated file, what a crash leaves) is crossed at the
    speed of a byte compare instead of a CRC per offset."""
    while q + 12 <= n:
        if buf[q + 11] == 0 and buf[q] == 0:
            z = q
            while z < n and buf[z] == 0:
                z += 1
            if z - q >= 12:
                q = z - 11  # the first offset whose 12 bytes are not all zeros
                continue
        if _header_ok(buf, q, n):
            return q
        q += 1
    return -1


@njit(cache=JIT_CACHE, nogil=True)
def _scan(buf, state, stats, tag_id, step_a, wall_a, val_a, table, thash, tag_off, tag_len, tag_slot, starts, specials):
    """Parse records from ``state[0]`` on; see :func:`scan_events` for the outputs. Returns a _DONE/_FULL_* status."""
    n = buf.shape[0]
    pos = state[0]
    n_out = state[1]
    n_tags = state[2]
    n_starts = state[3]
    n_specials = state[4]
    mask = table.shape[0] - 1
    prefix = _HPARAMS_PREFIX
    plen = prefix.shape[0]
    status = _DONE

    while pos < n:
        if n - pos < 12:
            stats[STAT_TRUNCATED] = 1
            pos = n
            break
        rec_start = pos
        length = _i64(buf, pos)
        header_valid = masked_crc32c(buf, pos, pos + 8) == _u32(buf, pos + 8)
        fits = 0 <= length <= n - pos - 16
        data_ok = False
        a = pos + 12
        b = a
        if header_valid and fits:
            b = a + length
            data_ok = masked_crc32c(buf, a, b) == _u32(buf, b)
        if not data_ok:
            # Garbage (a flipped byte, a spliced header), a damaged record, or a
            # record cut off by the end of the file. Resynchronise on the next
            # header with a valid length CRC and a length that fits; a length
            # whose record did not check out is never trusted.
            q = _next_header(buf, pos + 1, n)
            if q < 0:
                if header_valid and not fits:
                    stats[STAT_TRUNCATED] = 1  # a genuine header whose data never got written
                else:
                    stats[STAT_CORRUPT] += 1
                    stats[STAT_SKIPPED_BYTES] += n - pos
                pos = n
                break
            stats[STAT_CORRUPT] += 1
            stats[STAT_SKIPPED_BYTES] += q - pos
            pos = q
            continue
        pos = b + 4
        stats[STAT_RECORDS] += 1

        # Pass 1 over the Event: wall_time, step, session_log; checks the framing of every field.
        wall = 0.0
        step = np.int64(0)
        is_start = False
        ok = True
        p = a
        while p < b:
            key, p = _varint(buf, p, b)
            if p < 0:
                break
            field = key >> 3
            wt = key & 7
            if field == 1 and wt == 1:
                if p + 8 > b:
                    p = -1
                    break
                wall = _f64(_i64(buf, p))
                p += 8
            elif field == 2 and wt == 0:
                step, p = _varint(buf, p, b)
            elif field == 7 and wt == 2:
                s0, s1 = _len_field(buf, p, b)
                if s0 < 0:
                    p = -1
                    break
                q = s0
                while q < s1:
                    k2, q = _varint(buf, q, s1)
                    if q < 0:
                        break
                    if (k2 >> 3) == 1 and (k2 & 7) == 0:
                        status_val, q = _varint(buf, q, s1)
                        is_start = status_val == 1  # SessionLog.START
                    else:
                        q = _skip_field(buf, q, s1, k2 & 7)
                    if q < 0:
                        break
                p = s1 if q >= 0 else -1
            else:
                p = _skip_field(buf, p, b, wt)
            if p < 0:
                break
        if p < 0:
            stats[STAT_CORRUPT] += 1
            stats[STAT_MALFORMED] += 1
            continue

        # Pass 2: the summary values. A malformed record is rolled back whole.
        first_out = n_out
        first_special = n_specials
        first_tags = n_tags
        p = a
        while p < b and ok:
            key, p = _varint(buf, p, b)
            wt = key & 7
            if not ((key >> 3) == 5 and wt == 2):
                p = _skip_field(buf, p, b, wt)  # checked in pass 1
                continue
            s0, s1 = _len_field(buf, p, b)
            p = s1
            q = s0
            while q < s1:
                k2, q = _varint(buf, q, s1)
                if q < 0:
                    ok = False
                    break
                if not ((k2 >> 3) == 1 and (k2 & 7) == 2):
                    q = _skip_field(buf, q, s1, k2 & 7)
                    if q < 0:
                        ok = False
                        break
                    continue
                v0, v1 = _len_field(buf, q, s1)
                if v0 < 0:
                    ok = False
                    break
                q = v1
                # One Summary.Value: tag, and the oneof value (the last member present wins).
                t0 = v0
                t1 = v0  # proto3 default: the empty tag
                kind = 0  # 0 none/other, 1 simple_value, 2 tensor
                sval = 0.0
                x0 = -1
                x1 = -1
                r = v0
                while r < v1:
                    k3, r = _varint(buf, r, v1)
                    if r < 0:
                        break
                    f3 = k3 >> 3
                    w3 = k3 & 7
                    if f3 == 1 and w3 == 2:
                        t0, t1 = _len_field(buf, r, v1)
                        r = t1
                    elif f3 == 2 and w3 == 5:
                        if r + 4 > v1:
                            r = -1
                        else:
                            sval = _f32(_u32(buf, r))
                            kind = 1
                            r += 4
                    elif f3 == 8 and w3 == 2:
                        x0, x1 = _len_field(buf, r, v1)
                        kind = 2
                        r = x1
                    else:
                        if 3 <= f3 <= 6:
                            kind = 0  # old-style histogram, image, histo, audio
                        r = _skip_field(buf, r, v1, w3)
                    if r < 0:
                        break
                if r < 0:
                    ok = False
                    break
                tl = t1 - t0
                is_hp = tl >= plen
                if is_hp:
                    for j in range(plen):
                        if buf[t0 + j] != prefix[j]:
                            is_hp = False
                            break
                if is_hp:
                    if n_specials == specials.shape[0]:
                        status = _FULL_SPECIALS
                        ok = False
                        break
                    specials[n_specials, 0] = n_out
                    specials[n_specials, 1] = v0
                    specials[n_specials, 2] = v1 - v0
                    n_specials += 1
                    continue
                if kind == 0:
                    continue
                if kind == 2:
                    st, sval = _tensor_scalar(buf, x0, x1)
                    if st < 0:
                        ok = False
                        break
                    if st == 0:
                        continue
                # Intern the tag: open addressing on FNV-1a, bytes compared on a hash match.
                h = _fnv(buf, t0, t1)
                slot = h & mask
                tid = -1
                while True:
                    cand = table[slot]
                    if cand < 0:
                        break
                    if thash[slot] == h and tag_len[cand] == tl:
                        o = tag_off[cand]
                        same = True
                        for j in range(tl):
                            if buf[o + j] != buf[t0 + j]:
                                same = False
                                break
                        if same:
                            tid = cand
                            break
                    slot = (slot + 1) & mask
                if tid < 0:
                    if n_tags == tag_off.shape[0]:
                        status = _FULL_TAGS
                        ok = False
                        break
                    tid = n_tags
                    tag_off[n_tags] = t0
                    tag_len[n_tags] = tl
                    tag_slot[n_tags] = slot
                    n_tags += 1
                    table[slot] = tid
                    thash[slot] = h
                if n_out == tag_id.shape[0]:
                    status = _FULL_POINTS
                    ok = False
                    break
                tag_id[n_out] = tid
                step_a[n_out] = step
                wall_a[n_out] = wall
                val_a[n_out] = sval
                n_out += 1
        if ok and is_start and n_starts == starts.shape[0]:
            status = _FULL_STARTS
            ok = False
        if not ok:
            n_out = first_out
            n_specials = first_special
            # Forget the tags this record added. They were the last inserted into the
            # linear-probing table, so clearing their slots newest first restores it
            # exactly: O(tags added), where a rebuild would cost O(all tags) per rolled-back
            # record (quadratic in a file crafted with many of them).
            while n_tags > first_tags:
                n_tags -= 1
                table[tag_slot[n_tags]] = -1
            if status != _DONE:  # out of room: resume at this record once the driver has grown the arrays
                stats[STAT_RECORDS] -= 1
                pos = rec_start
                break
            stats[STAT_CORRUPT] += 1
            stats[STAT_MALFORMED] += 1
            continue
        if is_start:
            starts[n_starts, 0] = n_out
            starts[n_starts, 1] = step
            n_starts += 1

    state[0] = pos
    state[1] = n_out
    state[2] = n_tags
    state[3] = n_starts
    state[4] = n_specials
    return status


def _grown(a: np.ndarray, used: int) -> np.ndarray:
    b = np.empty((2 * a.shape[0],) + a.shape[1:], dtype=a.dtype)
    b[:used] = a[:used]
    return b


def scan_events(buf: np.ndarray):
    """Parse every record of an event file held in ``buf`` (a 1-D uint8 array).

    Returns ``(tag_id, step, wall_time, value, tag_off, tag_len, starts,
    specials, stats)``: per scalar point its tag id (index into the distinct
    tags), step, wall time and value; per distinct tag the offset and length of
    its bytes in ``buf``; ``starts`` rows ``(point index, step)`` of SessionLog
    START events; ``specials`` rows ``(point index, offset, length)`` of
    ``_hparams_/*`` Summary.Value messages, left to Python; ``stats`` (STAT_*).
    """
    n = buf.shape[0]
    cap = n // 40 + 64  # a simple_value event with its framing takes ~45-60 bytes
    tag_id = np.empty(cap, dtype=np.int32)
    step = np.empty(cap, dtype=np.int64)
    wall = np.empty(cap, dtype=np.float64)
    value = np.empty(cap, dtype=np.float64)
    tag_off = np.empty(32, dtype=np.int64)
    tag_len = np.empty(32, dtype=np.int64)
    tag_slot = np.empty(32, dtype=np.int64)
    table = np.full(128, -1, dtype=np.int32)  # kept at >= 4x tag capacity: load factor <= 1/4
    thash = np.zeros(128, dtype=np.int64)
    starts = np.empty((4, 2), dtype=np.int64)
    specials = np.empty((8, 3), dtype=np.int64)
    state = np.zeros(5, dtype=np.int64)
    stats = np.zeros(N_STATS, dtype=np.int64)
    while True:
        status = _scan(buf, state, stats, tag_id, step, wall, value, table, thash, tag_off, tag_len, tag_slot, starts, specials)
        _, n_out, n_tags, n_starts, n_specials = state.tolist()
        if status == _DONE:
            break
        if status == _FULL_POINTS:
            tag_id, step, wall, value = (_grown(x, n_out) for x in (tag_id, step, wall, value))
        elif status == _FULL_TAGS:
            tag_off, tag_len, tag_slot = _grown(tag_off, n_tags), _grown(tag_len, n_tags), _grown(tag_slot, n_tags)
            table = np.full(4 * tag_off.shape[0], -1, dtype=np.int32)
            thash = np.zeros(table.shape[0], dtype=np.int64)
            _rebuild_table(buf, table, thash, tag_off, tag_len, tag_slot, n_tags)
        elif status == _FULL_STARTS:
            starts = _grown(starts, n_starts)
        elif status == _FULL_SPECIALS:
            specials = _grown(specials, n_specials)

    def trim(a: np.ndarray, k: int) -> np.ndarray:
        return a[:k] if 2 * k >= a.shape[0] else a[:k].copy()  # a view unless it would pin mostly empty memory

    return (
        trim(tag_id, n_out),
        trim(step, n_out),
        trim(wall, n_out),
        trim(value, n_out),
        tag_off[:n_tags].copy(),
        tag_len[:n_tags].copy(),
        starts[:n_starts].copy(),
        specials[:n_specials].copy(),
        stats,
    )


@njit(cache=JIT_CACHE, nogil=True)
def purge_superseded(tag_id, step, tag_stream, start_pos, start_step, start_stream):
    """Keep-mask with TensorBoard's purge applied to one run's points in order.

    A restart at step s of a stream (a SessionLog START, or a new file of the same
    writer that begins at step s: see :mod:`lrreport.ingest.tfevents`), placed before
    point ``start_pos[j]``, supersedes the points logged before it, in the same stream
    (``tag_stream`` of their tag), with step >= s: EventAccumulator's ``_Purge``, which
    TensorBoard applies per run folder. Nothing else is dropped: a step that goes back
    without a restart keeps both points, as TensorBoard does for today's event files.

    One pass from the last point back, carrying per stream the lowest restart step seen
    after the point: linear in points plus restarts, however many restarts a file holds.
    """
    n = tag_id.shape[0]
    keep = np.ones(n, dtype=np.bool_)
    n_streams = 1
    for t in range(tag_stream.shape[0]):
        if tag_stream[t] + 1 > n_streams:
            n_streams = tag_stream[t] + 1
    lowest = np.full(n_streams, np.iinfo(np.int64).max, dtype=np.int64)
    active = np.zeros(n_streams, dtype=np.bool_)
    order = np.argsort(start_pos, kind="mergesort")
    j = order.shape[0] - 1
    for i in range(n - 1, -1, -1):
        # Restarts placed after point i (start_pos > i) now apply to it.
        while j >= 0 and start_pos[order[j]] > i:
            k = start_stream[order[j]]
            if 0 <= k < n_streams:
                if not active[k] or start_step[order[j]] < lowest[k]:
                    lowest[k] = start_step[order[j]]
                active[k] = True
            j -= 1
        k = tag_stream[tag_id[i]]
        if active[k] and step[i] >= lowest[k]:
            keep[i] = False
    return keep
