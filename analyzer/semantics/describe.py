"""The RBAC authorizer's reason strings, word for word (RBAC-SEMANTICS §6)."""

from __future__ import annotations

from ..model import Binding, Subject

__all__ = ["go_quote", "describe_subject", "describe_binding", "allowed_reason", "not_found_error",
           "denied_reason"]


def go_quote(s: str) -> str:
    """Go's ``%q`` (strconv.Quote) for the strings that appear in reasons.

    >>> go_quote('a"b')
    '"a\\\\"b"'
    """
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\a":
            out.append("\\a")
        elif ch == "\b":
            out.append("\\b")
        elif ch == "\f":
            out.append("\\f")
        elif ch == "\v":
            out.append("\\v")
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\x{o:02x}")
        elif not ch.isprintable():
            out.append(f"\\u{o:04x}" if o <= 0xFFFF else f"\\U{o:08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def describe_subject(subject: Subject, binding_namespace: str) -> str:
    """``User "x"``, ``Group "x"``, ``ServiceAccount "name/namespace"`` (name first)."""
    if subject.kind == "ServiceAccount":
        ns = subject.namespace or binding_namespace
        return f"{subject.kind} {go_quote(subject.name + '/' + ns)}"
    return f"{subject.kind} {go_quote(subject.name)}"


def describe_binding(binding: Binding) -> str:
    if binding.kind == "ClusterRoleBinding":
        head = f"ClusterRoleBinding {go_quote(binding.name)}"
    else:
        head = f"RoleBinding {go_quote(binding.name + '/' + binding.namespace)}"
    return f"{head} of {binding.role_ref.kind} {go_quote(binding.role_ref.name)}"


def allowed_reason(binding: Binding, subject: Subject) -> str:
    """``RBAC: allowed by ClusterRoleBinding "x" of ClusterRole "y" to User "z"``."""
    return f"RBAC: allowed by {describe_binding(binding)} to {describe_subject(subject, binding.namespace)}"


def not_found_error(binding: Binding) -> str:
    """The lister's not-found error for a binding's missing role."""
    if binding.role_ref.kind == "ClusterRole":
        return f'clusterrole.rbac.authorization.k8s.io "{binding.role_ref.name}" not found'
    if binding.role_ref.kind == "Role":
        return f'role.rbac.authorization.k8s.io "{binding.role_ref.name}" not found'
    return f'unsupported role reference kind: "{binding.role_ref.kind}"'


def denied_reason(errors: list[str]) -> str:
    """NoOpinion's reason: "" or ``RBAC: e`` or ``RBAC: [e1, e2]`` (distinct errors, first-seen order)."""
    distinct = list(dict.fromkeys(errors))
    if not distinct:
        return ""
    if len(distinct) == 1:
        return f"RBAC: {distinct[0]}"
    return f"RBAC: [{', '.join(distinct)}]"
