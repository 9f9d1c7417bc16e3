"""Everything tests share, in one place: repositories, the toy target, the fake servers, worlds.

Test modules import from here, never from each other:

- :mod:`tests.helpers.repos`: real git repositories in temporary directories.
- :mod:`tests.helpers.toy`: the fast toy OPE target and the scripted agent.
- :mod:`tests.helpers.loop`: running the inner loop on a toy repository.
- :mod:`tests.helpers.fake_anthropic` / :mod:`tests.helpers.faulty_llm`: the Anthropic-compatible
  local server, and the same with network faults.
- :mod:`tests.helpers.fake_github`: the stateful fake GitHub REST API, checked against the OpenAPI
  description; :mod:`tests.helpers.action_world`: a GitHub world for ``growthhacker action``.
- :mod:`tests.helpers.workflow_runner`: the fake GitHub Actions runner that runs a workflow's jobs
  there, with :mod:`~tests.helpers.runs` (what a run leaves), :mod:`~tests.helpers.matrix` (job
  matrices), :mod:`~tests.helpers.artifacts` (upload-/download-artifact v4),
  :mod:`~tests.helpers.composite` (the action's own steps), :mod:`~tests.helpers.triggers`,
  :mod:`~tests.helpers.concurrency` and :mod:`~tests.helpers.expressions`.
- :mod:`tests.helpers.fault_target`: the target of the fault matrix.
- :mod:`tests.helpers.patching` / :mod:`tests.helpers.evals`: small shared checks.
- :mod:`tests.helpers.ope_pipelines`: OPE pipelines of different shapes (the heuristic's fixtures);
  :mod:`tests.helpers.heuristic_scenarios`: journal situations on them and the ranking snapshot text
  (``tests/golden/heuristic/``).
- :mod:`tests.helpers.strangers`: the stranger repositories of ``tests/strangers/`` (what each author
  means by its evaluation) and copies of them as git repositories.
"""
