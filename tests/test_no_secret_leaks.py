"""No token, private key or password ever appears in any output of any command (issue 9).

Every command runs on the identity fixtures (kubeconfigs, certificates, tokens) — as kubeconfigs, as
credentials and even as policy inputs — and every stdout, stderr and written file is scanned for the
secret material they hold.
"""

from __future__ import annotations

import base64
import io
import sys
from pathlib import Path

import pytest
import yaml

from analyzer.cli import build_parser

from .conftest import DEMO

FIX = Path(__file__).resolve().parent / "fixtures" / "identity"
KUBECONFIGS = FIX / "kubeconfigs"
D = str(DEMO)


def _secret_material() -> list[str]:
    secrets: set[str] = set()
    for kc in KUBECONFIGS.rglob("*.yaml"):
        doc = yaml.safe_load(kc.read_text())
        for entry in doc.get("users") or []:
            user = entry.get("user") or {}
            for key in ("token", "password"):
                if user.get(key):
                    secrets.add(str(user[key]))
            if user.get("client-key-data"):
                secrets.add(user["client-key-data"])
                pem = base64.b64decode(user["client-key-data"]).decode()
                secrets.update(line for line in pem.splitlines() if line and "-----" not in line)
            for env in ((user.get("exec") or {}).get("env") or []):
                if env.get("value"):
                    secrets.add(env["value"])
    for tok in (FIX / "tokens").glob("*.jwt"):
        text = tok.read_text().strip()
        secrets.add(text)
        if text.count(".") == 2 and text.split(".")[2]:
            secrets.add(text.split(".")[2])
    for key in (FIX / "pki").glob("*.key"):
        secrets.update(line for line in key.read_text().splitlines() if line and "-----" not in line)
    return sorted(s for s in secrets if len(s) >= 12)


SECRETS = _secret_material()


def _contexts(path: Path) -> list[str]:
    doc = yaml.safe_load(path.read_text())
    return [c["name"] for c in doc.get("contexts") or []]


def _runs(tmp: Path) -> list[list[str]]:
    commands = set(next(a for a in build_parser()._actions
                        if a.__class__.__name__ == "_SubParsersAction").choices)
    inputs = ["-f", D, "-f", str(KUBECONFIGS), "-f", str(FIX / "tokens")]
    runs: list[list[str]] = [
        ["load", *inputs, "-v"], ["load", *inputs, "-o", "json"],
        ["who-can", "get", "secrets", "-A", *inputs, "-o", "wide"],
        ["who-can", "get", "secrets", "-A", *inputs, "-o", "json"],
    ]
    for kc in sorted(KUBECONFIGS.rglob("*.yaml")):
        for ctx in _contexts(kc):
            base = ["--kubeconfig", str(kc), "--context", ctx]
            runs.append(["can-i", "get", "secrets", "-n", "payments", *base, "-f", D, "-o", "json"])
            runs.append(["can-i", "--list", "-A", *base, "-f", D])
            if "whoami" in commands:
                runs.append(["whoami", *base, "-o", "json"])
                runs.append(["whoami", *base, "-f", D, "-v"])
        if "kubeconfig-audit" in commands:
            runs.append(["kubeconfig-audit", "--kubeconfig", str(kc), "-f", D, "-o", "json"])
            runs.append(["kubeconfig-audit", "--kubeconfig", str(kc), "-f", D])
    for tok in sorted((FIX / "tokens").glob("*.jwt")):
        if "whoami" in commands:
            runs.append(["whoami", "--token", str(tok), "-o", "yaml"])
        runs.append(["can-i", "--list", "--token", str(tok), "-f", D])
    if "graph" in commands:
        for fmt in ("json", "graphml", "cypher"):
            runs.append(["graph", *inputs, "-o", fmt])
        runs.append(["graph", *inputs, "-o", "neo4j-csv", "--output-file", str(tmp / "neo4j")])
    if "render" in commands:
        runs.append(["render", *inputs, "-o", "dot"])
        runs.append(["render", "--namespace-view", "payments", *inputs, "-o", "dot"])
        runs.append(["render", "--subject", "User:carol", "--kubeconfig", str(KUBECONFIGS / "many-contexts.yaml"),
                     *inputs, "-o", "dot"])
    if "audit" in commands:
        for fmt in ("text", "md", "html", "json", "sarif"):
            runs.append(["audit", *inputs, "-o", fmt, "--include-system"])
    if "paths" in commands:
        runs.append(["paths", *inputs, "-o", "json"])
        runs.append(["paths", "--kubeconfig", str(KUBECONFIGS / "many-contexts.yaml"), *inputs, "-o", "text"])
    if "snapshot" in commands:
        runs.append(["snapshot", *inputs, "--output-file", str(tmp / "snap.yaml")])
        runs.append(["snapshot", *inputs, "--output-file", str(tmp / "snap.json")])
    if "review" in commands:
        sar = tmp / "sar.yaml"
        sar.write_text("apiVersion: authorization.k8s.io/v1\nkind: SubjectAccessReview\n"
                       "spec: {user: carol, resourceAttributes: {verb: get, resource: secrets, namespace: payments}}\n")
        runs.append(["review", *inputs, str(sar)])
    if "diff" in commands:
        runs.append(["diff", "--old", D, "--new", str(KUBECONFIGS), "--new", D, "-o", "json"])
    return runs


def test_the_scan_has_material():
    assert len(SECRETS) > 20


def test_no_secret_in_any_output(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # no real ~/.kube/config is ever read
    monkeypatch.delenv("KUBECONFIG", raising=False)
    leaks = []
    ran = 0
    for argv in _runs(tmp_path):
        monkeypatch.setattr(sys, "stdin", io.StringIO(""))
        r = cli(*argv)
        assert "Traceback" not in r.err, argv
        ran += 1
        texts = [r.out, r.err]
        for secret in SECRETS:
            for text in texts:
                if secret in text:
                    leaks.append(f"{' '.join(argv)} printed secret material ({secret[:6]}…)")
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    for path in written:
        text = path.read_text(errors="replace")
        for secret in SECRETS:
            if secret in text:
                leaks.append(f"{path.name} contains secret material ({secret[:6]}…)")
    assert ran > 50
    assert not leaks, "\n".join(sorted(set(leaks))[:30])


@pytest.mark.parametrize("secret", SECRETS[:3])
def test_material_is_really_secret_looking(secret):
    assert len(secret) >= 12
