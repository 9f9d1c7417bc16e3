"""``growthhacker action``: one GitHub Actions event in, the matching mode of the bot out.

=========  =================================  ==============================================================
mode       event                              what happens
=========  =================================  ==============================================================
optimize   ``schedule``, ``workflow_dispatch``  loop from the base branch → winner branch pushed → PR opened
                                              or updated → sticky comment → check run → outputs + summary
verify     ``pull_request`` (not closed)      base and head evaluated in this job → job summary; sticky
                                              comment + check run only for PRs from this repository
command    ``issue_comment`` on a PR          ``/growthhacker`` iterate / undo / stop / status / help
outcome    a bot PR closed or merged          the human verdict and review comments → journal branch
=========  =================================  ==============================================================

Every mode takes its collaborators as arguments (:class:`~bot.github.action.session.Session`, and the
:data:`~bot.github.action.session.RunLoop` the CLI binds to its options); only optimize and iterate ever call
the loop, so verify and outcome never build an agent. The journal branch is fetched before and pushed
after every mode that adds records.
"""

from __future__ import annotations

from bot.github.action.perform import perform
from bot.github.action.session import Prepared, prepare

__all__ = ["Prepared", "perform", "prepare"]
