"""Hostile and broken inputs: every limit refuses with a clear line, fast and with bounded memory; every
wrong shape is one load issue naming file, document and field; nothing raises; the rest still loads."""

from __future__ import annotations

import io
import os
import sys
import time
import tracemalloc

import pytest

from analyzer import Analysis
from analyzer.cli import main
from analyzer.errors import LimitExceeded, ManifestError
from analyzer.loaders.manifests import Limits, load_manifests, load_texts

GOOD = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: pod-reader}
rules: [{apiGroups: [""], resources: [pods], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: read-pods}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: pod-reader}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: alice}]
"""


def _bounded(fn, *, seconds: float = 5.0, mib: float = 64.0):
    """Run fn; assert it finished quickly with bounded Python memory; return (result or exception)."""
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        out = fn()
    except Exception as exc:  # noqa: BLE001 - the caller asserts on it
        out = exc
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert elapsed < seconds, f"took {elapsed:.2f}s"
    assert peak < mib * 2**20, f"peak {peak / 2**20:.1f} MiB"
    return out


def _cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, out=out, err=err)
    assert "Traceback" not in err.getvalue() + out.getvalue()
    return code, out.getvalue(), err.getvalue()


# ---------------------------------------------------------------------------------------------
# Limits
# ---------------------------------------------------------------------------------------------

def test_file_size_limit_names_file_and_flag(tmp_path):
    p = tmp_path / "big.yaml"
    p.write_text(GOOD + "#" * 5000 + "\n")
    with pytest.raises(LimitExceeded, match=r"big\.yaml: larger than 1000 bytes \(limit max_file_bytes"):
        load_manifests([str(p)], limits=Limits(max_file_bytes=1000))
    code, _, err = _cli(["load", "-f", str(p), "--max-file-size", "1000"])
    assert code == 2 and err.count("\n") == 1 and "--max-file-size" in err
    assert _cli(["load", "-f", str(p), "--max-file-size", "100000"])[0] == 0


def test_document_limit_counts_only_non_empty_documents():
    text = "---\n" * 10_000 + GOOD  # ten thousand empty documents cost nothing
    inv = load_texts([("x.yaml", text)], limits=Limits(max_documents=2))
    assert len(inv.roles) == 1 and len(inv.bindings) == 1
    with pytest.raises(LimitExceeded, match=r"x\.yaml: more than 1 documents \(limit max_documents\)"):
        load_texts([("x.yaml", text)], limits=Limits(max_documents=1))


def _laughs(levels: int = 9, merge: bool = False) -> str:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels + 1):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} {{<<: [{refs}]}}" if merge and i > 1 else f"a{i}: &a{i} [{refs}]")
    return "kind: ConfigMap\nmetadata: {name: lol}\ndata:\n" + "\n".join("  " + ln for ln in lines) + "\n"


@pytest.mark.parametrize("merge", [False, True], ids=["aliases", "merge-keys"])
def test_billion_laughs_refused_fast_with_bounded_memory(merge):
    text = _laughs(merge=merge)
    if merge:  # merge keys need maps to merge
        text = text.replace("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]", "a0: &a0 {x: lol}")
        text = text.replace("a1: &a1 [", "a1: &a1 {<<: [").replace("*a0]", "*a0]}", 1)
    exc = _bounded(lambda: load_texts([("lol.yaml", text)]), seconds=1.0, mib=32)
    assert isinstance(exc, LimitExceeded)
    assert "lol.yaml: document 1: expands to more than" in str(exc) and "max_alias_nodes" in str(exc)


def test_small_alias_use_is_fine_and_recursive_alias_refused():
    inv = load_texts([("ok.yaml", "kind: ConfigMap\nmetadata: {name: m}\ndata: &d {a: b}\nother: *d\n")])
    assert inv.objects[0].body["other"] == {"a": "b"}
    exc = _bounded(lambda: load_texts([("rec.yaml", "a: &a [*a]\n")]), seconds=1.0)
    assert isinstance(exc, LimitExceeded) and "recursive YAML alias" in str(exc)


DEEP = {
    "block-compact": "- " * 200_000 + "x\n",
    "block-indented": "".join("  " * i + f"k{i}:\n" for i in range(400)) + "  " * 400 + "v\n",
    "flow": "a: " + "[" * 200_000 + "]" * 200_000 + "\n",
    "flow-hidden-by-quotes": "a: " + '["]", ' * 100_000 + "\n",
    "flow-medium": "kind: ConfigMap\nmetadata: {name: m}\ndata: " + "{a: " * 150 + "1" + "}" * 150 + "\n",
    "json": "[" * 100_000 + "]" * 100_000,
    "json-objects": '{"a":' * 5_000 + "1" + "}" * 5_000,
    "explicit-keys": "? " * 50_000 + "x\n",
}


@pytest.mark.parametrize("name", sorted(DEEP))
def test_deep_nesting_refused_never_crashes(name):
    exc = _bounded(lambda: load_texts([(f"{name}.yaml", DEEP[name])]), seconds=10.0, mib=200)
    assert isinstance(exc, LimitExceeded), exc
    assert f"{name}.yaml" in str(exc) and "nested deeper than 100 levels (limit max_depth)" in str(exc)


def test_nesting_under_the_limit_loads():
    schema: dict = {"type": "string"}
    for i in range(45):  # a deep but real CRD-like schema: 90 levels
        schema = {"type": "object", "properties": {f"p{i}": schema}}
    import yaml
    text = yaml.safe_dump({"kind": "CustomResourceDefinition", "metadata": {"name": "x"}, "spec": schema})
    inv = load_texts([("crd.yaml", text)])
    assert inv.objects and not inv.load_issues


def test_deep_nesting_through_the_cli_is_one_line(tmp_path):
    p = tmp_path / "deep.yaml"
    p.write_text(DEEP["block-compact"])
    code, _, err = _cli(["load", "-f", str(p)])
    assert code == 2 and err.strip().count("\n") == 0 and "max_depth" in err


def test_invalid_utf8_and_binary_files(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"kind: ConfigMap\nmetadata: {name: \xff\xfe\xfa}\n")
    with pytest.raises(ManifestError, match=r"bad\.yaml: invalid UTF-8 at byte 33"):
        load_manifests([str(bad)])
    binary = tmp_path / "image.yaml"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(ManifestError, match=r"image\.yaml: binary file"):
        load_manifests([str(binary)])
    (tmp_path / "good.yaml").write_text(GOOD)
    inv = load_manifests([str(tmp_path)])  # inside a directory: load issues, the rest loads
    assert len(inv.roles) == 1
    assert sorted((os.path.basename(i.file), i.message.split(" ")[0]) for i in inv.load_issues) == [
        ("bad.yaml", "invalid"), ("image.yaml", "binary")]


def test_symlink_loops_and_dangling_links(tmp_path):
    (tmp_path / "good.yaml").write_text(GOOD)
    os.symlink("loop.yaml", tmp_path / "loop.yaml")  # points at itself
    os.symlink("missing.yaml", tmp_path / "dangling.yaml")
    os.symlink(".", tmp_path / "again")  # a directory loop: never followed
    inv = _bounded(lambda: load_manifests([str(tmp_path)]), seconds=5)
    assert len(inv.roles) == 1
    msgs = {os.path.basename(i.file): i.message for i in inv.load_issues}
    assert "symlink loop" in msgs["loop.yaml"] and "dangling symlink" in msgs["dangling.yaml"]
    with pytest.raises(ManifestError, match="symlink loop"):
        load_manifests([str(tmp_path / "loop.yaml")])
    code, _, err = _cli(["load", "-f", str(tmp_path / "loop.yaml")])
    assert code == 2 and "symlink" in err


def test_fifo_named_like_a_manifest_does_not_block(tmp_path):
    (tmp_path / "good.yaml").write_text(GOOD)
    os.mkfifo(tmp_path / "pipe.yaml")
    inv = _bounded(lambda: load_manifests([str(tmp_path)]), seconds=5)
    assert len(inv.roles) == 1
    assert [i.message for i in inv.load_issues] == ["not a regular file"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads every file")
def test_unreadable_file_and_directory(tmp_path):
    (tmp_path / "good.yaml").write_text(GOOD)
    secret = tmp_path / "secret.yaml"
    secret.write_text(GOOD)
    secret.chmod(0)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        inv = load_manifests([str(tmp_path)])
        assert any("cannot read" in i.message for i in inv.load_issues)
    finally:
        secret.chmod(0o600)
        locked.chmod(0o700)


def test_unreadable_file_reported(tmp_path, monkeypatch):
    # the same path as permission errors, without relying on not being root
    (tmp_path / "a.yaml").write_text(GOOD)
    (tmp_path / "b.yaml").write_text(GOOD.replace("pod-reader", "other").replace("read-pods", "other"))
    import builtins
    real_open = builtins.open

    def fake_open(path, *a, **kw):
        if str(path).endswith("b.yaml"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *a, **kw)

    monkeypatch.setattr(builtins, "open", fake_open)
    inv = load_manifests([str(tmp_path)])
    assert len(inv.roles) == 1
    assert [i.message for i in inv.load_issues] == ["cannot read: Permission denied"]


def test_directory_with_thousands_of_files(tmp_path):
    for i in range(3000):
        (tmp_path / f"sa-{i:04d}.yaml").write_text(f"kind: ServiceAccount\nmetadata: {{name: s{i}, namespace: n}}\n")
    inv = _bounded(lambda: load_manifests([str(tmp_path)]), seconds=60, mib=256)
    assert len(inv.service_accounts) == 3000 and len(inv.files) == 3000
    with pytest.raises(LimitExceeded, match="more than 1000 manifest files"):
        load_manifests([str(tmp_path)], limits=Limits(max_files=1000))


# ---------------------------------------------------------------------------------------------
# YAML features that must never run code or crash
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "kind: !!python/object/apply:os.system ['touch {marker}']\n",
    "!!python/object/new:os.system ['touch {marker}']\n",
    "kind: ConfigMap\nmetadata: {{name: m}}\ndata: !!python/name:os.system\n",
    "kind: ConfigMap\nmetadata: {{name: m}}\ndata: !!python/object:__main__.X {{a: 1}}\n",
    "kind: ConfigMap\nmetadata: {{name: m}}\ndata: !custom {{a: 1}}\n",
])
def test_python_tags_are_refused(tmp_path, text):
    marker = tmp_path / "pwned"
    inv = load_texts([("t.yaml", text.format(marker=marker) + "---\n" + GOOD)])
    assert not marker.exists()
    assert len(inv.roles) == 1 and len(inv.bindings) == 1
    (issue,) = inv.load_issues
    assert issue.file == "t.yaml" and issue.document == 1 and "constructor for the tag" in issue.message


@pytest.mark.parametrize("text,fragment", [
    ("kind: ConfigMap\nmetadata: {name: m}\ndata: {x: " + "9" * 5000 + "}\n", "invalid YAML value"),
    ("? [a, b]\n: c\n", "unhashable key"),
    ("kind: ConfigMap\nmetadata: {name: m, labels: {1: x}}\n", "keys must be strings"),
    ("kind: ConfigMap\nmetadata: {name: m, labels: {x: 1}}\n", "must be a string, got a number"),
    ("kind: [unclosed\n", "invalid YAML"),
    ("kind: ConfigMap\n\tbad: tab\n", "invalid YAML"),
    ("- just\n- a list\n", "document is not a map"),
    ("just a string\n", "document is not a map"),
])
def test_odd_documents_are_one_load_issue(text, fragment):
    inv = load_texts([("odd.yaml", GOOD + "---\n" + text)])
    assert len(inv.roles) == 1 and len(inv.bindings) == 1
    (issue,) = inv.load_issues
    assert fragment in issue.message and issue.document == 3 and issue.file == "odd.yaml"


def test_huge_json_integer():
    inv = load_texts([("big.json", '{"kind": "ConfigMap", "metadata": {"name": "m"}, "n": ' + "9" * 5000 + "}")])
    assert inv.load_issues and not inv.objects


# ---------------------------------------------------------------------------------------------
# Wrong shapes at every field the analyzer reads: one load issue each
# ---------------------------------------------------------------------------------------------

ROLE = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}
AGG = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "agg"},
       "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"a": "b"},
                                                     "matchExpressions": [{"key": "k", "operator": "In",
                                                                           "values": ["v"]}]}]}}
RB = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "b", "namespace": "n"},
      "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "r"},
      "subjects": [{"kind": "User", "name": "u", "apiGroup": "rbac.authorization.k8s.io"}]}
SA = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "s", "namespace": "n"},
      "automountServiceAccountToken": True, "secrets": [{"name": "t"}]}


def _set(obj: dict, path: str, value):
    import copy
    obj = copy.deepcopy(obj)
    cur = obj
    keys = path.split(".")
    for k in keys[:-1]:
        cur = cur[int(k)] if isinstance(cur, list) else cur[k]
    last = keys[-1]
    if value is _DELETE:
        del cur[last]
    elif isinstance(cur, list):
        cur[int(last)] = value
    else:
        cur[last] = value
    return obj


_DELETE = object()
SHAPES = [
    (ROLE, "rules", "pods", "rules"),
    (ROLE, "rules.0", "get", "rules[0]"),
    (ROLE, "rules.0.verbs", {"get": True}, "rules[0].verbs"),
    (ROLE, "rules.0.verbs", "get", "rules[0].verbs"),
    (ROLE, "rules.0.verbs.0", 7, "rules[0].verbs[0]"),
    (ROLE, "rules.0.apiGroups", "", "rules[0].apiGroups"),
    (ROLE, "rules.0.resources", 3, "rules[0].resources"),
    (ROLE, "rules.0.resourceNames", {"a": 1}, "rules[0].resourceNames"),
    (ROLE, "rules.0.nonResourceURLs", "/x", "rules[0].nonResourceURLs"),
    (ROLE, "metadata", ["r"], "metadata"),
    (ROLE, "metadata.name", 12, "metadata.name"),
    (ROLE, "metadata.namespace", ["a"], "metadata.namespace"),
    (ROLE, "metadata.labels", ["a"], "metadata.labels"),
    (ROLE, "metadata.labels", {"a": 1}, "metadata.labels.a"),
    (ROLE, "metadata.labels", {"a": None}, "metadata.labels.a"),
    (ROLE, "metadata.annotations", {"a": True}, "metadata.annotations.a"),
    (ROLE, "metadata.annotations", "text", "metadata.annotations"),
    (ROLE, "apiVersion", 1, "apiVersion"),
    (ROLE, "kind", 5, "kind"),
    (ROLE, "kind", "", "kind"),
    (ROLE, "kind", _DELETE, "kind"),
    (AGG, "aggregationRule", "yes", "aggregationRule"),
    (AGG, "aggregationRule.clusterRoleSelectors", {"a": "b"}, "aggregationRule.clusterRoleSelectors"),
    (AGG, "aggregationRule.clusterRoleSelectors.0", "a=b", "aggregationRule.clusterRoleSelectors[0]"),
    (AGG, "aggregationRule.clusterRoleSelectors.0.matchLabels", ["a"],
     "aggregationRule.clusterRoleSelectors[0].matchLabels"),
    (AGG, "aggregationRule.clusterRoleSelectors.0.matchExpressions", {"k": "v"},
     "aggregationRule.clusterRoleSelectors[0].matchExpressions"),
    (AGG, "aggregationRule.clusterRoleSelectors.0.matchExpressions.0", "k in (v)",
     "aggregationRule.clusterRoleSelectors[0].matchExpressions[0]"),
    (AGG, "aggregationRule.clusterRoleSelectors.0.matchExpressions.0.values", "v",
     "aggregationRule.clusterRoleSelectors[0].matchExpressions[0].values"),
    (AGG, "aggregationRule.clusterRoleSelectors.0.matchExpressions.0.key", 1,
     "aggregationRule.clusterRoleSelectors[0].matchExpressions[0].key"),
    (RB, "roleRef", _DELETE, "roleRef"),
    (RB, "roleRef", "r", "roleRef"),
    (RB, "roleRef.kind", 1, "roleRef.kind"),
    (RB, "roleRef.kind", _DELETE, "roleRef.kind"),
    (RB, "roleRef.name", _DELETE, "roleRef.name"),
    (RB, "roleRef.name", ["r"], "roleRef.name"),
    (RB, "roleRef.apiGroup", 2, "roleRef.apiGroup"),
    (RB, "subjects", "u", "subjects"),
    (RB, "subjects", {"kind": "User"}, "subjects"),
    (RB, "subjects.0", "User:u", "subjects[0]"),
    (RB, "subjects.0.name", 5, "subjects[0].name"),
    (RB, "subjects.0.kind", ["User"], "subjects[0].kind"),
    (RB, "subjects.0.namespace", {"a": 1}, "subjects[0].namespace"),
    (RB, "subjects.0.apiGroup", False, "subjects[0].apiGroup"),
    (SA, "automountServiceAccountToken", "false", "automountServiceAccountToken"),
    (SA, "secrets", {"name": "t"}, "secrets"),
    ({"apiVersion": "v1", "kind": "List", "items": [ROLE]}, "items", {"a": ROLE}, "items"),
    ({"apiVersion": "v1", "kind": "List", "items": [ROLE]}, "items.0", "ClusterRole r", "items[0]"),
    ({"apiVersion": "v1", "kind": "List", "items": [ROLE]}, "items.0.rules", "x", "items[0].rules"),
]


@pytest.mark.parametrize("base,path,value,field", SHAPES, ids=[f"{s[3]}={type(s[2]).__name__}" for s in SHAPES])
def test_wrong_shape_is_one_load_issue_and_the_rest_still_answers(base, path, value, field, tmp_path):
    import json
    bad = _set(base, path, value)
    # a valid policy around the bad document: alice can get pods cluster-wide
    text = GOOD + "---\n" + json.dumps(bad) + "\n---\n" + GOOD.replace("alice", "bob").replace(
        "read-pods", "read-pods-2")
    a = Analysis.from_texts([("shapes.yaml", text)])
    assert len(a.load_issues) == 1, [str(i) for i in a.load_issues]
    (issue,) = a.load_issues
    assert (issue.file, issue.document, issue.field) == ("shapes.yaml", 3, field)
    assert str(issue).startswith("shapes.yaml:") and "\n" not in str(issue)
    for user in ("alice", "bob"):
        assert a.can_i(user, [], "get", "pods").allowed
    assert not a.can_i("u", [], "get", "pods", namespace="n").allowed  # the dropped binding grants nothing
    p = tmp_path / "shapes.yaml"
    p.write_text(text)
    code, out, err = _cli(["load", "-f", str(p), "--strict"])
    assert code == 2 and f"document 3 {field}:" in out and "--strict" in err
    assert _cli(["load", "-f", str(p)])[0] == 0


@pytest.mark.parametrize("doc,code", [
    ({**RB, "subjects": None}, "null-subjects"),
    ({**ROLE, "rules": None}, "null-rules"),
    ({**ROLE, "metadata": {}}, "missing-name"),
    ({**RB, "subjects": [{"kind": "User", "name": "u"}]}, "subject-api-group"),
])
def test_what_the_authorizer_reads_loads_with_a_notice(doc, code):
    import json
    a = Analysis.from_texts([("n.json", json.dumps(doc))])
    assert not a.load_issues
    assert code in {n.code for n in a.notices}


# ---------------------------------------------------------------------------------------------
# The CLI never shows a traceback, even for a bug
# ---------------------------------------------------------------------------------------------

def test_unexpected_error_while_loading_is_one_line(tmp_path, monkeypatch):
    (tmp_path / "a.yaml").write_text(GOOD)

    def boom(*a, **kw):
        raise TypeError("synthetic bug")

    monkeypatch.setattr(Analysis, "from_paths", boom)
    code, _, err = _cli(["load", "-f", str(tmp_path)])
    assert code == 2 and err.count("\n") == 1
    assert "unexpected TypeError: synthetic bug" in err
    monkeypatch.setenv("RBAC_ANALYZER_DEBUG", "1")
    with pytest.raises(TypeError):
        main(["load", "-f", str(tmp_path)], out=io.StringIO(), err=io.StringIO())


def test_missing_input_is_one_line():
    code, _, err = _cli(["load", "-f", "/nonexistent/x.yaml"])
    assert code == 2 and err == "error: /nonexistent/x.yaml: no such file or directory\n"


def test_deep_file_in_a_subprocess_exits_2_without_crash(tmp_path):
    import subprocess
    p = tmp_path / "deep.yaml"
    p.write_text("a: " + "[" * 300_000 + "]" * 300_000 + "\n---\n" + "- " * 300_000 + "x\n")
    r = subprocess.run([sys.executable, "-m", "analyzer", "load", "-f", str(p)], capture_output=True, text=True,
                       timeout=120, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert r.returncode == 2, r.stderr
    assert "max_depth" in r.stderr and "Traceback" not in r.stderr
