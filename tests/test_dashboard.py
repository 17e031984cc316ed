"""The Streamlit dashboard: every page through AppTest, the upload reader, the cache rules, the CLI command."""

from __future__ import annotations

import ast
import importlib.util
import io
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from analyzer.api import Analysis
from analyzer.cli import dashboard as dashboard_cli
from analyzer.errors import LimitExceeded
from analyzer.loaders.uploads import UploadLimits, read_uploads
from analyzer.model.access import AccessMatrix

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "dashboards" / "app.py"
DATA = ROOT / "tests" / "data" / "dashboard"
TIMEOUT = 30


@pytest.fixture(autouse=True)
def loopback_server() -> Iterator[None]:
    """As ``rbac-analyzer dashboard`` runs it: listening on 127.0.0.1 only."""
    from streamlit import config

    before = config.get_option("server.address")
    config.set_option("server.address", "127.0.0.1")
    yield
    config.set_option("server.address", before)


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """The app opened on the test policy, as ``streamlit run dashboards/app.py -- -f DATA`` would."""
    monkeypatch.setattr(sys, "argv", [str(APP), "-f", str(DATA)])
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    return at


def goto(at: AppTest, page: str) -> AppTest:
    at.sidebar.radio(key="page").set_value(page).run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    parts = [e.value for e in at.markdown] + [e.value for e in at.caption] + [e.value for e in at.subheader]
    parts += [e.value for e in at.title] + [e.value for e in at.success] + [e.value for e in at.error]
    parts += [e.value for e in at.info] + [e.value for e in at.warning]
    return "\n".join(str(p) for p in parts)


def frame_values(at: AppTest, index: int = 0) -> list[dict[str, str]]:
    df = at.dataframe[index].value
    return df.to_dict("records")


def no_unexpected_errors(at: AppTest) -> None:
    assert not at.exception
    assert not [e.value for e in at.error if "Something went wrong" in str(e.value)]


# -- pages ----------------------------------------------------------------------------------------------

def test_overview_shows_counts_issues_and_notices(app: AppTest) -> None:
    no_unexpected_errors(app)
    assert app.title[0].value == "Overview"
    assert app.sidebar.radio(key="source").value == "Local path"
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Namespaces"] == "3" and metrics["Load issues"] == "1"
    kinds = {r["kind"]: r["count"] for r in frame_values(app, 0)}
    assert kinds["ClusterRole"] == "3" and kinds["RoleBinding"] == "4" and kinds["ClusterRoleBinding"] == "1"
    # every cell is a plain string: no raw Python objects on screen
    for df in app.dataframe:
        assert all(isinstance(v, str) for row in df.value.to_dict("records") for v in row.values())
    issues = [r for df in app.dataframe for r in df.value.to_dict("records") if "problem" in r]
    assert len(issues) == 1 and issues[0]["file"].endswith("broken.yaml") and issues[0]["field"].startswith("rules")
    notices = [r for df in app.dataframe for r in df.value.to_dict("records") if "code" in r]
    assert any("does-not-exist" in r["message"] for r in notices)


def test_who_can_get_secrets_in_payments(app: AppTest) -> None:
    at = goto(app, "Who can")
    assert at.title[0].value == "Who can"
    assert at.text_input(key="who_resource").value == "secrets"
    at.selectbox(key="who_ns").set_value("payments").run()
    no_unexpected_errors(at)
    rows = frame_values(at)
    assert {r["subject"] for r in rows} == {"Group:system:masters", "User:alice", "ServiceAccount:payments/api",
                                            "Group:ops"}
    alice = next(r for r in rows if r["subject"] == "User:alice")
    assert alice["binding"] == "RoleBinding payments/read-secrets" and alice["role"] == "ClusterRole secret-reader"
    assert "cluster.yaml" in alice["source"]
    assert "Who can get secrets in namespace payments" in texts(at)


def test_who_can_cluster_wide_and_bad_type(app: AppTest) -> None:
    at = goto(app, "Who can")
    at.selectbox(key="who_ns").set_value("(cluster-wide)").run()
    assert {r["subject"] for r in frame_values(at)} == {"Group:system:masters", "Group:ops"}
    at.text_input(key="who_resource").set_value("no-such-things").run()
    no_unexpected_errors(at)
    assert any("no-such-things" in str(e.value) for e in at.error)


def test_can_i_yes_with_evidence_and_no_with_near_misses(app: AppTest) -> None:
    at = goto(app, "Can I")
    assert at.title[0].value == "Can I"
    at.selectbox(key="can_subject").set_value("User:bob")
    at.selectbox(key="can_ns").set_value("dev").run()
    no_unexpected_errors(at)
    assert at.success and "Yes" in at.success[0].value
    evidence = frame_values(at)
    assert evidence[0]["binding"] == "RoleBinding dev/bob-pods" and evidence[0]["role"] == "Role dev/pod-manager"
    at.selectbox(key="can_ns").set_value("payments").run()
    no_unexpected_errors(at)
    assert at.error and "No" in at.error[0].value
    misses = frame_values(at)
    assert misses and misses[0]["binding"] == "RoleBinding dev/bob-pods" and "namespace" in misses[0]["why not"]


def test_can_i_custom_user_and_service_account(app: AppTest) -> None:
    at = goto(app, "Can I")
    at.selectbox(key="can_subject").set_value("ServiceAccount:ci/deployer")
    at.selectbox(key="can_verb").set_value("create")
    at.text_input(key="can_resource").set_value("deployments")
    at.selectbox(key="can_ns").set_value("payments").run()
    no_unexpected_errors(at)
    assert at.success, texts(at)
    at.selectbox(key="can_subject").set_value("Another user…").run()
    at.text_input(key="can_user").set_value("dave")
    at.text_input(key="can_groups").set_value("ops").run()
    no_unexpected_errors(at)
    assert at.success and "Yes" in at.success[0].value
    assert "dave" in texts(at)


def test_subject_access_matrix(app: AppTest) -> None:
    at = goto(app, "Subject")
    assert at.title[0].value == "Subject"
    at.selectbox(key="subj_subject").set_value("User:bob").run()
    no_unexpected_errors(at)
    scopes = at.radio(key="subj_scope").options
    assert scopes == ["(cluster-wide)", "dev"]
    at.radio(key="subj_scope").set_value("dev").run()
    matrix = {r["resource"]: r for r in frame_values(at)}
    assert matrix["pods"]["create"] == "✓" and matrix["pods/log"]["get"] == "✓"
    assert "update" not in matrix["pods"]


def test_findings_and_identity_pages_render(app: AppTest) -> None:
    for page in ("Findings", "Identity"):
        at = goto(app, page)
        no_unexpected_errors(at)
        assert at.title[0].value == page


HAS_AUDIT = hasattr(Analysis, "audit")
HAS_PATHS = hasattr(Analysis, "paths_from") and hasattr(Analysis, "blast_radius")
HAS_IDENTITY = importlib.util.find_spec("analyzer.identity") is not None


@pytest.mark.skipif(not HAS_AUDIT, reason="the audit (issue 5) is not in this tree")
def test_findings_filters_details_and_downloads(app: AppTest) -> None:
    at = goto(app, "Findings")
    rows = frame_values(at)
    assert rows and {r["section"] for r in rows} == {"user"}
    assert any(r["subject"] == "Group:ops" and r["severity"] == "critical" for r in rows)
    at.multiselect(key="find_sev").set_value(["critical"]).run()
    no_unexpected_errors(at)
    assert {r["severity"] for r in frame_values(at)} == {"critical"}
    at.text_input(key="find_subject").set_value("Group:ops").run()
    assert {r["subject"] for r in frame_values(at)} == {"Group:ops"}
    assert {b.label for b in at.download_button} == {"Markdown", "HTML", "JSON", "SARIF"}
    assert any("ops-admin" in r["evidence"] for r in frame_values(at, 1))  # the details' evidence table
    goto(at, "Overview")
    powerful = next(df.value.to_dict("records") for df in at.dataframe if "worst" in df.value.columns)
    assert powerful[0]["subject"] == "Group:ops" and powerful[0]["worst"] == "critical"


@pytest.mark.skipif(not HAS_PATHS, reason="escalation paths (issue 6) are not in this tree")
def test_subject_escalation_paths_and_blast_radius(app: AppTest) -> None:
    at = goto(app, "Subject")
    at.selectbox(key="subj_subject").set_value("ServiceAccount:ci/deployer").run()
    no_unexpected_errors(at)
    assert "Escalation paths" in texts(at) and "Blast radius" in texts(at)
    labels = {m.label for m in at.metric}
    assert {"Identities it can become", "Namespaces it controls", "Pods with its token"} <= labels


def _client_cert(cn: str, org: str) -> bytes:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, org), x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.mark.skipif(not HAS_IDENTITY, reason="identity resolution (issue 3) is not in this tree")
def test_identity_upload_then_can_i_as_it(app: AppTest) -> None:
    at = goto(app, "Identity")
    at.file_uploader(key="identity_upload").upload("dave.crt", _client_cert("dave", "ops")).run()
    no_unexpected_errors(at)
    row = frame_values(at)[0]
    assert row["user"] == "dave" and "ops" in row["groups"] and row["power in this policy"] == "cluster-admin equivalent"
    assert "BEGIN" not in texts(at)  # the certificate itself is never shown
    goto(at, "Can I")
    assert at.selectbox(key="can_subject").value == "dave (uploaded)"
    at.selectbox(key="can_ns").set_value("payments").run()
    assert at.success and "Yes" in at.success[0].value


def test_identity_upload_of_garbage_is_one_line(app: AppTest) -> None:
    at = goto(app, "Identity")
    if not at.file_uploader:
        pytest.skip("identity resolution is not in this tree")
    at.file_uploader(key="identity_upload").upload("notes.txt", b"hello: [unclosed").run()
    no_unexpected_errors(at)
    assert at.error


def test_uploads_source(app: AppTest) -> None:
    at = app
    at.sidebar.radio(key="source").set_value("Upload files").run()
    no_unexpected_errors(at)
    assert at.info  # asks for an upload, no traceback, no analysis yet
    blob = _zip({"policy/cluster.yaml": POLICY, "../escape.yaml": POLICY})
    at.sidebar.file_uploader(key="uploads").upload("policy.zip", blob, "application/zip").run()
    no_unexpected_errors(at)
    issues = [r for df in at.dataframe for r in df.value.to_dict("records") if "problem" in r]
    assert [r["file"] for r in issues] == ["policy.zip/../escape.yaml"]
    goto(at, "Who can")
    at.selectbox(key="who_ns").set_value("payments").run()
    assert "User:alice" in {r["subject"] for r in frame_values(at)}
    # the upload's Analysis lives in this session's state, not in a process-wide cache
    assert at.session_state["_upload"][1].inventory.files == ["policy.zip/policy/cluster.yaml"]


def test_bad_local_path_is_one_line(app: AppTest) -> None:
    at = app
    at.sidebar.text_area(key="paths").set_value("/no/such/dir").run()
    no_unexpected_errors(at)
    assert any("no such file" in str(e.value) for e in at.sidebar.error)


def test_exposed_server_reads_only_command_line_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit import config

    config.set_option("server.address", "0.0.0.0")
    monkeypatch.setattr(sys, "argv", [str(APP), "-f", str(DATA)])
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    no_unexpected_errors(at)
    assert at.sidebar.text_area(key="paths").disabled
    assert "Live cluster" not in at.sidebar.radio(key="source").options
    monkeypatch.setattr(sys, "argv", ["pytest"])
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert at.sidebar.radio(key="source").options == ["Sample policies", "Upload files"]


def test_opens_on_the_samples_without_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["pytest"])
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    no_unexpected_errors(at)
    assert at.sidebar.radio(key="source").value == "Sample policies"
    for page in ("Overview", "Who can", "Can I", "Subject", "Findings", "Identity"):
        goto(at, page)
        no_unexpected_errors(at)
    # the same answer as the library on the demo cluster
    demo = Analysis.from_paths([str(ROOT / "sample_policies" / "demo-cluster")])
    expected = {s.subject.id for s in demo.who_can("get", "secrets", namespace="payments")}
    goto(at, "Who can")
    at.selectbox(key="who_ns").set_value("payments").run()
    assert {r["subject"] for r in frame_values(at)} == expected
    assert {"ServiceAccount:web/legacy-cms", "User:alice@example.com", "Group:oncall"} <= expected


# -- caching rules: no credential in a process-wide cache ------------------------------------------------

# The only arguments a process-wide cache may be keyed by: local paths and the *names* of a context and
# kubeconfig file. A token, key, certificate, password or uploaded bytes must never be one of them.
CACHE_KEYS = {"load_paths": ("paths_key",), "load_live": ("context", "kubeconfig_path")}
CREDENTIAL_WORDS = ("token", "cert", "key_data", "password", "secret", "credential", "upload", "bytes", "content")


def _cached_functions(tree: ast.Module) -> list[ast.FunctionDef]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            for d in node.decorator_list:
                target = d.func if isinstance(d, ast.Call) else d
                if isinstance(target, ast.Attribute) and target.attr in ("cache_resource", "cache_data"):
                    out.append(node)
    return out


def test_cached_functions_take_only_plain_strings_and_no_credentials() -> None:
    tree = ast.parse(APP.read_text())
    cached = _cached_functions(tree)
    assert {f.name for f in cached} == {"load_paths", "load_live"}
    for fn in cached:
        for decorator in fn.decorator_list:  # cache_resource only: cache_data would pickle a copy per call
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            assert target.attr == "cache_resource"
        args = fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs
        assert not fn.args.vararg and not fn.args.kwarg
        assert tuple(a.arg for a in args) == CACHE_KEYS[fn.name]
        for a in args:
            assert isinstance(a.annotation, ast.Name) and a.annotation.id == "str", (fn.name, a.arg)
            assert not any(w in a.arg.lower() for w in CREDENTIAL_WORDS), (fn.name, a.arg)


def test_uploads_never_reach_a_cached_function() -> None:
    tree = ast.parse(APP.read_text())
    cached = {f.name for f in _cached_functions(tree)}
    upload_fn = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "upload_analysis")
    called = {n.func.id for n in ast.walk(upload_fn) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert not called & cached
    assert "session_state" in ast.unparse(upload_fn)


def test_app_imports_only_the_facade() -> None:
    tree = ast.parse(APP.read_text())
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            modules.add(node.module or "")
    allowed = ("analyzer.api", "analyzer.report", "analyzer.errors", "analyzer.model", "streamlit")
    ours = {m for m in modules if m.split(".")[0] in ("analyzer", "networkx", "graphviz", "streamlit")}
    assert all(any(m == a or m.startswith(a + ".") for a in allowed) for m in ours), ours


# -- uploads: archives read in memory, safely -------------------------------------------------------------

POLICY = (DATA / "cluster.yaml").read_bytes()


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _tgz(members: dict[str, bytes], symlink: str = "") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        if symlink:
            info = tarfile.TarInfo(symlink)
            info.type = tarfile.SYMTYPE
            info.linkname = "/etc/passwd"
            tf.addfile(info)
    return buf.getvalue()


def test_zip_upload_loads_and_refuses_traversal() -> None:
    blob = _zip({"policy/cluster.yaml": POLICY, "../evil.yaml": POLICY, "/abs.yaml": POLICY, "README.md": b"hi"})
    texts_, issues = read_uploads([("bundle.zip", blob)])
    assert [n for n, _ in texts_] == ["bundle.zip/policy/cluster.yaml"]
    assert {i.file for i in issues} == {"bundle.zip/../evil.yaml", "bundle.zip//abs.yaml"}
    a = Analysis.from_uploads([("bundle.zip", blob)])
    assert {s.subject.name for s in a.who_can("get", "secrets", namespace="payments")} >= {"alice", "api"}
    assert len(a.load_issues) == 2


def test_tar_gz_upload_skips_links_and_traversal() -> None:
    blob = _tgz({"a/cluster.yaml": POLICY, "a/../../x.yaml": POLICY}, symlink="a/link.yaml")
    texts_, issues = read_uploads([("policy.tar.gz", blob)])
    assert [n for n, _ in texts_] == ["policy.tar.gz/a/cluster.yaml"]
    reasons = {i.file: i.message for i in issues}
    assert "leaves the archive" in reasons["policy.tar.gz/a/../../x.yaml"]
    assert "not a regular file" in reasons["policy.tar.gz/a/link.yaml"]


def test_decompression_bomb_is_refused() -> None:
    bomb = _zip({"big.yaml": b"#" * (4 * 1024 * 1024)})
    assert len(bomb) < 64 * 1024
    with pytest.raises(LimitExceeded):
        read_uploads([("bomb.zip", bomb)], limits=UploadLimits(max_member_bytes=1024 * 1024))
    with pytest.raises(LimitExceeded):
        read_uploads([("bomb.tar.gz", _tgz({"big.yaml": b"#" * (4 * 1024 * 1024)}))],
                     limits=UploadLimits(max_member_bytes=1024 * 1024))
    with pytest.raises(LimitExceeded):
        read_uploads([("many.zip", _zip({f"{i}.yaml": b"a: 1" for i in range(30)}))],
                     limits=UploadLimits(max_members=10))


def test_bad_uploads_become_load_issues() -> None:
    texts_, issues = read_uploads([("x.zip", b"not a zip"), ("notes.txt", b"hello"), ("bin.yaml", b"\x00\x01"),
                                   ("ok.json", b'{"kind": "List", "items": []}')])
    assert [n for n, _ in texts_] == ["ok.json"]
    assert {i.file for i in issues} == {"x.zip", "notes.txt", "bin.yaml"}


# -- the access matrix --------------------------------------------------------------------------------------

def test_access_matrix_keeps_wildcards_and_names_literal() -> None:
    a = Analysis.from_paths([str(DATA)])
    cluster, _ = a.rules_everywhere(a.user_for_subject("Group:ops"))
    m = a.access_matrix(cluster)
    rows = {r["resource"]: r for r in m.rows()}
    assert rows["*.*"]["*"] == "✓" and rows["*"]["*"] == "✓"  # resources * in group * ; URL *
    assert AccessMatrix.from_grants([]).rows() == []


# -- the CLI command -----------------------------------------------------------------------------------------

def test_dashboard_command_builds_the_streamlit_command(tmp_path: Path) -> None:
    cmd = dashboard_cli.streamlit_command([str(tmp_path)], port=8600, headless=True)
    assert cmd[:5] == [sys.executable, "-m", "streamlit", "run", str(APP)]
    assert cmd[cmd.index("--"):] == ["--", "-f", str(tmp_path)]
    assert ["--server.address", "127.0.0.1"] == cmd[cmd.index("--server.address"):cmd.index("--server.address") + 2]


def test_dashboard_command_rejects_missing_paths(capsys: pytest.CaptureFixture[str]) -> None:
    from analyzer.cli import main

    assert main(["dashboard", "-f", "/no/such/policy"]) == 2
    assert "no such file" in capsys.readouterr().err


@pytest.mark.skipif(not hasattr(Analysis, "from_sources"), reason="live loading (issue 8) is not in this tree")
def test_live_source_with_a_missing_kubeconfig_is_one_line(app: AppTest, tmp_path: Path) -> None:
    at = app
    at.sidebar.radio(key="source").set_value("Live cluster").run()
    assert at.sidebar.info  # nothing is contacted before Connect
    at.sidebar.text_input(key="live_kubeconfig").set_value(str(tmp_path / "missing-kubeconfig"))
    at.sidebar.button(key="live_connect").click().run()
    no_unexpected_errors(at)
    assert any("missing-kubeconfig" in str(e.value) for e in at.sidebar.error)
