"""Hostile and careless provider input: every case is refused with a clear message (file, row or
column, a reason), quotes no value from the data, leaves nothing behind, and never lets an
identifier past the split. Cases that are well-formed (gzip, CRLF, quoted commas in names, a
BOM...) must split, and split correctly.

The base extract is 300 real synthetic EDDS rows written as CSV; each case changes it."""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from justicelink.crypto import load_recipient, open_sealed
from justicelink.formats import IDENTIFIERS_FILE_NAME, InputError, content_file_name
from justicelink.provider import split
from justicelink.specs import load_spec

HEADER = [
    "ATTENDANCE_ID", "NHS_NUMBER", "FORENAME", "SURNAME", "DOB", "SEX", "POSTCODE",
    "ADMIN_ARR_DT", "ARRIVAL_MODE", "DIAG_CD_1",
]  # fmt: skip
COL = {c: i for i, c in enumerate(HEADER)}
ROWS = 300


@pytest.fixture(scope="module")
def base_rows(world) -> list[list[str]]:
    table = pq.read_table(world.extracts["EDDS"] / "EDDS.parquet").slice(0, ROWS)
    rows = []
    for r in table.to_pylist():
        rows.append(["" if r[c] is None else str(r[c]) for c in HEADER])
    return rows


def _csv(rows: list[list[str]], header: list[str] | None = HEADER, eol: str = "\n") -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator=eol)
    if header is not None:
        w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _identifier_values(rows: list[list[str]]) -> set[str]:
    vals: set[str] = set()
    for r in rows:
        for c in ("NHS_NUMBER", "FORENAME", "SURNAME", "DOB", "POSTCODE", "ATTENDANCE_ID"):
            v = r[COL[c]].strip()
            if len(v) >= 4:
                vals.add(v.upper())
    return vals


def _set(rows: list[list[str]], row: int, col: str, value: str) -> list[list[str]]:
    """A copy of ``rows`` with data row ``row`` (1-based) column ``col`` set to ``value``."""
    out = [list(r) for r in rows]
    out[row - 1][COL[col]] = value
    return out


def _raw_line(rows: list[list[str]], row: int, line: str) -> bytes:
    """The CSV with data row ``row`` replaced by the raw text ``line`` (no quoting applied)."""
    lines = _csv(rows).decode().split("\n")
    lines[row] = line
    return "\n".join(lines).encode()


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[list[list[str]], Path], Path]  # builds the input, returns its path
    reason: str | None  # regex the refusal must match; None: the split must succeed
    row: int | None = None
    column: str | None = None
    spec: str = "EDDS"


def write(name: str = "EDDS.csv") -> Callable[[Callable[[list[list[str]]], bytes]], Callable]:
    def deco(fn: Callable[[list[list[str]]], bytes]) -> Callable[[list[list[str]], Path], Path]:
        def make(rows: list[list[str]], d: Path) -> Path:
            p = d / name
            p.write_bytes(fn(rows))
            return p

        return make

    return deco


def setv(row: int, col: str, value: str) -> Callable[[list[list[str]], Path], Path]:
    return write()(lambda rows: _csv(_set(rows, row, col, value)))


def line(row: int, text: Callable[[list[str]], str]) -> Callable[[list[list[str]], Path], Path]:
    return write()(lambda rows: _raw_line(rows, row, text(rows[row - 1])))


def _join(r: list[str], **changes: str) -> str:
    vals = [changes.get(c, r[COL[c]]) for c in HEADER]
    return ",".join(vals)


def _symlink_to(target: str) -> Callable[[list[list[str]], Path], Path]:
    def make(rows: list[list[str]], d: Path) -> Path:
        p = d / "EDDS.csv"
        p.symlink_to(target)
        return p

    return make


def _symlink_to_good(rows: list[list[str]], d: Path) -> Path:
    real = d / "real.csv"
    real.write_bytes(_csv(rows))
    p = d / "EDDS.csv"
    p.symlink_to(real)
    return p


def _fifo(rows: list[list[str]], d: Path) -> Path:
    p = d / "EDDS.csv"
    os.mkfifo(p)
    return p


def _folder_named_csv(rows: list[list[str]], d: Path) -> Path:
    p = d / "EDDS.csv"
    p.mkdir()
    return p


def _gzip(rows: list[list[str]], d: Path, name: str = "EDDS.csv.gz") -> Path:
    p = d / name
    p.write_bytes(gzip.compress(_csv(rows)))
    return p


def _gzip_truncated(rows: list[list[str]], d: Path) -> Path:
    p = d / "EDDS.csv.gz"
    data = gzip.compress(_csv(rows))
    p.write_bytes(data[: len(data) // 2])
    return p


def _parquet(rows: list[list[str]], d: Path, mutate: Callable[[pa.Table], pa.Table] | None = None):
    t = pa.table({c: [r[i] or None for r in rows] for i, c in enumerate(HEADER)})
    if mutate:
        t = mutate(t)
    p = d / "EDDS.parquet"
    pq.write_table(t, p)
    return p


def _parquet_truncated(rows: list[list[str]], d: Path) -> Path:
    p = _parquet(rows, d)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    return p


UNCLOSED_ROW = 31

CASES: list[Case] = [
    # --- quoting and structure (RFC 4180) ---
    Case(
        "unclosed quote in a content column (the red team's case)",
        line(UNCLOSED_ROW, lambda r: _join(r, DIAG_CD_1='"X')),
        r"never closed",
        UNCLOSED_ROW,
    ),
    Case(
        "unclosed quote in an identifier column",
        line(40, lambda r: _join(r, FORENAME='"MARI')),
        r"never closed|not followed",
        40,
    ),
    Case(
        "unclosed quote on the last row",
        line(ROWS, lambda r: _join(r, DIAG_CD_1='"07A')),
        r"never closed",
        ROWS,
    ),
    Case(
        "unclosed quote on the first row",
        line(1, lambda r: _join(r, SURNAME='"FOWLER')),
        r"never closed|not followed",
        1,
    ),
    Case(
        "quote inside an unquoted value",
        line(12, lambda r: _join(r, SURNAME='O"BRIEN')),
        r"quote inside an unquoted value",
        12,
    ),
    Case(
        "text after a closing quote",
        line(13, lambda r: _join(r, SURNAME='"OB"RIEN')),
        r"not followed by a delimiter",
        13,
    ),
    Case(
        "quoted comma in a content value (parsed, then refused by the spec)",
        setv(20, "DIAG_CD_1", "07,A"),
        r"longer than the spec allows|form the spec",
        20,
        "DIAG_CD_1",
    ),
    Case(
        "quoted newline in a content value (parsed, then refused: a control character)",
        setv(21, "DIAG_CD_1", "0\n7"),
        r"control",
        21,
        "DIAG_CD_1",
    ),
    Case("quoted comma in a surname is read correctly", setv(22, "SURNAME", "SMITH, JONES"), None),
    Case("doubled quotes in a surname are read correctly", setv(23, "SURNAME", 'O"BRIEN'), None),
    Case(
        "quoted newline in a surname is read as one row", setv(24, "SURNAME", "SMITH\nJONES"), None
    ),
    Case(
        "one row with an extra field",
        line(50, lambda r: _join(r) + ",EXTRA"),
        r"wrong number of fields: 11",
        50,
    ),
    Case(
        "one row with a field missing",
        line(51, lambda r: ",".join(r[:-1])),
        r"wrong number of fields: 9",
        51,
    ),
    Case(
        "a bare carriage return ends a line",
        write()(lambda rows: _csv(rows, eol="\r")),
        r"carriage return",
        0,
    ),
    Case("CRLF line endings are fine", write()(lambda rows: _csv(rows, eol="\r\n")), None),
    Case(
        "blank lines are skipped", write()(lambda rows: _csv(rows).replace(b"\n", b"\n\n", 5)), None
    ),
    Case("no newline after the last row", write()(lambda rows: _csv(rows).rstrip(b"\n")), None),
    Case("UTF-8 byte-order mark", write()(lambda rows: b"\xef\xbb\xbf" + _csv(rows)), None),
    Case(
        "NUL byte inside a content value",
        line(60, lambda r: _join(r, DIAG_CD_1="07\x00A")),
        r"NUL byte",
        60,
    ),
    Case(
        "NUL byte in the header",
        write()(lambda rows: _csv(rows).replace(b"SEX", b"S\x00X", 1)),
        r"NUL|header",
        0,
    ),
    Case(
        "random binary bytes",
        write()(lambda rows: bytes(range(256)) * 40),
        r"NUL|header|UTF-8|not a valid",
    ),
    # --- header ---
    Case(
        "header missing: the first line is data",
        write()(lambda rows: _csv(rows, header=None)),
        r"does not look like a header",
        0,
    ),
    Case(
        "header with lower-case names",
        write()(lambda rows: _csv(rows, [h.lower() for h in HEADER])),
        r"does not look like a header",
        0,
    ),
    Case(
        "a column renamed",
        write()(lambda rows: _csv(rows, [*HEADER[:-1], "DIAGNOSIS"])),
        r"missing columns \['DIAG_CD_1'\]; unexpected fields at positions \[10\]",
        0,
    ),
    Case(
        "a column missing",
        write()(lambda rows: _csv([r[:-1] for r in rows], HEADER[:-1])),
        r"missing columns \['DIAG_CD_1'\]",
        0,
    ),
    Case(
        "an extra column",
        write()(lambda rows: _csv([[*r, "x"] for r in rows], [*HEADER, "NOTES"])),
        r"unexpected fields at positions \[11\]",
        0,
    ),
    Case(
        "a repeated column",
        write()(lambda rows: _csv([[*r, r[0]] for r in rows], [*HEADER, "ATTENDANCE_ID"])),
        r"repeats a column",
        0,
    ),
    Case("empty file", write()(lambda rows: b""), r"empty"),
    Case("whitespace only", write()(lambda rows: b"  \n\n \n"), r"empty"),
    Case("header only", write()(lambda rows: _csv([])), r"header but no rows"),
    # --- files ---
    Case("symlink to a system file", _symlink_to("/etc/passwd"), r"symbolic link"),
    Case("symlink to a good extract", _symlink_to_good, r"symbolic link"),
    Case("a named pipe", _fifo, r"not a regular file"),
    Case("a folder named like the file", _folder_named_csv, r"no file for table|not a regular"),
    Case("gzip-compressed CSV is read as gzip", _gzip, None),
    Case(
        "gzip content under a .csv name is read as gzip",
        lambda rows, d: _gzip(rows, d, "EDDS.csv"),
        None,
    ),
    Case("truncated gzip", _gzip_truncated, r"gzip file is truncated or damaged"),
    Case(
        "a zip archive or spreadsheet",
        write()(lambda rows: b"PK\x03\x04" + b"\x00" * 200),
        r"zip archive or a spreadsheet",
    ),
    Case("Parquet extract is fine", _parquet, None),
    Case("truncated Parquet", _parquet_truncated, r"not a readable Parquet"),
    Case(
        "Parquet with an extra column (names not shown)",
        lambda rows, d: _parquet(rows, d, lambda t: t.append_column("SECRET_NOTES", t.column(1))),
        r"unexpected columns at positions \[11\] \(names not shown\)",
    ),
    # --- encodings ---
    Case(
        "Latin-1 bytes in a UTF-8 file",
        write()(
            lambda rows: _csv(_set(rows, 70, "FORENAME", "MARQX")).replace(b"MARQX", b"MAR\xe9")
        ),
        r"not valid UTF-8",
        70,
    ),
    # --- spec bounds on content ---
    Case("date of birth in 2099", setv(80, "DOB", "2099-01-01"), r"after the latest", 80, "DOB"),
    Case("date of birth in 1066", setv(81, "DOB", "1066-10-14"), r"before the earliest", 81, "DOB"),
    Case(
        "event dated in the future",
        setv(82, "ADMIN_ARR_DT", "2099-05-01"),
        r"after the latest",
        82,
        "ADMIN_ARR_DT",
    ),
    Case(
        "event date in the wrong format",
        setv(83, "ADMIN_ARR_DT", "01/05/2020"),
        r"not a valid date",
        83,
        "ADMIN_ARR_DT",
    ),
    Case("an impossible date", setv(84, "ADMIN_ARR_DT", "2020-02-30"), r"not a valid date", 84),
    Case("required event date missing", setv(85, "ADMIN_ARR_DT", ""), r"required value", 85),
    Case("a spreadsheet formula", setv(90, "DIAG_CD_1", "=1+1"), r"formula", 90, "DIAG_CD_1"),
    Case("a formula behind a space", setv(91, "DIAG_CD_1", " =HYPERLINK()"), r"formula", 91),
    Case("a formula behind a no-break space", setv(92, "DIAG_CD_1", "\u00a0=1"), r"formula", 92),
    Case("a formula behind a tab", setv(93, "DIAG_CD_1", "\t=1"), r"control|formula", 93),
    Case("a formula starting with @", setv(94, "DIAG_CD_1", "@SUM(1)"), r"formula", 94),
    Case("a formula starting with +", setv(95, "DIAG_CD_1", "+cmd"), r"formula", 95),
    Case("a formula starting with -", setv(96, "DIAG_CD_1", "-cmd"), r"formula", 96),
    Case(
        "a zero-width space in a content value",
        setv(97, "DIAG_CD_1", "07\u200bA"),
        r"control or invisible",
        97,
    ),
    Case(
        "a right-to-left override in a content value",
        setv(98, "DIAG_CD_1", "\u202e07A"),
        r"control or invisible",
        98,
    ),
    Case(
        "a content value longer than its spec",
        setv(100, "DIAG_CD_1", "07AB"),
        r"longer than the spec allows \(3",
        100,
        "DIAG_CD_1",
    ),
    Case("a content value not in its pattern", setv(101, "DIAG_CD_1", "ABC"), r"pattern", 101),
    Case(
        "an NHS number smuggled into a content value",
        setv(102, "DIAG_CD_1", "6285207690"),
        r"longer than the spec|pattern",
        102,
    ),
    Case(
        "a whole row smuggled into a content value",
        setv(103, "DIAG_CD_1", "E1,6285207690,MARI,FOWLER,1950-01-05,F,SY8 7RG"),
        r"longer than the spec|pattern",
        103,
    ),
    Case(
        "a code not in the code list",
        setv(104, "ARRIVAL_MODE", "3"),
        r"code list",
        104,
        "ARRIVAL_MODE",
    ),
    Case("a monstrous field", setv(105, "SURNAME", "A" * 70_000), r"longer than 65,536", 105),
    Case(
        "a duplicate unique key",
        write()(lambda rows: _csv(_set(rows, 106, "ATTENDANCE_ID", rows[0][0]))),
        r"duplicate value of a unique native key",
        None,
        "ATTENDANCE_ID",
    ),
    Case("an unknown sex code", setv(107, "SEX", "Q"), r"sex code not recognised", 107, "SEX"),
]
# decimals: a birth weight of inf or nan (NCCH)


# the NCCH births the decimal cases start from (set once per module by ``_ncch_source``)
_NCCH: dict[str, pa.Table] = {}


@pytest.fixture(scope="module", autouse=True)
def _ncch_source(world) -> None:
    _NCCH["births"] = pq.read_table(world.extracts["NCCH"] / "CHILD_BIRTHS.parquet").slice(0, 50)


def _ncch_csv(d: Path, column: str, row: int, value: str) -> Path:
    """The NCCH births as CSV, with data row ``row`` (1-based) of ``column`` set to ``value``."""
    src = _NCCH["births"]
    cols = {c: [None if v is None else str(v) for v in src.column(c).to_pylist()]
            for c in src.column_names}  # fmt: skip
    cols[column][row - 1] = value
    p = d / "CHILD_BIRTHS.csv"
    pacsv.write_csv(pa.table(cols), p)
    return p


def _ncch(value: str) -> Callable[[list[list[str]], Path], Path]:
    return lambda rows, d: _ncch_csv(d, "BIRTH_WEIGHT", 10, value)


CASES += [
    Case("birth weight of inf", _ncch("inf"), r"not a finite number", 10, "BIRTH_WEIGHT", "NCCH"),
    Case("birth weight of nan", _ncch("nan"), r"not a finite number", 10, "BIRTH_WEIGHT", "NCCH"),
]


def _split(zones, spec: str, src: Path, out: Path):
    return split(
        load_spec(spec),
        src,
        out,
        linkage_recipient=load_recipient(zones["linkage"].recipient),
        bank_recipient=load_recipient(zones["bank"].recipient),
        provider_key=zones["provider"].prf_key(),
    )


def test_the_suite_is_large_enough() -> None:
    assert len(CASES) >= 60
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_input(case: Case, world, base_rows, zones, tmp_path: Path) -> None:
    d = tmp_path / "in"
    d.mkdir()
    src = case.make(base_rows, d)
    out = tmp_path / "outbox" / "sub"
    before = sorted(p.name for p in d.iterdir())
    if case.reason is None:
        res = _split(zones, case.spec, src, out)
        _, ids = open_sealed(out / "linkage", zones["linkage"].identity(), "linkage",
                             kind="identifiers")  # fmt: skip
        _, content = open_sealed(out / "bank", zones["bank"].identity(), "bank", kind="content")
        edds = content[content_file_name("EDDS")]
        assert edds.num_rows == ROWS == res.identifiers_rows
        # every content value is one the extract had in that column: no row spilled into another
        diag = set(edds.column("DIAG_CD_1").to_pylist())
        assert diag <= {r[COL["DIAG_CD_1"]] or None for r in base_rows}
        surnames = set(ids[IDENTIFIERS_FILE_NAME].column("surname").to_pylist())
        assert "SMITH JONES" in surnames or "OBRIEN" in surnames or len(surnames) > 10
        return
    with pytest.raises(InputError) as info:
        _split(zones, case.spec, src, out)
    message = str(info.value)
    assert re.search(case.reason, message), message
    if case.row is not None:
        assert info.value.row == case.row, message
    if case.column is not None:
        assert info.value.column == case.column, message
    # no value of the extract in the message (the file name is the only thing quoted)
    text = message.replace(str(src), "FILE").upper()
    leaked = {v for v in _identifier_values(base_rows) if v in text}
    assert not leaked, f"refusal quotes data: {message}"
    assert "ROOT:" not in text and "/BIN/" not in text  # nothing of a linked system file
    # nothing left behind: no output, no temporary, the input folder unchanged
    assert not out.exists()
    assert not (out.parent.exists() and any(out.parent.iterdir()))
    assert sorted(p.name for p in d.iterdir()) == before


def test_unclosed_quote_never_carries_identifiers(world, base_rows, zones, tmp_path) -> None:
    """The red team's case end to end: the split refuses, so nothing can reach the bank."""
    d = tmp_path / "in"
    d.mkdir()
    src = line(UNCLOSED_ROW, lambda r: _join(r, DIAG_CD_1='"X'))(base_rows, d)
    with pytest.raises(InputError, match=f"row {UNCLOSED_ROW}: a quoted value"):
        _split(zones, "EDDS", src, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_dob_after_the_event_is_reported(world, base_rows, zones, tmp_path) -> None:
    d = tmp_path / "in"
    d.mkdir()
    src = setv(110, "DOB", "2024-12-30")(_set(base_rows, 110, "ADMIN_ARR_DT", "2020-01-01"), d)
    res = _split(zones, "EDDS", src, tmp_path / "out")
    assert res.report["tables"]["EDDS"]["columns"]["ADMIN_ARR_DT"]["before_DOB"] >= 1
    assert any("ADMIN_ARR_DT is before DOB" in w for w in res.report["warnings"])
    assert not any("2024-12-30" in w for w in res.report["warnings"])


def test_stale_spill_of_a_killed_split_is_cleaned(world, base_rows, zones, tmp_path) -> None:
    """A split killed mid-way leaves its spill folder; the next split removes it (its lock is
    free), but never a spill another split is still using."""
    import fcntl

    outbox = tmp_path / "outbox"
    outbox.mkdir()
    dead = outbox / ".tmp-split-spill-deadbeef"
    dead.mkdir()
    (dead / "spill.bin").write_bytes(b"x" * 1000)
    (outbox / ".tmp-split-spill-deadbeef.lock").write_text("")
    live = outbox / ".tmp-split-spill-0badcafe"
    live.mkdir()
    fd = os.open(outbox / ".tmp-split-spill-0badcafe.lock", os.O_CREAT | os.O_WRONLY, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        d = tmp_path / "in"
        d.mkdir()
        src = write()(lambda rows: _csv(rows))(base_rows, d)
        _split(zones, "EDDS", src, outbox / "sub")
        assert not dead.exists()
        assert live.exists()
    finally:
        os.close(fd)


def _cli_split(zones, src: Path, out: Path):
    from typer.testing import CliRunner

    from justicelink.cli import app

    return CliRunner().invoke(
        app,
        ["provider", "split", "--spec", "EDDS", "--input", str(src), "--out", str(out),
         "--linkage-recipient", zones["linkage"].recipient,
         "--bank-recipient", zones["bank"].recipient,
         "--provider-dir", str(zones["provider"].folder.parent)],
    )  # fmt: skip


@pytest.mark.parametrize("out", ["/proc/x", "/proc/self/x", "/dev/null/x"])
def test_an_output_folder_that_cannot_be_written(out, base_rows, zones, tmp_path) -> None:
    """An --out under /proc (or below a device) is a clean refusal (exit 2), no traceback."""
    d = tmp_path / "in"
    d.mkdir()
    src = write()(lambda rows: _csv(rows))(base_rows, d)
    res = _cli_split(zones, src, Path(out))
    assert res.exit_code == 2, res.output
    assert "cannot write the output folder" in res.output
    assert "Traceback" not in res.output


def test_cli_split_prints_warnings_and_refusals_without_values(base_rows, zones, tmp_path) -> None:
    d = tmp_path / "in"
    d.mkdir()
    rows = _set(_set(base_rows, 110, "DOB", "2024-12-30"), 110, "ADMIN_ARR_DT", "2020-01-01")
    src = write()(lambda _: _csv(rows))(base_rows, d)
    ok = _cli_split(zones, src, tmp_path / "ok")
    assert ok.exit_code == 0, ok.output
    assert "warning: EDDS: 1 row(s) where ADMIN_ARR_DT is before DOB" in ok.output
    bad = write("EDDS.csv")(lambda _: _csv(base_rows, header=None))
    (d / "EDDS.csv").unlink()
    res = _cli_split(zones, bad(base_rows, d), tmp_path / "bad")
    assert res.exit_code == 2 and "does not look like a header" in res.output
    assert not {v for v in _identifier_values(base_rows) if v in res.output.upper()}


REORDERED = ["ADMIN_ARR_DT", *[h for h in HEADER if h not in ("ADMIN_ARR_DT", "DOB")], "DOB"]


@pytest.mark.parametrize(
    "name,encoding,bom",
    [
        ("ADMIN_ARR_DT ", "utf-8", b""),  # a trailing space on a header name
        ("ADMIN_ARR_DT\u00a0", "utf-8", b""),  # a trailing no-break space
        (" ADMIN_ARR_DT", "utf-8", b""),
        ("ADMIN_ARR_DT", "latin-1", b"\xef\xbb\xbf"),  # a UTF-8 BOM under another encoding
        ("ADMIN_ARR_DT", "cp1252", b"\xef\xbb\xbf"),
    ],
)
def test_a_padded_header_never_shifts_a_column(name, encoding, bom, base_rows, zones, tmp_path):
    """Red team F1/F2: pyarrow named the column by the raw header (padded, or with the BOM
    decoded as text), the lookup missed, and the last column (DOB) was read as the event date.
    Columns are named by the checked header, by position."""
    d = tmp_path / "in"
    d.mkdir()
    header = [name if h == "ADMIN_ARR_DT" else h for h in REORDERED]
    rows = [[r[COL[h]] for h in REORDERED] for r in base_rows]
    (d / "EDDS.csv").write_bytes(bom + _csv(rows, header).decode().encode(encoding))
    split(
        load_spec("EDDS"), d / "EDDS.csv", tmp_path / "out",
        linkage_recipient=load_recipient(zones["linkage"].recipient),
        bank_recipient=load_recipient(zones["bank"].recipient),
        provider_key=zones["provider"].prf_key(), encoding=encoding,
    )  # fmt: skip
    _, content = open_sealed(tmp_path / "out" / "bank", zones["bank"].identity(), "bank",
                             kind="content")  # fmt: skip
    got = [str(v) for v in content[content_file_name("EDDS")].column("ADMIN_ARR_DT").to_pylist()]
    assert got == [r[COL["ADMIN_ARR_DT"]] for r in base_rows]


@pytest.mark.parametrize("delimiter", [",,", '"', "\n", "\r", "é"])
def test_a_bad_delimiter_is_refused(delimiter, base_rows, zones, tmp_path) -> None:
    d = tmp_path / "in"
    d.mkdir()
    (d / "EDDS.csv").write_bytes(_csv(base_rows))
    with pytest.raises(InputError, match="the delimiter must be one ASCII character"):
        split(
            load_spec("EDDS"), d / "EDDS.csv", tmp_path / "out",
            linkage_recipient=load_recipient(zones["linkage"].recipient),
            bank_recipient=load_recipient(zones["bank"].recipient),
            provider_key=zones["provider"].prf_key(), delimiter=delimiter,
        )  # fmt: skip


def test_parquet_with_nested_or_repeated_columns_is_refused(base_rows, zones, tmp_path) -> None:
    d = tmp_path / "in"
    d.mkdir()

    def nested(t: pa.Table) -> pa.Table:
        i = t.column_names.index("DIAG_CD_1")
        return t.set_column(i, "DIAG_CD_1", pa.array([[v] for v in t.column(i).to_pylist()]))

    src = _parquet(base_rows, d, nested)
    with pytest.raises(InputError, match=r"columns \['DIAG_CD_1'\] hold lists") as info:
        _split(zones, "EDDS", src, tmp_path / "out")
    assert "Traceback" not in str(info.value)


OWN_SPEC = """
dataset = "OWN"
title = "A person table with a free label"
provider = "test"
version = "1"
[[tables]]
name = "OWN"
columns = [
  { name = "REC_ID", class = "native_key", type = "string", required = true, unique = true },
  { name = "NHS_NUMBER", class = "identifier", role = "nhs_number", type = "string" },
  { name = "FORENAME", class = "identifier", role = "forename", type = "string" },
  { name = "SURNAME", class = "identifier", role = "surname", type = "string" },
  { name = "DOB", class = "identifier", role = "dob", type = "date" },
  { name = "POSTCODE", class = "identifier", role = "postcode", type = "string" },
  { name = "NOTE", class = "content", type = "string", pattern = "label", max_length = 100 },
]
"""


@pytest.mark.parametrize(
    "note",
    [
        "seen with MARI FOWLER",  # the row's own full name
        "ref 628-520-7690",  # its NHS number, dashed
        "from SY87RG",  # its postcode, compact
        "born 05/01/1950",  # its date of birth, another format
    ],
)
def test_a_content_value_holding_its_own_rows_identifiers_is_refused(note, zones, tmp_path):
    """A free label that passes its pattern but carries the row's own identifiers (red team F4)
    is refused at the split, naming row and column, quoting nothing."""
    spec_file = tmp_path / "own.toml"
    spec_file.write_text(OWN_SPEC)
    rows = [
        ["R1", "6285207690", "MARI", "FOWLER", "1950-01-05", "SY8 7RG", "Cardiff court"],
        ["R2", "6285207690", "MARI", "FOWLER", "1950-01-05", "SY8 7RG", note],
    ]
    d = tmp_path / "in"
    d.mkdir()
    header = ["REC_ID", "NHS_NUMBER", "FORENAME", "SURNAME", "DOB", "POSTCODE", "NOTE"]
    (d / "OWN.csv").write_bytes(_csv(rows, header))
    with pytest.raises(InputError, match="holds this row's own identifiers") as info:
        split(
            load_spec(spec_file), d / "OWN.csv", tmp_path / "out",
            linkage_recipient=load_recipient(zones["linkage"].recipient),
            bank_recipient=load_recipient(zones["bank"].recipient),
            provider_key=zones["provider"].prf_key(),
        )  # fmt: skip
    assert (info.value.row, info.value.column) == (2, "NOTE")
    assert "FOWLER" not in str(info.value) and "6285207690" not in str(info.value)
    assert not (tmp_path / "out").exists()


def test_an_nhs_number_in_a_number_column_is_refused(world, zones, tmp_path) -> None:
    """Red team F3: a number column carried NHS numbers; numbers are bounded by their spec."""
    d = tmp_path / "in"
    d.mkdir()
    _ncch_csv(d, "GEST_AGE", 5, "6285207690")
    with pytest.raises(InputError, match=r"above the spec's maximum \(45\)") as info:
        _split(zones, "NCCH", d / "CHILD_BIRTHS.csv", tmp_path / "out")
    assert (info.value.row, info.value.column) == (5, "GEST_AGE")
