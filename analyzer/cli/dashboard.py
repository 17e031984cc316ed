"""``rbac-analyzer dashboard``: start the Streamlit app (dashboards/app.py) on the given inputs."""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import TextIO

from ..errors import UsageError

__all__ = ["register", "run", "app_path", "streamlit_command"]

HELP = "open the web dashboard on the given policy (the sample policies when no -f is given)"
EPILOG = """examples:
  rbac-analyzer dashboard                          (the sample policies)
  rbac-analyzer dashboard -f cluster/ -f extra.yaml
  rbac-analyzer dashboard -f snapshot.yaml --port 8600
  rbac-analyzer dashboard --live --context prod     (read the cluster of a kubeconfig context)
  make dashboard

The dashboard listens on 127.0.0.1 unless --address says otherwise; uploads stay in the browser session's
memory. Needs the streamlit package (pip install 'rbac-analyzer[dashboard]').
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("dashboard", help=HELP, description=HELP, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-f", "--filename", dest="paths", action="append", default=[], metavar="PATH",
                   help="manifest file or directory to open (repeat for several); default: the sample policies")
    p.add_argument("--live", action="store_true",
                   help="open on the live cluster of the kubeconfig context (read-only list calls)")
    p.add_argument("--context", default="", metavar="NAME", help="kubeconfig context for --live (default: current)")
    p.add_argument("--kubeconfig", default="", metavar="FILE", help="kubeconfig file for --live")
    p.add_argument("--port", type=int, default=8501, help="port to listen on (default: 8501)")
    p.add_argument("--address", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--headless", action="store_true", help="do not open a browser")
    p.set_defaults(func=run)


def app_path() -> Path:
    """dashboards/app.py of this checkout."""
    return Path(__file__).resolve().parents[2] / "dashboards" / "app.py"


def streamlit_command(paths: list[str], *, port: int = 8501, address: str = "127.0.0.1", headless: bool = False,
                      live: bool = False, context: str = "", kubeconfig: str = "") -> list[str]:
    """The ``python -m streamlit run`` command line; the input paths go after ``--`` to the app."""
    cmd = [sys.executable, "-m", "streamlit", "run", str(app_path()),
           "--server.port", str(port), "--server.address", address,
           "--browser.gatherUsageStats", "false", "--client.toolbarMode", "minimal",
           "--server.fileWatcherType", "none", "--server.maxUploadSize", "64"]  # MB, as the upload reader's cap
    if headless:
        cmd += ["--server.headless", "true"]
    cmd.append("--")
    for p in paths:
        cmd += ["-f", p]  # the server inherits our working directory: relative paths stay short on screen
    if live:
        cmd.append("--live")
    if context:
        cmd += ["--context", context]
    if kubeconfig:
        cmd += ["--kubeconfig", os.path.abspath(kubeconfig)]
    return cmd


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if not app_path().is_file():
        raise UsageError(f"the dashboard app is missing ({app_path()}); run from a source checkout")
    if importlib.util.find_spec("streamlit") is None:
        raise UsageError("the dashboard needs streamlit: pip install 'rbac-analyzer[dashboard]'")
    for p in args.paths:
        if not os.path.exists(p):
            raise UsageError(f"{p}: no such file or directory")
    if not 0 < args.port < 65536:
        raise UsageError(f"--port {args.port}: not a TCP port")
    if (args.context or args.kubeconfig) and not args.live:
        raise UsageError("--context and --kubeconfig go with --live")
    cmd = streamlit_command(args.paths, port=args.port, address=args.address, headless=args.headless,
                            live=args.live, context=args.context, kubeconfig=args.kubeconfig)
    err.write(f"starting the dashboard on http://{args.address}:{args.port} (Ctrl-C stops it)\n")
    err.flush()
    if os.name == "posix":  # become the server: signals (Ctrl-C, a supervisor's SIGTERM) reach it directly
        os.execv(cmd[0], cmd)
    try:
        return subprocess.call(cmd)
    except KeyboardInterrupt:
        return 130
