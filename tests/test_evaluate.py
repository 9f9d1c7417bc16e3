"""The evaluation runner, against real subprocesses running small Python scripts."""

from __future__ import annotations

import json
import os
import shlex
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from bot.config import EvaluateConfig, Guardrail, Objective
from bot.errors import EvaluationError
from bot.evaluate import (
    Evaluator,
    MetricsProblem,
    compile_gate,
    parse_metrics,
    run_command,
    scrub_env,
)
from tests.helpers.processes import read_pid, wait_dead

PY = shlex.quote(sys.executable)
CANARIES = {
    "GITHUB_TOKEN": "canary-github-5f1c2e",
    "ANTHROPIC_API_KEY": "canary-anthropic-9a7b3d",
    "AWS_SECRET_ACCESS_KEY": "canary-aws-0d4e8f",
    "MY_PASSWORD": "canary-password-77c1aa",
}
PRELUDE = """\
import json, os, subprocess, sys, time
seed = int(sys.argv[1])
out = sys.argv[2]
def emit(obj):
    with open(out, "w") as fh:
        fh.write(obj if isinstance(obj, str) else json.dumps(obj))
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    worktree = tmp_path / "repo"
    worktree.mkdir()
    return worktree


@pytest.fixture
def base_env(tmp_path: Path) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}


def eval_command(tmp_path: Path, body: str, name: str = "evaluate.py") -> str:
    """Write an eval script (PRELUDE + body) outside the worktree; return its command template."""
    script = tmp_path / name
    script.write_text(PRELUDE + body, encoding="utf-8")
    return f"{PY} {shlex.quote(str(script))} {{seed}} {{metrics_path}}"


def make_evaluator(tmp_path: Path, environ: dict[str, str], command: str, **settings: Any) -> Evaluator:
    settings.setdefault("timeout_s", 20.0)
    config = EvaluateConfig(command=command, objective=Objective(metric="relative_ee"), **settings)
    return Evaluator(config, tmp_path / "cache", environ=environ)


# --- scrub_env ---------------------------------------------------------------------------------


def test_scrub_env_drops_secrets_and_keeps_path_and_home() -> None:
    environ = {"PATH": "/bin", "HOME": "/home/u", **CANARIES}

    env = scrub_env(environ)

    assert env["PATH"] == "/bin"
    assert env["HOME"] == "/home/u"
    assert not set(CANARIES) & set(env)


def test_scrub_env_drops_names_not_allow_listed() -> None:
    env = scrub_env({"PATH": "/bin", "SOME_CORPORATE_PROXY_SETTING": "x"})

    assert "SOME_CORPORATE_PROXY_SETTING" not in env


def test_scrub_env_keeps_where_the_runtime_finds_its_libraries() -> None:
    # A self-hosted runner's CUDA or MKL libraries, a setup-python interpreter.
    runtime = {"LD_LIBRARY_PATH": "/opt/cuda/lib64", "pythonLocation": "/opt/hostedtoolcache/Python/3.11"}

    env = scrub_env({"PATH": "/bin", **runtime})

    assert {name: env[name] for name in runtime} == runtime


def test_scrub_env_passes_a_harmless_pass_env_name() -> None:
    env = scrub_env({"PATH": "/bin", "OPE_DATA_DIR": "/data"}, pass_env=["OPE_DATA_DIR"])

    assert env["OPE_DATA_DIR"] == "/data"


def test_scrub_env_drops_secret_looking_names_even_when_passed() -> None:
    env = scrub_env({"PATH": "/bin", "SSH_AUTH_SOCK": "/tmp/agent"}, pass_env=["SSH_AUTH_SOCK"])

    assert "SSH_AUTH_SOCK" not in env


def test_scrub_env_sets_no_bytecode_and_a_headless_matplotlib_backend() -> None:
    env = scrub_env({"PATH": "/bin"})

    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["MPLBACKEND"] == "Agg"


def test_scrub_env_keeps_a_chosen_matplotlib_backend() -> None:
    env = scrub_env({"MPLBACKEND": "svg"})

    assert env["MPLBACKEND"] == "svg"


def test_eval_subprocess_sees_no_canary_secret(tmp_path: Path, repo: Path, base_env: dict[str, str]) -> None:
    body = 'emit({"relative_ee": 0.1}); print(json.dumps(dict(os.environ)))\n'
    body += 'open("env.json", "w").write(json.dumps(dict(os.environ)))\n'
    evaluator = make_evaluator(tmp_path, {**base_env, **CANARIES}, eval_command(tmp_path, body))

    result = evaluator.evaluate(repo, "tree", [0], log_dir=tmp_path / "logs")

    dumped = (repo / "env.json").read_text()
    seen = dumped + (tmp_path / "logs" / "seed-0.log").read_text()
    assert result.ok
    assert json.loads(dumped)["HOME"] == base_env["HOME"]
    assert not [value for value in CANARIES.values() if value in seen]


def test_secret_printed_by_eval_is_redacted_from_reason_and_log(
    tmp_path: Path, repo: Path, base_env: dict[str, str]
) -> None:
    (repo / "leak.txt").write_text(CANARIES["GITHUB_TOKEN"])
    body = 'print("found", open("leak.txt").read()); sys.exit(1)\n'
    evaluator = make_evaluator(tmp_path, {**base_env, **CANARIES}, eval_command(tmp_path, body))

    seed = evaluator.evaluate(repo, "tree", [0], log_dir=tmp_path / "logs").seeds[0]

    log = (tmp_path / "logs" / "seed-0.log").read_text()
    assert seed.reason is not None and "found ***" in seed.reason
    assert CANARIES["GITHUB_TOKEN"] not in seed.reason + log


# --- processes: timeouts, leftovers, bounded output ------------------------------------------


def test_timeout_kills_the_whole_process_group(tmp_path: Path, repo: Path, base_env: dict[str, str]) -> None:
    pid_file, term_file = tmp_path / "grandchild.pid", tmp_path / "grandchild.term"
    # The grandchild notes the SIGTERM it gets: only a signal to the whole group can reach it.
    grandchild = (f"trap 'echo term > {shlex.quote(str(term_file))}; exit 0' TERM; "
                  f"echo $$ > {shlex.quote(str(pid_file))}; while :; do sleep 0.1; done")
    body = f"child = subprocess.Popen(['sh', '-c', {grandchild!r}])\ntime.sleep(300)\n"
    evaluator = make_evaluator(tmp_path, base_env, eval_command(tmp_path, body), timeout_s=1.0)

    seed = evaluator.evaluate(repo, "tree", [0]).seeds[0]

    assert seed.failure == "timeout"
    assert wait_dead(read_pid(pid_file))
    assert term_file.read_text().strip() == "term"


def test_process_ignoring_sigterm_is_killed_after_the_grace_period(tmp_path: Path) -> None:
    pid_file = tmp_path / "stubborn.pid"
    command = f"trap '' TERM; sleep 300 & echo $! > {shlex.quote(str(pid_file))}; wait"

    result = run_command(command, tmp_path, {"PATH": os.environ["PATH"]}, timeout_s=0.5)

    assert result.timed_out and result.returncode is None
    assert result.duration_s >= 2.0  # SIGKILL came only after the grace period
    assert wait_dead(read_pid(pid_file))


def test_background_process_left_behind_is_killed_without_hanging(tmp_path: Path) -> None:
    pid_file = tmp_path / "daemon.pid"
    command = f"sleep 300 & echo $! > {shlex.quote(str(pid_file))}; exit 0"

    result = run_command(command, tmp_path, {"PATH": os.environ["PATH"]}, timeout_s=10)

    # Not timed out: the run did not wait for the daemon holding its output open.
    assert result.returncode == 0 and not result.timed_out
    assert wait_dead(read_pid(pid_file))


def test_stdin_is_not_inherited(tmp_path: Path) -> None:
    # Put readable data on this process's fd 0, so an inherited stdin would show up in the output.
    read_end, write_end = os.pipe()
    os.write(write_end, b"inherited-stdin\n")
    os.close(write_end)
    saved = os.dup(0)
    os.dup2(read_end, 0)
    try:
        result = run_command("cat; echo done", tmp_path, {"PATH": os.environ["PATH"]}, timeout_s=5)
    finally:
        os.dup2(saved, 0)
        os.close(saved)
        os.close(read_end)

    assert result.output.strip() == "done"


HUGE = (
    f"{PY} -c \"import sys; w = sys.stdout.buffer.write; w(b'FIRST'); "
    "[w(b'x' * 1_000_000) for _ in range(50)]; w(b'LAST')\""
)


def test_huge_output_is_bounded_keeping_head_and_tail(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "huge.log"

    result = run_command(HUGE, tmp_path, {"PATH": os.environ["PATH"]}, timeout_s=30, log_path=log)

    assert result.returncode == 0
    assert len(result.output) < 64_000 + 200
    assert result.output.startswith("FIRST") and result.output.endswith("LAST")
    assert "bytes of output elided" in result.output
    assert log.stat().st_size < 64_000 + 200


def test_huge_output_is_read_in_bounded_memory(tmp_path: Path) -> None:
    tracemalloc.start()
    try:
        run_command(HUGE, tmp_path, {"PATH": os.environ["PATH"]}, timeout_s=30)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 5_000_000  # 50 MB went through


# --- failures are results --------------------------------------------------------------------


def test_crash_is_reported_with_exit_code_and_stderr_tail(
    tmp_path: Path, repo: Path, base_env: dict[str, str]
) -> None:
    body = 'print("KeyError: pscore column missing", file=sys.stderr); sys.exit(3)\n'
    evaluator = make_evaluator(tmp_path, base_env, eval_command(tmp_path, body))

    seed = evaluator.evaluate(repo, "tree", [0]).seeds[0]

    assert not seed.ok and seed.failure == "crash"
    assert seed.reason is not None
    assert "exited with code 3" in seed.reason
    assert "KeyError: pscore column missing" in seed.reason


GYM_BANNER = (
    "Gym has been unmaintained since 2022 and does not support NumPy 2.0 amongst other critical "
    "functionality.\nPlease upgrade to Gymnasium, the maintained drop-in replacement of Gym, or "
    "contact the authors of your software and request that they upgrade.\n"
)


def test_crash_after_a_long_library_banner_keeps_the_exception_and_last_frame(
    tmp_path: Path, repo: Path, base_env: dict[str, str]
) -> None:
    body = (
        "import warnings\n"
        f"sys.stderr.write({GYM_BANNER!r} * 40)\n"
        "warnings.warn('np.bool8 is a deprecated alias', DeprecationWarning, stacklevel=1)\n"
        "def fit(options):\n"
        "    raise ValueError(f'unsupported INPUT_OPTIONS: {options}')\n"
        "def run():\n"
        "    fit(['n_steps_per_epoch'])\n"
        "run()\n"
    )
    evaluator = make_evaluator(tmp_path, base_env, eval_command(tmp_path, body))

    seed = evaluator.evaluate(repo, "tree", [0]).seeds[0]

    assert seed.failure == "crash" and seed.reason is not None
    head = seed.reason.splitlines()[0]
    assert head == "exited with code 1: ValueError: unsupported INPUT_OPTIONS: ['n_steps_per_epoch']"
    assert seed.reason.splitlines()[-2].endswith(", in fit") and "raise ValueError(" in seed.reason
    assert "Gym has been unmaintained" not in seed.reason
    assert "DeprecationWarning" not in seed.reason
    assert seed.crash is not None and seed.crash.exception == "ValueError"


def test_a_crash_is_read_from_its_traceback_with_the_projects_frames(
    tmp_path: Path, repo: Path, base_env: dict[str, str]
) -> None:
    (repo / "pipeline.py").write_text('def value(results):\n    return results["ipw"]\n', encoding="utf-8")
    body = f'sys.path.insert(0, {str(repo)!r})\nimport pipeline\npipeline.value({{"snipw": 0.1}})\n'
    evaluator = make_evaluator(tmp_path, base_env, eval_command(tmp_path, body))

    seed = evaluator.evaluate(repo, "tree", [0]).seeds[0]

    assert seed.failure == "crash" and seed.crash is not None
    assert seed.crash.exception == "KeyError" and seed.crash.key == "ipw"
    assert [(f.file, f.line, f.function) for f in seed.crash.frames] == [("pipeline.py", 2, "value")]


@pytest.mark.parametrize(
    ("payload", "kind"),
    [
        ('{"relative_ee": NaN}', "non_finite"),
        ('{"relative_ee": Infinity}', "non_finite"),
        ('{"relative_ee": -1e999}', "non_finite"),
        ('{"other": 1.0}', "metrics_missing"),
        ("relative_ee = 0.1", "metrics_malformed"),
        ("[0.1]", "metrics_malformed"),
        ('{"relative_ee": "0.1"}', "metrics_malformed"),
        ('{"relative_ee": true}', "metrics_malformed"),
        ('{"relative_ee": 1e6}', "extreme_value"),
    ],
)
def test_bad_metrics_become_the_right_failure(
    tmp_path: Path, repo: Path, base_env: dict[str, str], payload: str, kind: str
) -> None:
    command = eval_command(tmp_path, f"emit({payload!r})\n")
    evaluator = make_evaluator(tmp_path, base_env, command, bounds={"relative_ee": (0.0, 100.0)})

    seed = evaluator.evaluate(repo, "tree", [0]).seeds[0]

    assert (seed.ok, seed.failure) == (False, kind)


def test_no_metrics_file_is_metrics_missing(tmp_path: Path, repo: Path, base_env: dict[str, str]) -> None:
    evaluator = make_evaluator(tmp_path, base_env, eval_command(tmp_path, "print('forgot to write')\n"))

    seed = evaluator.evaluate(repo, "tree", [0]).seeds[0]

    assert seed.failure == "metrics_missing"
    assert seed.reason is not None and "forgot to write" in seed.reason


def test_metrics_file_over_one_megabyte_is_malformed(
    tmp_path: Path, repo: Path, base_env: dict[str, str]
) -> None:
    body = 'emit(json.dumps({"relative_ee": 0.1, "pad": "x" * 1_100_000}))\n'
    evaluator = make_evaluator(tmp_path, base_env, eval_command(tmp_path, body))

    seed = evaluator.evaluate(repo, "tree", [0]).seeds[0]

    assert seed.failure == "metrics_malformed"
    assert seed.reason is not None and "larger than" in seed.reason


def test_successful_seed_has_the_metrics_and_a_duration(
    tmp_path: Path, repo: Path, base_env: dict[str, str]
) -> None:
    body = 'emit({"relative_ee": 0.25 + seed, "runtime_s": 1.5, "note": "dm"})\n'
    evaluator = make_evaluator(tmp_path, base_env, eval_command(tmp_path, body))

    result = evaluator.evaluate(repo, "tree", [0, 1])

    assert result.ok
    assert [s.metrics for s in result.seeds] == [
        {"relative_ee": 0.25, "runtime_s": 1.5},
        {"relative_ee": 1.25, "runtime_s": 1.5},
    ]
    assert all(s.duration_s > 0 for s in result.seeds)


# --- where the metrics come from -------------------------------------------------------------


def test_metrics_path_placeholder_is_outside_the_worktree(
    tmp_path: Path, repo: Path, base_env: dict[str, str]
) -> None:
    body = 'emit({"relative_ee": 0.1}); open("where.txt", "w").write(out)\n'
    evaluator = make_evaluator(tmp_path, base_env, eval_command(tmp_path, body))

    evaluator.evaluate(repo, "tree", [0])

    where = Path((repo / "where.txt").read_text()).resolve()
    assert not where.is_relative_to(repo.resolve())


def test_repo_relative_metrics_file_is_read(tmp_path: Path, repo: Path, base_env: dict[str, str]) -> None:
    body = (
        'os.makedirs("out", exist_ok=True); open("out/metrics.json", "w").write(\'{"relative_ee": 0.4}\')\n'
    )
    command = eval_command(tmp_path, body).replace("{metrics_path}", "unused")
    evaluator = make_evaluator(tmp_path, base_env, command, metrics="out/metrics.json")

    seed = evaluator.evaluate(repo, "tree", [0]).seeds[0]

    assert seed.ok and seed.metrics == {"relative_ee": 0.4}


def test_stale_repo_relative_metrics_file_is_never_read(
    tmp_path: Path, repo: Path, base_env: dict[str, str]
) -> None:
    (repo / "out").mkdir()
    (repo / "out" / "metrics.json").write_text('{"relative_ee": 0.4}')
    command = eval_command(tmp_path, "pass\n").replace("{metrics_path}", "unused")
    evaluator = make_evaluator(tmp_path, base_env, command, metrics="out/metrics.json")

    seed = evaluator.evaluate(repo, "tree", [0]).seeds[0]

    assert seed.failure == "metrics_missing"


def test_command_that_cannot_report_metrics_is_rejected_up_front(tmp_path: Path) -> None:
    with pytest.raises(EvaluationError, match="metrics_path"):
        make_evaluator(tmp_path, {}, "python evaluate.py --seed {seed}")


def test_missing_worktree_raises(tmp_path: Path, base_env: dict[str, str]) -> None:
    evaluator = make_evaluator(tmp_path, base_env, eval_command(tmp_path, "pass\n"))

    with pytest.raises(EvaluationError, match="does not exist"):
        evaluator.evaluate(tmp_path / "nowhere", "tree", [0])


# --- cache and parallelism -------------------------------------------------------------------


def counting_evaluator(tmp_path: Path, base_env: dict[str, str], body: str = "") -> tuple[Evaluator, Path]:
    counter = tmp_path / "runs.txt"
    body = f"open({str(counter)!r}, 'a').write('run\\n')\n" + (body or 'emit({"relative_ee": 0.1})\n')
    return make_evaluator(tmp_path, base_env, eval_command(tmp_path, body)), counter


def test_second_evaluation_of_the_same_tree_is_cached_and_not_rerun(
    tmp_path: Path, repo: Path, base_env: dict[str, str]
) -> None:
    evaluator, counter = counting_evaluator(tmp_path, base_env)
    first = evaluator.evaluate(repo, "tree-a", [0])

    second = evaluator.evaluate(repo, "tree-a", [0])

    assert (first.seeds[0].cached, second.seeds[0].cached) == (False, True)
    assert second.seeds[0].metrics == first.seeds[0].metrics
    assert counter.read_text().count("run") == 1


def test_different_tree_is_not_cached(tmp_path: Path, repo: Path, base_env: dict[str, str]) -> None:
    evaluator, counter = counting_evaluator(tmp_path, base_env)
    evaluator.evaluate(repo, "tree-a", [0])

    other = evaluator.evaluate(repo, "tree-b", [0])

    assert not other.seeds[0].cached
    assert counter.read_text().count("run") == 2


def test_timeouts_are_not_cached(tmp_path: Path, repo: Path, base_env: dict[str, str]) -> None:
    counter = tmp_path / "runs.txt"
    command = f"echo run >> {shlex.quote(str(counter))}; sleep 30 # {{seed}} {{metrics_path}}"
    evaluator = make_evaluator(tmp_path, base_env, command, timeout_s=0.3)
    evaluator.evaluate(repo, "tree-a", [0])

    again = evaluator.evaluate(repo, "tree-a", [0])

    assert again.seeds[0].failure == "timeout" and not again.seeds[0].cached
    assert counter.read_text().count("run") == 2


def test_a_crash_on_a_missing_module_is_not_cached(
    tmp_path: Path, repo: Path, base_env: dict[str, str]
) -> None:
    # The environment, not the tree, decides it: once the package is installed the seed must run again.
    body = "import growthhacker_surely_missing_package\n"
    evaluator = make_evaluator(tmp_path, base_env, eval_command(tmp_path, body))
    evaluator.evaluate(repo, "tree-a", [0])

    again = evaluator.evaluate(repo, "tree-a", [0]).seeds[0]

    assert again.failure == "crash" and not again.cached
    assert again.crash is not None and again.crash.exception == "ModuleNotFoundError"


def test_two_workers_run_seeds_concurrently_and_keep_seed_order(
    tmp_path: Path, repo: Path, base_env: dict[str, str]
) -> None:
    body = (
        'open(f"started-{seed}", "w").close()\n'
        "deadline = time.monotonic() + 3\n"
        'while not os.path.exists(f"started-{1 - seed}") and time.monotonic() < deadline:\n'
        "    time.sleep(0.01)\n"
        'emit({"relative_ee": seed, "saw_other": float(os.path.exists(f"started-{1 - seed}"))})\n'
    )
    evaluator = make_evaluator(tmp_path, base_env, eval_command(tmp_path, body), workers=2)

    result = evaluator.evaluate(repo, "tree", [1, 0])

    assert [s.seed for s in result.seeds] == [1, 0]
    assert [s.metrics for s in result.seeds] == [
        {"relative_ee": 1.0, "saw_other": 1.0},
        {"relative_ee": 0.0, "saw_other": 1.0},
    ]


# --- parse_metrics ---------------------------------------------------------------------------


def test_parse_metrics_keeps_finite_numeric_extras_and_ignores_the_rest() -> None:
    text = '{"relative_ee": 0.2, "runtime_s": 3, "estimator": "dr", "flag": true, "bad": NaN}'

    metrics = parse_metrics(text, ["relative_ee"])

    assert metrics == {"relative_ee": 0.2, "runtime_s": 3.0}


def test_parse_metrics_names_every_missing_metric() -> None:
    with pytest.raises(MetricsProblem) as info:
        parse_metrics('{"relative_ee": 0.2}', ["relative_ee", "runtime_s", "mse"])

    assert info.value.kind == "metrics_missing"
    assert "runtime_s, mse" in info.value.reason


def test_parse_metrics_applies_bounds_to_extras_too() -> None:
    with pytest.raises(MetricsProblem) as info:
        parse_metrics('{"relative_ee": 0.2, "runtime_s": -1}', ["relative_ee"], {"runtime_s": (0.0, 1e4)})

    assert info.value.kind == "extreme_value"


def test_parse_metrics_treats_integers_beyond_float_range_as_non_finite() -> None:
    with pytest.raises(MetricsProblem) as info:
        parse_metrics('{"relative_ee": ' + "9" * 400 + "}", ["relative_ee"])

    assert info.value.kind == "non_finite"


# --- compile gate and checks -----------------------------------------------------------------


def test_compile_gate_reports_file_and_line_of_a_syntax_error(tmp_path: Path) -> None:
    (tmp_path / "ope_pipeline").mkdir()
    (tmp_path / "ope_pipeline" / "ok.py").write_text("x = 1\n")
    (tmp_path / "ope_pipeline" / "x.py").write_text("a = 1\nb = 2\ndef f(:\n    pass\n")

    reason = compile_gate(tmp_path, ["ope_pipeline/ok.py", "ope_pipeline/x.py"])

    assert reason is not None and reason.startswith("ope_pipeline/x.py:3: ")
    assert "ok.py" not in reason


def test_compile_gate_passes_valid_changes_and_skips_deleted_and_non_python_files(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("import math\nprint(math.pi)\n")
    (tmp_path / "notes.md").write_text("def f(:\n")

    reason = compile_gate(tmp_path, ["a.py", "notes.md", "deleted.py"])

    assert reason is None
    assert not list(tmp_path.rglob("*.pyc"))


def test_run_checks_returns_the_first_failing_check(
    tmp_path: Path, repo: Path, base_env: dict[str, str]
) -> None:
    checks = ["true", "echo 'E501 line too long'; exit 1", "echo never; exit 2"]
    evaluator = make_evaluator(tmp_path, base_env, eval_command(tmp_path, "pass\n"), checks=checks)

    reason = evaluator.run_checks(repo, log_dir=tmp_path / "logs")

    assert reason is not None
    assert "echo 'E501 line too long'; exit 1" in reason and "E501 line too long" in reason.splitlines()[-1]
    assert not (tmp_path / "logs" / "check-3.log").exists()


def test_run_checks_returns_none_when_all_pass(tmp_path: Path, repo: Path, base_env: dict[str, str]) -> None:
    evaluator = make_evaluator(
        tmp_path, base_env, eval_command(tmp_path, "pass\n"), checks=["true", "exit 0"]
    )

    assert evaluator.run_checks(repo) is None


def test_required_metrics_are_objective_then_guardrails_without_duplicates(tmp_path: Path) -> None:
    guardrails = [Guardrail(metric="runtime_s"), Guardrail(metric="relative_ee"), Guardrail(metric="mse")]
    evaluator = make_evaluator(tmp_path, {}, "run {seed} {metrics_path}", guardrails=guardrails)

    assert evaluator.required_metrics() == ["relative_ee", "runtime_s", "mse"]
