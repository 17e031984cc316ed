"""Who is this credential? Kubeconfigs, X.509 client certificates and bearer tokens → the API server's user.

Never touches the network, never runs a plugin unless asked (``allow_exec``), never keeps a raw secret.
"""

from __future__ import annotations

from .kubeconfig import Connection, in_cluster_connection, load_kubeconfig, resolve_connection, select_context

__all__ = ["Connection", "in_cluster_connection", "load_kubeconfig", "resolve_connection", "select_context"]
