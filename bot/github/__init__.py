"""GitHub integration: events in, pull requests / comments / checks out; the inner loop knows none of it.

Modules (one concept each):

- :mod:`bot.github.client`: PyGithub client with bounded retries; API failures → ``GitHubError``.
- :mod:`bot.github.events`: Actions environment and event payloads → typed events → mode.
- :mod:`bot.github.commands`: the strict ``/growthhacker`` parser and the permission check.
- :mod:`bot.github.handle`: receiving a command (👀, permission, help/status/stop, refusals).
- :mod:`bot.github.render`: PR title/body, sticky comment, check-run report (markdown, pure).
- :mod:`bot.github.publish`: branch push (git), PRs, labels, sticky comment, checks, reactions, outputs.
- :mod:`bot.github.outcomes`: merged/closed PRs, commands and review comments → journal outcomes.
- :mod:`bot.github.journal_branch`: the journal (and each proposing run's plot) on ``growthhacker/journal``.
"""
