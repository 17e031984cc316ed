"""Dependencies point one way: each module imports only from lower layers (ARCHITECTURE.md, "layers")."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "analyzer"

LAYERS = {
    "errors": 0, "runtime": 0,
    "model": 1,
    "semantics": 2, "loaders": 2, "identity": 2, "workloads": 2,
    "graph": 3,
    "queries": 4,
    "rules": 5, "escalation": 5,
    "audit": 6, "render": 6, "report": 6,
    "api": 7,
    "cli": 8, "__main__": 8, "__init__": 8,
}
# Same-layer imports across packages that the architecture allows (importer, imported).
ALLOWED_SIDEWAYS = {
    ("loaders", "semantics"),   # API vocabulary: which kinds are namespaced
    ("identity", "semantics"),  # implied groups and impersonation are RBAC semantics
    ("loaders", "identity"),    # a live cluster connection comes from the kubeconfig resolution
    ("__main__", "cli"),        # python -m analyzer runs the CLI
}
FORBIDDEN = {("rules", "escalation"), ("escalation", "rules")}
DASHBOARD_ALLOWED = {"api", "report", "errors", "model"}


def _imports(path: Path, module: str) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
                if node.module is None:
                    out.extend(f"{mod}.{a.name}" for a in node.names)
                    continue
            else:
                mod = node.module or ""
            out.append(mod)
    return out


def _top(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "analyzer":
        return None
    if len(parts) == 1 or not ((PKG / parts[1]).is_dir() or (PKG / f"{parts[1]}.py").is_file()):
        return "__init__"  # a name re-exported by analyzer/__init__.py, e.g. __version__
    return parts[1]


def _modules():
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield path, ".".join(parts)


def test_every_package_has_a_layer():
    tops = {_top(m) for _, m in _modules()}
    assert tops <= set(LAYERS), f"add these to LAYERS: {sorted(tops - set(LAYERS))}"


def test_imports_point_down():
    problems = []
    for path, module in _modules():
        me = _top(module)
        for imported in _imports(path, module):
            other = _top(imported)
            if other is None or other == me or other == "__init__" and me in ("cli", "__main__"):
                continue
            if (me, other) in FORBIDDEN:
                problems.append(f"{module} imports {imported} ({me} and {other} must stay independent)")
            elif LAYERS[other] > LAYERS[me] or (LAYERS[other] == LAYERS[me] and (me, other) not in ALLOWED_SIDEWAYS):
                problems.append(f"{module} (layer {LAYERS[me]}) imports {imported} (layer {LAYERS[other]})")
    assert not problems, "\n".join(problems)


def test_dashboard_is_thin():
    app = ROOT / "dashboards"
    if not app.is_dir():
        return
    for path in app.rglob("*.py"):
        for imported in _imports(path, "dashboards." + path.stem):
            other = _top(imported)
            if other is not None and other != "__init__":
                assert other in DASHBOARD_ALLOWED, f"{path.name} imports {imported}"
            assert not imported.startswith("networkx"), f"{path.name} imports networkx"


def test_no_import_time_side_effects_in_library():
    """No module-level print() or open() calls in the library (no import-time I/O)."""
    for path, module in _modules():
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
                func = node.value.func
                name = getattr(func, "id", None) or getattr(func, "attr", None)
                assert name not in ("print", "open", "basicConfig"), f"{module}: import-time {name}()"
