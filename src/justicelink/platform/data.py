"""Data operations on the host: deliveries, the register, linkage, bank loads, the catalogue.

Each is done by a named account with the right role (data provider, linkage operator, data
manager), authenticated like everyone else, and audited with what it produced.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from justicelink import bank, linkage, provider
from justicelink.control import Permit, Resource
from justicelink.crypto import ZoneKeys, load_recipient
from justicelink.formats import RefusedError
from justicelink.platform.verbs import Namespace, verb
from justicelink.specs import available_specs, load_spec

_SUBMISSION = re.compile(r"^[A-Z][A-Z0-9]{1,15}-\d{8}-[0-9a-f]{8}$")


def submission_id(value: str | Path) -> str:
    """A submission's id from an id or a path to its folder (whose name is the id)."""
    name = Path(value).name
    if not _SUBMISSION.match(name):
        raise RefusedError(
            "a submission is named like CAFW-20261202-1a2b3c4d (the folder `provider split` wrote)"
        )
    return name


def _folder(given: str | Path, inbox: Path) -> Path:
    """A submission folder given as a path, or else the one of that id in the inbox."""
    return Path(given) if isinstance(given, Path) or Path(given).is_dir() else inbox


def known_dataset(name: str) -> str:
    """A dataset named by one of the shipped specs (never a path to a file)."""
    if name not in available_specs():
        raise RefusedError(f"no such dataset; the datasets are {', '.join(available_specs())}")
    return name


def has_people(dataset: str) -> bool:
    return any(t.is_person_table for t in load_spec(dataset).tables)


class Catalogue(Namespace):
    @verb("catalogue.read")
    def versions(self, permit: Permit) -> list[Any]:
        return bank.versions(self.p.home.bank)

    @verb("catalogue.read")
    def dictionary(self, permit: Permit, dataset: str) -> list[dict[str, str]]:
        return bank.dictionary(known_dataset(dataset))

    @verb("catalogue.read")
    def columns(
        self, permit: Permit, dataset: str, tables: list[str] | None = None
    ) -> dict[str, list[str]]:
        """Every bank column of a dataset's latest version (for an application asking for all)."""
        v = bank.latest(self.p.home.bank, known_dataset(dataset))
        if v is None:
            raise RefusedError(f"the bank holds no {dataset}")
        unknown = [t for t in (tables or []) if t not in v.tables]
        if unknown:
            raise RefusedError(
                f"{dataset} version {v.version} has {len(unknown)} table(s) not in its catalogue; "
                f"its tables are {', '.join(v.tables)}"
            )
        home = self.p.home.bank
        return {
            t: bank.read_schema(home, dataset, v.version, t).names for t in (tables or v.tables)
        }


class Provider(Namespace):
    @verb("provider.deliver", lambda p, dataset, **_: Resource.dataset(known_dataset(dataset)))
    def deliver(self, permit: Permit, dataset: str, extract: Path) -> provider.SplitResult:
        """Split an extract and deliver the sealed files to the linkage and bank inboxes."""
        home = self.p.home
        spec = load_spec(dataset)
        keys = ZoneKeys.open(home.provider, "provider")
        staging = home.provider / "outbox" / f".staging-{dataset}"
        shutil.rmtree(staging, ignore_errors=True)
        result = provider.split(
            spec, extract, staging,
            linkage_recipient=load_recipient(ZoneKeys.open(home.linkage, "linkage").recipient),
            bank_recipient=load_recipient(ZoneKeys.open(home.bank, "bank").recipient),
            provider_key=keys.prf_key(),
        )  # fmt: skip
        final = home.provider / "outbox" / result.submission_id
        staging.rename(final)
        provider.deliver(final, home.linkage / "inbox", "linkage")
        provider.deliver(final, home.bank / "inbox", "bank")
        self.p.record(
            "provider.deliver", f"submission:{result.submission_id}", dataset=dataset,
            identifier_rows=result.identifiers_rows, content_rows=result.content_rows,
        )  # fmt: skip
        return result


class Linkage(Namespace):
    @verb("register.load", lambda p, **_: Resource.register())
    def load_register(self, permit: Permit, source: Path) -> linkage.RegisterVersion:
        keys = ZoneKeys.open(self.p.home.linkage, "linkage")
        v = linkage.load_register(Path(source), self.p.home.linkage, keys.prf_key())
        self.p.record("register.load", f"register:{v.version}", people=v.people)
        return v

    @verb("linkage.run", lambda p, submission, **_: Resource.submission(submission_id(submission)))
    def run(
        self, permit: Permit, submission: str | Path, *, full: bool = False
    ) -> linkage.RunResult:
        """Match a submission's identifiers; its ALF file goes to the bank's inbox. A refresh is
        incremental unless ``full``."""
        home = self.p.home
        sid = permit.resource.id
        folder = _folder(submission, home.linkage / "inbox" / sid)
        if not folder.is_dir():
            raise RefusedError(f"the linkage inbox has no submission {sid}")
        run = linkage.run_submission(
            folder, home.linkage, load_recipient(ZoneKeys.open(home.bank, "bank").recipient),
            full=full,
        )  # fmt: skip
        dest = home.bank / "inbox" / "alf"
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copytree(run.outbox, dest / sid, dirs_exist_ok=True)
        self.p.record(
            "linkage.run", f"submission:{sid}", rows=run.rows,
            by_status={str(k): v for k, v in run.by_status.items()}, refresh=run.refresh,
        )  # fmt: skip
        return run


class Bank(Namespace):
    @verb("bank.load", lambda p, submission, **_: Resource.submission(submission_id(submission)))
    def load(
        self, permit: Permit, submission: str | Path, alf_file: str | Path | None = None,
        refresh_date: str | None = None,
    ) -> bank.LoadResult:  # fmt: skip
        """Load a content submission with its ALF file as a new dated refresh (both from the
        bank's inbox unless given as folders)."""
        home = self.p.home
        sid = permit.resource.id
        content = _folder(submission, home.bank / "inbox" / sid)
        if not content.is_dir():
            raise RefusedError(f"the bank inbox has no submission {sid}")
        alf = Path(alf_file) if alf_file is not None else home.bank / "inbox" / "alf" / sid
        r = bank.load(content, alf if alf.exists() else None, home.bank, refresh_date=refresh_date)
        self.p.record(
            "bank.load", f"dataset:{r.dataset}@{r.version}", submission=sid, rows=r.rows,
            linkage_rate=round(r.linkage_rate, 6),
        )  # fmt: skip
        return r
