"""whoami, kubeconfig-audit and the credential as the asker of can-i / what-can, through main(argv)."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
import yaml

from .pki import CA, NOW, b64, bound_sa_claims, legacy_sa_claims, sign_jwt, write_kubeconfig

FIX = Path(__file__).resolve().parent / "fixtures" / "identity"
KC = FIX / "kubeconfigs"
AUTH = "system:authenticated"

POLICY = """
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: impersonate-jane}
rules:
- {apiGroups: [""], resources: [users], verbs: [impersonate], resourceNames: [jane]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: admin-impersonates-jane}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: impersonate-jane}
subjects: [{kind: User, name: admin, apiGroup: rbac.authorization.k8s.io}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader, namespace: dev}
rules:
- {apiGroups: [""], resources: [pods], verbs: [get, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: dev-reads-pods, namespace: dev}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
subjects: [{kind: Group, name: dev, apiGroup: rbac.authorization.k8s.io}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: admin}
rules:
- {apiGroups: ["*"], resources: ["*"], verbs: ["*"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: jane-admin, namespace: web}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin}
subjects: [{kind: User, name: jane, apiGroup: rbac.authorization.k8s.io}]
"""


@pytest.fixture(scope="module")
def ca() -> CA:
    return CA("cluster-ca")


@pytest.fixture
def env(tmp_path, monkeypatch):
    """No ambient kubeconfig: HOME is empty, KUBECONFIG unset."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    return tmp_path


@pytest.fixture
def world(env, ca):
    """A kubeconfig with several contexts, a policy, and the secrets inside them (for the leak test)."""
    tmp = env
    alice_cert, alice_key = ca.issue("alice", ("dev",))
    admin_cert, admin_key = ca.issue("admin", ("ops",))
    root_cert, root_key = ca.issue("root", ("system:masters",))
    old_cert, old_key = ca.issue("old", not_after=NOW.replace(year=2020))
    token = sign_jwt(legacy_sa_claims("ci", "builder"))
    bound = sign_jwt(bound_sa_claims())
    (tmp / "bound.jwt").write_text(bound)
    plugin = tmp / "plugin.sh"
    plugin.write_text("#!/bin/sh\nexit 1\n")
    plugin.chmod(0o755)
    exec_token = sign_jwt(bound_sa_claims("ci", "exec-runner", pod=False, node=False, jti="exec-jti"))
    good_plugin = tmp / "good-plugin.sh"
    cred = json.dumps({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                       "status": {"token": exec_token}})
    good_plugin.write_text(f"#!/bin/sh\ncat <<'EOF'\n{cred}\nEOF\n")
    good_plugin.chmod(0o755)
    clusters = {"test": {"server": "https://test.example.invalid:6443", "certificate-authority-data": b64(ca.pem)}}
    users = {
        "alice": {"client-certificate-data": b64(alice_cert), "client-key-data": b64(alice_key)},
        "admin-as-jane": {"client-certificate-data": b64(admin_cert), "client-key-data": b64(admin_key),
                          "as": "jane"},
        "root": {"client-certificate-data": b64(root_cert), "client-key-data": b64(root_key)},
        "old-with-token": {"client-certificate-data": b64(old_cert), "client-key-data": b64(old_key), "token": token},
        "sa": {"token": token},
        "bound": {"tokenFile": "bound.jwt"},
        "basic": {"username": "admin", "password": "pa55w0rd-very-secret"},
        "exec": {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": str(plugin),
                          "args": ["--password", "exec-arg-secret"], "interactiveMode": "Never",
                          "env": [{"name": "API_KEY", "value": "env-value-secret"}]}},
        "exec-ok": {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "./good-plugin.sh",
                             "interactiveMode": "IfAvailable"}},
    }
    contexts = {name: ("test", name) for name in users}
    kc = write_kubeconfig(tmp / "config", users=users, contexts=contexts, clusters=clusters, current="alice")
    (tmp / "policy.yaml").write_text(POLICY)
    (tmp / "alice.crt").write_bytes(alice_cert)
    (tmp / "ca.crt").write_bytes(ca.pem)
    (tmp / "sa.jwt").write_text(token)
    (tmp / "tokens.csv").write_text("static-secret-token,sam,7,ops\n")
    secrets = [token, token.split(".")[2], bound, bound.split(".")[2], exec_token, exec_token.split(".")[2], "pa55w0rd-very-secret", "exec-arg-secret",
               "env-value-secret", "static-secret-token"]
    for key in (alice_key, admin_key, root_key, old_key):
        secrets.append(b64(key))
        secrets.extend(line for line in key.decode().splitlines() if "-----" not in line)
    return {"kc": str(kc), "policy": str(tmp / "policy.yaml"), "dir": tmp, "secrets": secrets, "token": token}


def test_whoami_json_is_a_self_subject_review(cli, world):
    r = cli("whoami", "--kubeconfig", world["kc"], "-o", "json")
    assert r.code == 0, r
    doc = json.loads(r.out)
    assert doc["apiVersion"] == "authentication.k8s.io/v1" and doc["kind"] == "SelfSubjectReview"
    ui = doc["status"]["userInfo"]
    assert ui["username"] == "alice" and ui["groups"] == ["dev", AUTH]
    assert list(ui["extra"]) == ["authentication.kubernetes.io/credential-id"]
    a = doc["analysis"]
    assert {"credentialType", "accepted", "rejectedBecause", "resolvable", "authenticatedAs", "warnings"} <= set(a)
    assert a["credentialType"] == "x509" and a["accepted"] is True and a["resolvable"] is True
    assert a["authenticatedAs"] is None and any("assuming" in w for w in a["warnings"])


def test_whoami_text_and_yaml(cli, world):
    r = cli("whoami", "--kubeconfig", world["kc"], "--context", "bound")
    assert r.code == 0 and "system:serviceaccount:payments:api" in r.out and "accepted      yes" in r.out
    assert "pod payments/api-0" in r.out
    y = yaml.safe_load(cli("whoami", "--kubeconfig", world["kc"], "--context", "sa", "-o", "yaml").out)
    assert y["status"]["userInfo"]["username"] == "system:serviceaccount:ci:builder"
    assert "legacy-token" in y["analysis"]["problems"]


def test_whoami_rejected_is_exit_0_with_reasons(cli, world):
    r = cli("whoami", "--kubeconfig", world["kc"], "--context", "old-with-token", "-o", "json")
    doc = json.loads(r.out)
    assert r.code == 0
    # the expired certificate is rejected, so the server falls back to the token
    assert doc["analysis"]["credentialType"] == "serviceaccount-token-legacy"
    assert doc["status"]["userInfo"]["username"] == "system:serviceaccount:ci:builder"
    assert any("falls back to the token" in w for w in doc["analysis"]["warnings"])
    b = json.loads(cli("whoami", "--kubeconfig", world["kc"], "--context", "basic", "-o", "json").out)
    assert b["analysis"]["accepted"] is False and b["status"]["userInfo"]["username"] == "system:anonymous"


def test_whoami_undecidable_is_exit_3(cli, world):
    r = cli("whoami", "--kubeconfig", world["kc"], "--context", "exec", "-o", "json")
    assert r.code == 3
    assert len(r.err.strip().splitlines()) == 1 and "exec plugin" in r.err and "--allow-exec" in r.err
    doc = json.loads(r.out)
    assert doc["status"]["userInfo"] == {} and doc["analysis"]["resolvable"] is False
    failed = cli("whoami", "--kubeconfig", world["kc"], "--context", "exec", "--allow-exec")
    assert failed.code == 2 and "exit code 1" in failed.err and "Traceback" not in failed.err
    oidc = cli("whoami", "--token", str(FIX / "tokens" / "oidc-jane.jwt"))
    assert oidc.code == 3 and "--oidc-username-claim" in oidc.err
    ok = cli("whoami", "--token", str(FIX / "tokens" / "oidc-jane.jwt"), "--oidc-username-claim", "email",
             "--oidc-groups-claim", "groups", "-o", "json")
    assert ok.code == 0
    assert json.loads(ok.out)["status"]["userInfo"] == {"username": "jane@example.com",
                                                         "groups": ["platform-team", "sre", AUTH]}


def test_whoami_cert_token_stdin_and_files(cli, world, monkeypatch):
    d = world["dir"]
    r = cli("whoami", "--cert", str(d / "alice.crt"), "--client-ca", str(d / "ca.crt"), "-o", "json")
    doc = json.loads(r.out)
    assert r.code == 0 and doc["analysis"]["accepted"] and doc["analysis"]["warnings"] == []
    assert doc["analysis"]["details"]["signed by client CA"] == "yes (--client-ca)"
    foreign = cli("whoami", "--cert", str(FIX / "pki" / "mallory-foreign-ca.crt"), "--client-ca",
                  str(FIX / "pki" / "ca.crt"), "-o", "json")
    assert foreign.code == 0 and json.loads(foreign.out)["analysis"]["accepted"] is False
    monkeypatch.setattr(sys, "stdin", io.StringIO(world["token"] + "\n"))
    s = cli("whoami", "--token", "-", "-o", "json")
    assert json.loads(s.out)["status"]["userInfo"]["username"] == "system:serviceaccount:ci:builder"
    (d / "static.txt").write_text("static-secret-token")
    st = cli("whoami", "--token", str(d / "static.txt"), "--token-auth-file", str(d / "tokens.csv"), "-o", "json")
    assert json.loads(st.out)["status"]["userInfo"] == {"username": "sam", "groups": ["ops", AUTH], "uid": "7"}
    missing = cli("whoami", "--cert", str(d / "nope.crt"))
    assert missing.code == 2 and "cannot read" in missing.err


def test_whoami_impersonation_asks_the_policy(cli, world):
    r = cli("whoami", "--kubeconfig", world["kc"], "--context", "admin-as-jane", "-f", world["policy"], "-o", "json")
    doc = json.loads(r.out)
    assert doc["status"]["userInfo"] == {"username": "jane", "groups": [AUTH]}
    assert doc["analysis"]["authenticatedAs"]["username"] == "admin"
    assert doc["analysis"]["impersonationAllowed"] is True
    assert doc["analysis"]["impersonationChecks"][0]["request"] == {"verb": "impersonate", "resource": "users",
                                                                    "name": "jane"}
    assert doc["analysis"]["power"]["adminNamespaces"] == ["web"]
    denied = cli("whoami", "--kubeconfig", world["kc"], "--context", "admin-as-jane", "--as", "bob",
                 "--as-group", "dev", "-f", world["policy"])
    assert denied.code == 0 and "allowed by RBAC in the policy: NO" in denied.out
    assert "impersonate groups 'dev'" in denied.out


def test_kubeconfig_audit_text_and_json(cli, world):
    r = cli("kubeconfig-audit", "--kubeconfig", world["kc"], "-f", world["policy"])
    assert r.code == 0, r
    lines = {line.split()[0]: line for line in r.out.splitlines()[1:] if line.strip()}
    assert "cluster-admin equivalent" in lines["root"]
    assert "admin in web" in lines["admin-as-jane"] and "impersonation" in lines["admin-as-jane"]
    assert "REJECTED" in lines["basic"] and "basic-auth" in lines["basic"]
    assert "exec-plugin" in lines["exec"]
    assert "limited permissions" in lines["alice"]
    doc = json.loads(cli("kubeconfig-audit", "--kubeconfig", world["kc"], "-o", "json").out)
    rows = {row["context"]: row for row in doc["contexts"]}
    assert rows["alice"]["userInfo"]["username"] == "alice" and "power" not in rows["alice"]
    assert rows["exec"]["resolvable"] is False and rows["exec"]["userInfo"] == {}
    shared = cli("kubeconfig-audit", "--kubeconfig", str(KC / "many-contexts.yaml"))
    assert shared.code == 0 and "dangling-reference" in shared.out and "untrusted-ca" in shared.out


def test_credential_is_the_asker_of_can_i_and_what_can(cli, world):
    kc, pol = world["kc"], world["policy"]
    assert cli("can-i", "get", "pods", "-n", "dev", "--kubeconfig", kc, "-f", pol, "-q").code == 0
    assert cli("can-i", "get", "pods", "-n", "dev", "--kubeconfig", kc, "--context", "sa", "-f", pol, "-q").code == 1
    assert cli("can-i", "get", "pods", "-n", "dev", "--cert", str(world["dir"] / "alice.crt"), "-f", pol,
               "-q").code == 0
    # impersonation in the kubeconfig: the effective identity (jane) asks
    assert cli("can-i", "delete", "pods", "-n", "web", "--kubeconfig", kc, "--context", "admin-as-jane",
               "-f", pol, "-q").code == 0
    r = cli("can-i", "--list", "-n", "dev", "--kubeconfig", kc, "-f", pol)
    assert r.code == 0 and r.out.startswith("alice (groups: dev, system:authenticated)") and "pods" in r.out
    w = cli("what-can", "--kubeconfig", kc, "--context", "root", "-n", "dev", "-f", pol)
    assert w.code == 0 and "system:masters" in w.out
    # --as still wins over the kubeconfig
    assert cli("can-i", "get", "pods", "-n", "dev", "--as", "nobody", "--kubeconfig", kc, "-f", pol,
               "-q").code == 1
    undecidable = cli("can-i", "get", "pods", "--kubeconfig", kc, "--context", "exec", "-f", pol)
    assert undecidable.code == 2 and "cannot tell offline" in undecidable.err


def test_can_i_without_any_identity_is_a_usage_error(cli, env, world):
    r = cli("can-i", "get", "pods", "-f", world["policy"])
    assert r.code == 2 and "who is asking?" in r.err


def test_can_i_uses_kubeconfig_env_like_kubectl(cli, world, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", world["kc"])
    assert cli("can-i", "list", "pods", "-n", "dev", "-f", world["policy"], "-q").code == 0


def test_no_secret_ever_appears_in_outputs(cli, world, monkeypatch):
    kc, pol, d = world["kc"], world["policy"], world["dir"]
    runs = []
    for ctx in ("alice", "admin-as-jane", "root", "old-with-token", "sa", "bound", "basic", "exec", "exec-ok"):
        for fmt in ("text", "json", "yaml"):
            runs.append(("whoami", "--kubeconfig", kc, "--context", ctx, "-o", fmt))
        runs.append(("whoami", "--kubeconfig", kc, "--context", ctx, "-f", pol, "-v"))
        runs.append(("whoami", "--kubeconfig", kc, "--context", ctx, "--allow-exec", "-o", "json"))
    for fmt in ("text", "json"):
        runs.append(("kubeconfig-audit", "--kubeconfig", kc, "-o", fmt))
        runs.append(("kubeconfig-audit", "--kubeconfig", kc, "-f", pol, "-o", fmt, "--allow-exec"))
    runs.append(("whoami", "--token", str(d / "sa.jwt"), "-o", "json"))
    runs.append(("whoami", "--token", str(d / "sa.jwt"), "--token-auth-file", str(d / "tokens.csv")))
    runs.append(("can-i", "--list", "--kubeconfig", kc, "--context", "old-with-token", "-f", pol))
    outputs = []
    for argv in runs:
        monkeypatch.setattr(sys, "stdin", io.StringIO(world["token"]))
        r = cli(*argv)
        outputs.append((argv, r.out + r.err))
    assert any("system:serviceaccount:ci:builder" in o for _, o in outputs)  # the scan is looking at real output
    for argv, text in outputs:
        for secret in world["secrets"]:
            assert secret not in text, f"secret material leaked by {' '.join(argv)}"


def test_power_asks_the_policy(tmp_path):
    from analyzer import Analysis
    from analyzer.model import UserInfo

    a = Analysis.from_texts([("p.yaml", POLICY + """
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: ns-admin}
rules:
- {apiGroups: [rbac.authorization.k8s.io], resources: [rolebindings, roles], verbs: [create]}
- {apiGroups: ["", apps], resources: [pods, secrets, deployments], verbs: [get, create, delete]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ops-admin-everywhere}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ns-admin}
subjects: [{kind: Group, name: ops, apiGroup: rbac.authorization.k8s.io}]
""")])
    assert a.power_of(UserInfo(username="x", groups=("system:masters",))).summary() == "cluster-admin equivalent"
    assert a.power_of(UserInfo(username="x", groups=("ops",))).summary() == \
        "admin in every namespace; can read secrets cluster-wide"
    assert a.power_of(UserInfo(username="jane")).summary() == "admin in web; can read secrets in web"
    assert a.power_of(UserInfo(username="y", groups=("dev",))).summary() == "limited permissions"
    assert a.power_of(UserInfo(username="z")).summary() == "nothing"


def test_whoami_allow_exec_runs_the_plugin(cli, world):
    r = cli("whoami", "--kubeconfig", world["kc"], "--context", "exec-ok", "-o", "json")
    assert r.code == 3 and "./good-plugin.sh" in r.err
    ok = cli("whoami", "--kubeconfig", world["kc"], "--context", "exec-ok", "--allow-exec", "-o", "json")
    assert ok.code == 0, ok
    doc = json.loads(ok.out)
    assert doc["status"]["userInfo"]["username"] == "system:serviceaccount:ci:exec-runner"
    assert doc["analysis"]["credentialType"] == "serviceaccount-token" and "exec-plugin" in doc["analysis"]["problems"]


def test_commands_asking_as_a_credential_take_the_servers_authentication_settings(cli, tmp_path):
    # an OIDC token says who it is only with the API server's claim settings: can-i, paths and render take
    # the same flags as whoami
    policy = tmp_path / "policy.yaml"
    policy.write_text("""
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: sre-view, namespace: ops}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: sre}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: view}
rules: [{apiGroups: [""], resources: [pods], verbs: [get, list]}]
""")
    token = str(FIX / "tokens" / "oidc-jane.jwt")
    claims = ("--oidc-username-claim", "email", "--oidc-groups-claim", "groups")
    unknown = cli("can-i", "get", "pods", "-n", "ops", "--token", token, "-f", str(policy))
    assert unknown.code == 2 and "--oidc-username-claim" in unknown.err
    yes = cli("can-i", "get", "pods", "-n", "ops", "--token", token, *claims, "-f", str(policy))
    assert (yes.code, yes.out.splitlines()[0]) == (0, "yes") and "asked as jane@example.com (groups: platform-team, sre" in yes.out
    no = cli("can-i", "delete", "pods", "-n", "ops", "--token", token, *claims, "-f", str(policy))
    assert (no.code, no.out.splitlines()[0]) == (1, "no")
    paths = cli("paths", "--token", token, *claims, "-f", str(policy), "-o", "json")
    assert paths.code == 0 and json.loads(paths.out) == {"paths": []}
