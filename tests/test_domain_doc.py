"""docs/domain.md holds every fact F1–F16 that the code cites, each with where the model carries it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_cited_fact_is_in_docs_domain():
    doc = (ROOT / "docs" / "domain.md").read_text(encoding="utf-8")
    defined = {int(n) for n in re.findall(r"^\*\*F(\d+)\.\*\*", doc, flags=re.M)}
    assert defined == set(range(1, 17))
    for n in defined:  # each fact says how the model carries it
        block = doc.split(f"**F{n}.**", 1)[1].split("**F", 1)[0]
        assert "*In the model:*" in block, f"F{n}"
    cited = set()
    for folder in ("sim", "optimize", "report", "cli", "scenarios"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".py", ".toml", ".md"):
                cited |= {int(n) for n in re.findall(r"\bF(\d{1,2})\b", path.read_text(encoding="utf-8"))}
    assert cited and cited <= defined
