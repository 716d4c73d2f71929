"""Golden cases: each Markdown body (and title) renders to exactly these bytes on each target."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from comunicast.render import TARGETS, render

GOLDEN = Path(__file__).parent / "golden" / "render" / "cases.yaml"


def _cases() -> list[dict[str, Any]]:
    cases = yaml.safe_load(GOLDEN.read_text(encoding="utf-8"))
    assert isinstance(cases, list)
    return cases


CASES = _cases()


def test_golden_file_is_well_formed() -> None:
    names = [case["name"] for case in CASES]
    assert len(names) == len(set(names)), "case names must be unique"
    for case in CASES:
        assert set(case) <= {"name", "body", "title", *TARGETS}, case["name"]
        for target in TARGETS:
            assert isinstance(case.get(target), str), f"{case['name']}: no {target} output"
    assert len(CASES) >= 40


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_golden(case: dict[str, Any], target: str) -> None:
    rendered = render(case["body"], title=case.get("title"), target=target)  # type: ignore[arg-type]
    assert rendered == case[target]


@pytest.mark.parametrize("target", TARGETS)
def test_output_never_ends_with_whitespace(target: str) -> None:
    for case in CASES:
        rendered = render(case["body"], title=case.get("title"), target=target)  # type: ignore[arg-type]
        assert rendered == rendered.rstrip(), case["name"]


def test_rendering_is_deterministic_without_the_cache() -> None:
    from comunicast.render._parser import parse
    from comunicast.render._tree import tree

    first = [render(c["body"], title=c.get("title"), target="whatsapp") for c in CASES]
    parse.cache_clear()
    tree.cache_clear()
    second = [render(c["body"], title=c.get("title"), target="whatsapp") for c in CASES]
    assert first == second
