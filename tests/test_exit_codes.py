"""Every exit code of README's "Exit codes" table, produced through the CLI; the table, the tree in
bot/errors.py and its docstring agree.

One test per row, named ``test_exit_code_<n>_…``: the agreement test checks that too.
"""

from __future__ import annotations

import inspect
import json
import re
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner, Result

import bot.errors
from bot.cli import cli
from bot.errors import GrowthHackerError
from tests.helpers.action_world import action_world
from tests.helpers.loop import run_loop
from tests.helpers.toy import CONFIG, PARAMS, Step, toy_files

README = Path(__file__).resolve().parents[1] / "README.md"
NO_AGENT_KEYS = {"ANTHROPIC_API_KEY": None, "ANTHROPIC_BASE_URL": None}


def growthhacker(*args: str, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env={**NO_AGENT_KEYS, **(env or {})})


def test_exit_code_0_a_run_without_improvement_succeeds(make_repo) -> None:  # type: ignore[no-untyped-def]
    result = growthhacker("run", str(make_repo(toy_files())), "--iterations", "0")

    assert result.exit_code == 0, result.output
    assert "no improvement" in result.output


def test_exit_code_2_a_bad_option_value_is_clicks_usage_error(make_repo) -> None:  # type: ignore[no-untyped-def]
    result = growthhacker("run", str(make_repo(toy_files())), "--iterations", "many")

    assert result.exit_code == 2
    assert "Invalid value for '-n' / '--iterations'" in result.output


def test_exit_code_3_a_directory_that_is_not_a_git_repository(tmp_path: Path) -> None:
    (tmp_path / ".growthhacker.yml").write_text(CONFIG, encoding="utf-8")

    result = growthhacker("run", str(tmp_path))

    assert result.exit_code == 3
    assert "is not a git repository" in result.output


def test_exit_code_4_a_resumed_diff_the_edit_rules_now_refuse(make_repo) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(toy_files())
    run_loop(repo, [Step("scale 0.3", "SCALE = 0.3\n")])
    # Killed after its iteration: the journal ends before the confirmation.
    journal = repo / ".growthhacker" / "journal.jsonl"
    lines = journal.read_text(encoding="utf-8").splitlines(keepends=True)
    journal.write_text("".join(line for line in lines
                               if json.loads(line)["kind"] in ("run_started", "baseline", "iteration")))
    config = repo / ".growthhacker.yml"
    config.write_text(config.read_text().replace('protected: ["evaluate.py"]',
                                                 f'protected: ["evaluate.py", "{PARAMS}"]'))

    result = growthhacker("run", str(repo), "--resume")

    assert result.exit_code == 4
    assert "a diff recorded in the journal no longer applies" in result.output
    assert f"{PARAMS} is protected" in result.output


def test_exit_code_5_an_evaluation_that_cannot_run(make_repo) -> None:  # type: ignore[no-untyped-def]
    files = toy_files()
    files[".growthhacker.yml"] = CONFIG.replace("--out {metrics_path}", "--out metrics.json")
    repo = make_repo(files)

    result = growthhacker("run", str(repo), "--iterations", "0")

    assert result.exit_code == 5
    assert "evaluate.command must write its metrics to {metrics_path}" in result.output


def test_exit_code_6_a_journal_that_cannot_be_read(make_repo) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(toy_files())
    (repo / ".growthhacker" / "journal.jsonl").mkdir(parents=True)

    result = growthhacker("journal", "--repo", str(repo))

    assert result.exit_code == 6
    assert "cannot read the journal" in result.output


def test_exit_code_7_an_agent_that_cannot_be_started(make_repo) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(toy_files())

    result = growthhacker("run", str(repo), "--agent", "command", "--agent-command", 'my-agent "--unclosed')

    assert result.exit_code == 7
    assert "check its quotes" in result.output
    assert not (repo / ".growthhacker" / "journal.jsonl").exists()  # refused before the run started


def test_exit_code_8_an_invalid_config(make_repo) -> None:  # type: ignore[no-untyped-def]
    files = toy_files()
    files[".growthhacker.yml"] = CONFIG.replace("goal: minimize", "goal: lower")

    result = growthhacker("run", str(make_repo(files)))

    assert result.exit_code == 8
    assert "evaluate.objective.goal" in result.output


def test_exit_code_9_github_refuses_the_token(tmp_path: Path) -> None:
    with action_world(tmp_path) as world:
        world.fake.set_role("alice", "write")
        world.push_change("growthhacker/manual", {PARAMS: "SCALE = 0.5\n"})
        number = world.open_pull("growthhacker/manual")
        world.fake.fail_next("POST", r"/reactions$", 401, message="Bad credentials")

        run, _ = world.command(number, "/growthhacker status", "alice")

        assert [job.exit_code for job in run.jobs.values() if job.cli is not None] == [9]
        assert "GitHub rejected the token (401)" in run.output


def test_exit_code_10_the_action_outside_github_actions(make_repo) -> None:  # type: ignore[no-untyped-def]
    unset: dict[str, str | None] = {name: None for name in (
        "GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH", "GITHUB_REPOSITORY", "GITHUB_TOKEN")}

    result = growthhacker("action", str(make_repo(toy_files())), env=unset)

    assert result.exit_code == 10
    assert "not running inside GitHub Actions" in result.output


def test_exit_code_11_a_report_of_an_unknown_run(make_repo) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(toy_files())
    run_loop(repo, [Step("scale 0.3", "SCALE = 0.3\n")])

    result = growthhacker("report", "r2", "--repo", str(repo))

    assert result.exit_code == 11
    assert "unknown run 'r2'; the latest: r1" in result.output


# ---- the table, the tree and its docstring agree ------------------------------------------------

def readme_table() -> dict[int, str]:
    """README's exit-code table: code → the error class named in its second column ("" if none)."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Exit codes\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if re.match(r"\|\s*\d+\s*\|", line)]
    table: dict[int, str] = {}
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        code = int(cells[0])
        assert code not in table, f"exit code {code} has two rows"
        named = re.fullmatch(r"`(\w+)`", cells[1])
        table[code] = named.group(1) if named else ""
    return table


def tree() -> dict[str, type[GrowthHackerError]]:
    return {name: value for name, value in vars(bot.errors).items()
            if inspect.isclass(value) and issubclass(value, GrowthHackerError)}


def test_the_readme_table_and_the_error_tree_agree() -> None:
    table = readme_table()
    own_code = {name: cls.exit_code for name, cls in tree().items()
                if "exit_code" in vars(cls) and cls is not GrowthHackerError}

    assert {name: code for code, name in table.items() if name} == own_code
    assert {code for code, name in table.items() if not name} == {0, 2}  # success, click's usage error
    assert len(set(own_code.values())) == len(own_code)  # no two classes share a code
    tested = {int(m.group(1)) for name in globals() if (m := re.match(r"test_exit_code_(\d+)_", name))}
    assert tested == set(table)


def test_the_docstring_map_is_the_tree() -> None:
    lines = (bot.errors.__doc__ or "").split("::", 1)[1].strip("\n").splitlines()
    root = re.fullmatch(r" {4}(\w+) .*", lines[0])
    assert root is not None and root.group(1) == "GrowthHackerError"
    parents = {0: "GrowthHackerError"}
    seen = {"GrowthHackerError"}
    for line in lines[1:]:
        branch = re.match(r" {4}((?:│   | {4})*)(?:├── |└── )(\w+)(?: \((\d+)\))?", line)
        if branch is None:
            continue  # a description carried over to the next line
        indent, name, code = branch.groups()
        depth = len(indent) // 4 + 1
        parents[depth] = name
        cls = tree()[name]
        assert cls.__bases__ == (tree()[parents[depth - 1]],), name
        assert (int(code) if code else None) == vars(cls).get("exit_code"), name
        seen.add(name)
    assert seen == set(tree())


def test_the_entry_point_exits_with_the_code_of_the_error(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "growthhacker"
    proc = subprocess.run([str(script), "journal", "--repo", str(tmp_path)], capture_output=True, text=True,
                          check=False, timeout=120)

    assert proc.returncode == 3, proc.stderr
    assert "Error: " in proc.stderr and "is not a git repository" in proc.stderr
