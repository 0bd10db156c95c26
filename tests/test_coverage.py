"""Every MoE family transformers can build from its defaults: moecfg must be exact on the ones
it supports, and docs/coverage.md must say so (regenerate: `python -m tests.coverage`)."""

from __future__ import annotations

import functools

import pytest

from tests.oracle import require_oracle

pytestmark = pytest.mark.oracle

require_oracle()

from tests import coverage  # noqa: E402  (needs transformers, checked just above)

#: The summary line, printed at the end of the run by conftest's terminal-summary hook.
SUMMARY: list[str] = []


@functools.cache
def rows() -> tuple[coverage.CoverageRow, ...]:
    computed = tuple(coverage.evaluate(model_type) for model_type in coverage.moe_model_types())
    SUMMARY.append(coverage.summary_line(list(computed)))
    return computed


@pytest.mark.parametrize("model_type", coverage.moe_model_types())
def test_supported_family_is_exact(model_type):
    row = next(r for r in rows() if r.model_type == model_type)
    if row.exact is None:
        pytest.skip(row.notes)  # transformers' own failure, not held against moecfg
    if not row.supported:
        pytest.skip(f"moecfg has no adapter for {model_type}: {row.notes}")
    assert row.exact, row.notes


def test_coverage_doc_is_current():
    expected = coverage.render(list(rows()))
    assert coverage.COVERAGE_DOC.read_text() == expected, "run `python -m tests.coverage`"
