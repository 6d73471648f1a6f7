"""The sign-in log as CSV (audit/export.py): cells a spreadsheet would evaluate are quoted."""

import pytest

from audit.export import safe_cell


@pytest.mark.parametrize(("value", "cell"), [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("\tTAB", "'\tTAB"),
    ("\rCR", "'\rCR"), ("alice", "alice"), ("a=b", "a=b"), ("", ""), (None, ""), (42, "42"),
])
def test_a_cell_starting_like_a_formula_is_quoted_and_others_are_left_alone(value, cell):
    assert safe_cell(value) == cell
