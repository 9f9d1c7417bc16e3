"""The sharded optimize (`init --shards K`): the workflow run by the fake runner as GitHub runs a
matrix (instances, artifacts by pattern, re-runs of failed jobs), and its jobs
(`growthhacker action --mode shard | confirm | gather`) each on its own: a fresh clone, the workflow run's
GITHUB_RUN_ID and GITHUB_SHA, artifacts as directories; the publish job is the unsharded one's."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.finalists import read_done as confirmation_done
from bot.shards import read_done
from tests.helpers.action_world import ActionWorld, action_world
from tests.helpers.runs import JobRun
from tests.helpers.workflow_runner import rerun_failed_jobs

pytestmark = pytest.mark.slow

DISPATCH = {"inputs": {"iterations": "2"}, "ref": "refs/heads/main",
            "sender": {"login": "alice", "type": "User"}}
SHARD_0_OF_2 = ("--mode", "shard", "--shard", "0", "--shards", "2")
#: The confirm matrix of the toy target (loop.confirm_top: 3 by default).
CONFIRMS = ["confirm (0)", "confirm (1)", "confirm (2)"]


KEY = "sk-ant-api03-shardsonly0123456789"


def test_the_sharded_workflow_runs_read_only_shards_gathers_and_publishes_one_pull_request(
        tmp_path: Path) -> None:
    with action_world(tmp_path, shards=2) as world:
        world.runner.secrets["ANTHROPIC_API_KEY"] = KEY  # the config's command agent answers anyway

        run = world.dispatch(iterations="2")

        assert run.ok, run.output
        assert run.ran() == ["search (0)", "search (1)", *CONFIRMS, "gather", "publish"]
        run_id = f"gh-{run.context.run_id}" if run.context is not None else ""
        for name in ("search (0)", "search (1)", *CONFIRMS, "gather"):
            assert run[name].scopes == {"contents": "read"}, name
        jobs = ("search (0)", "search (1)", *CONFIRMS, "gather")
        assert [KEY in run[name].env.values() for name in jobs] == [True, True, False, False, False, False]
        # The finalists were confirmed by the confirm jobs, side by side; the gather confirmed none again.
        assert "record(s) merged from 3 confirmation(s)" in " ".join(run["gather"].output.split())
        assert "confirming iteration" not in run["gather"].output
        assert "confirming iteration 1" in run["confirm (0)"].output
        pull = world.fake.pull(1)
        assert pull["head"]["ref"] == f"growthhacker/{run_id}"
        assert world.remote_file(f"growthhacker/{run_id}") == "SCALE = 0.6"
        records = [r for r in world.journal() if r.get("run_id") == run_id]
        assert [r["iteration"] for r in records if r["kind"] == "iteration"] == [1, 2]
        assert records[-1]["kind"] == "run_finished" and records[-1]["winner"] == 1
        confirmed = [r["iteration"] for r in records if r["kind"] == "confirmation"]
        assert confirmed and len(confirmed) == len(set(confirmed))
        # Each shard's token could write nothing, whatever code ran beside it.
        assert world.write_attempts(run["search (1)"].token)["push growthhacker/stolen"] == "403"


def test_a_cancelled_shard_is_re_run_alone_and_the_run_then_publishes(tmp_path: Path) -> None:
    with action_world(tmp_path, shards=2) as world:
        cancel = {"search (1)"}  # the first attempt of shard 1 is cancelled as soon as it starts
        world.runner.cancel_when = lambda job: job in cancel

        first = world.dispatch(iterations="2")

        assert first["search (1)"].result == "cancelled" and first["search (0)"].result == "success"
        assert first["gather"].result == first["publish"].result == "skipped"
        with pytest.raises(KeyError):  # no pull request yet
            world.fake.pull(1)
        cancel.clear()

        again = rerun_failed_jobs(first)

        assert again == ["search (1)", *CONFIRMS, "gather", "publish"], first.output
        assert first.ok, first.output
        run_id = f"gh-{first.context.run_id}" if first.context is not None else ""
        assert world.fake.pull(1)["head"]["ref"] == f"growthhacker/{run_id}"
        records = [r for r in world.journal() if r.get("run_id") == run_id]
        assert [r["iteration"] for r in records if r["kind"] == "iteration"] == [1, 2]


def test_a_confirmation_that_never_reached_the_gather_leaves_its_finalist_to_the_gather(
        tmp_path: Path) -> None:
    def lose_finalist_0(job: JobRun, artifacts: Path) -> None:
        if job.name == "confirm (0)":  # as if the job had died before its upload
            shutil.rmtree(artifacts / "growthhacker-finalist-0")

    with action_world(tmp_path, shards=2) as world:
        world.runner.after_job = lose_finalist_0

        run = world.dispatch(iterations="2")

        assert run.ok, run.output
        assert "record(s) merged from 2 confirmation(s)" in " ".join(run["gather"].output.split())
        assert "confirming iteration 1" in run["gather"].output
        run_id = f"gh-{run.context.run_id}" if run.context is not None else ""
        records = [r for r in world.journal() if r.get("run_id") == run_id]
        assert records[-1]["kind"] == "run_finished" and records[-1]["winner"] == 1
        assert [r["iteration"] for r in records if r["kind"] == "confirmation"].count(1) == 1
        assert world.fake.pull(1)["head"]["ref"] == f"growthhacker/{run_id}"


def job_env(world: ActionWorld, run_id: str = "4242", sha: str | None = None) -> dict[str, str]:
    """What every job of one workflow run sees: its run id and the commit it started on."""
    return {"GITHUB_RUN_ID": run_id, "GITHUB_SHA": sha or world.remote_sha("main"),
            "GROWTHHACKER_ITERATIONS": "2"}


def run_shard(world: ActionWorld, index: int, out: Path, env: dict[str, str]) -> str:
    result = world.invoke("workflow_dispatch", DISPATCH, "--mode", "shard", "--shard", str(index),
                          "--shards", "2", "--artifact", str(out), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_shards_then_gather_then_publish_open_the_pull_request_a_single_search_would(tmp_path: Path) -> None:
    with action_world(tmp_path) as world:
        env = job_env(world)
        downloaded = tmp_path / "downloaded"
        for index in (0, 1):  # each shard's artifact, as download-artifact lays them out by name
            run_shard(world, index, downloaded / f"growthhacker-shard-{index}", env)
            done = read_done(downloaded / f"growthhacker-shard-{index}")
            assert done is not None and done.spec.run_id == "gh-4242" and done.spec.numbers() == [index + 1]
            assert done.spec.base_commit == world.remote_sha("main")
        artifact = tmp_path / "artifact"

        gathered = world.invoke("workflow_dispatch", DISPATCH, "--mode", "gather", "--artifact",
                                str(artifact), env={**env, "GROWTHHACKER_SHARDS_DIR": str(downloaded)})

        assert gathered.exit_code == 0, gathered.output
        assert "gathered 2 shard(s) of run gh-4242" in gathered.output
        assert {p.name for p in artifact.iterdir()} >= {"manifest.json", "candidate.diff", "journal.jsonl",
                                                        "report.md", "pr.md"}
        published = world.invoke("workflow_dispatch", DISPATCH, "--mode", "publish", "--artifact",
                                 str(artifact), env=env)
        assert published.exit_code == 0, published.output
        pull = world.fake.pull(1)
        assert pull["head"]["ref"] == "growthhacker/gh-4242"
        assert world.remote_file("growthhacker/gh-4242") == "SCALE = 0.6"
        records = [r for r in world.journal() if r.get("run_id") == "gh-4242"]
        assert [r["iteration"] for r in records if r["kind"] == "iteration"] == [1, 2]
        assert [r["kind"] for r in records].count("run_started") == 1
        assert records[-1]["kind"] == "run_finished" and records[-1]["winner"] == 1

        # "Re-run all jobs" of a published workflow run: the shard refuses to mix two searches.
        again = world.invoke("workflow_dispatch", DISPATCH, *SHARD_0_OF_2, "--artifact",
                             str(tmp_path / "again"), env=env)
        assert again.exit_code == 10, again.output
        assert "already holds run gh-4242" in again.output and "Start a new workflow run" in again.output


def test_a_shard_refuses_a_workflow_run_started_off_github_base(tmp_path: Path) -> None:
    with action_world(tmp_path) as world:
        elsewhere = world.push_change("experiment", {"notes.md": "not on main\n"})

        result = world.invoke("workflow_dispatch", DISPATCH, *SHARD_0_OF_2, "--artifact",
                              str(tmp_path / "out"), env=job_env(world, sha=elsewhere))

        assert result.exit_code == 10, result.output
        assert f"started on {elsewhere[:12]}, which is not a commit of main" in result.output
        assert not (tmp_path / "out" / "done.json").exists()


def test_a_shard_index_outside_the_matrix_is_refused_before_anything_runs(tmp_path: Path) -> None:
    with action_world(tmp_path) as world:
        result = world.invoke("workflow_dispatch", DISPATCH, "--mode", "shard", "--shard", "2", "--shards",
                              "2", "--artifact", str(tmp_path / "out"), env=job_env(world))

        assert result.exit_code == 10, result.output
        assert "shard 2 of 2" in result.output
        assert not (tmp_path / "out").exists()


def test_gather_refuses_a_missing_shard_and_says_so_when_none_was_downloaded(tmp_path: Path) -> None:
    with action_world(tmp_path) as world:
        env = job_env(world)
        downloaded = tmp_path / "downloaded"
        empty = world.invoke("workflow_dispatch", DISPATCH, "--mode", "gather", "--artifact",
                             str(tmp_path / "a"), env={**env, "GROWTHHACKER_SHARDS_DIR": str(downloaded)})
        assert empty.exit_code == 10, empty.output
        assert "no shard artifact was downloaded" in empty.output and "-shard-<i>" in empty.output

        run_shard(world, 0, downloaded / "growthhacker-shard-0", env)
        partial = world.invoke("workflow_dispatch", DISPATCH, "--mode", "gather", "--artifact",
                               str(tmp_path / "b"), env={**env, "GROWTHHACKER_SHARDS_DIR": str(downloaded)})

        assert partial.exit_code == 6, partial.output  # ShardError: nothing merged, no artifact
        assert "shard(s) 1 of run gh-4242 are missing" in partial.output
        assert not (tmp_path / "b").exists()
        shutil.rmtree(downloaded)


def test_a_confirm_job_confirms_its_finalist_of_the_downloaded_shards_into_its_artifact(
        tmp_path: Path) -> None:
    with action_world(tmp_path) as world:
        env = job_env(world)
        downloaded = tmp_path / "downloaded"
        confirm = ("workflow_dispatch", DISPATCH, "--mode", "confirm")
        nothing = world.invoke(*confirm, "--finalist", "0", "--artifact", str(tmp_path / "a"),
                               env={**env, "GROWTHHACKER_SHARDS_DIR": str(downloaded)})
        assert nothing.exit_code == 10 and "no shard artifact was downloaded" in nothing.output
        for index in (0, 1):
            run_shard(world, index, downloaded / f"growthhacker-shard-{index}", env)
        with_shards = {**env, "GROWTHHACKER_SHARDS_DIR": str(downloaded)}

        unnamed = world.invoke(*confirm, "--artifact", str(tmp_path / "b"), env=with_shards)
        first = world.invoke(*confirm, "--finalist", "0", "--artifact", str(tmp_path / "c"), env=with_shards)
        beyond = world.invoke(*confirm, "--finalist", "2", "--artifact", str(tmp_path / "d"), env=with_shards)

        assert unnamed.exit_code == 10 and "`finalist` input" in unnamed.output
        assert first.exit_code == 0 and beyond.exit_code == 0, first.output + beyond.output
        done, none = confirmation_done(tmp_path / "c"), confirmation_done(tmp_path / "d")
        assert done is not None and (done.run_id, done.iteration) == ("gh-4242", 1)
        assert none is not None and none.iteration is None and none.records == 0
