"""Pod techniques: create pods or controllers, take over workloads, exec into pods, kubelet proxy, webhooks, PSA."""

from __future__ import annotations

from collections.abc import Iterator

from ..model.paths import SINK_NODES
from ..semantics import BUILTIN_RESOURCES, POD_CONTROLLERS
from .base import ANY_NAME, Perm, Reach, Technique, TechniqueContext, any_sa_hub, hub

__all__ = ["POD_CREATE", "WORKLOAD_CREATE", "WORKLOAD_UPDATE", "POD_EXEC", "POD_ATTACH", "EPHEMERAL_CONTAINERS",
           "NODES_PROXY", "MUTATING_WEBHOOK", "NAMESPACE_PSA", "TECHNIQUES"]

_ADMISSION = "admissionregistration.k8s.io"
_CONTROLLERS = frozenset(res for _, res in POD_CONTROLLERS if res != "pods")
_KIND_TYPE = {t.kind: (t.group, t.resource) for t in BUILTIN_RESOURCES if t.namespaced}


def _pod_create(ctx: TechniqueContext) -> Iterator[Reach]:
    if not ctx.may("create", "pods"):
        return
    for scope in ctx.scopes():
        g = ctx.grant("create", "pods", namespace=scope)
        if g is not None:
            yield Reach(target=any_sa_hub(scope), grant=g)
            if not scope:
                return


def _workload_create(ctx: TechniqueContext) -> Iterator[Reach]:
    controllers = [(grp, res) for grp, res in POD_CONTROLLERS if res != "pods" and ctx.may("create", res)]
    if not controllers:
        return
    for scope in ctx.scopes():
        for group, res in controllers:
            g = ctx.grant("create", res, api_group=group, namespace=scope)
            if g is not None:
                yield Reach(target=any_sa_hub(scope), grant=g, detail=f"create {res} (pod template)")
                break
        else:
            continue
        if not scope:
            return


def _workload_update(ctx: TechniqueContext) -> Iterator[Reach]:
    for group, res in POD_CONTROLLERS:
        if res == "pods" or not (ctx.may("update", res) or ctx.may("patch", res)):
            continue  # a Pod's serviceAccountName cannot change
        everywhere = ctx.any_grant(("update", "patch"), res, api_group=group, name=ANY_NAME)
        if everywhere is not None:
            yield Reach(target=hub(f"ctl-{res}", ""), grant=everywhere, detail=f"change the pod template of any {res}")
            continue
        for ns in ctx.namespaces_beyond(("update", "patch"), res):
            if not ctx.world.leads_somewhere(f"ctl-{res}", ns):
                continue  # no such workload there
            g = ctx.any_grant(("update", "patch"), res, api_group=group, namespace=ns, name=ANY_NAME)
            if g is not None:
                yield Reach(target=hub(f"ctl-{res}", ns), grant=g, detail=f"change the pod template of any {res} in {ns}")
                continue
            names = ctx.names(("update", "patch"), res)
            if not names:
                continue
            for w in ctx.world.workloads_by_ns.get(ns, ()):
                if w.name not in names or _KIND_TYPE.get(w.kind, ("", ""))[1] != res:
                    continue
                g = ctx.any_grant(("update", "patch"), res, api_group=group, namespace=ns, name=w.name)
                if g is not None:
                    yield Reach(target=w.service_account_id, grant=g,
                                potential=ctx.world.sa_potential(ns, w.service_account),
                                detail=f"change the pod template of {w.kind} {ns}/{w.name}")


def _into_pods(ctx: TechniqueContext, subresource: str, verbs: tuple[str, ...]) -> Iterator[Reach]:
    """Run commands in pods running as a ServiceAccount whose token they mount (workloads of the inputs)."""
    res = f"pods/{subresource}"
    if not any(ctx.may(v, res) for v in verbs):
        return
    everywhere = ctx.any_grant(verbs, "pods", subresource=subresource, name=ANY_NAME)
    if everywhere is not None:
        yield Reach(target=hub("pods", ""), grant=everywhere, detail=f"{subresource} into any pod")
        return
    for ns in ctx.namespaces_beyond(verbs, res):
        if not ctx.world.leads_somewhere("pods", ns):
            continue  # no pod of the inputs there mounts a token
        g = ctx.any_grant(verbs, "pods", subresource=subresource, namespace=ns, name=ANY_NAME)
        if g is not None:
            yield Reach(target=hub("pods", ns), grant=g, detail=f"{subresource} into any pod of {ns}")
            continue
        names = ctx.names(verbs, res)
        if not names:
            continue
        for w in ctx.world.workloads_by_ns.get(ns, ()):
            if w.name not in names or w.kind != "Pod" or not w.carries_token:  # only named pods of the inputs
                continue
            g = ctx.any_grant(verbs, "pods", subresource=subresource, namespace=ns, name=w.name)
            if g is not None:
                yield Reach(target=w.service_account_id, grant=g,
                            potential=ctx.world.sa_potential(ns, w.service_account),
                            detail=f"{subresource} into Pod {ns}/{w.name}")


def _exec(ctx: TechniqueContext) -> Iterator[Reach]:
    yield from _into_pods(ctx, "exec", ("create",))


def _attach(ctx: TechniqueContext) -> Iterator[Reach]:
    yield from _into_pods(ctx, "attach", ("create",))


def _ephemeral(ctx: TechniqueContext) -> Iterator[Reach]:
    yield from _into_pods(ctx, "ephemeralcontainers", ("update", "patch"))


def _nodes_proxy(ctx: TechniqueContext) -> Iterator[Reach]:
    if not ctx.may("get", "nodes/proxy"):
        return
    any_node = ctx.grant("get", "nodes", subresource="proxy", name=ANY_NAME)
    if any_node is not None:
        yield Reach(target=SINK_NODES, grant=any_node, detail="the kubelet API of every node")
        yield Reach(target=hub("pods", ""), grant=any_node, detail="kubelet exec into any pod")
        return
    # names restricted: only pods of the inputs scheduled on those nodes (nodes are cluster-scoped)
    for node in sorted(ctx.names(("get",), "nodes/proxy", cluster_only=True)):
        pods = ctx.world.pods_by_node.get(node, [])
        g = ctx.grant("get", "nodes", subresource="proxy", name=node) if pods else None
        if g is None:
            continue
        for w in pods:
            yield Reach(target=w.service_account_id, grant=g,
                        potential=ctx.world.sa_potential(w.namespace, w.service_account),
                        detail=f"kubelet exec into Pod {w.namespace}/{w.name} on {node}")


def _webhook(ctx: TechniqueContext) -> Iterator[Reach]:
    res = "mutatingwebhookconfigurations"
    if not any(ctx.may(v, res) for v in ("create", "update", "patch")):
        return
    g = ctx.grant("create", res, api_group=_ADMISSION) or ctx.any_grant(
        ("update", "patch"), res, api_group=_ADMISSION, name=ANY_NAME)
    if g is None:
        # cluster-scoped: once any name is refused, only names ClusterRoleBindings' rules list can be allowed
        names = ctx.names(("update", "patch"), res, cluster_only=True)
        for hook in (h for h in ctx.world.webhooks if h.name in names):
            g = ctx.any_grant(("update", "patch"), res, api_group=_ADMISSION, name=hook.name)
            if g is not None:
                break
    if g is not None:
        yield Reach(target=hub("pods", ""), grant=g, potential=True,
                    detail="inject a container into new pods (needs a webhook server it runs)")


def _namespace_psa(ctx: TechniqueContext) -> Iterator[Reach]:
    if not (ctx.may("patch", "namespaces") or ctx.may("update", "namespaces")) or not ctx.may("create", "pods"):
        return
    # namespaces are cluster-scoped: beyond a grant for any name, only names that ClusterRoleBindings'
    # rules list can be patched (looking at those alone spares a walk over every namespace per actor)
    named = None
    if ctx.any_grant(("patch", "update"), "namespaces", name=ANY_NAME) is None:
        named = ctx.names(("patch", "update"), "namespaces", cluster_only=True)
        if not named:
            return
    pods_anywhere = ctx.grant("create", "pods") is not None
    namespaces = ctx.world.namespaces if pods_anywhere else list(ctx.actor.namespaces)
    for ns in namespaces if named is None else [ns for ns in namespaces if ns in named]:
        pg = ctx.grant("create", "pods", namespace=ns)
        if pg is None:
            continue
        ng = ctx.any_grant(("patch", "update"), "namespaces", name=ns)
        if ng is not None:
            yield Reach(target=SINK_NODES, grant=ng, detail=f"relabel namespace {ns} privileged, then run a "
                                                            f"privileged pod there ({pg.describe()})")
            return


POD_CREATE = Technique(
    id="ESC-POD-CREATE", title="Create a pod that runs as any ServiceAccount of its namespace",
    requires=(Perm(verb="create", resource="pods"),), yields="any ServiceAccount of the namespace",
    short_reason="create pod", find=_pod_create, into_namespace=True)

WORKLOAD_CREATE = Technique(
    id="ESC-WORKLOAD-CREATE", title="Create a pod controller (Deployment, Job, ...) whose pods run as any ServiceAccount",
    requires=(Perm(verb="create", resource="deployments", api_group="apps"),),
    yields="any ServiceAccount of the namespace", short_reason="create workload", find=_workload_create,
    resources=_CONTROLLERS, into_namespace=True)

WORKLOAD_UPDATE = Technique(
    id="ESC-WORKLOAD-UPDATE", title="Change an existing workload's pod template to take over its ServiceAccount",
    requires=(Perm(verb="patch", resource="deployments", api_group="apps"),),
    yields="the ServiceAccount the workload runs as", short_reason="patch workload", find=_workload_update,
    resources=_CONTROLLERS, into_namespace=True)

POD_EXEC = Technique(
    id="ESC-POD-EXEC", title="Exec into a pod running as another ServiceAccount",
    requires=(Perm(verb="create", resource="pods/exec"),), yields="the pod's ServiceAccount",
    short_reason="exec into pod", find=_exec, into_namespace=True)

POD_ATTACH = Technique(
    id="ESC-POD-ATTACH", title="Attach to a pod running as another ServiceAccount",
    requires=(Perm(verb="create", resource="pods/attach"),), yields="the pod's ServiceAccount",
    short_reason="attach to pod", find=_attach, into_namespace=True)

EPHEMERAL_CONTAINERS = Technique(
    id="ESC-EPHEMERAL-CONTAINERS", title="Add an ephemeral container to a pod running as another ServiceAccount",
    requires=(Perm(verb="patch", resource="pods/ephemeralcontainers"),), yields="the pod's ServiceAccount",
    short_reason="debug container", find=_ephemeral, into_namespace=True)

NODES_PROXY = Technique(
    id="ESC-NODES-PROXY", title="Use the kubelet API through nodes/proxy: exec in every pod of the node",
    requires=(Perm(verb="get", resource="nodes/proxy"),), yields="the node and its pods' ServiceAccounts",
    short_reason="kubelet proxy", find=_nodes_proxy)

MUTATING_WEBHOOK = Technique(
    id="ESC-MUTATING-WEBHOOK", title="Write a mutating admission webhook: inject into any new pod",
    requires=(Perm(verb="create", resource="mutatingwebhookconfigurations", api_group=_ADMISSION),),
    yields="the ServiceAccounts of pods (potential)", short_reason="mutating webhook", find=_webhook,
    potential=True)

NAMESPACE_PSA = Technique(
    id="ESC-NAMESPACE-PSA", title="Lift a namespace's Pod Security labels and run a privileged pod",
    requires=(Perm(verb="patch", resource="namespaces"), Perm(verb="create", resource="pods")),
    yields="the node (potential)", short_reason="privileged pod", find=_namespace_psa, potential=True,
    resources=frozenset({"namespaces"}))

TECHNIQUES = (POD_CREATE, WORKLOAD_CREATE, WORKLOAD_UPDATE, POD_EXEC, POD_ATTACH, EPHEMERAL_CONTAINERS, NODES_PROXY,
              MUTATING_WEBHOOK, NAMESPACE_PSA)
