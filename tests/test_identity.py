"""analyzer.identity: kubeconfig selection and merging, certificates, tokens, precedence, impersonation, exec."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest
from cryptography.x509.oid import ExtendedKeyUsageOID

from analyzer.errors import IdentityError, UsageError
from analyzer.identity import (
    AuthenticatorOptions,
    TokenOptions,
    audit_kubeconfig,
    check_client_certificate,
    check_token,
    impersonation_requests,
    in_cluster_connection,
    load_kubeconfig,
    load_token_auth_file,
    load_verify_keys,
    resolve_connection,
    resolve_identity,
    select_context,
)
from analyzer.model import Impersonation, Request

from .pki import (
    CA,
    FAR_AHEAD,
    LONG_AGO,
    NOW,
    b64,
    bound_sa_claims,
    ec_key,
    jwks,
    legacy_sa_claims,
    pem_public,
    rsa_key,
    sign_jwt,
    write_kubeconfig,
)

FIX = Path(__file__).resolve().parent / "fixtures" / "identity"
KC = FIX / "kubeconfigs"
AUTH = "system:authenticated"
CRED_ID = "authentication.kubernetes.io/credential-id"


@pytest.fixture(scope="module")
def ca() -> CA:
    return CA("cluster-ca")


def cert_user(ca: CA, cn: str = "alice", orgs: tuple[str, ...] = ()) -> dict[str, str]:
    cert, key = ca.issue(cn, orgs)
    return {"client-certificate-data": b64(cert), "client-key-data": b64(key)}


def cluster(ca: CA) -> dict[str, dict[str, str]]:
    return {"test": {"server": "https://test.example.invalid:6443", "certificate-authority-data": b64(ca.pem)}}


# -- kubeconfig selection and merging -----------------------------------------------------------------
def test_kubeconfig_env_merge_first_file_wins_and_relative_paths(tmp_path, ca):
    (tmp_path / "a").mkdir()
    (tmp_path / "b" / "certs").mkdir(parents=True)
    cert, key = ca.issue("carol", ("dev",))
    (tmp_path / "b" / "certs" / "carol.crt").write_bytes(cert)
    (tmp_path / "b" / "certs" / "carol.key").write_bytes(key)
    a = write_kubeconfig(tmp_path / "a" / "config", users={"alice": cert_user(ca, "alice")},
                         contexts={"dev": ("test", "alice")}, clusters=cluster(ca))
    b = write_kubeconfig(tmp_path / "b" / "config",
                         users={"alice": {"token": "ignored"},
                                "carol": {"client-certificate": "certs/carol.crt", "client-key": "certs/carol.key"}},
                         contexts={"dev": ("test", "carol"), "staging": ("test", "carol")},
                         clusters={"test": {"server": "https://other.invalid"}}, current="staging")
    env = {"KUBECONFIG": os.pathsep.join([str(tmp_path / "missing"), str(a), str(b), str(a)])}
    cfg = load_kubeconfig(None, env)
    assert cfg.files == (str(a), str(b))
    assert cfg.current_context == "staging"  # the first file that sets one
    assert cfg.contexts["dev"].source == str(a) and cfg.users["alice"].source == str(a)
    assert cfg.clusters["test"].body["server"] == "https://test.example.invalid:6443"
    r = resolve_identity(context="staging", env=env, now=NOW)
    assert r.user.username == "carol" and r.user.groups == ("dev", AUTH)  # certs/ relative to b's folder
    assert r.server == "https://test.example.invalid:6443"  # cluster "test" taken whole from a
    assert resolve_identity(context="dev", env=env, now=NOW).user.username == "alice"


def test_kubeconfig_default_home_and_explicit_file(tmp_path, ca):
    write_kubeconfig(tmp_path / ".kube" / "config", users={"alice": cert_user(ca)},
                     contexts={"c": ("test", "alice")}, clusters=cluster(ca), current="c")
    r = resolve_identity(env={"HOME": str(tmp_path)}, now=NOW)
    assert r.context == "c" and r.user.username == "alice" and r.accepted
    with pytest.raises(IdentityError, match="no such kubeconfig file"):
        resolve_identity(kubeconfig=str(tmp_path / "nope"), env={})
    with pytest.raises(IdentityError, match="no kubeconfig found"):
        resolve_identity(env={"HOME": str(tmp_path / "empty")})


def test_kubeconfig_errors_are_clear(tmp_path, ca):
    p = write_kubeconfig(tmp_path / "k", users={"alice": cert_user(ca)},
                         contexts={"ok": ("test", "alice"), "ghost": ("test", "nobody"), "nocluster": ("x", "alice")},
                         clusters=cluster(ca))
    cfg = load_kubeconfig(str(p))
    with pytest.raises(IdentityError, match="current-context is not set"):
        select_context(cfg)
    with pytest.raises(IdentityError, match="context 'nope' not found"):
        select_context(cfg, "nope")
    with pytest.raises(IdentityError, match="names user 'nobody', which is not defined"):
        select_context(cfg, "ghost")
    with pytest.raises(IdentityError, match="names cluster 'x', which is not defined"):
        select_context(cfg, "nocluster")
    (tmp_path / "bad").write_text("clusters: [\n")
    with pytest.raises(IdentityError, match="not valid YAML"):
        load_kubeconfig(str(tmp_path / "bad"))
    (tmp_path / "b64").write_text(yaml_user({"client-certificate-data": "***not base64***"}))
    with pytest.raises(IdentityError, match="not valid base64"):
        resolve_identity(kubeconfig=str(tmp_path / "b64"))


def yaml_user(user: dict) -> str:
    return json.dumps({"clusters": [{"name": "t", "cluster": {"server": "https://x.invalid"}}],
                       "users": [{"name": "u", "user": user}],
                       "contexts": [{"name": "c", "context": {"cluster": "t", "user": "u"}}],
                       "current-context": "c"})


def test_shared_samples_merge_and_relative_paths(monkeypatch):
    env = {"KUBECONFIG": f"{KC / 'merge-a.yaml'}{os.pathsep}{KC / 'team' / 'merge-b.yaml'}"}
    r = resolve_identity(env=env)  # current-context from merge-b; "dev" context and user from merge-a
    assert r.context == "dev" and r.user.username == "alice"
    assert r.server == "https://test-cluster.example.invalid:6443"
    s = resolve_identity(context="staging", env=env)  # ../../pki relative to team/
    assert s.user.username == "carol" and s.user.groups == ("dev", "ops", "oncall", AUTH) and s.accepted
    rev = {"KUBECONFIG": f"{KC / 'team' / 'merge-b.yaml'}{os.pathsep}{KC / 'merge-a.yaml'}"}
    r2 = resolve_identity(env=rev)
    assert r2.user.username == "carol" and r2.server == "https://other-test-endpoint.example.invalid:6443"
    f = resolve_identity(kubeconfig=str(KC / "file-paths.yaml"))
    assert f.user.username == "bob" and f.user.groups == ("dev", AUTH) and f.namespace == "dev"


# -- live connection ------------------------------------------------------------------------------------
def test_resolve_connection_and_redacted_repr(tmp_path, ca):
    token = sign_jwt(bound_sa_claims())
    p = write_kubeconfig(tmp_path / "k", users={"t": {"token": token, "as": "jane", "as-groups": ["dev"]},
                                                "c": cert_user(ca)},
                         contexts={"tok": ("test", "t"), "crt": ("test", "c")}, clusters=cluster(ca), current="tok",
                         namespaces={"tok": "payments"})
    c = resolve_connection(str(p), None)
    assert c.server == "https://test.example.invalid:6443" and c.context_name == "tok" and c.namespace == "payments"
    assert c.token == token and c.ca_data == ca.pem
    assert c.impersonate_user == "jane" and c.impersonate_groups == ("dev",)
    assert token not in repr(c) and "<redacted>" in repr(c)
    k = resolve_connection(str(p), "crt")
    assert k.client_cert_data.startswith(b"-----BEGIN CERTIFICATE") and k.token is None
    assert "PRIVATE" not in repr(k)


def test_resolve_connection_exec_needs_opt_in(tmp_path):
    with pytest.raises(IdentityError, match="--allow-exec"):
        resolve_connection(str(KC / "exec-eks.yaml"), None)
    plugin = _plugin(tmp_path, {"token": "exec-token-123"})
    p = write_kubeconfig(tmp_path / "k", users={"e": {"exec": _exec_spec(plugin)}}, contexts={"c": ("test", "e")},
                         current="c")
    assert resolve_connection(str(p), None, allow_exec=True).token == "exec-token-123"


def test_in_cluster_connection(tmp_path):
    assert in_cluster_connection(str(tmp_path), env={}) is None
    (tmp_path / "token").write_text("tok\n")
    (tmp_path / "namespace").write_text("ci")
    (tmp_path / "ca.crt").write_bytes(b"CA")
    c = in_cluster_connection(str(tmp_path), env={"KUBERNETES_SERVICE_HOST": "10.0.0.1",
                                                   "KUBERNETES_SERVICE_PORT": "443"})
    assert (c.server, c.namespace, c.token, c.ca_data) == ("https://10.0.0.1:443", "ci", "tok", b"CA")


# -- certificates ---------------------------------------------------------------------------------------
def test_certificate_maps_cn_and_orgs(ca):
    cert, _ = ca.issue("alice", ("dev", "ops", "system:masters"))
    c = check_client_certificate(cert, client_ca=ca.pem, ca_is_assumption=False, now=NOW)
    assert c.accepted and c.user.username == "alice"
    assert c.user.groups == ("dev", "ops", "system:masters", AUTH)
    assert c.user.extra[CRED_ID][0].startswith("X509SHA256=") and len(c.user.extra[CRED_ID][0]) == 11 + 64
    assert c.fingerprint == "sha256:" + c.user.extra[CRED_ID][0][11:]
    assert not c.warnings  # a real --client-ca: no assumption
    assumed = check_client_certificate(cert, client_ca=ca.pem, ca_is_assumption=True, now=NOW)
    assert any("assuming" in w for w in assumed.warnings)


@pytest.mark.parametrize("kwargs, reason, problem", [
    ({"not_before": LONG_AGO, "not_after": NOW.replace(year=2029)}, "expired on 2029", "expired"),
    ({"not_before": NOW.replace(year=2031), "not_after": FAR_AHEAD}, "not yet valid", "not-yet-valid"),
    ({"eku": (ExtendedKeyUsageOID.SERVER_AUTH,)}, "does not allow client authentication", "wrong-key-usage"),
])
def test_certificate_rejections_still_show_identity(ca, kwargs, reason, problem):
    cert, _ = ca.issue("dave", ("dev",), **kwargs)
    c = check_client_certificate(cert, client_ca=ca.pem, ca_is_assumption=False, now=NOW)
    assert not c.accepted and c.user.username == "dave" and c.user.groups == ("dev", AUTH)
    assert any(reason in r for r in c.rejected_because) and problem in c.problems


def test_certificate_eku_none_or_any_is_fine_and_foreign_ca_is_not(ca):
    for eku in (None, (ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,)):
        cert, _ = ca.issue("x", eku=eku)
        assert check_client_certificate(cert, client_ca=ca.pem, ca_is_assumption=False, now=NOW).accepted
    other = CA("other-ca")
    cert, _ = other.issue("mallory", ("system:masters",))
    c = check_client_certificate(cert, client_ca=ca.pem, ca_is_assumption=True, now=NOW)
    assert not c.accepted and "untrusted-ca" in c.problems and c.user.username == "mallory"
    assert "the kubeconfig's certificate-authority" in c.rejected_because[0]
    unchecked = check_client_certificate(cert, client_ca=None, ca_is_assumption=False, now=NOW)
    assert unchecked.accepted and any("not checked" in w for w in unchecked.warnings)


def test_certificate_chain_through_intermediate(ca):
    inter = CA("intermediate", issuer=ca)
    cert, _ = inter.issue("ivy")
    c = check_client_certificate(cert + inter.pem, client_ca=ca.pem, ca_is_assumption=False, now=NOW)
    assert c.accepted
    alone = check_client_certificate(cert, client_ca=ca.pem, ca_is_assumption=False, now=NOW)
    assert not alone.accepted


def test_certificate_without_cn_authenticates_nobody(ca, tmp_path):
    cert, _ = ca.issue(None, ("dev",))
    c = check_client_certificate(cert, client_ca=ca.pem, ca_is_assumption=False, now=NOW)
    assert c.user is None and not c.accepted and "no-cn" in c.problems
    (tmp_path / "no-cn.crt").write_bytes(cert)
    r = resolve_identity(cert_file=str(tmp_path / "no-cn.crt"), now=NOW)
    assert r.user.username == "system:anonymous" and not r.accepted
    off = resolve_identity(cert_file=str(tmp_path / "no-cn.crt"), now=NOW,
                           options=AuthenticatorOptions(anonymous_auth=False))
    assert off.user is None


def test_certificate_last_cn_wins_and_garbage_is_an_error():
    c = check_client_certificate((FIX / "pki" / "grace-ou.crt").read_bytes(),
                                 client_ca=(FIX / "pki" / "ca.crt").read_bytes(), ca_is_assumption=False)
    assert c.user.username == "grace@example.com" and c.user.groups == ("qa", "release-managers", AUTH)
    with pytest.raises(IdentityError, match="not a PEM or DER"):
        check_client_certificate(b"hello", client_ca=None, ca_is_assumption=False)


def test_key_mismatch_is_rejected(tmp_path, ca):
    cert, _ = ca.issue("alice")
    _, other_key = ca.issue("bob")
    p = write_kubeconfig(tmp_path / "k", users={"u": {"client-certificate-data": b64(cert),
                                                      "client-key-data": b64(other_key)}},
                         contexts={"c": ("test", "u")}, clusters=cluster(ca), current="c")
    r = resolve_identity(kubeconfig=str(p), now=NOW)
    assert not r.accepted and "key-mismatch" in r.problems


# -- tokens ---------------------------------------------------------------------------------------------
def test_legacy_service_account_token():
    t = check_token(sign_jwt(legacy_sa_claims("ci", "builder", "u-1")), now=NOW)
    assert t.credential_type == "serviceaccount-token-legacy" and t.accepted
    assert t.user.username == "system:serviceaccount:ci:builder" and t.user.uid == "u-1"
    assert t.user.groups == ("system:serviceaccounts", "system:serviceaccounts:ci", AUTH)
    assert "legacy-token" in t.problems
    assert any("signature not verified" in w for w in t.warnings)


def test_bound_token_with_pod_and_node_extras():
    t = check_token(sign_jwt(bound_sa_claims()), now=NOW)
    assert t.credential_type == "serviceaccount-token" and t.accepted
    assert t.user.username == "system:serviceaccount:payments:api" and t.user.uid == "sa-uid"
    assert dict(t.user.extra) == {
        "authentication.kubernetes.io/pod-name": ("api-0",), "authentication.kubernetes.io/pod-uid": ("pod-uid",),
        "authentication.kubernetes.io/node-name": ("worker-1",),
        "authentication.kubernetes.io/node-uid": ("node-uid",), CRED_ID: ("JTI=jti-1",)}
    expired = check_token(sign_jwt(bound_sa_claims(exp=NOW.replace(year=2029))), now=NOW)
    assert not expired.accepted and "expired" in expired.problems and expired.user is not None


def test_unsigned_token_is_rejected():
    t = check_token(sign_jwt(legacy_sa_claims(), alg="none"), now=NOW)
    assert not t.accepted and "unsigned" in t.problems and "alg: none" in t.rejected_because[0]


def test_verify_with_pem_and_jwks(tmp_path):
    token = sign_jwt(bound_sa_claims())
    (tmp_path / "sa.pub").write_bytes(pem_public(rsa_key()))
    (tmp_path / "jwks.json").write_text(json.dumps(jwks()))
    for f in ("sa.pub", "jwks.json"):
        t = check_token(token, TokenOptions(verify_keys=load_verify_keys([str(tmp_path / f)])), now=NOW)
        assert t.accepted and ("signature", f"verified with {tmp_path / f}" + ("#test-kid" if "jwks" in f else "")) \
            in t.facts
    wrong = ec_key()
    (tmp_path / "wrong.pub").write_bytes(pem_public(wrong))
    t = check_token(token, TokenOptions(verify_keys=load_verify_keys([str(tmp_path / "wrong.pub")])), now=NOW)
    assert not t.accepted and "bad-signature" in t.problems
    (tmp_path / "junk").write_text("junk")
    with pytest.raises(IdentityError, match="not a PEM public key"):
        load_verify_keys([str(tmp_path / "junk")])


def test_shared_sample_tokens_verify_with_their_jwks():
    keys = load_verify_keys([str(FIX / "tokens" / "sa-signer.jwks.json")])
    legacy = check_token((FIX / "tokens" / "legacy-ci-builder.jwt").read_text(), TokenOptions(verify_keys=keys))
    assert legacy.accepted and legacy.user.username == "system:serviceaccount:ci:builder"
    expired = check_token((FIX / "tokens" / "bound-expired-monitoring-prometheus-k8s.jwt").read_text(),
                          TokenOptions(verify_keys=keys))
    assert not expired.accepted and expired.rejected_because == ("token expired at 2025-01-01T01:00:00Z",)
    # an OIDC token signed by another issuer's key: unknown signer, not a bad signature
    oidc = check_token((FIX / "tokens" / "oidc-jane.jwt").read_text(),
                       TokenOptions(verify_keys=keys, oidc_username_claim="email"))
    assert oidc.accepted and any("key id" in w for w in oidc.warnings)


def _oidc_token(**extra) -> str:
    claims = {"iss": "https://dex.example.invalid", "sub": "abc", "aud": "kubernetes", "exp": 4102444800,
              "email": "jane@example.com", "email_verified": True, "groups": ["sre", "dev"], **extra}
    return sign_jwt(claims)


def test_oidc_needs_the_servers_settings():
    t = check_token(_oidc_token(), now=NOW)
    assert not t.resolvable and "--oidc-username-claim" in t.unresolvable_reason and t.user is None
    e = check_token(_oidc_token(), TokenOptions(oidc_username_claim="email", oidc_groups_claim="groups",
                                                oidc_groups_prefix="oidc:"), now=NOW)
    assert e.resolvable and e.accepted and e.credential_type == "oidc-token"
    assert e.user.username == "jane@example.com" and e.user.groups == ("oidc:sre", "oidc:dev", AUTH)
    s = check_token(_oidc_token(), TokenOptions(oidc_username_claim="sub"), now=NOW)
    assert s.user.username == "https://dex.example.invalid#abc" and s.user.groups == (AUTH,)
    d = check_token(_oidc_token(), TokenOptions(oidc_username_claim="sub", oidc_username_prefix="-"), now=NOW)
    assert d.user.username == "abc"
    p = check_token(_oidc_token(), TokenOptions(oidc_username_claim="sub", oidc_username_prefix="dex:"), now=NOW)
    assert p.user.username == "dex:abc"
    unverified = check_token(_oidc_token(email_verified=False), TokenOptions(oidc_username_claim="email"), now=NOW)
    assert not unverified.accepted
    wrong_aud = check_token(_oidc_token(), TokenOptions(oidc_username_claim="email", oidc_client_id="other"),
                            now=NOW)
    assert not wrong_aud.accepted and "audience" in wrong_aud.rejected_because[0]


def test_opaque_static_and_bootstrap_tokens(tmp_path):
    (tmp_path / "tokens.csv").write_text('s3cr3t-static,alice,42,"dev,ops"\nother,bob,43\n')
    static = load_token_auth_file(str(tmp_path / "tokens.csv"))
    assert "s3cr3t-static" not in repr(static)
    opts = TokenOptions(static_tokens=static, static_tokens_source="tokens.csv")
    t = check_token("s3cr3t-static", opts, now=NOW)
    assert t.credential_type == "static-token" and t.accepted
    assert (t.user.username, t.user.uid, t.user.groups) == ("alice", "42", ("dev", "ops", AUTH))
    assert check_token("other", opts).user.groups == (AUTH,)
    unknown = check_token("not-in-file", opts, now=NOW)
    assert not unknown.resolvable and "not in --token-auth-file" in unknown.unresolvable_reason
    assert not check_token("opaque", now=NOW).resolvable
    b = check_token("abcdef.0123456789abcdef", now=NOW)
    assert b.credential_type == "bootstrap-token" and b.user.username == "system:bootstrap:abcdef"
    assert b.user.groups == ("system:bootstrappers", AUTH)


# -- resolution: precedence, basic auth, anonymous, impersonation ---------------------------------------
def test_cert_wins_over_token_when_it_verifies(tmp_path, ca):
    token = sign_jwt(legacy_sa_claims())
    good = {**cert_user(ca, "alice"), "token": token}
    cert, key = ca.issue("old", not_after=NOW.replace(year=2029))
    bad = {"client-certificate-data": b64(cert), "client-key-data": b64(key), "token": token}
    p = write_kubeconfig(tmp_path / "k", users={"good": good, "bad": bad},
                         contexts={"good": ("test", "good"), "bad": ("test", "bad")}, clusters=cluster(ca))
    g = resolve_identity(kubeconfig=str(p), context="good", now=NOW)
    assert g.credential_type == "x509" and g.user.username == "alice" and "never looks at the token" in g.warnings[0]
    b = resolve_identity(kubeconfig=str(p), context="bad", now=NOW)
    assert b.credential_type == "serviceaccount-token-legacy" and b.accepted
    assert b.user.username == "system:serviceaccount:ci:builder" and "falls back to the token" in b.warnings[0]


def test_basic_auth_and_no_credential(tmp_path):
    basic = resolve_identity(kubeconfig=str(KC / "basic-auth.yaml"))
    assert basic.credential_type == "basic-auth" and not basic.accepted
    assert basic.user.username == "system:anonymous" and basic.user.groups == ("system:unauthenticated",)
    assert "1.19" in basic.rejected_because[0]
    p = write_kubeconfig(tmp_path / "k", users={"nobody": {}}, contexts={"c": ("test", "nobody")}, current="c")
    none = resolve_identity(kubeconfig=str(p))
    assert none.credential_type == "none" and none.accepted and none.user.username == "system:anonymous"
    off = resolve_identity(kubeconfig=str(p), options=AuthenticatorOptions(anonymous_auth=False))
    assert not off.accepted and off.user is None and "401" in off.rejected_because[0]


def test_impersonation_from_kubeconfig_and_flags(tmp_path, ca):
    p = write_kubeconfig(tmp_path / "k", users={
        "admin-as-jane": {**cert_user(ca, "admin", ("ops",)), "as": "jane", "as-groups": ["dev", "qa"],
                          "as-uid": "u-9", "as-user-extra": {"reason": ["incident"]}},
        "admin-as-sa": {**cert_user(ca, "admin"), "as": "system:serviceaccount:ci:builder"},
        "groups-only": {**cert_user(ca, "admin"), "as-groups": ["dev"]},
    }, contexts={"j": ("test", "admin-as-jane"), "s": ("test", "admin-as-sa"), "g": ("test", "groups-only")},
        clusters=cluster(ca))
    j = resolve_identity(kubeconfig=str(p), context="j", now=NOW)
    assert (j.user.username, j.user.groups, j.user.uid) == ("jane", ("dev", "qa", AUTH), "u-9")
    assert dict(j.user.extra) == {"reason": ("incident",)}
    assert j.authenticated_as.username == "admin" and j.authenticated_as.groups == ("ops", AUTH)
    assert "impersonation" in j.problems and j.impersonation.source == "kubeconfig"
    s = resolve_identity(kubeconfig=str(p), context="s", now=NOW)
    assert s.user.groups == ("system:serviceaccounts", "system:serviceaccounts:ci", AUTH)
    g = resolve_identity(kubeconfig=str(p), context="g", now=NOW)
    assert not g.accepted and "without a user" in g.rejected_because[0]
    f = resolve_identity(kubeconfig=str(p), context="j", as_user="bob", as_groups=["x"], now=NOW)
    assert f.user.username == "bob" and f.user.groups == ("x", AUTH) and f.impersonation.source == "flags"
    with pytest.raises(UsageError):
        resolve_identity(kubeconfig=str(p), context="j", as_groups=["x"])
    review = j.to_review()
    assert review["status"]["userInfo"]["username"] == "jane"
    assert review["analysis"]["authenticatedAs"]["username"] == "admin"


def test_impersonation_requests_follow_7_5():
    reqs = impersonation_requests(Impersonation(user="system:serviceaccount:ci:builder", groups=("g",), uid="u",
                                                extra={"scopes": ("a", "b")}))
    assert reqs == [
        Request(verb="impersonate", resource="serviceaccounts", namespace="ci", name="builder"),
        Request(verb="impersonate", resource="groups", name="g"),
        Request(verb="impersonate", resource="uids", api_group="authentication.k8s.io", name="u"),
        Request(verb="impersonate", resource="userextras", api_group="authentication.k8s.io", subresource="scopes",
                name="a"),
        Request(verb="impersonate", resource="userextras", api_group="authentication.k8s.io", subresource="scopes",
                name="b"),
    ]
    assert impersonation_requests(Impersonation(user="system:serviceaccount:BAD:x")) == [
        Request(verb="impersonate", resource="users", name="system:serviceaccount:BAD:x")]


# -- exec plugins -----------------------------------------------------------------------------------------
def _plugin(tmp_path: Path, status: dict | None, *, exit_code: int = 0, sleep: float = 0,
            api_version: str = "client.authentication.k8s.io/v1") -> Path:
    script = tmp_path / "plugin.py"
    body = json.dumps({"apiVersion": api_version, "kind": "ExecCredential", "status": status})
    script.write_text(
        f"#!{sys.executable}\nimport json, os, sys, time\n"
        f"info = json.loads(os.environ['KUBERNETES_EXEC_INFO'])\n"
        f"assert info['spec']['interactive'] is False\n"
        f"time.sleep({sleep})\nsys.stdout.write({body!r})\nsys.exit({exit_code})\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def _exec_spec(script: Path) -> dict:
    return {"apiVersion": "client.authentication.k8s.io/v1", "command": str(script), "args": ["--token=hunter2"],
            "interactiveMode": "Never"}


def test_exec_plugin_runs_only_when_allowed(tmp_path, ca):
    token = sign_jwt(bound_sa_claims("ci", "runner", pod=False, node=False))
    script = _plugin(tmp_path, {"token": token, "expirationTimestamp": "2090-01-01T00:00:00Z"})
    p = write_kubeconfig(tmp_path / "k", users={"e": {"exec": _exec_spec(script)}}, contexts={"c": ("test", "e")},
                         clusters=cluster(ca), current="c")
    r = resolve_identity(kubeconfig=str(p), now=NOW)
    assert not r.resolvable and r.user is None and "exec-plugin" in r.problems
    assert "--token=<redacted>" in r.unresolvable_reason and "hunter2" not in r.unresolvable_reason
    ran = resolve_identity(kubeconfig=str(p), options=AuthenticatorOptions(allow_exec=True), now=NOW)
    assert ran.resolvable and ran.accepted and ran.user.username == "system:serviceaccount:ci:runner"
    assert ("exec credential expires", "2090-01-01T00:00:00Z") in ran.facts


def test_exec_plugin_certificate_and_failures(tmp_path, ca):
    cert, key = ca.issue("exec-user", ("team",))
    script = _plugin(tmp_path, {"clientCertificateData": cert.decode(), "clientKeyData": key.decode()})
    p = write_kubeconfig(tmp_path / "k", users={"e": {"exec": _exec_spec(script)}}, contexts={"c": ("test", "e")},
                         clusters=cluster(ca), current="c")
    r = resolve_identity(kubeconfig=str(p), options=AuthenticatorOptions(allow_exec=True), now=NOW)
    assert r.credential_type == "x509" and r.user.username == "exec-user" and r.accepted
    _plugin(tmp_path, None, exit_code=1)
    with pytest.raises(IdentityError, match="exit code 1"):
        resolve_identity(kubeconfig=str(p), options=AuthenticatorOptions(allow_exec=True))
    _plugin(tmp_path, {"token": "x"}, api_version="client.authentication.k8s.io/v1beta1")
    with pytest.raises(IdentityError, match="apiVersion"):
        resolve_identity(kubeconfig=str(p), options=AuthenticatorOptions(allow_exec=True))
    _plugin(tmp_path, {"token": "x"}, sleep=5)
    with pytest.raises(IdentityError, match="did not finish"):
        resolve_identity(kubeconfig=str(p), options=AuthenticatorOptions(allow_exec=True, exec_timeout=0.5))
    # audits turn a failing plugin into a row, not an error
    rows = audit_kubeconfig(str(p), AuthenticatorOptions(allow_exec=True, exec_timeout=0.5))
    assert len(rows) == 1 and not rows[0].resolvable


def test_audit_of_shared_many_contexts():
    rows = {r.context: r for r in audit_kubeconfig(str(KC / "many-contexts.yaml"))}
    assert len(rows) == 15
    assert rows["admin@test"].user.groups == ("system:masters", AUTH) and rows["admin@test"].accepted
    assert rows["expired-cert@test"].problems == ("expired",)
    assert rows["foreign-ca@test"].problems == ("untrusted-ca",)
    no_cn = rows["no-cn@test"]  # verified but no CN: not authenticated, so the request is anonymous
    assert not no_cn.accepted and no_cn.user.username == "system:anonymous" and no_cn.problems == ("no-cn",)
    assert rows["serverauth-only@test"].problems == ("wrong-key-usage",)
    assert rows["not-yet-valid@test"].problems == ("not-yet-valid",)
    assert rows["cert-and-token@test"].credential_type == "x509"
    assert not rows["oidc-token@test"].resolvable
    assert rows["oidc-exec@test"].problems == ("exec-plugin",)
    assert set(rows["unsigned-token@test"].problems) == {"legacy-token", "unsigned"}
    assert rows["expired-token@test"].problems == ("expired",)
    assert rows["dangling@test"].problems == ("dangling-reference",)
    assert "ghost" in rows["dangling@test"].unresolvable_reason


def test_token_file_wins_over_token_like_client_go(tmp_path):
    file_token = sign_jwt(legacy_sa_claims("ci", "from-file"))
    (tmp_path / "t.jwt").write_text(file_token + "\n")
    inline = sign_jwt(legacy_sa_claims("ci", "inline"))
    p = write_kubeconfig(tmp_path / "k", users={"both": {"token": inline, "tokenFile": "t.jwt"},
                                                "broken": {"token": inline, "tokenFile": "missing.jwt"},
                                                "only-broken": {"tokenFile": "missing.jwt"}},
                         contexts={"both": ("test", "both"), "broken": ("test", "broken"),
                                   "only-broken": ("test", "only-broken")})
    assert resolve_identity(kubeconfig=str(p), context="both", now=NOW).user.username.endswith(":from-file")
    assert resolve_identity(kubeconfig=str(p), context="broken", now=NOW).user.username.endswith(":inline")
    with pytest.raises(IdentityError, match="cannot read"):
        resolve_identity(kubeconfig=str(p), context="only-broken")


@pytest.mark.parametrize("text", [
    "[" * 100000, "- " * 50000 + "x", "42", "clusters: 5", "users: [{name: u, user: [1]}]",
    "contexts: [{context: {}}]", "contexts: [{name: c, context: {cluster: [x], user: y}}]\ncurrent-context: c",
    "\x00\x01binary", "users: [{name: u, user: {client-certificate-data: 7}}]\n"
                      "clusters: [{name: t, cluster: {server: s}}]\n"
                      "contexts: [{name: c, context: {cluster: t, user: u}}]\ncurrent-context: c",
])
def test_hostile_kubeconfigs_are_one_line_errors(tmp_path, text):
    (tmp_path / "k").write_text(text)
    with pytest.raises(IdentityError) as exc:
        resolve_identity(kubeconfig=str(tmp_path / "k"))
    assert "\n" not in str(exc.value)


HOSTILE_CLAIMS = [
    {"kubernetes.io": {"namespace": 5, "serviceaccount": "x"}, "sub": 1},
    {**legacy_sa_claims(), "kubernetes.io/serviceaccount/namespace": ["x"]},
    {**bound_sa_claims(), "exp": "soon"},
]


@pytest.mark.parametrize("token", [
    "a.b.c", "....", "x" * 70000, "eyJ" + "W" * 100 + ".e30.", "e30.W10.", "e30.e30.", 0, 1, 2,
], ids=lambda t: f"claims{t}" if isinstance(t, int) else t[:20])
def test_hostile_tokens_never_crash(token):
    if isinstance(token, int):
        token = sign_jwt(HOSTILE_CLAIMS[token])
    try:
        t = check_token(token, now=NOW)
    except IdentityError:
        return
    assert t.resolvable is False or t.user is None or isinstance(t.user.username, str)
    if t.resolvable and t.credential_type.startswith("serviceaccount"):
        assert not t.accepted


def test_auth_providers(tmp_path):
    id_token = (FIX / "tokens" / "oidc-jane.jwt").read_text().strip()
    p = write_kubeconfig(tmp_path / "k", users={
        "oidc": {"auth-provider": {"name": "oidc", "config": {"id-token": id_token, "refresh-token": "r-secret",
                                                              "idp-issuer-url": "https://dex.example.invalid"}}},
        "gcp": {"auth-provider": {"name": "gcp", "config": {"cmd-path": "gcloud"}}},
    }, contexts={"oidc": ("test", "oidc"), "gcp": ("test", "gcp")})
    r = resolve_identity(kubeconfig=str(p), context="oidc",
                         options=AuthenticatorOptions(tokens=TokenOptions(oidc_username_claim="email")))
    assert r.user.username == "jane@example.com" and "auth-provider" in r.problems
    assert not resolve_identity(kubeconfig=str(p), context="oidc").resolvable  # no --oidc-* settings
    g = resolve_identity(kubeconfig=str(p), context="gcp")
    assert not g.resolvable and "'gcp' auth-provider" in g.unresolvable_reason
    with pytest.raises(IdentityError, match="auth-provider"):
        resolve_connection(str(p), "gcp")
    assert resolve_connection(str(p), "oidc").token == id_token


def test_exec_description_redacts_secret_looking_values():
    from analyzer.identity.exec_plugin import describe_exec

    line = describe_exec({"command": "tool", "args": ["--token=abc", "--password", "p4ss", "--region", "eu", "get"],
                          "env": [{"name": "SECRET", "value": "v4lue"}]})
    assert line == "tool --token=<redacted> --password <redacted> --region eu get (env: SECRET)"
