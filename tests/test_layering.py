"""The package layering holds: gis below routing and maps, bianmin on top (imports parsed)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: package → top-level packages of this project it must never import
FORBIDDEN = {
    "gis": {"routing", "maps", "bianmin"},
    "maps": {"routing", "bianmin"},
    "routing": {"maps", "bianmin"},
}


def imported_packages(path: Path, package: str) -> set[str]:
    """Top-level package names a module imports (relative imports resolve to ``package``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add(package if node.level else (node.module or "").split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_nothing_above_it(package):
    """No module of the package (at any depth, inside functions too) imports a higher layer."""
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no modules found under {package}/"
    bad = {str(f.relative_to(ROOT)): sorted(imported_packages(f, package) & FORBIDDEN[package])
           for f in files}
    assert {f: b for f, b in bad.items() if b} == {}


def test_the_check_sees_a_violation(tmp_path):
    """The parser finds an import hidden in a function body (the test can fail)."""
    mod = tmp_path / "m.py"
    mod.write_text("def f():\n    from routing.tables import MODES\n    import maps.layers\n")
    assert imported_packages(mod, "gis") >= {"routing", "maps"}


#: third-party packages only one package of the project may import
ONLY_IN = {"fastapi": "bianmin/web", "starlette": "bianmin/web"}


def test_only_the_web_package_imports_fastapi():
    """fastapi (and starlette) are imported only under bianmin/web, nowhere else."""
    bad = {}
    for f in sorted(ROOT.glob("*/**/*.py")):
        rel = f.relative_to(ROOT).as_posix()
        if rel.startswith((".venv/", "tests/", "notebooks/")):
            continue
        used = imported_packages(f, "") & set(ONLY_IN)
        wrong = sorted(m for m in used if not rel.startswith(ONLY_IN[m] + "/"))
        if wrong:
            bad[rel] = wrong
    assert bad == {}


def test_the_fastapi_check_sees_a_violation(tmp_path):
    """An import of fastapi inside a function of a routing module is found."""
    mod = tmp_path / "m.py"
    mod.write_text("def serve():\n    from fastapi import FastAPI\n")
    assert "fastapi" in imported_packages(mod, "routing")
