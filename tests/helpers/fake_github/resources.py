"""The REST resources of the fake GitHub: one repository's pulls, comments, reactions, labels, checks,
statuses and collaborator roles; branch heads come from the bare git repository the bot pushes to.

Every handler returns ``(status, extra headers, JSON payload)`` or raises :class:`ApiError`; payloads
are built from the OpenAPI schemas (``spec.instance_of``) so they carry every required field.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from tests.helpers.fake_github import spec
from tests.helpers.fake_github.scopes import Needs

BODY_LIMIT = 65536
_DOCS = "https://docs.github.com/rest"
_LEGACY_PERMISSION = {
    "admin": "admin",
    "maintain": "write",
    "write": "write",
    "triage": "read",
    "read": "read",
}


class ApiError(Exception):
    """Raised by a route to answer with an error status and GitHub's error body."""

    def __init__(self, status: int, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"message": message, "documentation_url": _DOCS}
        if errors is not None:
            self.body["errors"] = errors


@dataclass
class _State:
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    reactions: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    check_runs: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    collaborators: dict[str, str] = field(default_factory=dict)
    closed_by: dict[int, str] = field(default_factory=dict)
    next_number: int = 1
    next_id: int = 1000


class Resources:
    """One repository's state and the REST handlers over it (routes in :meth:`routes`)."""

    def __init__(self, full_name: str, bare: Path, bot_login: str) -> None:
        self.owner, self.repo = full_name.split("/")
        self.full_name = full_name
        self.bare = bare
        self.bot_login = bot_login
        self.base_url = ""
        #: When True, creating a check run is refused like it is for a personal access token.
        self.check_runs_forbidden = False
        self._state = _State()

    def route(self, method: str, path: str) -> tuple[Callable[..., Any], dict[str, Any], Needs] | None:
        """The handler for ``method`` ``path``, its path parameters and the scopes it accepts, or None."""
        prefix = f"/repos/{self.owner}/{self.repo}"
        if not path.startswith(prefix + "/"):
            return None
        rest = path[len(prefix) :]
        for route_method, pattern, handler, needs in self.routes():
            match = re.fullmatch(pattern, rest)
            if route_method == method and match:
                params = {
                    k: int(v) if k in ("number", "cid") else unquote(v) for k, v in match.groupdict().items()
                }
                return handler, params, needs
        return None

    def routes(self) -> list[tuple[str, str, Callable[..., Any], Needs]]:
        """(method, path regex after ``/repos/{owner}/{repo}``, handler, the scopes it accepts) for
        every operation served; the scopes are those GitHub documents for the endpoint."""
        pulls_read: Needs = (("pull-requests", "read"),)
        pulls_write: Needs = (("pull-requests", "write"),)
        comments_read: Needs = (("issues", "read"), ("pull-requests", "read"))
        comments_write: Needs = (("issues", "write"), ("pull-requests", "write"))
        return [
            ("GET", r"/git/ref/(?P<ref>.+)", self._get_ref, (("contents", "read"),)),
            ("GET", r"/pulls", self._list_pulls, pulls_read),
            ("POST", r"/pulls", self._create_pull, pulls_write),
            ("GET", r"/pulls/(?P<number>\d+)", self._get_pull, pulls_read),
            ("PATCH", r"/pulls/(?P<number>\d+)", self._update_pull, pulls_write),
            ("GET", r"/issues/(?P<number>\d+)/comments", self._list_comments, comments_read),
            ("POST", r"/issues/(?P<number>\d+)/comments", self._create_comment, comments_write),
            ("GET", r"/issues/comments/(?P<cid>\d+)", self._get_comment, comments_read),
            ("PATCH", r"/issues/comments/(?P<cid>\d+)", self._update_comment, comments_write),
            ("DELETE", r"/issues/comments/(?P<cid>\d+)", self._delete_comment, comments_write),
            ("POST", r"/issues/comments/(?P<cid>\d+)/reactions", self._create_reaction, comments_write),
            ("POST", r"/issues/(?P<number>\d+)/labels", self._add_labels, comments_write),
            ("POST", r"/check-runs", self._create_check_run, (("checks", "write"),)),
            ("POST", r"/statuses/(?P<sha>[0-9a-f]{40})", self._create_status, (("statuses", "write"),)),
            ("GET", r"/collaborators/(?P<login>[^/]+)/permission", self._permission, ()),
        ]

    def comments_on(self, number: int) -> list[dict[str, Any]]:
        """The comments on PR ``number``, oldest first (with the fake's private ``_number`` key)."""
        return [c for c in self._state.comments.values() if c["_number"] == number]

    # ---- git-backed refs ---------------------------------------------------------------------
    def sha_of(self, branch: str) -> str | None:
        """The commit ``branch`` points to in the bare repository, or None if it does not exist."""
        proc = subprocess.run(
            [
                "git",
                "--git-dir",
                str(self.bare),
                "rev-parse",
                "--verify",
                "--quiet",
                f"refs/heads/{branch}^{{commit}}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        return proc.stdout.strip() or None

    def _git(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {"GIT_AUTHOR_NAME": "GitHub", "GIT_AUTHOR_EMAIL": "noreply@github.com",
               "GIT_COMMITTER_NAME": "GitHub", "GIT_COMMITTER_EMAIL": "noreply@github.com",
               "PATH": "/usr/local/bin:/usr/bin:/bin"}
        return subprocess.run(["git", "--git-dir", str(self.bare), *args], capture_output=True, text=True,
                              check=False, env=env)

    def write_pull_refs(self, number: int, base_sha: str, head_sha: str) -> str | None:
        """Point ``refs/pull/<number>/head`` at ``head_sha`` and ``refs/pull/<number>/merge`` at a new
        merge commit of ``head_sha`` into ``base_sha``, as GitHub does when a PR opens or its head moves.

        Returns the merge commit, or None when the two conflict (GitHub then has no merge ref).
        """
        self._git("update-ref", f"refs/pull/{number}/head", head_sha)
        merged = self._git("merge-tree", "--write-tree", base_sha, head_sha)
        if merged.returncode != 0:
            self._git("update-ref", "-d", f"refs/pull/{number}/merge")
            return None
        tree = merged.stdout.split()[0]
        message = f"Merge {head_sha} into {base_sha}"
        commit = self._git("commit-tree", tree, "-p", base_sha, "-p", head_sha, "-m", message).stdout.strip()
        self._git("update-ref", f"refs/pull/{number}/merge", commit)
        return commit

    def sync_pull_refs(self, number: int) -> str | None:
        """Refresh PR ``number``'s ``refs/pull`` refs from its branches; returns the merge commit."""
        pull = self._refresh_pull(self._state.pulls[number])
        merge = self.write_pull_refs(number, pull["base"]["sha"], pull["head"]["sha"])
        pull["merge_commit_sha"] = merge
        pull["mergeable"] = merge is not None
        return merge

    def _get_ref(self, ref: str, **_: Any) -> tuple[int, dict[str, str], Any]:
        if not ref.startswith("heads/") or (sha := self.sha_of(ref[len("heads/") :])) is None:
            raise ApiError(404, "Not Found")
        url = f"{self._repo_url()}/git/refs/{ref}"
        obj = {"type": "commit", "sha": sha, "url": f"{self._repo_url()}/git/commits/{sha}"}
        return 200, {}, spec.instance_of("git-ref", ref=f"refs/{ref}", url=url, object=obj)

    # ---- pulls -------------------------------------------------------------------------------
    def _create_pull(self, body: dict[str, Any], **_: Any) -> tuple[int, dict[str, str], Any]:
        head = body["head"].split(":", 1)[-1]
        base = body["base"]
        if self.sha_of(head) is None:
            raise ApiError(
                422, "Validation Failed", [{"resource": "PullRequest", "field": "head", "code": "invalid"}]
            )
        if self.sha_of(base) is None:
            raise ApiError(
                422, "Validation Failed", [{"resource": "PullRequest", "field": "base", "code": "invalid"}]
            )
        self._check_body_length(body.get("body"), "PullRequest")
        for pull in self._state.pulls.values():
            if pull["head"]["ref"] == head and pull["base"]["ref"] == base and pull["state"] == "open":
                message = f"A pull request already exists for {self.owner}:{head}."
                raise ApiError(
                    422,
                    "Validation Failed",
                    [{"resource": "PullRequest", "code": "custom", "message": message}],
                )
        number = self._state.next_number
        self._state.next_number += 1
        pull = self._new_pull(number, body["title"], body.get("body"), head, base)
        self._state.pulls[number] = pull
        self.sync_pull_refs(number)
        return 201, {}, self._refresh_pull(pull)

    def _new_pull(self, number: int, title: str, text: str | None, head: str, base: str) -> dict[str, Any]:
        url = f"{self._repo_url()}/pulls/{number}"
        issue_url = f"{self._repo_url()}/issues/{number}"
        links = {
            name: {"href": url}
            for name in (
                "comments",
                "commits",
                "statuses",
                "html",
                "issue",
                "review_comments",
                "review_comment",
                "self",
            )
        }
        return spec.instance_of(
            "pull-request",
            id=self._new_id(),
            number=number,
            url=url,
            html_url=f"https://github.invalid/{self.full_name}/pull/{number}",
            issue_url=issue_url,
            comments_url=f"{issue_url}/comments",
            title=title,
            body=text,
            state="open",
            user=self._user(self.bot_login),
            head=self._branch(head),
            base=self._branch(base),
            labels=[],
            merged=False,
            _links=links,
            created_at="2026-01-01T00:00:00Z",
            updated_at="2026-01-01T00:00:00Z",
        )

    def _branch(self, ref: str) -> dict[str, Any]:
        repo = spec.instance_of("repository", full_name=self.full_name, name=self.repo, url=self._repo_url())
        repo["owner"] = self._user(self.owner)
        return {
            "label": f"{self.owner}:{ref}",
            "ref": ref,
            "sha": self.sha_of(ref) or "0" * 40,
            "user": self._user(self.owner),
            "repo": repo,
        }

    def _refresh_pull(self, pull: dict[str, Any]) -> dict[str, Any]:
        # Branch heads move with pushes to the bare repo; a deleted head keeps its last sha (as on GitHub).
        for side in ("head", "base"):
            sha = self.sha_of(pull[side]["ref"])
            if sha is not None:
                pull[side]["sha"] = sha
        return pull

    def _pull_or_404(self, number: int) -> dict[str, Any]:
        if number not in self._state.pulls:
            raise ApiError(404, "Not Found")
        return self._refresh_pull(self._state.pulls[number])

    def _list_pulls(self, query: dict[str, list[str]], **_: Any) -> tuple[int, dict[str, str], Any]:
        state = query.get("state", ["open"])[0]
        head = query.get("head", [""])[0]
        base = query.get("base", [""])[0]
        found = [
            self._refresh_pull(p)
            for p in self._state.pulls.values()
            if (state == "all" or p["state"] == state)
            and (not head or p["head"]["label"] == head)
            and (not base or p["base"]["ref"] == base)
        ]
        simple = [{k: v for k, v in p.items() if k in _SIMPLE_PULL_KEYS} for p in found]
        return self._page(simple, query, "pulls")

    def _get_pull(self, number: int, **_: Any) -> tuple[int, dict[str, str], Any]:
        return 200, {}, self._pull_or_404(number)

    def _update_pull(self, number: int, body: dict[str, Any], **_: Any) -> tuple[int, dict[str, str], Any]:
        pull = self._pull_or_404(number)
        self._check_body_length(body.get("body"), "PullRequest")
        for key in ("title", "body", "state"):
            if key in body:
                pull[key] = body[key]
        return 200, {}, pull

    # ---- comments and reactions --------------------------------------------------------------
    def _new_comment(self, number: int, text: str, user: dict[str, Any]) -> dict[str, Any]:
        cid = self._new_id()
        comment = spec.instance_of(
            "issue-comment",
            id=cid,
            url=f"{self._repo_url()}/issues/comments/{cid}",
            html_url=f"https://github.invalid/{self.full_name}/pull/{number}#issuecomment-{cid}",
            issue_url=f"{self._repo_url()}/issues/{number}",
            body=text,
            user=user,
            author_association="MEMBER",
            created_at="2026-01-01T00:00:00Z",
            updated_at="2026-01-01T00:00:00Z",
        )
        comment["_number"] = number
        self._state.comments[cid] = comment
        return comment

    @staticmethod
    def _public(comment: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in comment.items() if not k.startswith("_")}

    def _comment_or_404(self, cid: int) -> dict[str, Any]:
        if cid not in self._state.comments:
            raise ApiError(404, "Not Found")
        return self._state.comments[cid]

    def _list_comments(
        self, number: int, query: dict[str, list[str]], **_: Any
    ) -> tuple[int, dict[str, str], Any]:
        self._pull_or_404(number)
        items = [self._public(c) for c in self.comments_on(number)]
        return self._page(items, query, f"issues/{number}/comments")

    def _create_comment(self, number: int, body: dict[str, Any], **_: Any) -> tuple[int, dict[str, str], Any]:
        self._pull_or_404(number)
        self._check_body_length(body["body"], "IssueComment")
        return 201, {}, self._public(self._new_comment(number, body["body"], self._user(self.bot_login)))

    def _get_comment(self, cid: int, **_: Any) -> tuple[int, dict[str, str], Any]:
        return 200, {}, self._public(self._comment_or_404(cid))

    def _update_comment(self, cid: int, body: dict[str, Any], **_: Any) -> tuple[int, dict[str, str], Any]:
        comment = self._comment_or_404(cid)
        self._check_body_length(body["body"], "IssueComment")
        comment["body"] = body["body"]
        return 200, {}, self._public(comment)

    def _delete_comment(self, cid: int, **_: Any) -> tuple[int, dict[str, str], Any]:
        self._comment_or_404(cid)
        del self._state.comments[cid]
        return 204, {}, None

    def _create_reaction(self, cid: int, body: dict[str, Any], **_: Any) -> tuple[int, dict[str, str], Any]:
        self._comment_or_404(cid)
        existing = self._state.reactions.setdefault(cid, [])
        for reaction in existing:
            if reaction["content"] == body["content"]:
                return 200, {}, reaction
        reaction = spec.instance_of(
            "reaction", id=self._new_id(), content=body["content"], user=self._user(self.bot_login)
        )
        existing.append(reaction)
        return 201, {}, reaction

    def _add_labels(self, number: int, body: Any, **_: Any) -> tuple[int, dict[str, str], Any]:
        pull = self._pull_or_404(number)
        names = body["labels"] if isinstance(body, dict) else body
        have = {label["name"] for label in pull["labels"]}
        for name in names:
            if name not in have:
                pull["labels"].append(
                    spec.instance_of(
                        "label",
                        id=self._new_id(),
                        name=name,
                        description="",
                        color="ededed",
                        url=f"{self._repo_url()}/labels/{name}",
                    )
                )
        return 200, {}, pull["labels"]

    # ---- checks, statuses, permissions -------------------------------------------------------
    def _create_check_run(self, body: dict[str, Any], **_: Any) -> tuple[int, dict[str, str], Any]:
        if self.check_runs_forbidden:
            raise ApiError(403, "Resource not accessible by personal access token")
        run_id = self._new_id()
        run = spec.instance_of(
            "check-run",
            id=run_id,
            name=body["name"],
            head_sha=body["head_sha"],
            status=body.get("status", "queued"),
            conclusion=body.get("conclusion"),
            url=f"{self._repo_url()}/check-runs/{run_id}",
            details_url=body.get("details_url"),
            check_suite={"id": run_id + 1},
        )
        run["output"] = {**run["output"], **body.get("output", {})}
        self._state.check_runs.append(run)
        return 201, {}, run

    def _create_status(self, sha: str, body: dict[str, Any], **_: Any) -> tuple[int, dict[str, str], Any]:
        status = spec.instance_of(
            "status",
            id=self._new_id(),
            url=f"{self._repo_url()}/statuses/{sha}",
            state=body["state"],
            description=body.get("description"),
            target_url=body.get("target_url"),
            context=body.get("context", "default"),
            creator=self._user(self.bot_login),
        )
        status["_sha"] = sha
        self._state.statuses.append(status)
        return 201, {}, {k: v for k, v in status.items() if k != "_sha"}

    def _permission(self, login: str, **_: Any) -> tuple[int, dict[str, str], Any]:
        # On a public repository GitHub reports "read" for users who are not collaborators.
        role = self._state.collaborators.get(login, "read")
        payload = spec.instance_of(
            "repository-collaborator-permission",
            permission=_LEGACY_PERMISSION[role],
            role_name=role,
            user={**self._user(login), "role_name": role},
        )
        return 200, {}, payload

    # ---- helpers -----------------------------------------------------------------------------
    def _repo_url(self) -> str:
        return f"{self.base_url}/repos/{self.full_name}"

    def _new_id(self) -> int:
        self._state.next_id += 1
        return self._state.next_id

    def _user(self, login: str) -> dict[str, Any]:
        kind = "Bot" if login.endswith("[bot]") else "User"
        return spec.instance_of(
            "simple-user",
            login=login,
            type=kind,
            id=abs(hash(login)) % 10**6,
            url=f"{self.base_url}/users/{login}",
        )

    @staticmethod
    def _check_body_length(text: str | None, resource: str) -> None:
        if text is not None and len(text) > BODY_LIMIT:
            message = f"body is too long (maximum is {BODY_LIMIT} characters)"
            raise ApiError(
                422,
                "Validation Failed",
                [{"resource": resource, "code": "custom", "field": "body", "message": message}],
            )

    def _page(
        self, items: list[Any], query: dict[str, list[str]], resource: str
    ) -> tuple[int, dict[str, str], Any]:
        per_page = int(query.get("per_page", ["30"])[0])
        page = int(query.get("page", ["1"])[0])
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {}
        last = max(1, -(-len(items) // per_page))
        if page < last:
            url = f"{self._repo_url()}/{resource}?per_page={per_page}"
            headers["Link"] = f'<{url}&page={page + 1}>; rel="next", <{url}&page={last}>; rel="last"'
        return 200, headers, chunk


_SIMPLE_PULL_KEYS = set(spec.schema("pull-request-simple")["properties"])
