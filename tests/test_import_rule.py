"""Zones never import each other's internals; they meet through shared formats only.

- A zone package may import itself and the shared packages (formats, crypto, specs, reporting).
- The composition layer (platform, demo, cli) may import a zone's public face
  (``justicelink.<zone>``) but never ``justicelink.<zone>.<module>``.
Relative imports are resolved before checking.
"""

from __future__ import annotations

import ast
from pathlib import Path

import justicelink

ROOT = Path(justicelink.__file__).parent
ZONES = {
    "provider",
    "linkage",
    "bank",
    "projects",
    "workspace",
    "airlock",
    "control",
    "synth",
    "analyses",
    "witness",
}
SHARED = {"formats", "crypto", "specs", "reporting"}
COMPOSITION = {"platform", "demo", "cli"}


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    mod = _module_name(path)
    package = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            if node.module is None and node.level:
                out += [(node.lineno, f"{name}.{a.name}") for a in node.names]
            else:
                out.append((node.lineno, name))
    return [(ln, n) for ln, n in out if n == "justicelink" or n.startswith("justicelink.")]


def violations() -> list[str]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        owner = parts[0].removesuffix(".py")
        for line, name in _imports(path):
            target = name.split(".")
            if len(target) < 2:
                continue
            top = target[1]
            where = f"{path.relative_to(ROOT.parent)}:{line} imports {name}"
            if owner in ZONES:
                if top not in SHARED and top != owner:
                    found.append(
                        where + f" (zone {owner} may import only itself and {sorted(SHARED)})"
                    )
            elif owner in SHARED:
                if top not in SHARED:
                    found.append(where + " (shared modules never import zones)")
            elif owner in COMPOSITION and top in ZONES and len(target) > 2:
                found.append(where + f" (use the public face justicelink.{top})")
    return found


def test_zones_only_meet_through_shared_modules() -> None:
    assert violations() == []


def test_rule_catches_a_violation(tmp_path: Path, monkeypatch) -> None:
    """The checker itself works: a planted cross-zone import is reported."""
    bad = ROOT / "bank" / "_planted_violation.py"
    bad.write_text("from ..linkage.register import load_register\n")
    try:
        found = violations()
    finally:
        bad.unlink()
    assert any("_planted_violation.py:1 imports justicelink.linkage.register" in v for v in found)
