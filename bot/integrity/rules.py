"""The rules of the metric-gaming check: an AST walker over one changed file (see :mod:`bot.integrity`).

:class:`Scanner` resolves import aliases (``import os as o``, ``from os import environ``,
``getattr(os, "environ")``) and records a :class:`Finding` for each suspicious construct that lies
on an added line. Paths are judged when they are spelled with literals (``open("evaluate.py")``,
``Path(__file__).parent / "data"``); computed paths are not guessed at.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Literal

from bot.patch import glob_match

FindingCode = Literal[
    "protected_read",  # reads a protected file (the harness, its data)
    "ground_truth_read",  # reads a file whose name looks like ground truth / an oracle
    "harness_import",  # imports the harness module, __main__, or reaches into sys.modules
    "introspection",  # inspects frames/callers/the heap (inspect.stack, sys._getframe, gc, __globals__)
    "metrics_write",  # writes the metrics file, or reads sys.argv to find it
    "protected_write",  # writes, deletes or moves a protected file
    "outside_write",  # writes to an absolute path or one that climbs out with ".."
    "outside_path",  # builds a path above the repository root from __file__ (parents[k], .parent…)
    "environ",  # reads or changes environment variables
    "subprocess",  # starts processes (subprocess, os.system, os.exec*, pty, …)
    "network",  # opens network connections (socket, urllib, requests, httpx, …)
    "dynamic_code",  # eval/exec/compile/__import__ of computed names, getattr on builtins
]


@dataclass(frozen=True)
class Finding:
    """One suspicious construct on an added line: ``code`` is stable, ``message`` says what to change."""

    code: FindingCode
    message: str
    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: [{self.code}] {self.message}"


_NETWORK_MODULES = frozenset({
    "socket", "ssl", "urllib", "urllib2", "urllib3", "http", "httpx", "requests", "aiohttp", "ftplib",
    "smtplib", "telnetlib", "poplib", "imaplib", "xmlrpc", "websocket", "websockets", "paramiko",
    "asyncssh", "pycurl",
})  # fmt: skip
_PROCESS_MODULES = frozenset({"subprocess", "pty", "pexpect", "sh", "plumbum"})
_PROCESS_CALLS = re.compile(
    r"^os\.(system|popen|fork|forkpty|posix_spawnp?|exec[lv]p?e?|spawn[lv]p?e?)$|^multiprocessing\.Process$"
)
_INTROSPECTION_CALLS = re.compile(
    r"^(inspect\.(stack|trace|currentframe|getouterframes|getinnerframes|getframeinfo)"
    r"|sys\.(_getframe|_current_frames|settrace|setprofile)"
    r"|gc\.(get_objects|get_referrers|get_referents))$"
)
_INTROSPECTION_ATTRS = frozenset({
    "__globals__", "f_back", "f_globals", "f_locals", "f_builtins", "tb_frame", "gi_frame", "cr_frame",
    "__closure__", "__code__",
})  # fmt: skip
_ENVIRON = re.compile(r"^os\.(environ|environb|getenv|getenvb|putenv|unsetenv)$")
_DYNAMIC_CALLS = frozenset({"eval", "exec", "compile", "__import__", "builtins.eval", "builtins.exec"})
_READ_CALLS = re.compile(
    r"^(open|io\.open|codecs\.open|os\.open|builtins\.open"
    r"|numpy\.(load|loadtxt|genfromtxt|fromfile|memmap)"
    r"|pandas\.read_\w+|pickle\.load|joblib\.load|torch\.load|json\.load|yaml\.(safe_)?load"
    r"|scipy\.io\.loadmat|h5py\.File)$"
)
_PATH_READ_METHODS = frozenset({"read_text", "read_bytes", "open"})
_PATH_WRITE_METHODS = frozenset(
    {"write_text", "write_bytes", "unlink", "rename", "replace", "rmdir", "touch", "mkdir", "symlink_to"}
)
_DATA_WRITE_METHODS = frozenset({"to_csv", "to_json", "to_pickle", "to_parquet", "to_excel", "savefig"})
_ENVIRON_MESSAGE = "uses `{}`: the evaluation's environment is not an input of the pipeline"
_ARGV_MESSAGE = "reads `sys.argv` (the harness's own arguments, e.g. where it writes the metrics)"
_MODULES_MESSAGE = "reaches into `sys.modules` (the modules the harness has loaded)"
_WRITE_CALLS = re.compile(
    r"^(os\.(remove|unlink|rename|replace|truncate|rmdir|removedirs)|shutil\.rmtree"
    r"|numpy\.(save|savez\w*|savetxt)|json\.dump|pickle\.dump|joblib\.dump|torch\.save)$"
)
_GROUND_TRUTH = re.compile(
    r"(truth|oracle|ground[_-]?|(^|[/_.-])gt([/_.-]|$)|true[_-]?(value|reward|policy)|policy[_-]?value"
    r"|answer|expected[_-]?reward)",
    re.IGNORECASE,
)

class Scanner:
    """Walks one file's AST, resolving import aliases, and records findings on added lines."""

    def __init__(
        self, path: str, protected: tuple[str, ...], metrics_hint: str | None, harness: frozenset[str]
    ) -> None:
        self.path = path
        self.protected = protected
        self.metrics_hint = metrics_hint if metrics_hint and "{" not in metrics_hint else None
        self.harness = harness
        # The usual abbreviations count even when the import is outside the diff's hunks.
        self.aliases: dict[str, str] = {"np": "numpy", "pd": "pandas"}
        self.findings: list[Finding] = []
        self._offset = 0
        self._added: set[int] = set()

    def scan(self, tree: ast.AST, offset: int, added: set[int]) -> None:
        self._offset, self._added = offset, added
        for node in ast.walk(tree):  # aliases first: an import may sit after its use in walk order
            if isinstance(node, ast.Import | ast.ImportFrom):
                self._alias(node)
        for node in ast.walk(tree):
            if self._is_added(node):
                self._judge(node)

    def _is_added(self, node: ast.AST) -> bool:
        first = getattr(node, "lineno", None)
        if first is None:
            return False
        last = getattr(node, "end_lineno", None) or first
        return any(n + self._offset in self._added for n in range(first, last + 1))

    def _flag(self, node: ast.AST, code: FindingCode, message: str) -> None:
        line = getattr(node, "lineno", 1) + self._offset
        self.findings.append(Finding(code, message, self.path, line))

    # ---- names -----------------------------------------------------------------------------
    def _alias(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for name in node.names:
                self.aliases[name.asname or name.name.split(".")[0]] = (
                    name.name if name.asname else name.name.split(".")[0]
                )
        elif node.module and not node.level:
            for name in node.names:
                self.aliases[name.asname or name.name] = f"{node.module}.{name.name}"

    def qualified(self, node: ast.AST) -> str | None:
        """``os.environ`` for ``os.environ``/``from os import environ``/``getattr(os, "environ")``."""
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            base = self.qualified(node.value)
            return f"{base}.{node.attr}" if base else None
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            base = self.qualified(node.args[0])
            return f"{base}.{node.args[1].value}" if base else None
        return None

    # ---- rules -----------------------------------------------------------------------------
    def _judge(self, node: ast.AST) -> None:
        levels = _levels(node) if isinstance(node, ast.Attribute | ast.Subscript | ast.Call) else None
        if levels is not None and levels > len(PurePosixPath(self.path).parts):
            self._flag(node, "outside_path", f"climbs {levels} directories up from {self.path}, above the "
                       "repository root: candidates may only use files inside the project")
        if isinstance(node, ast.Import | ast.ImportFrom):
            self._imports(node)
        elif isinstance(node, ast.Call):
            self._call(node)
        elif isinstance(node, ast.Attribute):
            self._attribute(node)
        elif isinstance(node, ast.Name):
            self._name(node)

    def _imports(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif node.module and not node.level:
            modules = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            return
        for module in modules:
            top = module.split(".")[0]
            if module in self.harness or top in self.harness:
                self._flag(node, "harness_import", f"imports the evaluation harness module `{module}`")
            elif top in _NETWORK_MODULES:
                self._flag(node, "network", f"imports `{module}`: candidates may not use the network")
            elif top in _PROCESS_MODULES:
                self._flag(node, "subprocess", f"imports `{module}`: candidates may not start processes")
            elif top == "inspect":
                self._flag(node, "introspection", "imports `inspect` (frame and caller introspection)")
            elif _ENVIRON.match(module):
                self._flag(node, "environ", _ENVIRON_MESSAGE.format(module))
            else:
                continue
            return  # one finding per import statement

    def _attribute(self, node: ast.Attribute) -> None:
        name = self.qualified(node)
        if node.attr in _INTROSPECTION_ATTRS:
            self._flag(node, "introspection", f"uses `.{node.attr}` to reach another scope's variables")
        elif name and _ENVIRON.match(name):
            self._flag(node, "environ", _ENVIRON_MESSAGE.format(name))
        elif name == "sys.argv":
            self._flag(node, "metrics_write", _ARGV_MESSAGE)
        elif name == "sys.modules":
            self._flag(node, "harness_import", _MODULES_MESSAGE)

    def _call(self, node: ast.Call) -> None:
        name = self.qualified(node.func) or ""
        if _INTROSPECTION_CALLS.match(name):
            self._flag(node, "introspection", f"calls `{name}` (frame, caller or heap introspection)")
        elif _PROCESS_CALLS.match(name) or name.split(".")[0] in _PROCESS_MODULES:
            self._flag(node, "subprocess", f"calls `{name}`: candidates may not start processes")
        elif name.split(".")[0] in _NETWORK_MODULES:
            self._flag(node, "network", f"calls `{name}`: candidates may not use the network")
        elif _ENVIRON.match(name):
            self._flag(node, "environ", _ENVIRON_MESSAGE.format(name))
        elif name in _DYNAMIC_CALLS or name == "importlib.import_module":
            self._dynamic(node, name)
        elif name == "getattr" and node.args and self.qualified(node.args[0]) in ("builtins", "__builtins__"):
            self._flag(node, "dynamic_code", "looks up a builtin by name (getattr on builtins)")
        else:
            self._file_access(node, name)

    def _name(self, node: ast.Name) -> None:
        """A bare name imported from a module (``from os import environ``) is judged like the attribute."""
        name = self.aliases.get(node.id)
        if name is None or name == node.id:
            return
        if _ENVIRON.match(name):
            self._flag(node, "environ", _ENVIRON_MESSAGE.format(name))
        elif name == "sys.argv":
            self._flag(node, "metrics_write", _ARGV_MESSAGE)
        elif name == "sys.modules":
            self._flag(node, "harness_import", _MODULES_MESSAGE)

    def _dynamic(self, node: ast.Call, name: str) -> None:
        target = node.args[0] if node.args else None
        if name in ("__import__", "importlib.import_module") and isinstance(target, ast.Constant):
            module = str(target.value)
            if module in self.harness or module.split(".")[0] in self.harness:
                self._flag(node, "harness_import", f"imports the evaluation harness module `{module}`")
            elif module.split(".")[0] in _NETWORK_MODULES | _PROCESS_MODULES:
                self._flag(node, "network" if module.split(".")[0] in _NETWORK_MODULES else "subprocess",
                           f"imports `{module}` dynamically")
            return
        self._flag(node, "dynamic_code", f"calls `{name}` on computed code or names; write the code out")

    def _file_access(self, node: ast.Call, name: str) -> None:
        method = node.func.attr if isinstance(node.func, ast.Attribute) else None
        how = f"`{name or method}`"
        if name.startswith("shutil.copy") or name == "shutil.move":
            self._read(node, _literal(node.args[0]) if node.args else None, how)
            self._write(node, _literal(node.args[1]) if len(node.args) > 1 else None, how)
        elif _READ_CALLS.match(name) or (not name and method in _PATH_READ_METHODS):
            path = self._receiver(node) if not name else (_literal(node.args[0]) if node.args else None)
            if self._opens_for_writing(node, name):
                self._write(node, path, how)
            else:
                self._read(node, path, how)
        elif _WRITE_CALLS.match(name):
            for arg in node.args:
                self._write(node, _literal(arg), how)
        elif not name and method in _PATH_WRITE_METHODS:
            self._write(node, self._receiver(node), how)
        elif method in _DATA_WRITE_METHODS and node.args:
            self._write(node, _literal(node.args[0]), how)

    @staticmethod
    def _receiver(node: ast.Call) -> str | None:
        """The path of ``Path("x").read_text()``; None for a str method or an unknown receiver."""
        receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
        if receiver is None or isinstance(receiver, ast.Constant | ast.JoinedStr):
            return None
        return _literal(receiver)

    @staticmethod
    def _opens_for_writing(node: ast.Call, name: str) -> bool:
        if name == "os.open":
            flags = ast.unparse(node.args[1]) if len(node.args) > 1 else ""
            return any(flag in flags for flag in ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND"))
        if not name.endswith("open") and not (not name and isinstance(node.func, ast.Attribute)):
            return False
        # open(path, mode) / Path(...).open(mode)
        position = 1 if name else 0
        mode = node.args[position] if len(node.args) > position else None
        for keyword in node.keywords:
            if keyword.arg == "mode":
                mode = keyword.value
        return isinstance(mode, ast.Constant) and any(c in str(mode.value) for c in "wax+")

    def _read(self, node: ast.Call, path: str | None, how: str) -> None:
        if path is None:
            return
        if path.startswith("/proc/") or path.endswith("/environ"):
            self._flag(node, "environ", f"{how} reads {path!r}: another process's environment or memory")
        elif self._protected(path):
            self._flag(node, "protected_read", f"{how} reads the protected file {path!r}")
        elif _GROUND_TRUTH.search(path):
            self._flag(node, "ground_truth_read", f"{how} reads {path!r}, which looks like ground truth")

    def _write(self, node: ast.Call, path: str | None, how: str) -> None:
        if path is None:
            return
        if self._is_metrics(path):
            self._flag(node, "metrics_write", f"{how} writes {path!r}, the metrics file the harness reports")
        elif self._protected(path):
            self._flag(node, "protected_write", f"{how} changes the protected file {path!r}")
        elif path.startswith(("/", "~")) or ".." in PurePosixPath(path).parts:
            self._flag(node, "outside_write", f"{how} writes {path!r}, outside the project")

    def _protected(self, path: str) -> bool:
        clean = _relative(path)
        return any(glob_match(g, clean) or glob_match(g, PurePosixPath(clean).name) for g in self.protected)

    def _is_metrics(self, path: str) -> bool:
        clean = _relative(path)
        if self.metrics_hint is None:
            return bool(re.fullmatch(r"metrics[\w.-]*\.json", PurePosixPath(clean).name))
        hint = self.metrics_hint.replace("{seed}", "*")
        return glob_match(hint, clean) or glob_match(PurePosixPath(hint).name, PurePosixPath(clean).name)


def _relative(path: str) -> str:
    """``path`` without leading "/", "." and ".." ("../evaluate.py" from a subdirectory is the harness)."""
    parts = list(PurePosixPath(path).parts)
    while parts and parts[0] in (".", "..", "/"):
        parts.pop(0)
    return "/".join(parts)


def _levels(node: ast.AST) -> int | None:
    """How many directories above ``__file__`` an expression is (``Path(__file__).parents[1]``: 2)."""
    if isinstance(node, ast.Name):
        return 0 if node.id == "__file__" else None
    if isinstance(node, ast.Attribute) and node.attr == "parent":
        inner = _levels(node.value)
        return None if inner is None else inner + 1
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "parents"
        and isinstance(node.slice, ast.Constant)
        and isinstance(node.slice.value, int)
    ):
        inner = _levels(node.value.value)
        return None if inner is None else inner + node.slice.value + 1
    if isinstance(node, ast.Call):
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name in ("resolve", "absolute") and isinstance(func, ast.Attribute):
            return _levels(func.value)
        if name in ("Path", "PurePath", "PosixPath", "abspath", "realpath") and len(node.args) == 1:
            return _levels(node.args[0])
        if name == "dirname" and len(node.args) == 1:
            inner = _levels(node.args[0])
            return None if inner is None else inner + 1
    return None


def _literal(node: ast.AST | None) -> str | None:
    """The path spelled by string literals in ``node`` (``"a" / "b"``, ``Path("a", "b")``, f-strings)."""
    if node is None:
        return None
    parts = [p for p in _string_parts(node) if p]
    return "/".join(part.strip("/") if i else part.rstrip("/") for i, part in enumerate(parts)) or None


def _string_parts(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        texts = [v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)]
        return ["".join(texts)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div | ast.Add):
        return _string_parts(node.left) + _string_parts(node.right)
    if isinstance(node, ast.Call):
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name in ("Path", "PurePath", "PosixPath", "PurePosixPath", "join", "expanduser", "abspath"):
            return [p for arg in node.args for p in _string_parts(arg)]
    return []
