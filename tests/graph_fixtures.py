"""Small hand-written policies for the graph, render and export tests."""

from __future__ import annotations

SMALL = """
apiVersion: v1
kind: ServiceAccount
metadata: {name: builder, namespace: ci}
automountServiceAccountToken: false
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: secret-reader, labels: {agg: "yes"}}
rules:
- {apiGroups: [""], resources: [secrets], verbs: [get, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: pod-reader, labels: {agg: "yes"}}
rules:
- {apiGroups: [""], resources: [pods], verbs: [get, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader}
aggregationRule:
  clusterRoleSelectors:
  - matchLabels: {agg: "yes"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: builder-read, namespace: ci}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: reader}
subjects:
- {kind: ServiceAccount, name: builder}
- {kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: admins}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
- {kind: Group, name: ops, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: cluster-admin}
rules:
- {apiGroups: ["*"], resources: ["*"], verbs: ["*"]}
- {nonResourceURLs: ["*"], verbs: ["*"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: deployer, namespace: ci}
rules:
- {apiGroups: [apps], resources: [deployments], verbs: [create, update]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: deployer, namespace: ci}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}
subjects:
- {kind: Group, name: "system:serviceaccounts:ci", apiGroup: rbac.authorization.k8s.io}
- {kind: ServiceAccount, name: ghost, namespace: ci}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: dangling, namespace: ci}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: nope}
subjects:
- {kind: User, name: bob, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ci}
spec:
  template:
    spec:
      serviceAccountName: builder
      containers: [{name: c, image: nginx}]
---
apiVersion: v1
kind: Pod
metadata: {name: runner, namespace: ci}
spec:
  automountServiceAccountToken: true
  serviceAccountName: builder
  containers: [{name: c, image: busybox}]
"""

# Names a YAML file may hold that break naive DOT, CSV, Cypher or XML writers.
HOSTILE = [
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": 'we"ird,role\\x'},
     "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "<b>x</b>"},
     "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": 'we"ird,role\\x'},
     "subjects": [{"kind": "User", "name": "line1\nline2,'q'\\", "apiGroup": "rbac.authorization.k8s.io"},
                  {"kind": "Group", "name": "a:b -> c; `x`", "apiGroup": "rbac.authorization.k8s.io"}]},
]
