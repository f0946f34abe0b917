"""Spec model: parse and validate a dataset spec; everything downstream trusts this shape."""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from justicelink.formats import InputError

COLUMN_CLASSES = ("identifier", "native_key", "content", "derived", "drop")
IDENTIFIER_ROLES = ("nhs_number", "forename", "surname", "dob", "sex", "postcode")
TYPES = ("string", "integer", "decimal", "date")
DERIVATIONS = {"age_years": 2, "week_of": 1}
_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
# Bounds every content value is held to (specs.bounds turns them into checks). A content string
# needs a code list, or a pattern and a maximum length: no free text reaches the bank.
NAMED_PATTERNS = {
    # names of places, courts, order types: letters, digits and plain punctuation
    "label": r"[A-Za-z0-9][A-Za-z0-9 '(),./&-]*",
}
DATE_MIN = "1900-01-01"  # default earliest date of any date column
DATE_MAX = "today"  # default latest: nothing dated in the future
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Column:
    name: str
    cls: str
    type: str
    required: bool = False
    unique: bool = False
    role: str | None = None
    identity: str = ""
    out: str | None = None
    codes: tuple[str, ...] | None = None
    formats: tuple[str, ...] = ("%Y-%m-%d",)
    derive: str | None = None
    args: tuple[str, ...] = ()
    description: str = ""
    max_length: int | None = None
    pattern: str | None = None  # a regular expression, or a name in NAMED_PATTERNS
    min: str | float | None = None  # dates: ISO date or "today"; numbers: a number
    max: str | float | None = None
    not_before: str | None = None  # a date column of the table this date should not precede

    @property
    def regex(self) -> str | None:
        """The full-match regular expression of ``pattern`` (a named one resolved)."""
        if self.pattern is None:
            return None
        return NAMED_PATTERNS.get(self.pattern, self.pattern)

    @property
    def out_name(self) -> str:
        if self.out:
            return self.out
        return f"{self.name}_E" if self.cls == "native_key" else self.name


@dataclass(frozen=True)
class Table:
    name: str
    bank_table: str
    description: str
    columns: tuple[Column, ...]

    def by_class(self, cls: str) -> list[Column]:
        return [c for c in self.columns if c.cls == cls]

    @property
    def identities(self) -> list[str]:
        seen: list[str] = []
        for c in self.by_class("identifier"):
            if c.identity not in seen:
                seen.append(c.identity)
        return seen

    @property
    def is_person_table(self) -> bool:
        return bool(self.by_class("identifier"))

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def system_id_column(identity: str) -> str:
    return f"{identity}_SYSTEM_ID" if identity else "SYSTEM_ID"


def alf_prefix(identity: str) -> str:
    return f"{identity}_" if identity else ""


@dataclass(frozen=True)
class DatasetSpec:
    dataset: str
    title: str
    provider: str
    version: str
    tables: tuple[Table, ...]
    sha256: str = field(default="")
    source: str = ""

    def table(self, name: str) -> Table:
        for t in self.tables:
            if t.name == name:
                return t
        raise InputError(f"spec {self.dataset} has no table {name}")

    def by_bank_table(self, name: str) -> Table:
        for t in self.tables:
            if t.bank_table == name:
                return t
        raise InputError(f"spec {self.dataset} has no bank table {name}")


def _fail(source: str, msg: str) -> InputError:
    return InputError(f"invalid spec: {msg}", file=source)


def _column(raw: dict, table: str, source: str) -> Column:
    where = f"table {table}, column {raw.get('name', '?')}"
    known = {
        "name", "class", "type", "required", "unique", "role", "identity", "out", "codes",
        "formats", "derive", "args", "description", "max_length", "pattern", "min", "max",
        "not_before",
    }  # fmt: skip
    extra = set(raw) - known
    if extra:
        raise _fail(source, f"{where}: unknown keys {sorted(extra)}")
    name = raw.get("name", "")
    if not _NAME.match(name):
        raise _fail(source, f"{where}: column names are upper-case SQL identifiers")
    cls = raw.get("class")
    if cls not in COLUMN_CLASSES:
        raise _fail(source, f"{where}: class must be one of {COLUMN_CLASSES}")
    typ = raw.get("type", "string")
    if typ not in TYPES:
        raise _fail(source, f"{where}: type must be one of {TYPES}")
    role = raw.get("role")
    if cls == "identifier" and role not in IDENTIFIER_ROLES:
        raise _fail(source, f"{where}: an identifier needs a role in {IDENTIFIER_ROLES}")
    if cls != "identifier" and role is not None:
        raise _fail(source, f"{where}: only identifiers have a role")
    derive = raw.get("derive")
    args = tuple(raw.get("args", ()))
    if cls == "derived" and (derive not in DERIVATIONS or len(args) != DERIVATIONS[derive]):
        raise _fail(source, f"{where}: derived columns need derive in {sorted(DERIVATIONS)}")
    codes = raw.get("codes")
    for code in codes or ():
        # a code-list value is checked against the list alone (specs.bounds): it must be clean
        if not str(code).isprintable() or str(code).strip()[:1] in ("=", "+", "@", "-", ""):
            raise _fail(source, f"{where}: a code must be printable and not start like a formula")
    pattern = raw.get("pattern")
    max_length = raw.get("max_length")
    if max_length is not None and (not isinstance(max_length, int) or max_length < 1):
        raise _fail(source, f"{where}: max_length must be a positive whole number")
    if pattern is not None:
        try:
            re.compile(NAMED_PATTERNS.get(pattern, pattern))
        except re.error as exc:
            raise _fail(source, f"{where}: pattern is not a regular expression ({exc})") from None
    if (
        cls == "content"
        and typ == "string"
        and codes is None
        and (pattern is None or max_length is None)
    ):
        raise _fail(
            source,
            f"{where}: a content string needs a code list, or a pattern and a max_length "
            "(no unbounded text reaches the bank)",
        )
    lo, hi = raw.get("min"), raw.get("max")
    if (
        cls == "content"
        and typ in ("integer", "decimal")
        and codes is None
        and (lo is None or hi is None)
    ):
        raise _fail(
            source,
            f"{where}: a content number needs a code list, or a min and a max (an unbounded "
            "number could carry an NHS number)",
        )
    for bound in (lo, hi):
        if bound is None:
            continue
        if typ == "date" and not (
            bound == "today" or (isinstance(bound, str) and _ISO.match(bound))
        ):
            raise _fail(source, f'{where}: a date bound is YYYY-MM-DD or "today"')
        if typ in ("integer", "decimal") and not isinstance(bound, int | float):
            raise _fail(source, f"{where}: a numeric bound is a number")
        if typ == "string":
            raise _fail(source, f"{where}: min and max apply to dates and numbers")
    if typ == "date":
        lo = DATE_MIN if lo is None else lo
        hi = DATE_MAX if hi is None else hi
    not_before = raw.get("not_before")
    if not_before is not None and typ != "date":
        raise _fail(source, f"{where}: not_before applies to date columns")
    return Column(
        name=name,
        cls=cls,
        type=typ,
        required=bool(raw.get("required", False)),
        unique=bool(raw.get("unique", False)),
        role=role,
        identity=str(raw.get("identity", "")),
        out=raw.get("out"),
        codes=tuple(str(c) for c in codes) if codes is not None else None,
        formats=tuple(raw.get("formats", ("%Y-%m-%d",))),
        derive=derive,
        args=args,
        description=str(raw.get("description", "")),
        max_length=max_length,
        pattern=pattern,
        min=lo,
        max=hi,
        not_before=not_before,
    )


def parse_spec(text: bytes, source: str) -> DatasetSpec:
    try:
        raw = tomllib.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise _fail(source, str(exc)) from exc
    for key in ("dataset", "title", "provider", "version", "tables"):
        if key not in raw:
            raise _fail(source, f"missing top-level key {key!r}")
    tables = []
    for t in raw["tables"]:
        name = t.get("name", "")
        if not _NAME.match(name):
            raise _fail(source, f"table name {name!r} is not an upper-case identifier")
        cols = tuple(_column(c, name, source) for c in t.get("columns", []))
        names = [c.name for c in cols]
        if len(set(names)) != len(names):
            raise _fail(source, f"table {name}: duplicate column names")
        outs = [c.out_name for c in cols if c.cls not in ("identifier", "drop")]
        if len(set(outs)) != len(outs):
            raise _fail(source, f"table {name}: two columns would have the same output name")
        for c in cols:
            for a in c.args:
                if a not in names:
                    raise _fail(source, f"table {name}, column {c.name}: unknown argument {a}")
            if c.not_before is not None and c.not_before not in names:
                raise _fail(source, f"table {name}, column {c.name}: unknown not_before column")
        table = Table(
            name=name,
            bank_table=t.get("bank_table", name),
            description=t.get("description", ""),
            columns=cols,
        )
        for identity in table.identities:
            roles = [c.role for c in table.by_class("identifier") if c.identity == identity]
            if len(set(roles)) != len(roles):
                raise _fail(source, f"table {name}: identity {identity!r} repeats a role")
        if table.is_person_table and not any(
            c.cls == "native_key" and c.unique for c in table.columns
        ):
            raise _fail(source, f"table {name}: a person table needs a unique native key")
        tables.append(table)
    return DatasetSpec(
        dataset=raw["dataset"],
        title=raw["title"],
        provider=raw["provider"],
        version=raw["version"],
        tables=tuple(tables),
        sha256=hashlib.sha256(text).hexdigest(),
        source=source,
    )


def available_specs() -> list[str]:
    folder = resources.files("justicelink.specs") / "datasets"
    return sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )


def load_spec(name: str | Path) -> DatasetSpec:
    """Load a shipped spec by dataset code (e.g. ``CAFW``) or a spec file by path."""
    path = Path(str(name))
    if path.suffix == ".toml" and path.is_file():
        return parse_spec(path.read_bytes(), str(path))
    shipped = resources.files("justicelink.specs") / "datasets" / f"{name}.toml"
    if not shipped.is_file():
        raise InputError(f"no spec named {name}; shipped specs: {', '.join(available_specs())}")
    return parse_spec(shipped.read_bytes(), f"{name}.toml")
