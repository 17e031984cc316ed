"""Live clusters and snapshots: a local HTTPS API server (client certificate required) vs the same files."""

from __future__ import annotations

import gzip
import json
import logging
import os
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml

from analyzer import Analysis
from analyzer.errors import ClusterError
from analyzer.identity.kubeconfig import Connection
from analyzer.loaders.cluster import FetchOptions, fetch_cluster, open_session, self_subject_review

from .fake_apiserver import Behaviour, FakeAPIServer, FakePKI, read_objects

FIXTURES = Path(__file__).parent / "fixtures" / "live"
TOKEN = "s3cr3t-bearer-token-do-not-print"
ROLES_ALL = "/apis/rbac.authorization.k8s.io/v1/roles"
ROLES_RESTRICTED = "/apis/rbac.authorization.k8s.io/v1/namespaces/restricted/roles"
CRBS = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"
OPTS = FetchOptions(page_size=7, sleep=lambda _s: None)


@pytest.fixture(scope="module")
def pki() -> FakePKI:
    return FakePKI.generate()


@pytest.fixture(scope="module")
def objects() -> list[dict[str, Any]]:
    return read_objects(FIXTURES)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)


def _server(objects, pki, tmp_path, **behaviour) -> FakeAPIServer:
    return FakeAPIServer(objects, pki, Behaviour(**behaviour), tmpdir=tmp_path)


def _conn(srv: FakeAPIServer, pki: FakePKI, **kw: Any) -> Connection:
    base: dict[str, Any] = {"server": srv.url, "context_name": "test-ctx", "ca_data": pki.ca.cert,
                            "client_cert_data": pki.client.cert, "client_key_data": pki.client.key}
    base.update(kw)
    return Connection(**base)


def _strip(x: Any) -> Any:
    """Answers without where they came from (files vs cluster:ctx)."""
    if isinstance(x, dict):
        return {k: _strip(v) for k, v in x.items() if k not in ("source", "file", "line", "document")}
    if isinstance(x, list):
        return sorted((_strip(v) for v in x), key=lambda v: json.dumps(v, sort_keys=True))
    return x


WHO_CAN = [("get", "secrets", "payments", ""), ("create", "pods", "dev", ""), ("create", "pods", "dev", "exec"),
           ("list", "widgets", "dev", ""), ("get", "secrets", "kube-system", ""), ("delete", "nodes", "", ""),
           ("get", "configmaps", "kube-public", "")]
CAN_I = [("bob", ("system:authenticated",), "create", "pods", "dev", "exec"),
         ("system:serviceaccount:payments:api", ("system:serviceaccounts", "system:serviceaccounts:payments",
                                                 "system:authenticated"), "get", "secrets", "payments", ""),
         ("carol", ("qa", "system:authenticated"), "list", "widgets", "payments", ""),
         ("system:serviceaccount:dev:builder", ("system:serviceaccounts", "system:serviceaccounts:dev",
                                                "system:authenticated"), "create", "deployments", "dev", ""),
         ("dave", ("system:authenticated",), "get", "secrets", "payments", "")]


def _answers(a: Analysis, *, skip_ns: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for verb, res, ns, sub in WHO_CAN:
        if ns != skip_ns:
            group = "example.com" if res == "widgets" else "apps" if res == "deployments" else ""
            out[f"who-can {verb} {res}/{sub} {ns}"] = _strip(
                [s.to_dict() for s in a.who_can(verb, res, namespace=ns, api_group=group, subresource=sub)])
    for user, groups, verb, res, ns, sub in CAN_I:
        group = "example.com" if res == "widgets" else "apps" if res == "deployments" else ""
        d = a.can_i(user, groups, verb, res, namespace=ns, api_group=group, subresource=sub)
        out[f"can-i {user} {verb} {res} {ns}"] = (d.allowed, d.reason,
                                                  _strip([g.to_dict() for g in d.evidence]))
    return out


def test_live_answers_equal_file_answers(objects, pki, tmp_path):
    files = Analysis.from_paths([str(FIXTURES)])
    with _server(objects, pki, tmp_path) as srv:
        live = Analysis.from_sources(connection=_conn(srv, pki), fetch_options=OPTS)
    assert live.inventory.incomplete == []
    assert live.inventory.kind_counts() == files.inventory.kind_counts()
    assert _answers(live) == _answers(files)
    allowed = [v[0] for k, v in _answers(live).items() if k.startswith("can-i")]
    assert allowed == [True, False, True, True, False]  # the queries do exercise the policy
    assert live.inventory.metadata["clusterVersion"] == "v1.30.2"
    assert live.inventory.metadata["context"] == "test-ctx"
    assert live.inventory.roles[0].source.file == "cluster:test-ctx"


def test_pagination_kinds_and_redaction(objects, pki, tmp_path):
    with _server(objects, pki, tmp_path) as srv:
        progress: list[tuple[str, int, int]] = []
        fetched = fetch_cluster(_conn(srv, pki), options=OPTS, on_progress=lambda *a: progress.append(a))
        crs = srv.paths_requested("/apis/rbac.authorization.k8s.io/v1/clusterroles")
    assert progress[-1] == ("reading cluster", 15, 15)
    assert ("reading clusterroles (14)", 2, 15) in progress  # per page
    assert len(crs) == 5  # 32 ClusterRoles, 7 a page
    assert [r["query"].get("continue", [""])[0] for r in crs] == ["", "7", "14", "21", "28"]
    assert all(r["query"]["limit"] == ["7"] for r in crs)
    kinds = {o["kind"] for o in fetched.objects}
    assert {"ClusterRole", "Role", "Namespace", "CustomResourceDefinition", "Deployment", "Pod", "CronJob",
            "ServiceAccount"} <= kinds
    assert all(o["apiVersion"] for o in fetched.objects)
    text = json.dumps(fetched.objects)
    assert "hunter2-env-secret" not in text and "managedFields" not in text
    assert "last-applied-configuration" not in text


def test_forbidden_lists_are_incomplete_not_fatal(objects, pki, tmp_path):
    files = Analysis.from_paths([str(FIXTURES)])
    with _server(objects, pki, tmp_path, forbidden={ROLES_ALL, ROLES_RESTRICTED}) as srv:
        live = Analysis.from_sources(connection=_conn(srv, pki), fetch_options=OPTS)
        per_ns = [r["path"] for r in srv.requests if r["path"].endswith("/roles")]
    assert live.inventory.incomplete == ["roles in namespace restricted (forbidden)"]
    assert "/apis/rbac.authorization.k8s.io/v1/namespaces/dev/roles" in per_ns
    assert _answers(live) == _answers(files)  # nothing asked involves the unreadable namespace
    # the unreadable Role: its binding now points at a role that is "missing"
    subjects, errors = live.who_can_request(live.request("get", "secrets", namespace="restricted"))
    assert not any(s.subject.name == "ops" for s in subjects) and errors
    missing = [n.message for n in live.notices if n.code == "missing-role"]
    assert missing == ["RoleBinding restricted/ops-secrets refers to Role secrets-admin, which is not in the inputs "
                       "(grants nothing); those roles could not be read from the cluster, so it may exist"]


def test_forbidden_everywhere_and_server_errors(objects, pki, tmp_path):
    ns_path = "/api/v1/namespaces"
    pods = "/api/v1/pods"
    with _server(objects, pki, tmp_path, forbidden={ns_path, ROLES_ALL, "/apis/rbac.authorization.k8s.io/v1/namespaces/dev/roles"},
                 transient={pods: [503] * 10}) as srv:
        fetched = fetch_cluster(_conn(srv, pki, namespace="dev"), options=OPTS)
    inc = list(fetched.incomplete)
    assert "namespaces (forbidden)" in inc
    # namespaces unknown: the namespaces seen elsewhere are tried, and the rest is said to be missing
    assert "roles in namespace dev (forbidden)" in inc
    assert any(i.startswith("roles in namespaces other than") for i in inc)
    assert "pods (error: HTTP 503)" in inc


def test_retry_on_429_and_5xx(objects, pki, tmp_path):
    slept: list[float] = []
    opts = FetchOptions(page_size=50, sleep=slept.append)
    with _server(objects, pki, tmp_path, transient={CRBS: [429, 503]}) as srv:
        fetched = fetch_cluster(_conn(srv, pki), options=opts)
        assert len(srv.paths_requested(CRBS)) == 3
    assert not fetched.incomplete
    assert sum(o["kind"] == "ClusterRoleBinding" for o in fetched.objects) == 11
    assert slept == [0.0, 0.0]  # Retry-After: 0 honoured


def test_client_certificate_is_required(objects, pki, tmp_path):
    with _server(objects, pki, tmp_path) as srv:
        with pytest.raises(ClusterError, match="cannot reach|TLS"):
            fetch_cluster(_conn(srv, pki, client_cert_data=None, client_key_data=None), options=OPTS)
        with pytest.raises(ClusterError, match="cannot reach|TLS"):  # a certificate from a CA the server does not trust
            fetch_cluster(_conn(srv, pki, client_cert_data=pki.stranger.cert, client_key_data=pki.stranger.key),
                          options=OPTS)
        with pytest.raises(ClusterError, match="cannot reach|TLS"):  # the server's CA is not trusted by us
            fetch_cluster(_conn(srv, pki, ca_data=pki.stranger.cert), options=OPTS)


def test_token_and_impersonation_headers(objects, pki, tmp_path):
    with _server(objects, pki, tmp_path, tokens={TOKEN}) as srv:
        conn = _conn(srv, pki, token=TOKEN, impersonate_user="bob", impersonate_groups=("dev", "qa"))
        me = self_subject_review(conn, options=OPTS)
        fetch_cluster(conn, options=OPTS)
        assert all(r["authorization"] == f"Bearer {TOKEN}" for r in srv.requests)
        assert all(r["impersonate_groups"] == ["dev", "qa"] for r in srv.requests)
        with pytest.raises(ClusterError, match="401"):
            fetch_cluster(_conn(srv, pki, token="wrong"), options=OPTS)
    assert me.username == "bob" and me.groups == ("dev", "qa", "system:authenticated")


def test_self_subject_review_from_client_certificate(objects, pki, tmp_path):
    with _server(objects, pki, tmp_path) as srv:
        me = Analysis.server_user(_conn(srv, pki))
    assert me.username == "alice" and me.groups == ("dev", "system:authenticated")


def test_key_material_is_private_and_removed(objects, pki, tmp_path):
    with _server(objects, pki, tmp_path) as srv:
        with open_session(_conn(srv, pki), OPTS) as s:
            cfg = s.api.configuration
            paths = [cfg.ssl_ca_cert, cfg.cert_file, cfg.key_file]
            directory = os.path.dirname(cfg.key_file)
            assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
            assert all(stat.S_IMODE(os.stat(p).st_mode) == 0o600 for p in paths)
            status, version = s.request("GET", "/version")
            assert status == 200 and version["gitVersion"] == "v1.30.2"
    assert not os.path.exists(directory)


@pytest.mark.parametrize("suffix", [".yaml", ".yaml.gz", ".json"])
def test_snapshot_round_trip(objects, pki, tmp_path, suffix):
    out = tmp_path / f"snap{suffix}"
    with _server(objects, pki, tmp_path, forbidden={ROLES_ALL, ROLES_RESTRICTED}) as srv:
        live = Analysis.from_sources(connection=_conn(srv, pki), fetch_options=OPTS)
    assert live.write_snapshot(str(out)) == suffix[1:]
    raw = gzip.decompress(out.read_bytes()) if suffix.endswith(".gz") else out.read_bytes()
    doc = json.loads(raw) if suffix == ".json" else yaml.safe_load(raw)
    assert doc["kind"] == "List" and doc["apiVersion"] == "v1"
    assert doc["rbacAnalyzer"]["clusterVersion"] == "v1.30.2"
    assert doc["rbacAnalyzer"]["context"] == "test-ctx"
    assert doc["rbacAnalyzer"]["incomplete"] == ["roles in namespace restricted (forbidden)"]
    assert doc["rbacAnalyzer"]["capturedAt"].endswith("Z")
    offline = Analysis.from_paths([str(out)])
    assert offline.inventory.incomplete == live.inventory.incomplete
    assert offline.inventory.metadata["clusterVersion"] == "v1.30.2"
    assert offline.inventory.kind_counts() == live.inventory.kind_counts()
    assert _answers(offline) == _answers(live)
    assert offline.load_issues == []
    # a snapshot of the snapshot is the same file (stable order, same header)
    again = tmp_path / f"again{suffix}"
    offline.write_snapshot(str(again))
    assert again.read_bytes() == out.read_bytes()


def test_snapshot_from_files_round_trips(tmp_path):
    files = Analysis.from_paths([str(FIXTURES)])
    out = tmp_path / "files.yaml"
    files.write_snapshot(str(out))
    again = Analysis.from_paths([str(out)])
    assert _answers(again) == _answers(files)
    assert again.inventory.kind_counts() == files.inventory.kind_counts()


def test_bad_snapshot_header_is_a_load_issue(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("apiVersion: v1\nkind: List\nrbacAnalyzer: {incomplete: [1, ok], context: [x]}\nitems: []\n")
    a = Analysis.from_paths([str(p)])
    assert a.inventory.incomplete == ["ok"]
    assert {i.field for i in a.load_issues} == {"rbacAnalyzer.incomplete[0]", "rbacAnalyzer.context"}


# -- the CLI -----------------------------------------------------------------------------------

@pytest.fixture
def live_cli(cli, objects, pki, tmp_path, monkeypatch):
    """The CLI with --live pointed at a fake API server (a stand-in for the kubeconfig resolution)."""
    srv = _server(objects, pki, tmp_path, forbidden={ROLES_ALL, ROLES_RESTRICTED}, tokens={TOKEN})
    srv.__enter__()
    conn = _conn(srv, pki, token=TOKEN)
    seen: list[tuple[Any, ...]] = []

    def resolve(kubeconfig=None, context=None, allow_exec=False):
        seen.append((kubeconfig, context, allow_exec))
        return conn

    monkeypatch.setattr(Analysis, "live_connection", staticmethod(resolve))
    yield cli, seen
    srv.__exit__(None, None, None)


def _no_secrets(pki: FakePKI, *texts: str) -> None:
    key_line = pki.client.key.decode().splitlines()[1]
    for t in texts:
        assert TOKEN not in t and key_line not in t and "hunter2" not in t


def test_cli_live_who_can_and_can_i(live_cli, pki, caplog):
    run, seen = live_cli
    caplog.set_level(logging.DEBUG)
    r = run("who-can", "get", "secrets", "-n", "payments", "--live", "--context", "prod", "-o", "json")
    assert r.code == 0, r
    data = json.loads(r.out)
    assert data["incomplete"] is True
    assert "incomplete: could not read roles in namespace restricted (forbidden)" in r.err
    assert {s["name"] for s in data["subjects"]} >= {"system:kube-controller-manager", "system:masters"}
    t = run("who-can", "get", "secrets", "-n", "payments", "--live")
    assert "incomplete: could not read roles in namespace restricted (forbidden)" in t.out
    c = run("can-i", "create", "pods/exec", "-n", "dev", "--as", "bob", "--live")
    assert c.code == 0 and c.out.startswith("yes") and "incomplete: could not read" in c.out
    j = run("can-i", "get", "secrets", "-n", "payments", "--as", "dave", "--live", "-o", "json")
    assert j.code == 1 and json.loads(j.out)["incomplete"] == ["roles in namespace restricted (forbidden)"]
    ld = run("load", "--live", "-o", "json")
    assert json.loads(ld.out)["incomplete"] == ["roles in namespace restricted (forbidden)"]
    assert json.loads(ld.out)["source"]["clusterVersion"] == "v1.30.2"
    lt = run("load", "--live")
    assert "Cluster: context test-ctx, v1.30.2, read at " in lt.out
    assert "Incomplete: could not read roles in namespace restricted (forbidden)" in lt.out
    assert seen[0] == (None, "prod", False)
    _no_secrets(pki, r.out, r.err, t.out, c.out, j.out, ld.out, caplog.text)


def test_cli_live_with_files_merges(live_cli, tmp_path):
    run, _ = live_cli
    extra = tmp_path / "extra.yaml"
    extra.write_text("apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: dave-pods, "
                     "namespace: dev}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-manager}\n"
                     "subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: dave}]\n")
    assert run("can-i", "create", "pods", "-n", "dev", "--as", "dave", "--live").code == 1
    assert run("can-i", "create", "pods", "-n", "dev", "--as", "dave", "--live", "-f", str(extra)).code == 0


def test_cli_snapshot(live_cli, pki, tmp_path):
    run, _ = live_cli
    out = tmp_path / "prod.yaml.gz"
    r = run("snapshot", "--live", "--output-file", str(out))
    assert r.code == 0, r
    assert "Wrote 77 objects" not in r.out  # the forbidden Roles are missing
    assert "of context test-ctx" in r.out and "incomplete: could not read roles in namespace restricted" in r.out
    text = gzip.decompress(out.read_bytes()).decode()
    _no_secrets(pki, r.out, r.err, text)
    offline = run("who-can", "get", "secrets", "-n", "payments", "-f", str(out), "-o", "json")
    online = run("who-can", "get", "secrets", "-n", "payments", "--live", "-o", "json")
    assert _strip(json.loads(offline.out)) == _strip(json.loads(online.out))
    assert "incomplete: could not read roles in namespace restricted (forbidden)" in offline.err


def test_cli_snapshot_usage_errors(cli, tmp_path):
    assert cli("snapshot", "--output-file", str(tmp_path / "x.yaml")).code == 2
    r = cli("snapshot", "-f", str(FIXTURES), "--output-file", str(tmp_path / "x.txt"))
    assert r.code == 2 and "must end in" in r.err
    r = cli("snapshot", "-f", str(FIXTURES), "--output-file", str(tmp_path / "x.json"))
    assert r.code == 0 and json.loads((tmp_path / "x.json").read_text())["kind"] == "List"


def test_without_live_nothing_talks_to_a_cluster(cli, monkeypatch):
    def boom(*_a, **_k):
        raise AssertionError("contacted a cluster without --live")

    monkeypatch.setattr(Analysis, "live_connection", staticmethod(boom))
    monkeypatch.setattr("analyzer.loaders.cluster.open_session", boom)
    assert cli("who-can", "get", "secrets", "-f", str(FIXTURES), "--kubeconfig", "/nonexistent").code == 0


def test_cli_live_through_a_real_kubeconfig(cli, objects, pki, tmp_path, monkeypatch):
    import base64

    def b64(b: bytes) -> str:
        return base64.b64encode(b).decode()

    with _server(objects, pki, tmp_path, tokens={TOKEN}) as srv:
        kubeconfig = tmp_path / "config"
        kubeconfig.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "fake",
            "clusters": [{"name": "fake", "cluster": {"server": srv.url,
                                                     "certificate-authority-data": b64(pki.ca.cert)}}],
            "users": [{"name": "alice", "user": {"client-certificate-data": b64(pki.client.cert),
                                                 "client-key-data": b64(pki.client.key), "token": TOKEN}}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "alice"}}]}))
        monkeypatch.delenv("KUBECONFIG", raising=False)
        r = cli("who-can", "create", "pods", "-n", "dev", "--live", "--kubeconfig", str(kubeconfig), "-o", "json")
        assert r.code == 0, r
        assert {"bob", "dev"} <= {s["name"] for s in json.loads(r.out)["subjects"]}
        assert all(q["authorization"] == f"Bearer {TOKEN}" for q in srv.requests)
        _no_secrets(pki, r.out, r.err)


def test_cli_review_says_incomplete(live_cli, tmp_path):
    run, _ = live_cli
    sar = tmp_path / "sar.yaml"
    sar.write_text("apiVersion: authorization.k8s.io/v1\nkind: SubjectAccessReview\nspec:\n  user: bob\n"
                   "  resourceAttributes: {verb: create, resource: pods, namespace: dev}\n")
    r = run("review", str(sar), "--live")
    data = json.loads(r.out)
    assert r.code == 0 and data["items"][0]["status"]["allowed"] is True
    assert data["incomplete"] == ["roles in namespace restricted (forbidden)"]


def test_bad_key_material_and_addresses_are_one_line_errors(objects, pki, tmp_path):
    with _server(objects, pki, tmp_path) as srv:
        for kw, msg in (({"ca_data": b"garbage"}, "TLS .* failed: .*X509"),
                        ({"client_key_data": pki.stranger.key}, "TLS .* failed: .*key values mismatch"),
                        ({"server": "https://[::1"}, "not an http"), ({"server": "ftp://x"}, "not an http"),
                        ({"client_key_data": None}, "without its key")):
            with pytest.raises(ClusterError, match=msg):
                fetch_cluster(_conn(srv, pki, **kw), options=OPTS)


def test_tls_server_name(objects, pki, tmp_path):
    with _server(objects, pki, tmp_path) as srv:
        ok = fetch_cluster(_conn(srv, pki, tls_server_name="localhost"), options=OPTS)
        assert ok.cluster_version == "v1.30.2"
        with pytest.raises(ClusterError, match="TLS"):
            fetch_cluster(_conn(srv, pki, tls_server_name="apiserver.example.invalid"), options=OPTS)


def test_insecure_skip_tls_verify(objects, pki, tmp_path, caplog):
    with _server(objects, pki, tmp_path) as srv:
        with pytest.warns(Warning):  # urllib3's InsecureRequestWarning
            fetched = fetch_cluster(_conn(srv, pki, ca_data=None, insecure_skip_tls_verify=True), options=OPTS)
    assert fetched.cluster_version == "v1.30.2"
    assert "TLS verification" in caplog.text


def test_forbidden_in_every_namespace_is_one_entry(objects, pki, tmp_path):
    rb = "/apis/rbac.authorization.k8s.io/v1/rolebindings"
    nss = ["default", "kube-system", "kube-public", "dev", "payments", "restricted"]
    forbidden = {rb} | {f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings" for ns in nss}
    with _server(objects, pki, tmp_path, forbidden=forbidden) as srv:
        fetched = fetch_cluster(_conn(srv, pki), options=OPTS)
    assert fetched.incomplete == ("rolebindings (forbidden)",)
    assert not any(o["kind"] == "RoleBinding" for o in fetched.objects)


def test_file_objects_replace_live_ones(objects, pki, tmp_path):
    change = tmp_path / "change.yaml"
    change.write_text("apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: bob-pods, "
                      "namespace: dev}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-manager}\n"
                      "subjects: []\n")
    with _server(objects, pki, tmp_path) as srv:
        before = Analysis.from_sources(connection=_conn(srv, pki), fetch_options=OPTS)
        after = Analysis.from_sources([str(change)], connection=_conn(srv, pki), fetch_options=OPTS)
    assert before.can_i("bob", ["system:authenticated"], "create", "pods", namespace="dev").allowed
    assert not after.can_i("bob", ["system:authenticated"], "create", "pods", namespace="dev").allowed
    dup = [n for n in after.notices if n.code == "duplicate"]
    assert len(dup) == 1 and "cluster:test-ctx" in dup[0].message


def _kubeconfig(srv, pki, path):
    import base64

    def b64(b: bytes) -> str:
        return base64.b64encode(b).decode()

    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "fake",
        "clusters": [{"name": "fake", "cluster": {"server": srv.url, "certificate-authority-data": b64(pki.ca.cert)}}],
        "users": [{"name": "alice", "user": {"client-certificate-data": b64(pki.client.cert),
                                             "client-key-data": b64(pki.client.key)}}],
        "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "alice"}}]}))
    return str(path)


def test_whoami_live(cli, objects, pki, tmp_path):
    with _server(objects, pki, tmp_path) as srv:
        kc = _kubeconfig(srv, pki, tmp_path / "config")
        r = cli("whoami", "--live", "--kubeconfig", kc, "-o", "json")
        assert r.code == 0, r
        data = json.loads(r.out)
        assert data["status"]["userInfo"]["username"] == "alice"
        assert data["analysis"]["server"] == {"userInfo": {"username": "alice",
                                                           "groups": ["dev", "system:authenticated"]}, "agrees": True}
        assert "incomplete" not in data["analysis"]
        t = cli("whoami", "--live", "--kubeconfig", kc)
        assert "agrees (SelfSubjectReview)" in t.out
        assert any(r["path"].endswith("/selfsubjectreviews") for r in srv.requests)
        _no_secrets(pki, r.out, r.err, t.out, t.err)
    # a server that maps the credential differently (e.g. an authenticating proxy or webhook)
    with _server(objects, pki, tmp_path, ssr_user={"username": "oidc:alice@example.com",
                                                   "groups": ["oidc:admins", "system:authenticated"]}) as srv:
        kc = _kubeconfig(srv, pki, tmp_path / "config2")
        t = cli("whoami", "--live", "--kubeconfig", kc)
        assert t.code == 0
        assert "the API server answers differently" in t.out and "oidc:alice@example.com" in t.out
        assert "alice" in t.out.split("the API server answers differently")[0]
        j = json.loads(cli("whoami", "--live", "--kubeconfig", kc, "-o", "json").out)
        assert j["analysis"]["server"]["agrees"] is False
    with _server(objects, pki, tmp_path, forbidden={ROLES_ALL, ROLES_RESTRICTED}) as srv:
        kc = _kubeconfig(srv, pki, tmp_path / "config3")
        j = json.loads(cli("whoami", "--live", "--kubeconfig", kc, "-o", "json").out)
        assert j["analysis"]["incomplete"] == ["roles in namespace restricted (forbidden)"]
        assert j["status"]["userInfo"]["username"] == "alice"


def test_in_cluster_connection_when_no_kubeconfig(tmp_path, monkeypatch):
    from analyzer.identity import kubeconfig as kc

    sa = tmp_path / "sa"
    sa.mkdir()
    (sa / "token").write_text(TOKEN)
    (sa / "namespace").write_text("ci")
    real = kc.in_cluster_connection
    monkeypatch.setattr(kc, "in_cluster_connection", lambda: real(base_dir=str(sa)))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    conn = Analysis.live_connection()
    assert conn.server == "https://10.0.0.1:443" and conn.namespace == "ci" and conn.token == TOKEN
    # a kubeconfig, when there is one, wins (as with client-go)
    (tmp_path / ".kube").mkdir()
    (tmp_path / ".kube" / "config").write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": "https://kube.example.invalid:6443"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]}))
    assert Analysis.live_connection().server == "https://kube.example.invalid:6443"


def test_hostile_answers_are_recorded_not_fatal(objects, pki, tmp_path):
    raw = {"/api/v1/pods": b"<html>not json</html>",
           "/apis/apps/v1/deployments": b'{"items": {"a": 1}}',
           "/apis/batch/v1/jobs": b"[" * 100_000 + b"]" * 100_000,
           "/api/v1/serviceaccounts": json.dumps({"items": [1, "x", {"metadata": {"name": 7}}, {"metadata": {
               "name": "ok", "namespace": "dev"}}]}).encode()}
    with _server(objects, pki, tmp_path, raw=raw) as srv:
        a = Analysis.from_sources(connection=_conn(srv, pki), fetch_options=OPTS)
    inc = a.inventory.incomplete
    assert "pods (error: the answer is not a list)" in inc
    assert "deployments.apps (error: the answer is not a list)" in inc
    assert "jobs.batch (error: the answer is not a list)" in inc
    assert [s.name for s in a.inventory.service_accounts] == ["ok"]
    assert any(i.field == "metadata.name" for i in a.load_issues)


@pytest.mark.parametrize("fmt", ["text", "md", "html", "json", "sarif"])
def test_cli_audit_reports_say_incomplete(live_cli, pki, fmt):
    run, _ = live_cli
    r = run("audit", "--live", "-o", fmt)
    assert r.code in (0, 1), r
    assert "roles in namespace restricted (forbidden)" in r.out
    if fmt == "json":
        assert json.loads(r.out)["incomplete"] == ["roles in namespace restricted (forbidden)"]
    _no_secrets(pki, r.out, r.err)
