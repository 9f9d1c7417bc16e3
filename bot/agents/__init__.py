"""Agents: the Analyzer proposes a hypothesis, the Coder turns it into a unified diff."""
