from . import compat  # noqa: F401  (must run before gym / scope_rl are imported)
