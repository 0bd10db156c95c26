"""Rule documentation as Markdown: `moecfg rules CODE` and docs/rules.md come from here.

Regenerate the docs page with `python -m moecfg.lint.docs > docs/rules.md`; a test fails
when the page and the rules drift apart.
"""

from __future__ import annotations

import re

from moecfg.lint.rules import ALL_RULES, Rule


def rule_markdown(rule: Rule, level: str = "#") -> str:
    """One rule: heading, identity line, then its docstring with headings nested below."""
    body = re.sub(r"^## ", "#" * len(level) + "# ", rule.doc, flags=re.MULTILINE)
    return (
        f"{level} {rule.code} {rule.name}\n\n"
        f"Default severity: **{rule.severity}**. {rule.summary}\n\n{body}\n"
    )


def rules_table() -> str:
    rows = [f"| {r.code} | `{r.name}` | {r.severity} | {r.summary} |" for r in ALL_RULES]
    return "\n".join(["| Code | Name | Severity | Summary |", "|---|---|---|---|", *rows])


def rules_markdown() -> str:
    """The whole docs/rules.md page."""
    sections = "\n".join(rule_markdown(rule, level="##") for rule in ALL_RULES)
    return (
        "# moecfg lint rules\n\n"
        "Generated from the rules' docstrings by `python -m moecfg.lint.docs > docs/rules.md`;\n"
        "`moecfg rules CODE` prints one. Codes are stable: a retired code is never reused.\n"
        "`CFG` rules concern the file and the config as a whole, `ATT` the attention shapes,\n"
        "`MOE` the experts and their routing.\n\n"
        f"{rules_table()}\n\n{sections}"
    )


if __name__ == "__main__":
    print(rules_markdown(), end="")
