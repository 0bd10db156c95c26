"""Renderers: turn a report into text. Only `table` imports rich, and only when asked for."""
