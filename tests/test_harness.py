"""The read-only view of the harness: its calls into the editable code, found from the eval command."""

from __future__ import annotations

from pathlib import Path

from bot.harness import read_only_context

EVALUATE = '''\
"""Protected harness."""
import sys

from harness.data import simulate
from ope_pipeline.pipeline import estimate_value

N_ROUNDS = 4_000
N_ACTIONS = 20
GROUND_TRUTH_FILE = "truth.json"


def score(estimate, truth):
    return abs(estimate - truth) / truth


def unrelated():
    return 42


def main(seed):
    logged, policy, truth = simulate(seed, N_ROUNDS)
    estimate = float(estimate_value(logged, policy, seed=seed))
    return {"relative_ee": score(estimate, truth)}


if __name__ == "__main__":
    main(int(sys.argv[1]))
'''
DATA = '''\
def simulate(seed, n_rounds):
    return {"n_rounds": n_rounds, "reward_type": "binary"}, None, 0.5
'''
PIPELINE = "def estimate_value(logged, policy, seed):\n    return 0.5\n"


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    return tmp_path


def test_the_calling_function_its_helpers_and_constants_are_shown_with_line_numbers(tmp_path: Path) -> None:
    root = project(tmp_path, {"evaluate.py": EVALUATE, "ope_pipeline/pipeline.py": PIPELINE})

    excerpts = read_only_context(root, "python evaluate.py {seed} {out}", ["ope_pipeline/pipeline.py"])

    assert [e.path for e in excerpts] == ["evaluate.py"]
    text = excerpts[0].render(10_000)
    assert "   22 |     estimate = float(estimate_value(logged, policy, seed=seed))" in text
    assert "    7 | N_ROUNDS = 4_000\n    8 | N_ACTIONS = 20" in text  # the sizes of the data
    assert "def score(estimate, truth):" in text  # a helper the caller uses
    assert "unrelated" not in text
    assert "estimate_value" in excerpts[0].why


def test_a_protected_module_the_entry_point_imports_is_followed(tmp_path: Path) -> None:
    entry = "from harness.run import main\nmain()\n"
    run = "from ope_pipeline import pipeline\n\ndef main():\n    return pipeline.estimate_value({}, 0)\n"
    root = project(tmp_path, {"bench.py": entry, "harness/__init__.py": "", "harness/run.py": run,
                              "ope_pipeline/__init__.py": "", "ope_pipeline/pipeline.py": PIPELINE})

    excerpts = read_only_context(root, "python -m bench --seed {seed}", ["ope_pipeline/pipeline.py"])

    assert [e.path for e in excerpts] == ["harness/run.py"]
    assert "pipeline.estimate_value({}, 0)" in excerpts[0].render(10_000)


def test_paths_are_repository_relative_in_a_project_subdirectory(tmp_path: Path) -> None:
    root = project(tmp_path, {"evaluate.py": EVALUATE, "ope_pipeline/pipeline.py": PIPELINE})

    editable = ["sub/ope_pipeline/pipeline.py"]

    excerpts = read_only_context(root, "python evaluate.py {seed}", editable, prefix="sub")

    assert [e.path for e in excerpts] == ["sub/evaluate.py"]


def test_context_files_from_the_config_are_added_whole_and_editable_ones_never(tmp_path: Path) -> None:
    root = project(tmp_path, {"evaluate.py": EVALUATE, "ope_pipeline/pipeline.py": PIPELINE,
                              "harness/data.py": DATA, "docs/schema.md": "| column | type |\n"})

    excerpts = read_only_context(root, "python evaluate.py {seed}", ["ope_pipeline/pipeline.py"],
                                 context=["harness/*.py", "docs/schema.md", "ope_pipeline/pipeline.py"])

    assert [(e.path, e.why) for e in excerpts][1:] == [
        ("harness/data.py", "listed in edit.context"),
        ("docs/schema.md", "listed in edit.context"),
    ]
    assert '"reward_type": "binary"' in excerpts[1].render(1000)


def test_without_a_recognised_call_the_entry_point_itself_is_shown(tmp_path: Path) -> None:
    root = project(tmp_path, {"evaluate.py": "import subprocess\nsubprocess.run(['python', 'x.py'])\n"})

    excerpts = read_only_context(root, "python evaluate.py {seed}", ["x.py"])

    assert [e.path for e in excerpts] == ["evaluate.py"]
    assert "no call into the editable files" in excerpts[0].why


def test_rendering_is_cut_to_the_limit_with_a_note() -> None:
    from bot.harness import ReadOnlyExcerpt

    excerpt = ReadOnlyExcerpt("h.py", "why", tuple((n, "x" * 50) for n in range(1, 200)), 199)

    text = excerpt.render(600)

    assert len(text) < 700 and text.endswith("(cut for length; 199 lines in the file)")


def test_a_literal_that_looks_like_the_answer_is_hidden(tmp_path: Path) -> None:
    evaluate = EVALUATE.replace('GROUND_TRUTH_FILE = "truth.json"', "GROUND_TRUTH = (\n    0.4321\n)")
    root = project(tmp_path, {"evaluate.py": evaluate, "ope_pipeline/pipeline.py": PIPELINE})

    excerpts = read_only_context(root, "python evaluate.py {seed}", ["ope_pipeline/pipeline.py"])

    text = excerpts[0].render(10_000)
    assert "GROUND_TRUTH = … (hidden: looks like the answer" in text
    assert "0.4321" not in text and "N_ACTIONS = 20" in text
