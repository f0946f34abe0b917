"""Shared cryptography: age file encryption and the keyed PRF used for every pseudonym."""

from justicelink.crypto.age import (
    decrypt_bytes,
    encrypt_bytes,
    encrypt_file_to,
    load_recipient,
)
from justicelink.crypto.intprf import IntPRF, int_prf_python
from justicelink.crypto.keys import ZoneKeys
from justicelink.crypto.prf import (
    PRF_MASK,
    check_no_collisions,
    prf_python,
    prf_sql,
    random_ids,
    refuse_if_collided,
)
from justicelink.crypto.sealed import (
    open_manifest,
    open_sealed,
    seal_buffers,
    seal_folder,
    table_bytes,
)

__all__ = [
    "PRF_MASK",
    "IntPRF",
    "ZoneKeys",
    "check_no_collisions",
    "decrypt_bytes",
    "encrypt_bytes",
    "encrypt_file_to",
    "int_prf_python",
    "load_recipient",
    "open_manifest",
    "open_sealed",
    "prf_python",
    "prf_sql",
    "random_ids",
    "refuse_if_collided",
    "seal_buffers",
    "seal_folder",
    "table_bytes",
]
