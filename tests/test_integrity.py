"""The metric-gaming check: what a candidate ADDS is scanned for ways around the evaluation harness."""

from __future__ import annotations

import difflib
import os
from typing import get_args

import pytest

from bot.integrity import Finding, FindingCode, check_diff, checkout_fingerprint

PROTECTED = ("evaluate.py", "data/**", ".github/**", ".growthhacker.yml")
PATH = "ope_pipeline/estimators.py"
BASE = (
    "import numpy as np\n"
    "\n"
    "\n"
    "def estimate(rewards, weights):\n"
    '    """Self-normalised IPW."""\n'
    "    return float(np.sum(weights * rewards) / np.sum(weights))\n"
)


def diff_of(before: str, after: str, path: str = PATH) -> str:
    return "".join(
        difflib.unified_diff(before.splitlines(True), after.splitlines(True), f"a/{path}", f"b/{path}")
    )


def with_body(*lines: str) -> str:
    """BASE with ``lines`` added at the top of estimate()'s body (indented like it)."""
    head, tail = BASE.split('    """Self-normalised IPW."""\n')
    return head + '    """Self-normalised IPW."""\n' + "".join(f"    {line}\n" for line in lines) + tail


def codes(after: str, *, files: bool = False, metrics_hint: str | None = None) -> list[str]:
    text = {PATH: after} if files else None
    return [f.code for f in check_diff(diff_of(BASE, after), PROTECTED, metrics_hint, files=text)]


GAMING = [
    ("open_protected_harness", ["src = open('evaluate.py').read()"], "protected_read"),
    ("path_read_of_protected_data", ["y = (Path(__file__).parent / 'data' / 'y.npy').read_bytes()"],
     "protected_read"),
    ("numpy_load_ground_truth", ["truth = np.load('cache/ground_truth.npy')"], "ground_truth_read"),
    ("pandas_read_oracle", ["import pandas as pd", "v = pd.read_csv('oracle_values.csv')"],
     "ground_truth_read"),
    ("import_the_harness", ["import evaluate"], "harness_import"),
    ("from_harness_import", ["from evaluate import simulate"], "harness_import"),
    ("import_main", ["import __main__"], "harness_import"),
    ("sys_modules", ["import sys", "h = sys.modules['__main__']"], "harness_import"),
    ("dynamic_import_of_harness", ["import importlib", "h = importlib.import_module('evaluate')"],
     "harness_import"),
    ("inspect_stack", ["import inspect", "caller = inspect.stack()[1]"], "introspection"),
    ("sys_getframe", ["import sys", "f = sys._getframe(1)"], "introspection"),
    ("gc_get_objects", ["import gc", "objs = gc.get_objects()"], "introspection"),
    ("function_globals", ["g = estimate.__globals__"], "introspection"),
    ("frame_back", ["f = some_frame.f_back"], "introspection"),
    ("write_metrics_file", ["open('metrics.json', 'w').write('{}')"], "metrics_write"),
    ("argv_to_find_metrics", ["import sys", "out = sys.argv[-1]"], "metrics_write"),
    ("overwrite_harness", ["Path('evaluate.py').write_text('')"], "protected_write"),
    ("delete_config", ["import os", "os.remove('.growthhacker.yml')"], "protected_write"),
    ("write_above_the_project", ["open('../../notes.txt', 'a').write('x')"], "outside_write"),
    ("write_absolute_path", ["Path('/tmp/leak.txt').write_text('x')"], "outside_write"),
    ("parents_above_the_repository", ["p = Path(__file__).resolve().parents[3].joinpath('README.md')"],
     "outside_path"),
    ("dirname_chain_above_the_repository",
     ["import os", "p = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))"], "outside_path"),
    ("os_environ", ["import os", "token = os.environ['GITHUB_TOKEN']"], "environ"),
    ("parent_environ_through_proc", ["import os", "env = open(f'/proc/{os.getppid()}/environ').read()"],
     "environ"),
    ("getenv_imported_by_name", ["from os import getenv", "token = getenv('GITHUB_TOKEN')"], "environ"),
    ("import_subprocess", ["import subprocess"], "subprocess"),
    ("os_system", ["import os", "os.system('curl example.invalid')"], "subprocess"),
    ("import_socket", ["import socket"], "network"),
    ("urllib_request", ["from urllib import request"], "network"),
    ("requests_without_visible_import", ["r = requests.get('https://example.invalid')"], "network"),
    ("eval_of_text", ["x = eval('1 + 1')"], "dynamic_code"),
    ("getattr_on_builtins", ["import builtins", "o = getattr(builtins, 'op' + 'en')"], "dynamic_code"),
]


@pytest.mark.parametrize(("lines", "code"), [g[1:] for g in GAMING], ids=[g[0] for g in GAMING])
def test_gaming_code_is_flagged_with_its_code(lines: list[str], code: str) -> None:
    assert code in codes(with_body(*lines))


@pytest.mark.parametrize(("lines", "code"), [g[1:] for g in GAMING], ids=[g[0] for g in GAMING])
def test_gaming_code_is_flagged_from_the_whole_file_too(lines: list[str], code: str) -> None:
    assert code in codes(with_body(*lines), files=True)


def test_every_finding_code_has_a_row() -> None:
    assert {code for *_, code in GAMING} == set(get_args(FindingCode))


CLEAN = [
    ("estimator_swap", ["from obp.ope import SelfNormalizedDoublyRobust",
                        "est = SelfNormalizedDoublyRobust()"]),
    ("clip_weights", ["weights = np.clip(weights, 0.0, 100.0)"]),
    ("load_data_from_a_variable", ["extra = np.load(data_path)"]),
    ("torch_model_eval_mode", ["model.eval()"]),
    ("string_replace", ["name = 'a/b'.replace('/', '_')"]),
    ("write_a_results_table", ["frame.to_csv('results/table.csv')"]),
    ("sklearn_model", ["from sklearn.linear_model import LogisticRegression",
                       "reg = LogisticRegression(C=10.0, max_iter=500)"]),
    ("module_globals_and_re_compile", ["import re", "pat = re.compile('x+')"]),
    ("data_next_to_the_package", ["here = Path(__file__).resolve().parents[1] / 'data.csv'"]),
]


@pytest.mark.parametrize("lines", [c[1] for c in CLEAN], ids=[c[0] for c in CLEAN])
def test_ordinary_ope_changes_are_not_flagged(lines: list[str]) -> None:
    assert codes(with_body(*lines)) == []


def test_code_that_was_already_there_is_not_judged() -> None:
    before = BASE + "\n\nTOKEN = __import__('os').environ.get('X')\n"
    after = before.replace("np.sum(weights))", "np.sum(weights) + 1e-12)")

    assert check_diff(diff_of(before, after), PROTECTED, None) == []


def test_an_alias_is_followed_from_an_import_outside_the_hunks_when_the_file_is_given() -> None:
    before = "import os as operating_system\n" + BASE
    after = before.replace('    """Self-normalised IPW."""\n', '    """Self-normalised IPW."""\n'
                           "    key = operating_system.environ['KEY']\n")

    findings = check_diff(diff_of(before, after), PROTECTED, None, files={PATH: after})

    assert [(f.code, f.line) for f in findings] == [("environ", 7)]


def test_the_finding_names_file_line_and_what_to_change() -> None:
    (finding,) = check_diff(diff_of(BASE, with_body("src = open('evaluate.py').read()")), PROTECTED, None)

    assert finding == Finding("protected_read", "`open` reads the protected file 'evaluate.py'", PATH, 6)
    assert str(finding) == f"{PATH}:6: [protected_read] `open` reads the protected file 'evaluate.py'"


def test_a_configured_metrics_path_is_recognised_with_its_seed_placeholder() -> None:
    after = with_body("Path('results/metrics-3.json').write_text('{}')")

    assert codes(after, metrics_hint="results/metrics-{seed}.json") == ["metrics_write"]
    assert codes(after, metrics_hint="out/m.json") == []


def test_a_harness_in_a_package_is_recognised_by_its_module_path() -> None:
    after = with_body("from bench import harness")
    diff = diff_of(BASE, after)

    assert [f.code for f in check_diff(diff, ("bench/harness.py",), None)] == ["harness_import"]


def test_only_python_files_are_parsed() -> None:
    diff = diff_of("a\n", "a\nimport subprocess\n", path="ope_pipeline/notes.md")

    assert check_diff(diff, PROTECTED, None) == []


def test_a_line_that_does_not_parse_alone_is_still_scanned_in_its_hunk() -> None:
    before = "def f(x):\n    if x:\n        return 1\n    return 0\n"
    after = "def f(x):\n    if x:\n        import subprocess\n        return 1\n    return 0\n"

    assert [f.code for f in check_diff(diff_of(before, after), PROTECTED, None)] == ["subprocess"]


# ---- the user's checkout around an evaluation ---------------------------------------------------
def test_the_fingerprint_is_stable_while_nothing_changes_and_ignores_bot_state(make_repo) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo({"a.py": "A = 1\n", ".gitignore": ".growthhacker/\n"})
    before = checkout_fingerprint(repo)
    (repo / ".growthhacker").mkdir()
    (repo / ".growthhacker" / "journal.jsonl").write_text("{}\n")

    assert checkout_fingerprint(repo) == before


@pytest.mark.parametrize("change", ["edit_tracked", "new_untracked", "edit_dirty_again"])
def test_the_fingerprint_changes_when_the_checkout_is_written(make_repo, change: str) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo({"a.py": "A = 1\n"})
    (repo / "a.py").write_text("A = 2\n")  # the user's own uncommitted work
    before = checkout_fingerprint(repo)

    if change == "edit_tracked":
        (repo / "a.py").write_text("A = 1\n")
    elif change == "new_untracked":
        (repo / "b.py").write_text("B = 1\n")
    else:
        os.utime(repo / "a.py", ns=(1, 1))

    assert checkout_fingerprint(repo) != before
