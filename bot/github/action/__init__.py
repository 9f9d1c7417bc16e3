"""``growthhacker action``: one job of a GitHub workflow, doing its part of an event's work.

Safe outputs: a job that runs repository or candidate code may only read, and hands its result on
as one artifact (:mod:`.artifact`); the job after it runs none, checks the artifact, and writes.

=======  ============================  ======  ===========================================================
mode     event                         token   what the job does
=======  ============================  ======  ===========================================================
search   ``schedule``,                 read    the loop from ``github.base`` (optimize) or from the PR's
         ``workflow_dispatch``;                head with the command's hint (iterate), with the LLM key →
         ``issue_comment`` (iterate)           artifact: the run's records, winning diff, report, plot
publish  the same                      write   artifact checked (:mod:`.proposal`) → branch pushed, PR
                                               opened / commit on the PR → comment, check run, journal
measure  ``pull_request``              read    base and head evaluated with the base's config and harness
                                               → artifact: the results
report   ``pull_request``              write   artifact checked → verify comment + check run (job summary
                                               only for forks and tokens that cannot write)
outcome  a bot PR closed or merged     write   the verdict and authorised reviewers' comments → journal
receive  ``issue_comment``             write   👀, permission, help / status / stop; records the command;
                                               outputs which job works on it (iterate, undo)
undo     ``issue_comment`` (undo)      write   the bot's last commit reverted on top of the branch
=======  ============================  ======  ===========================================================

Every mode takes its collaborators as arguments (:class:`~bot.github.action.session.Session`, and the
:data:`~bot.github.action.session.RunLoop` the CLI binds to its options); only search calls the loop,
so no other job builds an agent. The journal branch is read by search and written by the jobs that
write.
"""

from __future__ import annotations

from bot.github.action.perform import perform
from bot.github.action.session import Prepared, prepare

__all__ = ["Prepared", "perform", "prepare"]
