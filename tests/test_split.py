"""Provider split: round trip, separation of identifiers and content, stable native keys, and
every kind of bad input refused with file/row/column, no value echoed, nothing left behind."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from justicelink.crypto import load_recipient, open_sealed
from justicelink.formats import IDENTIFIERS_FILE_NAME, InputError, RefusedError, content_file_name
from justicelink.provider import split
from justicelink.specs import load_spec


def _split(zones, src: Path, out: Path, spec: str = "CAFW", **kw):
    return split(
        load_spec(spec),
        src,
        out,
        linkage_recipient=load_recipient(zones["linkage"].recipient),
        bank_recipient=load_recipient(zones["bank"].recipient),
        provider_key=zones["provider"].prf_key(),
        **kw,
    )


def test_round_trip_counts_and_columns(world, zones, tmp_path: Path) -> None:
    res = _split(zones, world.extracts["CAFW"], tmp_path / "out")
    spec = load_spec("CAFW")
    _, ids = open_sealed(
        tmp_path / "out" / "linkage", zones["linkage"].identity(), "linkage", kind="identifiers"
    )
    _, content = open_sealed(
        tmp_path / "out" / "bank", zones["bank"].identity(), "bank", kind="content"
    )
    raw = {t.name: pacsv.read_csv(world.extracts["CAFW"] / f"{t.name}.csv") for t in spec.tables}
    assert (
        ids[IDENTIFIERS_FILE_NAME].num_rows
        == raw["CAFCASS_PERSON"].num_rows
        == res.identifiers_rows
    )
    for t in spec.tables:
        got = content[content_file_name(t.bank_table)]
        assert got.num_rows == raw[t.name].num_rows
        identifiers = {c.name for c in t.by_class("identifier")} | {
            c.name for c in t.by_class("drop")
        }
        assert not identifiers & set(got.column_names), (
            "an identifier or dropped column reached content"
        )
    id_cols = set(ids[IDENTIFIERS_FILE_NAME].column_names)
    assert id_cols == {
        "system_id",
        "nhs_number",
        "forename",
        "surname",
        "dob",
        "sex",
        "postcode",
        "source_table",
    }
    # SYSTEM_IDs tie the two files together one to one
    person = content[content_file_name("CAFCASS_ALF")]
    assert sorted(person.column("SYSTEM_ID").to_pylist()) == sorted(
        ids[IDENTIFIERS_FILE_NAME].column("system_id").to_pylist()
    )


def test_identifiers_are_normalised(world, zones, tmp_path: Path) -> None:
    _split(zones, world.extracts["CAFW"], tmp_path / "out")
    _, ids = open_sealed(
        tmp_path / "out" / "linkage", zones["linkage"].identity(), "linkage", kind="identifiers"
    )
    t = ids[IDENTIFIERS_FILE_NAME].to_pydict()
    assert all(v is None or (len(v) == 10 and v.isdigit()) for v in t["nhs_number"])
    assert all(v is None or (v == v.upper() and " " in v) for v in t["postcode"])
    assert set(t["sex"]) <= {1, 2, 9}


def test_native_keys_are_stable_and_not_raw(world, zones, tmp_path: Path) -> None:
    src = world.extracts["CAFW"]
    _split(zones, src, tmp_path / "a")
    # a second, overlapping extract: first half of the applications only
    part = tmp_path / "part"
    shutil.copytree(src, part)
    app = pacsv.read_csv(
        src / "CAFCASS_APPLICATION.csv",
        convert_options=pacsv.ConvertOptions(strings_can_be_null=True),
    )
    pacsv.write_csv(app.slice(0, app.num_rows // 2), part / "CAFCASS_APPLICATION.csv")
    _split(zones, part, tmp_path / "b")
    ident = zones["bank"].identity()
    _, a = open_sealed(tmp_path / "a" / "bank", ident, "bank", kind="content")
    _, b = open_sealed(tmp_path / "b" / "bank", ident, "bank", kind="content")
    ka = a[content_file_name("CAFCASS_APPLICATION")].column("CAP_APPLICATIONID_E").to_pylist()
    kb = b[content_file_name("CAFCASS_APPLICATION")].column("CAP_APPLICATIONID_E").to_pylist()
    assert kb == ka[: len(kb)]
    raw_ids = set(app.column("CAP_APPLICATIONID").to_pylist())
    assert not {str(k) for k in ka} & raw_ids
    # SYSTEM_IDs are fresh in every split
    sa = set(a[content_file_name("CAFCASS_ALF")].column("SYSTEM_ID").to_pylist())
    sb = set(b[content_file_name("CAFCASS_ALF")].column("SYSTEM_ID").to_pylist())
    assert not sa & sb


def test_wrong_zone_cannot_read(world, zones, tmp_path: Path) -> None:
    _split(zones, world.extracts["CAFW"], tmp_path / "out")
    with pytest.raises(RefusedError, match="cannot be decrypted with the linkage zone's key"):
        open_sealed(
            tmp_path / "out" / "bank", zones["linkage"].identity(), "linkage", kind="content"
        )


def test_tampered_ciphertext_is_refused(world, zones, tmp_path: Path) -> None:
    _split(zones, world.extracts["CAFW"], tmp_path / "out")
    f = tmp_path / "out" / "bank" / content_file_name("CAFCASS_APPLICATION")
    data = bytearray(f.read_bytes())
    data[-20] ^= 0x01
    f.write_bytes(bytes(data))
    with pytest.raises(RefusedError, match="checksum"):
        open_sealed(tmp_path / "out" / "bank", zones["bank"].identity(), "bank", kind="content")


# --- bad input -------------------------------------------------------------------------------

SECRET = "ZZSECRETVALUEZZ"


def _bad_person_csv(tmp_path: Path, world, edit) -> Path:
    src = tmp_path / "src"
    shutil.copytree(world.extracts["CAFW"], src)
    path = src / "CAFCASS_PERSON.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    edit(lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return src


def _set_field(lines: list[str], row: int, col: int, value: str) -> None:
    fields = lines[row].split(",")
    fields[col] = value
    lines[row] = ",".join(fields)


CASES = {
    "unparseable date": (
        lambda L: _set_field(L, 3, 4, '"31/02/2010x"'),
        3,
        "DOB",
        "not a valid date",
    ),
    "code outside list": (
        lambda L: _set_field(L, 5, 7, f'"{SECRET}"'),
        5,
        "ETHNICITY",
        "code list",
    ),
    # a coded column admits only its codes, so a formula is refused as off the list
    "formula injection": (
        lambda L: _set_field(L, 2, 7, '"=HYPERLINK(1)"'),
        2,
        "ETHNICITY",
        "code list",
    ),
    "duplicate native key": (lambda L: L.__setitem__(4, L[3]), 4, "PERSON_ID", "duplicate"),
    "missing required": (lambda L: _set_field(L, 6, 0, '""'), 6, "PERSON_ID", "required"),
    "bad sex code": (lambda L: _set_field(L, 7, 5, f'"{SECRET}"'), 7, "SEX", "sex code"),
    "huge field": (
        lambda L: _set_field(L, 8, 8, '"' + "x" * 10_000_000 + '"'),
        8,
        "NOTES",
        "longer than",
    ),
    "wrong field count": (
        lambda L: L.__setitem__(9, L[9] + ',"extra"'),
        9,
        None,
        "number of fields",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_refused_clearly(case: str, world, zones, tmp_path: Path) -> None:
    edit, row, column, reason = CASES[case]
    src = _bad_person_csv(tmp_path, world, edit)
    out = tmp_path / "out"
    with pytest.raises(InputError) as info:
        _split(zones, src, out)
    err = info.value
    assert err.file and err.file.endswith("CAFCASS_PERSON.csv")
    assert err.row == row
    assert err.column == column
    assert reason in err.reason
    assert SECRET not in str(err)
    assert not out.exists(), "a failed split left files behind"


def test_huge_field_in_content_column(world, zones, tmp_path: Path) -> None:
    src = _bad_person_csv(
        tmp_path, world, lambda L: _set_field(L, 8, 7, '"' + "W" * 10_000_000 + '"')
    )
    with pytest.raises(InputError) as info:
        _split(zones, src, tmp_path / "out")
    assert (info.value.row, info.value.column) == (8, "ETHNICITY")
    assert "longer than" in info.value.reason
    assert not (tmp_path / "out").exists()


def test_missing_and_extra_columns(world, zones, tmp_path: Path) -> None:
    src = _bad_person_csv(
        tmp_path, world, lambda L: L.__setitem__(0, L[0].replace('"ETHNICITY"', '"ETHNIC"'))
    )
    with pytest.raises(
        InputError, match=r"missing columns \['ETHNICITY'\]; unexpected fields at positions \[8\]"
    ) as info:
        _split(zones, src, tmp_path / "out")
    assert info.value.row == 0
    assert not (tmp_path / "out").exists()


def test_wrong_encoding(world, zones, tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(world.extracts["CAFW"], src)
    path = src / "CAFCASS_PERSON.csv"
    lines = path.read_text().splitlines()
    _set_field(lines, 4, 7, '"Gwyn\u00e2"')  # an accented letter, written in cp1252
    path.write_bytes(("\n".join(lines) + "\n").encode("cp1252"))
    with pytest.raises(InputError, match="not valid UTF-8") as info:
        _split(zones, src, tmp_path / "out")
    assert info.value.row == 4
    # declared correctly, the same bytes are read (and then refused only for the code list)
    with pytest.raises(InputError, match="code list") as info:
        _split(zones, src, tmp_path / "out2", encoding="cp1252")
    assert (info.value.row, info.value.column) == (4, "ETHNICITY")


def test_bom_and_latin1_are_accepted(world, zones, tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(world.extracts["CAFW"], src)
    p = src / "CAFCASS_INCIDENT.csv"
    p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes())
    _split(zones, src, tmp_path / "out")


def test_empty_file(world, zones, tmp_path: Path) -> None:
    src = _bad_person_csv(tmp_path, world, lambda L: L.clear())
    with pytest.raises(InputError, match="empty"):
        _split(zones, src, tmp_path / "out")
    src2 = _bad_person_csv(tmp_path / "x", world, lambda L: L.__delitem__(slice(1, None)))
    with pytest.raises(InputError, match="no rows"):
        _split(zones, src2, tmp_path / "out")


def test_truncated_parquet(world, zones, tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(world.extracts["NCCH"], src)
    _split(zones, src, tmp_path / "ok", spec="NCCH")  # the whole Parquet file is fine
    data = (src / "CHILD_BIRTHS.parquet").read_bytes()
    (src / "CHILD_BIRTHS.parquet").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="truncated or damaged") as info:
        _split(zones, src, tmp_path / "out", spec="NCCH")
    assert info.value.file.endswith("CHILD_BIRTHS.parquet")
    assert not (tmp_path / "out").exists()


def test_csv_and_parquet_inputs_split_alike(world, zones, tmp_path: Path) -> None:
    """The same extract as CSV and as Parquet gives the same content (apart from fresh ids)."""
    src = tmp_path / "csv"
    src.mkdir()
    table = pq.read_table(world.extracts["NCCH"] / "CHILD_BIRTHS.parquet")
    pacsv.write_csv(table, src / "CHILD_BIRTHS.csv")
    _split(zones, src, tmp_path / "a", spec="NCCH")
    _split(zones, world.extracts["NCCH"], tmp_path / "b", spec="NCCH")
    ident = zones["bank"].identity()
    _, a = open_sealed(tmp_path / "a" / "bank", ident, "bank", kind="content")
    _, b = open_sealed(tmp_path / "b" / "bank", ident, "bank", kind="content")
    ta = a[content_file_name("CHILD_BIRTHS")].drop_columns(["SYSTEM_ID", "MAT_SYSTEM_ID"])
    tb = b[content_file_name("CHILD_BIRTHS")].drop_columns(["SYSTEM_ID", "MAT_SYSTEM_ID"])
    assert ta.equals(tb)


def test_existing_output_is_not_overwritten(world, zones, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(InputError, match="already exists"):
        _split(zones, world.extracts["CAFW"], out)
    assert (out / "keep.txt").read_text() == "mine"


def test_batches_give_the_same_result(world, zones, tmp_path: Path) -> None:
    """Streaming in small batches changes nothing but the fresh SYSTEM_IDs."""
    _split(zones, world.extracts["CAFW"], tmp_path / "big")
    _split(zones, world.extracts["CAFW"], tmp_path / "small", batch_rows=50)
    ident = zones["bank"].identity()
    _, a = open_sealed(tmp_path / "big" / "bank", ident, "bank", kind="content")
    _, b = open_sealed(tmp_path / "small" / "bank", ident, "bank", kind="content")
    for name in a:
        ta, tb = a[name], b[name]
        if "SYSTEM_ID" in ta.column_names:
            ta, tb = ta.drop_columns(["SYSTEM_ID"]), tb.drop_columns(["SYSTEM_ID"])
        assert ta.equals(tb), name
    ra = json.loads((tmp_path / "big" / "validation-report.json").read_text())
    rb = json.loads((tmp_path / "small" / "validation-report.json").read_text())
    assert ra["tables"] == rb["tables"]


def test_errors_in_later_batches_name_the_right_row(world, zones, tmp_path: Path) -> None:
    n = len((world.extracts["CAFW"] / "CAFCASS_PERSON.csv").read_text().splitlines()) - 1
    late = n - 3
    src = _bad_person_csv(tmp_path, world, lambda L: L.__setitem__(late, L[5]))
    with pytest.raises(InputError) as info:
        _split(zones, src, tmp_path / "out", batch_rows=50)
    assert (info.value.row, info.value.column) == (late, "PERSON_ID")
    assert "duplicate" in info.value.reason
    src2 = _bad_person_csv(tmp_path / "b", world, lambda L: _set_field(L, late, 7, '"Purple"'))
    with pytest.raises(InputError) as info:
        _split(zones, src2, tmp_path / "out", batch_rows=50)
    assert (info.value.row, info.value.column) == (late, "ETHNICITY")
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".tmp-*")), "spill or staging files were left behind"


def test_manifest_counts_and_checksums_must_agree(world, zones, tmp_path: Path) -> None:
    from dataclasses import replace

    from justicelink.crypto import encrypt_bytes, open_manifest
    from justicelink.formats import MANIFEST_NAME, RefusedError

    _split(zones, world.extracts["CAFW"], tmp_path / "out")
    folder = tmp_path / "out" / "bank"
    ident, rec = zones["bank"].identity(), load_recipient(zones["bank"].recipient)
    m = open_manifest(folder, ident, "bank")
    for change, message in (
        (lambda e: replace(e, rows=e.rows + 1), "rows but the manifest says"),
        (lambda e: replace(e, sha256_plain="0" * 64), "plaintext checksum"),
    ):
        files = [change(e) if i == 0 else e for i, e in enumerate(m.files)]
        (folder / MANIFEST_NAME).write_bytes(encrypt_bytes(replace(m, files=files).to_json(), rec))
        with pytest.raises(RefusedError, match=message):
            open_sealed(folder, ident, "bank", kind="content")
    (folder / m.files[0].name).unlink()
    (folder / MANIFEST_NAME).write_bytes(encrypt_bytes(m.to_json(), rec))
    with pytest.raises(InputError, match="missing"):
        open_sealed(folder, ident, "bank", kind="content")


def test_declared_delimiter_and_utf16(world, zones, tmp_path: Path) -> None:
    """The same extract written with ';' in UTF-16 splits to the same content."""
    src = tmp_path / "src"
    shutil.copytree(world.extracts["CAFW"], src)
    for f in src.glob("*.csv"):
        text = f.read_text(encoding="utf-8").replace('","', '";"').replace(",,", ";;")
        text = "\n".join(line.replace('",', '";').replace(',"', ';"') for line in text.splitlines())
        f.write_bytes(text.encode("utf-16"))
    _split(zones, src, tmp_path / "a", encoding="utf-16", delimiter=";")
    _split(zones, world.extracts["CAFW"], tmp_path / "b")
    ident = zones["bank"].identity()
    _, a = open_sealed(tmp_path / "a" / "bank", ident, "bank", kind="content")
    _, b = open_sealed(tmp_path / "b" / "bank", ident, "bank", kind="content")
    name = content_file_name("CAFCASS_APPLICATION")
    assert a[name].equals(b[name])
