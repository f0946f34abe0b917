"""Sealed folders: Parquet tables plus a manifest, each file age-encrypted to one recipient.

The writer records row counts and SHA-256 of every plaintext and ciphertext in the manifest; the
reader refuses a folder whose files are missing, damaged, tampered with or encrypted for someone
else. Plaintext exists only in memory.
"""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pyrage

from justicelink.crypto.age import decrypt_bytes, encrypt_bytes
from justicelink.formats import (
    MANIFEST_NAME,
    FileEntry,
    InputError,
    Manifest,
    RefusedError,
    sha256_bytes,
)


def table_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue().to_pybytes()


def seal_folder(
    folder: Path,
    manifest: Manifest,
    tables: dict[str, tuple[str, pa.Table]],
    recipient: pyrage.x25519.Recipient,
) -> Manifest:
    """Write ``tables`` (file name -> (table name, data)) and the manifest into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for name, (table_name, table) in tables.items():
        plain = table_bytes(table)
        cipher = encrypt_bytes(plain, recipient)
        (folder / name).write_bytes(cipher)
        entries.append(
            FileEntry(
                name=name,
                table=table_name,
                rows=table.num_rows,
                columns=list(table.column_names),
                sha256_plain=sha256_bytes(plain),
                sha256_cipher=sha256_bytes(cipher),
            )
        )
    final = replace(manifest, files=entries)
    (folder / MANIFEST_NAME).write_bytes(encrypt_bytes(final.to_json(), recipient))
    return final


def seal_buffers(
    folder: Path,
    manifest: Manifest,
    files: dict[str, tuple[str, int, list[str], pa.Buffer]],
    recipient: pyrage.x25519.Recipient,
) -> Manifest:
    """Like ``seal_folder`` for Parquet already written to in-memory buffers.

    ``files``: file name -> (table name, rows, columns, buffer). Encryption streams from the
    buffer to the file, so memory holds one copy of each plaintext at most.
    """
    import hashlib

    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for name, (table_name, rows, columns, buf) in files.items():
        plain_sha = hashlib.sha256(memoryview(buf)).hexdigest()
        with open(folder / name, "wb") as out:
            pyrage.encrypt_io(pa.BufferReader(buf), out, [recipient])
        h = hashlib.sha256()
        with open(folder / name, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        entries.append(FileEntry(name, table_name, rows, columns, plain_sha, h.hexdigest()))
    final = replace(manifest, files=entries)
    (folder / MANIFEST_NAME).write_bytes(encrypt_bytes(final.to_json(), recipient))
    return final


def open_manifest(folder: Path, identity: pyrage.x25519.Identity, zone: str) -> Manifest:
    path = Path(folder) / MANIFEST_NAME
    if not path.is_file():
        raise InputError("no manifest: this is not a submission folder", file=str(path))
    plain = decrypt_bytes(path.read_bytes(), identity, source=str(path), zone=zone)
    return Manifest.from_json(plain, source=str(path))


def open_sealed(
    folder: Path, identity: pyrage.x25519.Identity, zone: str, *, kind: str
) -> tuple[Manifest, dict[str, pa.Table]]:
    """Decrypt and verify every file of a sealed folder; return the manifest and the tables."""
    folder = Path(folder)
    manifest = open_manifest(folder, identity, zone)
    if manifest.kind != kind:
        raise RefusedError(
            f"{folder}: this folder holds a {manifest.kind!r} submission, not {kind!r}"
        )
    if manifest.recipient_zone != zone:
        raise RefusedError(f"{folder}: addressed to the {manifest.recipient_zone} zone, not {zone}")
    tables: dict[str, pa.Table] = {}
    for entry in manifest.files:
        path = folder / entry.name
        if not path.is_file():
            raise InputError("listed in the manifest but missing", file=str(path))
        cipher = path.read_bytes()
        if sha256_bytes(cipher) != entry.sha256_cipher:
            raise RefusedError(f"{path}: ciphertext checksum differs from the manifest; refused")
        plain = decrypt_bytes(cipher, identity, source=str(path), zone=zone)
        if sha256_bytes(plain) != entry.sha256_plain:
            raise RefusedError(f"{path}: plaintext checksum differs from the manifest; refused")
        table = pq.read_table(io.BytesIO(plain))
        if table.num_rows != entry.rows:
            raise RefusedError(
                f"{path}: {table.num_rows} rows but the manifest says {entry.rows}; refused"
            )
        if list(table.column_names) != entry.columns:
            raise RefusedError(f"{path}: columns differ from the manifest; refused")
        tables[entry.name] = table
    return manifest, tables
