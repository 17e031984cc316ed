"""What runs as which ServiceAccount: Pods and the pod templates of workload controllers in the inputs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .model import Inventory, KubeObject, SourceRef, node_id

__all__ = ["Workload", "WORKLOAD_KINDS", "extract_workloads", "pod_spec_of"]

# kind → path to the pod spec inside the object
WORKLOAD_KINDS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}


@dataclass(frozen=True, kw_only=True)
class Workload:
    """A Pod or pod template and the ServiceAccount its pods run as."""

    kind: str
    name: str
    namespace: str
    service_account: str  # "default" when the spec names none
    automount_token: bool  # effective: the pod spec's setting, else the ServiceAccount's, else true
    service_account_defined: bool | None  # None: the inputs hold no ServiceAccounts of that namespace
    node_name: str = ""
    host_pid: bool = False
    host_network: bool = False
    host_ipc: bool = False
    privileged: bool = False
    host_path_volumes: tuple[str, ...] = ()
    images: tuple[str, ...] = ()
    source: SourceRef = field(default_factory=lambda: SourceRef(file=""), compare=False)
    # its ServiceAccount's node id, asked for every workload of a namespace by path searches
    service_account_id: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "service_account_id", node_id("ServiceAccount", self.service_account, self.namespace))

    @property
    def id(self) -> str:
        return node_id(self.kind, self.name, self.namespace)

    @property
    def carries_token(self) -> bool:
        """Its containers get the ServiceAccount's token mounted."""
        return self.automount_token


def pod_spec_of(obj: KubeObject) -> Mapping[str, Any] | None:
    """The pod spec inside a workload object, or None when absent or malformed."""
    path = WORKLOAD_KINDS.get(obj.kind)
    if path is None:
        return None
    cur: Any = obj.body
    for key in path:
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(key)
    return cur if isinstance(cur, Mapping) else None


def _containers(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    out: list[Mapping[str, Any]] = []
    for key in ("initContainers", "containers", "ephemeralContainers"):
        items = spec.get(key)
        if isinstance(items, list):
            out.extend(c for c in items if isinstance(c, Mapping))
    return out


def extract_workloads(inventory: Inventory) -> list[Workload]:
    """Every Pod / controller pod template in the inventory with its effective ServiceAccount."""
    sa_automount = {(s.namespace, s.name): s.automount_token for s in inventory.service_accounts}
    sa_namespaces = {s.namespace for s in inventory.service_accounts}
    out: list[Workload] = []
    for obj in inventory.objects:
        spec = pod_spec_of(obj)
        if spec is None:
            continue
        sa = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
        if not isinstance(sa, str):
            sa = "default"
        pod_setting = spec.get("automountServiceAccountToken")
        if isinstance(pod_setting, bool):
            automount = pod_setting
        else:
            sa_setting = sa_automount.get((obj.namespace, sa))
            automount = sa_setting if isinstance(sa_setting, bool) else True
        defined: bool | None = None
        if obj.namespace in sa_namespaces:
            defined = sa == "default" or (obj.namespace, sa) in sa_automount
        containers = _containers(spec)
        privileged = any(
            isinstance(c.get("securityContext"), Mapping) and c["securityContext"].get("privileged") is True
            for c in containers)
        volumes = spec.get("volumes") if isinstance(spec.get("volumes"), list) else []
        host_paths = tuple(
            str(v["hostPath"].get("path", "")) for v in volumes
            if isinstance(v, Mapping) and isinstance(v.get("hostPath"), Mapping))
        images = tuple(str(c.get("image", "")) for c in containers if c.get("image"))
        out.append(Workload(
            kind=obj.kind, name=obj.name, namespace=obj.namespace, service_account=sa, automount_token=automount,
            service_account_defined=defined, node_name=str(spec.get("nodeName") or ""),
            host_pid=spec.get("hostPID") is True, host_network=spec.get("hostNetwork") is True,
            host_ipc=spec.get("hostIPC") is True, privileged=privileged, host_path_volumes=host_paths,
            images=images, source=obj.source))
    return out
