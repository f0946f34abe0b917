"""The data dictionary of every shipped spec, as Markdown (docs/specs.md is generated from it)."""

from __future__ import annotations

from justicelink.specs.model import available_specs, load_spec

HEADER = (
    "# Dataset specs (generated)\n\n"
    "Generated from `src/justicelink/specs/datasets/*.toml` by "
    "`justicelink provider specs --markdown > docs/specs.md`; a test fails if this page drifts.\n"
    "Classes: `identifier` goes to the trusted third party only; `native_key` is pseudonymised "
    "with the provider's key (output name shown); `content` and `derived` go to the bank; "
    "`drop` never leaves the provider.\n"
)


def _cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def specs_markdown() -> str:
    out = [HEADER]
    for name in available_specs():
        spec = load_spec(name)
        out.append(f"\n## {spec.dataset}: {spec.title}\n")
        out.append(
            f"Provider: {spec.provider}. Version {spec.version}. SHA-256 `{spec.sha256[:16]}…`.\n"
        )
        for t in spec.tables:
            bank = f" → bank table `{t.bank_table}`" if t.bank_table != t.name else ""
            out.append(f"\n### {t.name}{bank}\n")
            if t.description:
                out.append(f"{_cell(t.description)}\n")
            out.append(
                "\n| column | class | type | output | rules | description |\n|---|---|---|---|---|---|\n"
            )
            for c in t.columns:
                rules = []
                if c.required:
                    rules.append("required")
                if c.unique:
                    rules.append("unique")
                if c.role:
                    rules.append(f"role {c.role}" + (f" ({c.identity})" if c.identity else ""))
                if c.codes is not None:
                    rules.append("codes: " + ", ".join(c.codes))
                if c.pattern is not None:
                    rules.append(f"pattern `{c.regex}`")
                if c.max_length is not None:
                    rules.append(f"at most {c.max_length} characters")
                if c.type == "date":
                    rules.append("formats: " + ", ".join(c.formats))
                if c.min is not None or c.max is not None:
                    rules.append(f"from {c.min or '—'} to {c.max or '—'}")
                if c.not_before:
                    rules.append(f"reported if before {c.not_before}")
                if c.derive:
                    rules.append(f"{c.derive}({', '.join(c.args)})")
                output = "—" if c.cls in ("identifier", "drop") else f"`{c.out_name}`"
                out.append(
                    f"| `{c.name}` | {c.cls} | {c.type} | {output} | {_cell('; '.join(rules))} | "
                    f"{_cell(c.description)} |\n"
                )
    return "".join(out)
