"""Credential techniques: ServiceAccount tokens (TokenRequest, token Secrets) and client certificates (CSR)."""

from __future__ import annotations

from collections.abc import Iterator

from ..model import node_id
from ..semantics import SA_PREFIX, SYSTEM_MASTERS
from .base import ANY_NAME, Perm, Reach, Technique, TechniqueContext, World, any_sa_hub, hub

__all__ = ["SA_TOKEN", "SECRET_READ", "SECRET_CREATE", "CSR", "TECHNIQUES"]

_CERTS = "certificates.k8s.io"
_CLIENT_SIGNER = "kubernetes.io/kube-apiserver-client"


def _sa_token(ctx: TechniqueContext) -> Iterator[Reach]:
    if not ctx.may("create", "serviceaccounts/token"):
        return
    g = ctx.grant("create", "serviceaccounts", subresource="token", name=ANY_NAME)
    if g is not None:
        yield Reach(target=any_sa_hub(""), grant=g)
        return
    for ns in ctx.namespaces_beyond(("create",), "serviceaccounts/token"):
        g = ctx.grant("create", "serviceaccounts", subresource="token", namespace=ns, name=ANY_NAME)
        if g is not None:
            yield Reach(target=any_sa_hub(ns), grant=g)
            continue
        names = ctx.names(("create",), "serviceaccounts/token")
        if not names:
            continue
        for sa, potential in ctx.world.service_accounts(ns):
            if sa.rpartition("/")[2] not in names:
                continue
            g = ctx.grant("create", "serviceaccounts", subresource="token", namespace=ns, name=sa.rpartition("/")[2])
            if g is not None:
                yield Reach(target=sa, grant=g, potential=potential)


def _secret_read(ctx: TechniqueContext) -> Iterator[Reach]:
    if not (ctx.may("get", "secrets") or ctx.may("list", "secrets")):
        return
    world = ctx.world
    everywhere = ctx.grant("list", "secrets") or ctx.grant("get", "secrets", name=ANY_NAME)
    if everywhere is not None:  # a list returns the secrets' data
        yield Reach(target=hub("tokens", ""), grant=everywhere, detail="read any token Secret")
        return
    for ns in ctx.namespaces_beyond(("get", "list"), "secrets"):
        if not world.leads_somewhere("tokens", ns):
            continue  # no token Secret there, nor one a ServiceAccount lists
        g = ctx.grant("list", "secrets", namespace=ns) or ctx.grant("get", "secrets", namespace=ns, name=ANY_NAME)
        if g is not None:
            yield Reach(target=hub("tokens", ns), grant=g, detail=f"read any token Secret of {ns}")
            continue
        names = ctx.names(("get",), "secrets")
        if not names:
            continue
        for secret, sa in world.token_secrets.get(ns, ()):
            if secret not in names:
                continue
            g = ctx.grant("get", "secrets", namespace=ns, name=secret)
            if g is not None:
                yield Reach(target=node_id("ServiceAccount", sa, ns), grant=g,
                            potential=world.sa_potential(ns, sa), detail=f"token Secret {ns}/{secret}")
        for sa_obj in world.sa_objects.get(ns, ()):  # legacy token Secrets named by the ServiceAccount
            for secret in sa_obj.secrets:
                if secret not in names:
                    continue
                g = ctx.grant("get", "secrets", namespace=ns, name=secret)
                if g is not None:
                    yield Reach(target=sa_obj.id, grant=g, potential=True,
                                detail=f"Secret {ns}/{secret} listed by the ServiceAccount (not in the inputs)")
                    break


def _secrets_read_by_name(world: World, resource: str, namespace: str) -> frozenset[str]:
    """The Secrets ``_secret_read`` asks for one by one: token Secrets, and those ServiceAccounts list."""
    found = world.derived.setdefault("token-secret-names", {})
    names = found.get(namespace)
    if names is None:
        namespaces = [namespace] if namespace else {*world.token_secrets, *world.sa_objects}
        names = found[namespace] = frozenset(
            {secret for ns in namespaces for secret, _ in world.token_secrets.get(ns, ())}
            | {secret for ns in namespaces for sa in world.sa_objects.get(ns, ()) for secret in sa.secrets})
    return names


def _no_names(world: World, resource: str, namespace: str) -> frozenset[str]:
    return frozenset()


def _secret_create(ctx: TechniqueContext) -> Iterator[Reach]:
    if not ctx.may("create", "secrets"):
        return
    for scope in ctx.scopes():
        cg = ctx.grant("create", "secrets", namespace=scope)
        if cg is None:
            continue
        rg = ctx.grant("get", "secrets", namespace=scope, name=ANY_NAME) or ctx.grant("list", "secrets",
                                                                                       namespace=scope)
        if rg is not None:
            yield Reach(target=any_sa_hub(scope), grant=cg, potential=True,
                        detail="a Secret of type service-account-token, filled by the token controller, read back")
            if not scope:
                return


def _csr(ctx: TechniqueContext) -> Iterator[Reach]:
    if not ctx.may("approve", "signers"):
        return
    cg = ctx.grant("create", "certificatesigningrequests", api_group=_CERTS)
    ag = ctx.grant("update", "certificatesigningrequests", api_group=_CERTS, subresource="approval", name=ANY_NAME)
    sg = (ctx.grant("approve", "signers", api_group=_CERTS, name=_CLIENT_SIGNER)
          or ctx.grant("approve", "signers", api_group=_CERTS, name="kubernetes.io/*"))
    if cg is None or ag is None or sg is None:
        return
    detail = "issue a client certificate (needs a running kube-apiserver-client signer)"
    for user in sorted(ctx.world.users):
        if not user.startswith(SA_PREFIX):
            yield Reach(target=node_id("User", user), grant=sg, potential=True, detail=detail)
    for group in sorted(ctx.world.groups):
        if group != SYSTEM_MASTERS:  # refused by the CertificateSubjectRestriction admission plugin
            yield Reach(target=node_id("Group", group), grant=sg, potential=True, detail=detail)


SA_TOKEN = Technique(
    id="ESC-SA-TOKEN", title="Request a token for a ServiceAccount (serviceaccounts/token)",
    requires=(Perm(verb="create", resource="serviceaccounts/token"),), yields="that ServiceAccount",
    short_reason="request token", find=_sa_token, into_namespace=True)

SECRET_READ = Technique(
    id="ESC-SECRET-READ", title="Read a Secret holding a ServiceAccount token",
    requires=(Perm(verb="get", resource="secrets"),), yields="the token's ServiceAccount",
    short_reason="read token secret", find=_secret_read, names=_secrets_read_by_name)

SECRET_CREATE = Technique(
    id="ESC-SECRET-CREATE", title="Create a ServiceAccount token Secret and read it back",
    requires=(Perm(verb="create", resource="secrets"), Perm(verb="get", resource="secrets")),
    yields="any ServiceAccount of the namespace (potential)", short_reason="mint token secret",
    find=_secret_create, potential=True, names=_no_names, into_namespace=True)  # names: any name, or a list

CSR = Technique(
    id="ESC-CSR", title="Create and approve a client certificate for any user or group",
    requires=(Perm(verb="create", resource="certificatesigningrequests", api_group=_CERTS),
              Perm(verb="update", resource="certificatesigningrequests/approval", api_group=_CERTS),
              Perm(verb="approve", resource="signers", api_group=_CERTS)),
    yields="any user or group of the policy except system:masters (potential)", short_reason="sign client cert",
    find=_csr, potential=True)

TECHNIQUES = (SA_TOKEN, SECRET_READ, SECRET_CREATE, CSR)
