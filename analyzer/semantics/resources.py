"""API vocabulary: resource types, their groups, kinds, short names and scope (like ``kubectl api-resources``).

Resolving what a user typed (``po``, ``deploy``, ``Deployment``, ``deployments.apps``) is a CLI
convenience; the authorizer itself is literal. CRDs found in the inputs extend the table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import UsageError

__all__ = ["ResourceType", "BUILTIN_RESOURCES", "ResourceCatalog", "POD_CONTROLLERS"]


@dataclass(frozen=True, kw_only=True, slots=True)
class ResourceType:
    resource: str  # plural, e.g. "deployments"
    group: str  # "" = core
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()

    @property
    def qualified(self) -> str:
        return f"{self.resource}.{self.group}" if self.group else self.resource


def _t(resource: str, group: str, kind: str, namespaced: bool, short: str = "", subs: str = "") -> ResourceType:
    return ResourceType(resource=resource, group=group, kind=kind, namespaced=namespaced,
                        short_names=tuple(short.split()) if short else (),
                        subresources=tuple(subs.split()) if subs else ())


BUILTIN_RESOURCES: tuple[ResourceType, ...] = (
    _t("bindings", "", "Binding", True),
    _t("componentstatuses", "", "ComponentStatus", False, "cs"),
    _t("configmaps", "", "ConfigMap", True, "cm"),
    _t("endpoints", "", "Endpoints", True, "ep"),
    _t("events", "", "Event", True, "ev"),
    _t("limitranges", "", "LimitRange", True, "limits"),
    _t("namespaces", "", "Namespace", False, "ns", "status finalize"),
    _t("nodes", "", "Node", False, "no", "status proxy"),
    _t("persistentvolumeclaims", "", "PersistentVolumeClaim", True, "pvc", "status"),
    _t("persistentvolumes", "", "PersistentVolume", False, "pv", "status"),
    _t("pods", "", "Pod", True, "po",
       "attach binding ephemeralcontainers eviction exec log portforward proxy resize status"),
    _t("podtemplates", "", "PodTemplate", True),
    _t("replicationcontrollers", "", "ReplicationController", True, "rc", "scale status"),
    _t("resourcequotas", "", "ResourceQuota", True, "quota", "status"),
    _t("secrets", "", "Secret", True),
    _t("serviceaccounts", "", "ServiceAccount", True, "sa", "token"),
    _t("services", "", "Service", True, "svc", "proxy status"),
    _t("mutatingwebhookconfigurations", "admissionregistration.k8s.io", "MutatingWebhookConfiguration", False),
    _t("validatingwebhookconfigurations", "admissionregistration.k8s.io", "ValidatingWebhookConfiguration", False),
    _t("validatingadmissionpolicies", "admissionregistration.k8s.io", "ValidatingAdmissionPolicy", False, "", "status"),
    _t("validatingadmissionpolicybindings", "admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding", False),
    _t("mutatingadmissionpolicies", "admissionregistration.k8s.io", "MutatingAdmissionPolicy", False),
    _t("mutatingadmissionpolicybindings", "admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding", False),
    _t("customresourcedefinitions", "apiextensions.k8s.io", "CustomResourceDefinition", False, "crd crds", "status"),
    _t("apiservices", "apiregistration.k8s.io", "APIService", False, "", "status"),
    _t("controllerrevisions", "apps", "ControllerRevision", True),
    _t("daemonsets", "apps", "DaemonSet", True, "ds", "status"),
    _t("deployments", "apps", "Deployment", True, "deploy", "scale status"),
    _t("replicasets", "apps", "ReplicaSet", True, "rs", "scale status"),
    _t("statefulsets", "apps", "StatefulSet", True, "sts", "scale status"),
    _t("selfsubjectreviews", "authentication.k8s.io", "SelfSubjectReview", False),
    _t("tokenreviews", "authentication.k8s.io", "TokenReview", False),
    _t("localsubjectaccessreviews", "authorization.k8s.io", "LocalSubjectAccessReview", True),
    _t("selfsubjectaccessreviews", "authorization.k8s.io", "SelfSubjectAccessReview", False),
    _t("selfsubjectrulesreviews", "authorization.k8s.io", "SelfSubjectRulesReview", False),
    _t("subjectaccessreviews", "authorization.k8s.io", "SubjectAccessReview", False),
    _t("horizontalpodautoscalers", "autoscaling", "HorizontalPodAutoscaler", True, "hpa", "status"),
    _t("cronjobs", "batch", "CronJob", True, "cj", "status"),
    _t("jobs", "batch", "Job", True, "", "status"),
    _t("certificatesigningrequests", "certificates.k8s.io", "CertificateSigningRequest", False, "csr",
       "approval status"),
    _t("signers", "certificates.k8s.io", "Signer", False),
    _t("clustertrustbundles", "certificates.k8s.io", "ClusterTrustBundle", False),
    _t("leases", "coordination.k8s.io", "Lease", True),
    _t("endpointslices", "discovery.k8s.io", "EndpointSlice", True),
    _t("events", "events.k8s.io", "Event", True, "ev"),
    _t("flowschemas", "flowcontrol.apiserver.k8s.io", "FlowSchema", False, "", "status"),
    _t("prioritylevelconfigurations", "flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration", False, "", "status"),
    _t("ingressclasses", "networking.k8s.io", "IngressClass", False),
    _t("ingresses", "networking.k8s.io", "Ingress", True, "ing", "status"),
    _t("networkpolicies", "networking.k8s.io", "NetworkPolicy", True, "netpol"),
    _t("ipaddresses", "networking.k8s.io", "IPAddress", False, "ip"),
    _t("servicecidrs", "networking.k8s.io", "ServiceCIDR", False, "", "status"),
    _t("runtimeclasses", "node.k8s.io", "RuntimeClass", False),
    _t("poddisruptionbudgets", "policy", "PodDisruptionBudget", True, "pdb", "status"),
    _t("podsecuritypolicies", "policy", "PodSecurityPolicy", False, "psp"),
    _t("clusterrolebindings", "rbac.authorization.k8s.io", "ClusterRoleBinding", False, "crb"),
    _t("clusterroles", "rbac.authorization.k8s.io", "ClusterRole", False, "cr"),
    _t("rolebindings", "rbac.authorization.k8s.io", "RoleBinding", True, "rb"),
    _t("roles", "rbac.authorization.k8s.io", "Role", True),
    _t("priorityclasses", "scheduling.k8s.io", "PriorityClass", False, "pc"),
    _t("csidrivers", "storage.k8s.io", "CSIDriver", False),
    _t("csinodes", "storage.k8s.io", "CSINode", False),
    _t("csistoragecapacities", "storage.k8s.io", "CSIStorageCapacity", True),
    _t("storageclasses", "storage.k8s.io", "StorageClass", False, "sc"),
    _t("volumeattachments", "storage.k8s.io", "VolumeAttachment", False, "", "status"),
    _t("volumeattributesclasses", "storage.k8s.io", "VolumeAttributesClass", False, "vac"),
    _t("resourceclaims", "resource.k8s.io", "ResourceClaim", True, "", "status"),
    _t("resourceclaimtemplates", "resource.k8s.io", "ResourceClaimTemplate", True),
    _t("deviceclasses", "resource.k8s.io", "DeviceClass", False),
    _t("resourceslices", "resource.k8s.io", "ResourceSlice", False),
    _t("users", "", "User", False),  # impersonation targets (§7.5)
    _t("groups", "", "Group", False),
    _t("uids", "authentication.k8s.io", "UID", False),
    _t("userextras", "authentication.k8s.io", "UserExtra", False),
)

# Kinds whose objects create pods (and so run as a ServiceAccount of their namespace).
POD_CONTROLLERS: tuple[tuple[str, str], ...] = (
    ("", "pods"), ("apps", "deployments"), ("apps", "daemonsets"), ("apps", "statefulsets"),
    ("apps", "replicasets"), ("", "replicationcontrollers"), ("batch", "jobs"), ("batch", "cronjobs"),
)


def crd_resource_types(crds: Iterable[Mapping[str, Any]]) -> list[ResourceType]:
    """ResourceTypes from CustomResourceDefinition bodies (``spec.group``, ``spec.names``, ``spec.scope``)."""
    out: list[ResourceType] = []
    for body in crds:
        spec = body.get("spec")
        if not isinstance(spec, Mapping):
            continue
        names = spec.get("names")
        group = spec.get("group")
        if not isinstance(names, Mapping) or not isinstance(group, str):
            continue
        plural, kind = names.get("plural"), names.get("kind")
        if not isinstance(plural, str) or not isinstance(kind, str):
            continue
        short = names.get("shortNames") if isinstance(names.get("shortNames"), list) else []
        subs = spec.get("versions") or []
        subresources: set[str] = set()
        for v in subs if isinstance(subs, list) else []:
            sr = v.get("subresources") if isinstance(v, Mapping) else None
            if isinstance(sr, Mapping):
                subresources.update(k for k in sr if k in ("status", "scale"))
        out.append(ResourceType(resource=plural, group=group, kind=kind,
                                namespaced=spec.get("scope", "Namespaced") != "Cluster",
                                short_names=tuple(s for s in short if isinstance(s, str)),
                                subresources=tuple(sorted(subresources))))
    return out


class ResourceCatalog:
    """Resolve what a user types into a ResourceType, kubectl-style.

    >>> cat = ResourceCatalog()
    >>> cat.resolve("deploy").qualified
    'deployments.apps'
    >>> cat.resolve("Pod").resource
    'pods'
    """

    def __init__(self, extra: Iterable[ResourceType] = ()) -> None:
        self.types: list[ResourceType] = [*BUILTIN_RESOURCES, *extra]
        self._by_plural: dict[str, list[ResourceType]] = {}
        self._by_short: dict[str, ResourceType] = {}
        self._by_kind: dict[str, list[ResourceType]] = {}
        self._by_qualified: dict[str, ResourceType] = {}
        self._by_group_resource: dict[tuple[str, str], ResourceType] = {}
        for t in self.types:
            self._by_plural.setdefault(t.resource, []).append(t)
            for s in t.short_names:
                self._by_short.setdefault(s, t)
            self._by_kind.setdefault(t.kind.lower(), []).append(t)
            self._by_qualified.setdefault(t.qualified, t)
            self._by_group_resource.setdefault((t.group, t.resource), t)

    def lookup(self, group: str, resource: str) -> ResourceType | None:
        """The type for a literal (group, plural resource), if known."""
        return self._by_group_resource.get((group, resource))

    def is_namespaced(self, group: str, resource: str) -> bool | None:
        t = self.lookup(group, resource)
        return None if t is None else t.namespaced

    def resolve(self, text: str) -> ResourceType:
        """Resolve ``pods``, ``po``, ``Pod``, ``deployments.apps``, ``deploy.apps``, a CRD plural or kind."""
        if not text:
            raise UsageError("a resource type is required")
        key = text.lower() if text[:1].isupper() else text
        if text in self._by_plural:
            # prefer the core/oldest group, as kubectl's discovery priority does for e.g. events
            return self._by_plural[text][0]
        if text in self._by_short:
            return self._by_short[text]
        if text in self._by_qualified:
            return self._by_qualified[text]
        singular = self._by_kind.get(key.lower())
        if singular:
            return singular[0]
        name, dot, group = text.partition(".")
        if dot:
            for cand in (self._by_plural.get(name, []) + self._by_kind.get(name.lower(), [])
                         + ([self._by_short[name]] if name in self._by_short else [])):
                if cand.group == group:
                    return cand
        if text.endswith("s") is False and f"{text}s" in self._by_plural:
            return self._by_plural[f"{text}s"][0]
        raise UsageError(
            f'the server doesn\'t have a resource type "{text}" (not a built-in type nor a CRD in the inputs); '
            "use --api-group to ask about it literally"
        )
