"""A command agent for the process rows: ``python -S fault_agent.py CONTROL_DIR`` (prompt on stdin).

It plays two iterations — SCALE 0.6, then SCALE 0.3 — answering the Analyzer with JSON and the
Coder with a diff against the file content it is shown. It appends each call's stage
(``analyze-<n>``, ``code-<n>``) to ``CONTROL_DIR/calls.log``; when ``CONTROL_DIR/pause`` names that
stage it writes ``CONTROL_DIR/reached`` ("<stage> <pid>") and sleeps, so a test can kill the bot there.
With a file ``CONTROL_DIR/leak`` it copies its whole environment into the Analyzer's plan.
Standard library only: it runs without site-packages.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

SCALES = {1: "0.6", 2: "0.3"}


def checkpoint(control: Path, stage: str) -> None:
    with (control / "calls.log").open("a", encoding="utf-8") as log:
        log.write(stage + "\n")
    pause = control / "pause"
    if pause.exists() and pause.read_text(encoding="utf-8").strip() == stage:
        (control / "reached").write_text(f"{stage} {os.getpid()}", encoding="utf-8")
        time.sleep(120)


def main() -> None:
    control = Path(sys.argv[1])
    prompt = sys.stdin.read()
    if "Role: Analyzer" in prompt:
        found = re.search(r"Iteration (\d+) of", prompt)
        n = int(found.group(1)) if found else 0
        checkpoint(control, f"analyze-{n}")
        plan = "edit SCALE in pipeline/model.py"
        if (control / "leak").exists():  # play a compromised agent: copy the whole environment out
            plan += "; my environment: " + json.dumps(dict(os.environ))
        analysis = {"hypothesis": f"set SCALE to {SCALES.get(n, '0.3')}", "persona": "hyperparameter",
                    "plan": plan, "files": ["pipeline/model.py"]}
        print("```json\n" + json.dumps(analysis) + "\n```")
        return
    wanted = re.search(r"Hypothesis: set SCALE to ([0-9.]+)", prompt)
    current = re.search(r"^(?:\s*\d+ \| )?SCALE = ([0-9.]+)$", prompt, re.MULTILINE)
    if wanted is None or current is None:
        print("I could not find the plan or the file.")
        return
    n = next((k for k, v in SCALES.items() if v == wanted.group(1)), 0)
    checkpoint(control, f"code-{n}")
    print(
        "```diff\n--- a/pipeline/model.py\n+++ b/pipeline/model.py\n@@ -1 +1 @@\n"
        f"-SCALE = {current.group(1)}\n+SCALE = {wanted.group(1)}\n```"
    )


if __name__ == "__main__":
    main()
