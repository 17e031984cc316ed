"""Subjects and users: binding subject matching, ServiceAccount usernames, implied groups (§5, §7)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from ..errors import UsageError
from ..model import Subject, UserInfo

__all__ = [
    "SA_PREFIX",
    "SYSTEM_MASTERS",
    "AUTHENTICATED",
    "UNAUTHENTICATED",
    "ANONYMOUS",
    "ALL_SERVICE_ACCOUNTS",
    "make_sa_username",
    "split_sa_username",
    "sa_matches_username",
    "sa_groups",
    "sa_user_info",
    "subject_matches",
    "applies_to",
    "authenticated_user",
    "impersonated_user",
    "subject_as_user",
]

SA_PREFIX = "system:serviceaccount:"
SYSTEM_MASTERS = "system:masters"
AUTHENTICATED = "system:authenticated"
UNAUTHENTICATED = "system:unauthenticated"
ANONYMOUS = "system:anonymous"
ALL_SERVICE_ACCOUNTS = "system:serviceaccounts"

# RFC 1123 label (namespace names) and subdomain (service account names), as apimachinery validates them.
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def make_sa_username(namespace: str, name: str) -> str:
    """``system:serviceaccount:NS:NAME``.

    >>> make_sa_username("ci", "builder")
    'system:serviceaccount:ci:builder'
    """
    return f"{SA_PREFIX}{namespace}:{name}"


def split_sa_username(username: str) -> tuple[str, str]:
    """Split a ServiceAccount username into (namespace, name); ``UsageError`` when it is not one."""
    if not username.startswith(SA_PREFIX):
        raise UsageError(f"{username!r} is not a service account username")
    parts = username[len(SA_PREFIX):].split(":")
    if len(parts) != 2:
        raise UsageError(f"{username!r} is not system:serviceaccount:NAMESPACE:NAME")
    ns, name = parts
    if not (ns and len(ns) <= 63 and _DNS_LABEL.match(ns)):
        raise UsageError(f"{username!r}: invalid namespace {ns!r}")
    if not (name and len(name) <= 253 and _DNS_SUBDOMAIN.match(name)):
        raise UsageError(f"{username!r}: invalid service account name {name!r}")
    return ns, name


def sa_matches_username(namespace: str, name: str, username: str) -> bool:
    """Exactly ``MatchesUsername`` of the apiserver: no splitting ambiguity allowed."""
    if not username.startswith(SA_PREFIX):
        return False
    rest = username[len(SA_PREFIX):]
    if not rest.startswith(namespace):
        return False
    rest = rest[len(namespace):]
    if not rest.startswith(":"):
        return False
    return rest[1:] == name


def sa_groups(namespace: str) -> tuple[str, str]:
    return (ALL_SERVICE_ACCOUNTS, f"{ALL_SERVICE_ACCOUNTS}:{namespace}")


def sa_user_info(namespace: str, name: str, uid: str = "", *, pod_name: str = "", pod_uid: str = "",
                 node_name: str = "", node_uid: str = "", credential_id: str = "") -> UserInfo:
    """The user a ServiceAccount token authenticates as (before ``system:authenticated`` is added)."""
    extra: dict[str, tuple[str, ...]] = {}
    if pod_name and pod_uid:
        extra["authentication.kubernetes.io/pod-name"] = (pod_name,)
        extra["authentication.kubernetes.io/pod-uid"] = (pod_uid,)
    if node_name:
        extra["authentication.kubernetes.io/node-name"] = (node_name,)
        if node_uid:
            extra["authentication.kubernetes.io/node-uid"] = (node_uid,)
    if credential_id:
        extra["authentication.kubernetes.io/credential-id"] = (credential_id,)
    return UserInfo(username=make_sa_username(namespace, name), groups=sa_groups(namespace), uid=uid,
                    extra=extra)


def subject_matches(subject: Subject, username: str, groups: Sequence[str] | frozenset[str],
                    binding_namespace: str) -> bool:
    """``appliesToUser``: kind, name and (ServiceAccount) namespace only; apiGroup is not checked."""
    kind = subject.kind
    if kind == "User":
        return username == subject.name
    if kind == "Group":
        return subject.name in groups
    if kind == "ServiceAccount":
        ns = subject.namespace or binding_namespace
        if not ns:
            return False
        return sa_matches_username(ns, subject.name, username)
    return False


def applies_to(subjects: Sequence[Subject], username: str, groups: Sequence[str],
               binding_namespace: str) -> int:
    """Index of the first subject that matches the user, or -1 (``appliesTo``)."""
    gset = frozenset(groups)
    for i, s in enumerate(subjects):
        if subject_matches(s, username, gset, binding_namespace):
            return i
    return -1


def _add_authentication_group(username: str, groups: list[str]) -> list[str]:
    # authenticated_group_adder: unless anonymous or already present.
    if AUTHENTICATED in groups or UNAUTHENTICATED in groups:
        return groups
    if username == ANONYMOUS:
        return groups
    return [*groups, AUTHENTICATED]


def authenticated_user(username: str, groups: Sequence[str] = (), uid: str = "",
                       extra: Mapping[str, Sequence[str]] | None = None) -> UserInfo:
    """A user as an authenticator hands it on: ``system:authenticated`` appended (§7.1)."""
    return UserInfo(username=username, groups=tuple(_add_authentication_group(username, list(groups))),
                    uid=uid, extra={k: tuple(v) for k, v in (extra or {}).items()})


def impersonated_user(username: str, groups: Sequence[str] = (), uid: str = "",
                      extra: Mapping[str, Sequence[str]] | None = None) -> UserInfo:
    """The identity impersonation builds (§7.5).

    A service-account user with no requested groups gets the SA groups; ``system:authenticated`` is
    added unless present, and ``system:anonymous`` gets ``system:unauthenticated`` instead.

    >>> impersonated_user("system:serviceaccount:ci:builder").groups
    ('system:serviceaccounts', 'system:serviceaccounts:ci', 'system:authenticated')
    >>> impersonated_user("system:anonymous").groups
    ('system:unauthenticated',)
    """
    if not username:
        raise UsageError("impersonating groups, a uid or extras requires a user (--as)")
    gl = list(groups)
    if not gl and username.startswith(SA_PREFIX):
        try:
            ns, _ = split_sa_username(username)
            gl = list(sa_groups(ns))
        except UsageError:
            pass
    if username == ANONYMOUS:
        if UNAUTHENTICATED not in gl:
            gl.append(UNAUTHENTICATED)
    elif AUTHENTICATED not in gl:
        gl.append(AUTHENTICATED)
    return UserInfo(username=username, groups=tuple(gl), uid=uid,
                    extra={k: tuple(v) for k, v in (extra or {}).items()})


def subject_as_user(subject: Subject) -> UserInfo:
    """The user that a ``User``/``ServiceAccount`` subject is when it asks, or a group's member.

    Groups are represented by a synthetic member (empty username) carrying only that group, which is
    what every member of the group is granted at least.
    """
    if subject.kind == "User":
        return impersonated_user(subject.name)
    if subject.kind == "ServiceAccount":
        return impersonated_user(make_sa_username(subject.namespace, subject.name))
    if subject.kind == "Group":
        return UserInfo(username="", groups=(subject.name,))
    raise UsageError(f"subject kind {subject.kind!r} cannot ask requests")
