"""Shared fixtures: paths to the demo cluster and the shared samples, a cached demo Analysis, CLI runner."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from analyzer import Analysis
from analyzer.cli import main

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "sample_policies" / "demo-cluster"
SHARED = ROOT.parent / "shared"
SAMPLES = SHARED / "samples"


@pytest.fixture(scope="session")
def demo() -> Analysis:
    return Analysis.from_paths([str(DEMO)])


class CliResult:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def __repr__(self) -> str:
        return f"CliResult(code={self.code}, out={self.out[:200]!r}, err={self.err[:200]!r})"


@pytest.fixture
def cli():
    """Run ``main(argv)`` and capture (exit code, stdout, stderr)."""

    def run(*argv: str) -> CliResult:
        out, err = io.StringIO(), io.StringIO()
        code = main(list(argv), out=out, err=err)
        return CliResult(code, out.getvalue(), err.getvalue())

    return run
