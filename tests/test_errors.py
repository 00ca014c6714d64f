"""The one error family: InputError prints the problems it shows and counts the rest right."""

from gis.errors import BianminError, InputError, InputProblem


def test_input_error_counts_the_problems_it_does_not_print():
    """21 problems: the first as the head, 19 listed, and exactly 1 counted as 'more'."""
    probs = [InputProblem("f.csv", i + 1, "id", f"bad {i}") for i in range(21)]
    text = str(InputError(probs))
    listed = [ln for ln in text.splitlines() if ln.startswith("  - ")]
    assert text.splitlines()[0] == "f.csv, row 1, column 'id': bad 0"
    assert len(listed) == 19
    assert text.rstrip().endswith("... and 1 more")
    assert "20 more problem(s)" in text


def test_twenty_problems_print_without_a_more_line():
    """20 problems fit whole: no '... and N more' line at all."""
    probs = [InputProblem("f.csv", i + 1, None, "x") for i in range(20)]
    text = str(InputError(probs))
    assert "... and" not in text
    assert len([ln for ln in text.splitlines() if ln.startswith("  - ")]) == 19


def test_input_error_is_a_bianmin_error():
    """The CLI's handler catches the one base."""
    assert issubclass(InputError, BianminError)
