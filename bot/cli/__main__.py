"""``python -m bot.cli``: the `growthhacker` command (how `run --shards` starts its shard processes)."""

from __future__ import annotations

from bot.cli import main

main()
