"""Crash summaries (the failure reason): the exception and its last frames, not the banners above."""

from __future__ import annotations

from bot.crash import crash_summary

TRACEBACK = """\
/opt/venv/lib/python3.11/site-packages/gym/__init__.py:12: UserWarning: Gym is unmaintained
  warnings.warn(
Traceback (most recent call last):
  File "/work/run/evaluate.py", line 40, in <module>
    main()
  File "/work/run/evaluate.py", line 31, in main
    estimate = pipeline.run(data)
               ^^^^^^^^^^^^^^^^^^
  File "/work/run/ope_pipeline/pipeline.py", line 12, in run
    fqe.fit(dataset, n_steps=100)
  File "/opt/venv/lib/python3.11/site-packages/d3rlpy/base.py", line 88, in fit
    raise ValueError(f"unsupported INPUT_OPTIONS: {bad}")
ValueError: unsupported INPUT_OPTIONS: ['n_steps_per_epoch']
"""


def test_the_exception_line_comes_first_and_the_innermost_frames_follow() -> None:
    summary = crash_summary(TRACEBACK, root="/work/run")

    lines = summary.splitlines()
    assert lines[0] == "ValueError: unsupported INPUT_OPTIONS: ['n_steps_per_epoch']"
    assert lines[1] == "last frames (innermost last):"
    assert '  File "ope_pipeline/pipeline.py", line 12, in run' in lines
    assert lines[-2] == '  File "d3rlpy/base.py", line 88, in fit'
    assert "evaluate.py\", line 40" not in summary  # only the last frames
    assert "UserWarning" not in summary and "^^^" not in summary


def test_with_chained_exceptions_the_last_traceback_is_the_cause() -> None:
    output = (
        "Traceback (most recent call last):\n  File \"a.py\", line 1, in f\n    x()\nKeyError: 'x'\n\n"
        "During handling of the above exception, another exception occurred:\n\n" + TRACEBACK
    )

    assert crash_summary(output).startswith("ValueError: unsupported INPUT_OPTIONS")


def test_output_without_a_traceback_keeps_its_last_lines_without_warnings() -> None:
    output = "".join(f"progress {i}\n" for i in range(30))
    output += "model.py:3: FutureWarning: `alpha` is deprecated\n  Ridge(alpha=1)\nerror: no pscore column\n"

    summary = crash_summary(output)

    assert summary.splitlines()[-1] == "error: no pscore column"
    assert "progress 29" in summary and "progress 10" not in summary
    assert "FutureWarning" not in summary and "Ridge(alpha=1)" not in summary


def test_empty_output_says_so() -> None:
    assert crash_summary("") == "(no output)"
