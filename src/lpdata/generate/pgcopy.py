"""Vectorised PostgreSQL binary COPY: numpy columns in, COPY BINARY bytes out.

psycopg's ``write_row`` formats one Python tuple at a time, which caps generation at a few
hundred thousand rows per second for the whole pipeline. Here a chunk of rows is laid out
directly in one ``uint8`` buffer with numpy fancy indexing (each field is a 4-byte big-endian
length followed by the value in PostgreSQL's binary send format), so the Python side costs a
few nanoseconds per byte and the server does the rest.

A column is a ``Col(kind, values, null)``:

========== ======================================================= ==========================
kind       values                                                  PostgreSQL type
========== ======================================================= ==========================
int8       integer array                                           bigint
int4       integer array                                           integer
bool       bool array                                              boolean
float8     float array                                             double precision
ts         int64 microseconds since the Unix epoch (UTC)           timestamptz
date       int64 days since the Unix epoch                         date
uuid       uint8 array of shape (n, 16)                            uuid
numeric    float array, sent with 4 decimals (|x| < 10,000)        numeric
text       ``S`` (bytes) array, UTF-8, no NUL bytes                text, char(n)
jsonb      ``S`` array of JSON documents                           jsonb
========== ======================================================= ==========================

``null`` is an optional bool mask (True = SQL NULL).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np
import psycopg
from psycopg import sql

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"
PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01 in Unix microseconds
PG_EPOCH_DAYS = 10_957  # 2000-01-01 in Unix days
CHUNK_ROWS = 131_072


@dataclass
class Col:
    kind: str
    values: np.ndarray
    null: np.ndarray | None = None


def _matrix(kind: str, v: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """The value bytes as an (n, width) uint8 matrix, plus per-row lengths for variable kinds."""
    n = len(v)
    if kind == "int8":
        return np.ascontiguousarray(v, dtype=">i8").view(np.uint8).reshape(n, 8), None
    if kind == "int4":
        return np.ascontiguousarray(v, dtype=">i4").view(np.uint8).reshape(n, 4), None
    if kind == "bool":
        return np.ascontiguousarray(v, dtype=np.uint8).reshape(n, 1), None
    if kind == "float8":
        return np.ascontiguousarray(v, dtype=">f8").view(np.uint8).reshape(n, 8), None
    if kind == "ts":
        return np.ascontiguousarray(np.asarray(v, dtype=np.int64) - PG_EPOCH_US, dtype=">i8").view(np.uint8).reshape(n, 8), None
    if kind == "date":
        return np.ascontiguousarray(np.asarray(v, dtype=np.int64) - PG_EPOCH_DAYS, dtype=">i4").view(np.uint8).reshape(n, 4), None
    if kind == "uuid":
        return np.ascontiguousarray(v, dtype=np.uint8).reshape(n, 16), None
    if kind == "numeric":
        # ndigits=2, weight=0, sign, dscale=4, digits=[integer part, 4 decimals]; numeric_recv
        # strips the zero digits, so this fixed layout is valid for any |x| < 10,000.
        scaled = np.rint(np.abs(np.asarray(v, dtype=np.float64)) * 10_000).astype(np.int64)
        out = np.empty((n, 6), dtype=">i2")
        out[:, 0] = 2
        out[:, 1] = 0
        out[:, 2] = np.where(np.asarray(v) < 0, 0x4000, 0)
        out[:, 3] = 4
        out[:, 4] = scaled // 10_000
        out[:, 5] = scaled % 10_000
        return out.view(np.uint8).reshape(n, 12), None
    if kind in ("text", "jsonb"):
        v = np.asarray(v)
        if v.dtype.kind != "S":
            raise TypeError(f"{kind} columns must be numpy bytes arrays (dtype S), got {v.dtype}")
        width = max(v.dtype.itemsize, 1)
        mat = np.ascontiguousarray(v).view(np.uint8).reshape(n, width) if v.dtype.itemsize else np.zeros((n, 1), np.uint8)
        nonzero = mat != 0
        lens = np.where(nonzero.any(axis=1), width - np.argmax(nonzero[:, ::-1], axis=1), 0)
        if kind == "jsonb":  # jsonb binary format: a version byte (1), then the JSON text
            mat = np.hstack([np.ones((n, 1), np.uint8), mat])
            lens = lens + 1
        return mat, lens.astype(np.int64)
    raise ValueError(f"unknown column kind {kind!r}")


def encode_rows(cols: list[Col]) -> bytes:
    """COPY BINARY tuples (no signature, no trailer) for equally long columns.

    Rows are grouped by layout (the byte length of every field, -1 for NULL); within a group
    every row has the same size, so the group is an (n, row_size) matrix filled column slice by
    column slice. Groups are emitted one after another (row order is not preserved, which COPY
    does not care about). Tables whose free text gives almost every row its own layout fall
    back to a byte-scatter.
    """
    n = len(cols[0].values)
    if n == 0:
        return b""
    mats, lens = [], []
    for c in cols:
        mat, ln = _matrix(c.kind, c.values)
        if ln is None:
            ln = np.full(n, mat.shape[1], dtype=np.int64)
        if c.null is not None:
            ln = np.where(np.asarray(c.null, bool), -1, ln)
        mats.append(mat)
        lens.append(ln)
    key = np.zeros(n, dtype=np.int64)
    radix = 1
    for mat, ln in zip(mats, lens):
        if (ln != ln[0]).any():
            key = key * (mat.shape[1] + 2) + (ln + 1)
            radix *= mat.shape[1] + 2
    if radix >= 2**62:
        return _encode_scatter(mats, lens, n)
    uniq, inverse = np.unique(key, return_inverse=True)
    if len(uniq) > max(64, n // 64):
        return _encode_scatter(mats, lens, n)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(len(uniq) + 1))
    ncols = np.array([len(cols)], dtype=">i2").view(np.uint8)
    out = []
    for g in range(len(uniq)):
        rows = order[bounds[g] : bounds[g + 1]]
        first = rows[0]
        widths = [int(ln[first]) for ln in lens]
        size = 2 + sum(4 + max(w, 0) for w in widths)
        sub = np.empty((len(rows), size), dtype=np.uint8)
        sub[:, 0:2] = ncols
        off = 2
        contiguous = len(rows) == n
        for mat, w in zip(mats, widths):
            sub[:, off : off + 4] = np.array([w], dtype=">i4").view(np.uint8)
            off += 4
            if w > 0:
                sub[:, off : off + w] = mat[:, :w] if contiguous else mat[rows, :w]
                off += w
        out.append(sub.ravel())
    return np.concatenate(out).tobytes() if len(out) > 1 else out[0].tobytes()


def _encode_scatter(mats: list[np.ndarray], lens: list[np.ndarray], n: int) -> bytes:
    """Row-order-preserving encoder for rows of many different layouts (byte scatter)."""
    sizes = [np.maximum(ln, 0) for ln in lens]
    row_size = 2 + sum(4 + s for s in sizes)
    row_start = np.zeros(n, dtype=np.int64)
    np.cumsum(row_size[:-1], out=row_start[1:])
    buf = np.empty(int(row_start[-1] + row_size[-1]), dtype=np.uint8)
    ar2, ar4 = np.arange(2), np.arange(4)
    buf[row_start[:, None] + ar2] = np.array([len(mats)], dtype=">i2").view(np.uint8)
    pos = row_start + 2
    for mat, ln, sz in zip(mats, lens, sizes):
        buf[pos[:, None] + ar4] = ln.astype(">i4").view(np.uint8).reshape(n, 4)
        pos += 4
        width = mat.shape[1]
        idx = pos[:, None] + np.arange(width)
        mask = np.arange(width) < sz[:, None]
        buf[idx[mask]] = mat[mask]
        pos += sz
    return buf.tobytes()


@dataclass
class Encoded:
    """A table's rows already in COPY BINARY form (so encoding can run off the writing thread)."""

    names: list[str]
    chunks: list[bytes]
    rows: int


def encode_table(columns: dict[str, Col], chunk_rows: int = CHUNK_ROWS) -> Encoded:
    cols = list(columns.values())
    n = len(cols[0].values)
    chunks = []
    for start in range(0, n, chunk_rows):
        part = [
            Col(c.kind, c.values[start : start + chunk_rows], None if c.null is None else c.null[start : start + chunk_rows])
            for c in cols
        ]
        chunks.append(encode_rows(part))
    return Encoded(list(columns), chunks, n)


def copy_encoded(conn: psycopg.Connection, table: str, enc: Encoded) -> int:
    """COPY pre-encoded rows into schema-qualified ``table``; returns the number of rows written."""
    if enc.rows == 0:
        return 0
    schema, name = table.split(".")
    stmt = sql.SQL("copy {}.{} ({}) from stdin (format binary)").format(
        sql.Identifier(schema), sql.Identifier(name), sql.SQL(", ").join(map(sql.Identifier, enc.names))
    )
    with conn.cursor() as cur, cur.copy(stmt) as copy:
        copy.write(SIGNATURE)
        for chunk in enc.chunks:
            copy.write(chunk)
        copy.write(TRAILER)
    return enc.rows


def copy_columns(conn: psycopg.Connection, table: str, columns: dict[str, Col], chunk_rows: int = CHUNK_ROWS) -> int:
    """COPY the columns into schema-qualified ``table``; returns the number of rows written."""
    return copy_encoded(conn, table, encode_table(columns, chunk_rows))


def text_array(values: Iterable[str]) -> np.ndarray:
    """A numpy bytes array (UTF-8) from Python strings, for small lookup tables."""
    return np.array([s.encode("utf-8") for s in values], dtype="S")
