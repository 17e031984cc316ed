"""The manifest loader: streams, List kinds, gzip, stdin, JSON, namespaces, duplicates, names, line numbers."""

from __future__ import annotations

import gzip
import io
import json
import sys

import pytest

from analyzer import Analysis
from analyzer.loaders.manifests import Limits, load_manifests, read_documents

ROLE = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: dev}
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list]
"""
BINDING = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: read, namespace: dev}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects:
- {kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}
"""


def _load(text: str, **kw) -> Analysis:
    return Analysis.from_texts([("in.yaml", text)], **kw)


def test_multi_document_stream_with_empty_documents():
    a = _load("---\n---\n" + ROLE + "---\n# only a comment\n---\n" + BINDING + "---\n")
    assert a.inventory.kind_counts() == {"Role": 1, "RoleBinding": 1}
    assert not a.load_issues
    assert a.can_i("alice", [], "get", "pods", namespace="dev").allowed
    # document numbers count every document, empty ones included
    assert a.inventory.roles[0].source.document == 2
    assert a.inventory.bindings[0].source.document == 4


def test_line_numbers_point_at_each_document_and_list_item():
    text = ROLE + "---\n" + BINDING
    a = _load(text)
    assert a.inventory.roles[0].source.line == 1
    assert a.inventory.bindings[0].source.line == text.splitlines().index("kind: RoleBinding")
    lst = {"apiVersion": "v1", "kind": "List", "items": [
        {"kind": "ServiceAccount", "metadata": {"name": "a", "namespace": "x"}},
        {"kind": "ServiceAccount", "metadata": {"name": "b", "namespace": "x"}}]}
    import yaml
    text = yaml.safe_dump(lst, sort_keys=False)
    a = _load(text)
    lines = [s.source.line for s in a.inventory.service_accounts]
    assert lines[0] < lines[1] and text.splitlines()[lines[1] - 1].startswith("- ")


def test_list_kind_and_typed_lists_whose_items_lack_kind():
    lst = {"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "c"},
         "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["nodes"]}]},
        {"metadata": {"name": "no-kind"}}]}
    role_list = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleList",
                 "items": [{"metadata": {"name": "r1", "namespace": "n"}, "rules": []},
                           {"metadata": {"name": "r2", "namespace": "n"}, "rules": []}]}
    a = Analysis.from_texts([("l.json", json.dumps(lst)), ("r.json", json.dumps(role_list))])
    assert sorted(r.name for r in a.inventory.roles) == ["c", "r1", "r2"]
    assert [r.kind for r in a.inventory.roles if r.name.startswith("r")] == ["Role", "Role"]
    (issue,) = a.load_issues
    assert issue.field == "items[1].kind" and issue.file == "l.json" and issue.document == 1


def test_empty_and_null_list_items():
    a = _load("apiVersion: v1\nkind: List\nitems: []\n---\napiVersion: v1\nkind: PodList\nitems: null\n")
    assert a.inventory.object_count == 0 and not a.load_issues


def test_gzip_file_and_gzip_bomb_is_capped(tmp_path):
    p = tmp_path / "policy.yaml.gz"
    p.write_bytes(gzip.compress((ROLE + "---\n" + BINDING).encode()))
    a = Analysis.from_paths([str(p)])
    assert a.can_i("alice", [], "list", "pods", namespace="dev").allowed
    bomb = tmp_path / "bomb.yaml.gz"
    bomb.write_bytes(gzip.compress(b"a" * (4 * 1024 * 1024)))
    from analyzer.errors import LimitExceeded
    with pytest.raises(LimitExceeded, match="decompresses to more than 1048576 bytes"):
        load_manifests([str(bomb)], limits=Limits(max_file_bytes=1024 * 1024))


def test_multi_member_gzip(tmp_path):
    p = tmp_path / "two.yaml.gz"
    p.write_bytes(gzip.compress(ROLE.encode()) + gzip.compress(("---\n" + BINDING).encode()))
    assert Analysis.from_paths([str(p)]).inventory.kind_counts() == {"Role": 1, "RoleBinding": 1}


def test_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO((ROLE + "---\n" + BINDING).encode())))
    a = Analysis.from_paths(["-"])
    assert a.inventory.files == ["<stdin>"]
    assert a.inventory.roles[0].source.file == "<stdin>"
    assert a.can_i("alice", [], "get", "pods", namespace="dev").allowed


def test_json_document_and_json_stream(tmp_path):
    obj = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "sa", "namespace": "x"}}
    (tmp_path / "one.json").write_text(json.dumps(obj, indent=2))
    # several JSON objects one after another are not one JSON document: YAML reads them as a stream
    (tmp_path / "many.json").write_text("\n---\n".join(json.dumps({**obj, "metadata": {"name": f"s{i}"}})
                                                      for i in range(3)))
    a = Analysis.from_paths([str(tmp_path)])
    assert sorted(s.name for s in a.inventory.service_accounts) == ["s0", "s1", "s2", "sa"]
    assert not a.load_issues


def test_default_namespace_for_namespaced_kinds_only():
    text = ("kind: Role\nmetadata: {name: r}\n---\nkind: ServiceAccount\nmetadata: {name: s}\n---\n"
            "kind: ClusterRole\nmetadata: {name: c, namespace: ignored}\n---\nkind: ConfigMap\nmetadata: {name: m}\n"
            "---\nkind: Namespace\nmetadata: {name: n}\n")
    a = _load(text, default_namespace="argocd")
    roles = {r.name: r.namespace for r in a.inventory.roles}
    assert roles == {"r": "argocd", "c": ""}
    assert a.inventory.service_accounts[0].namespace == "argocd"
    objs = {o.name: o.namespace for o in a.inventory.objects}
    assert objs == {"m": "argocd", "n": ""}


def test_duplicates_later_replaces_earlier_with_notice():
    second = ROLE.replace("verbs: [get, list]", "verbs: [watch]")
    a = _load(ROLE + "---\n" + second)
    (role,) = a.inventory.roles
    assert role.rules[0].verbs == ("watch",)
    dup = [n for n in a.notices if n.code == "duplicate"]
    assert len(dup) == 1 and dup[0].document == 2 and "in.yaml:1" in dup[0].message


def test_objects_without_names_are_all_kept_with_notices():
    text = "kind: ClusterRole\nrules: []\n---\nkind: ClusterRole\nrules: []\n---\nkind: ConfigMap\n"
    a = _load(text)
    assert len(a.inventory.roles) == 2 and len(a.inventory.objects) == 1
    assert sum(n.code == "missing-name" for n in a.notices) == 3


def test_read_documents_flattens_lists(tmp_path):
    p = tmp_path / "sar.yaml"
    p.write_text("kind: List\nitems: [{a: 1}, {b: 2}]\n---\n{c: 3}\n")
    assert [d for _, d, _ in read_documents(str(p))] == [{"a": 1}, {"b": 2}, {"c": 3}]


def test_directory_is_read_recursively_sorted_and_hidden_skipped(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / ".git").mkdir()
    (tmp_path / "b" / "2.yaml").write_text(BINDING)
    (tmp_path / "1.yml").write_text(ROLE)
    (tmp_path / ".git" / "x.yaml").write_text("kind: Role\nmetadata: {name: hidden}\n")
    (tmp_path / "notes.txt").write_text("not a manifest")
    inv = load_manifests([str(tmp_path)])
    assert [f.rsplit("/", 1)[-1] for f in inv.files] == ["1.yml", "2.yaml"]


def test_utf16_file_with_bom(tmp_path):
    p = tmp_path / "w.yaml"
    p.write_bytes(ROLE.encode("utf-16"))
    assert Analysis.from_paths([str(p)]).inventory.roles[0].name == "reader"
    p.write_bytes(b"\xef\xbb\xbf" + ROLE.encode())
    assert Analysis.from_paths([str(p)]).inventory.roles[0].name == "reader"


def test_yaml_timestamps_and_numbers_in_bodies_are_kept():
    a = _load("kind: ConfigMap\nmetadata: {name: m, creationTimestamp: 2024-01-02T03:04:05Z}\ndata: {n: 5}\n")
    (obj,) = a.inventory.objects
    assert obj.body["data"] == {"n": 5}


def test_fast_and_standard_constructors_agree():
    """The loader's fast path builds exactly what PyYAML's SafeLoader builds."""
    import yaml

    from analyzer.loaders.manifests import _documents
    samples = [
        ROLE, BINDING, "a: [1, 2.5, true, null, ~, 0x1F, 0o17, 1_000, .inf, -.nan]\n",
        "a: 2001-12-14t21:59:43.10-05:00\nb: 2002-12-14\nc: !!binary aGVsbG8=\n",
        "dup: 1\ndup: 2\n", "1: one\nnull: none\ntrue: yes\n", "? a\n: b\n", "s: !!str 5\n",
        "m: &x {a: 1}\nn: *x\n", "base: &b {a: 1}\nd:\n  <<: *b\n  c: 2\n", "o: !!omap [{a: 1}]\n",
        "set: !!set {a, b}\n", "'quoted': \"x\\ty\"\nblock: |\n  line\n  two\n",
    ]
    for text in samples:
        ours = [d for _, d, _, _, err in _documents(text, "t", Limits()) if not err]
        theirs = [d for d in yaml.load_all(text, Loader=yaml.SafeLoader) if d is not None]
        assert repr(ours) == repr(theirs), text
