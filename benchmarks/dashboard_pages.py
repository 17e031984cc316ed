"""Dashboard speed: switching pages on a generated 20,000-object cluster (target: under 1 s each, warm).

Run: ``.venv/bin/python benchmarks/dashboard_pages.py [--objects N]``. Generates the synthetic cluster of
benchmarks/run.py in a temporary directory, opens dashboards/app.py on it through Streamlit's AppTest, then
times each page switch: the first visit (audit, escalation graph built once and cached on the Analysis) and
the warm switches a user makes afterwards (the target).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from generate import generate  # noqa: E402  (the synthetic cluster of benchmarks/run.py)

APP = ROOT / "dashboards" / "app.py"
PAGES = ("Overview", "Who can", "Can I", "Subject", "Findings", "Identity")
TARGET_SECONDS = 1.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=20_000)
    args = parser.parse_args()
    from streamlit.testing.v1 import AppTest

    with tempfile.TemporaryDirectory() as tmp:
        generate(tmp, objects=args.objects)
        sys.argv = [str(APP), "-f", tmp]
        t0 = time.perf_counter()
        at = AppTest.from_file(str(APP), default_timeout=300).run()
        print(f"first load ({args.objects} objects): {time.perf_counter() - t0:.2f} s")
        worst = 0.0
        for _ in range(2):  # the second round is the warm one a user sees when switching back and forth
            for page in PAGES:
                t0 = time.perf_counter()
                at.sidebar.radio(key="page").set_value(page).run()
                took = time.perf_counter() - t0
                assert not at.exception, at.exception
                print(f"  {page:10s} {took:.3f} s")
                worst = max(worst, took) if _ else worst
        print(f"worst warm page switch: {worst:.3f} s (target < {TARGET_SECONDS} s)")
        return 0 if worst < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
