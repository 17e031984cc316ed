"""Coverage-guided fuzzing of the manifest loader with atheris (run by hand, for as long as you like).

Install and run (atheris is not in requirements.txt: it needs clang/libFuzzer wheels for your Python)::

    .venv/bin/pip install atheris
    mkdir -p fuzz/corpus && cp sample_policies/demo-cluster/*.yaml fuzz/corpus/ 2>/dev/null
    .venv/bin/python fuzz/fuzz_loader.py fuzz/corpus -max_len=65536 -timeout=10 -rss_limit_mb=2048

Any crash, hang (``-timeout``) or memory blow-up (``-rss_limit_mb``) is a bug: the loader must turn every
input into objects, load issues, notices or one ``AnalyzerError`` line. libFuzzer writes the failing
input to ``crash-*``/``timeout-*``; replay it with ``python fuzz/fuzz_loader.py crash-...``.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import atheris  # noqa: E402

with atheris.instrument_imports():
    from analyzer import Analysis
    from analyzer.errors import AnalyzerError
    from analyzer.loaders.manifests import Limits

LIMITS = Limits(max_file_bytes=1 << 20, max_documents=1000, max_alias_nodes=100_000)


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    as_json = fdp.ConsumeBool()
    text = fdp.ConsumeUnicodeNoSurrogates(len(data))
    name = "fuzz.json" if as_json else "fuzz.yaml"
    try:
        a = Analysis.from_texts([(name, text)], limits=LIMITS)
    except AnalyzerError as exc:
        assert "\n" not in str(exc), str(exc)
        return
    for issue in a.load_issues:
        assert issue.file == name and "\n" not in str(issue)
    # the loaded policy must also index and answer without raising
    _ = a.index
    a.who_can("get", "secrets", namespace="default")
    a.can_i("alice", ["system:authenticated"], "create", "pods", namespace="default")


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
