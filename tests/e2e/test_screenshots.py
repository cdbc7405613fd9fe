"""The guides' screenshots are refreshed by one command (issue 22.11): `make screenshots` runs
tests/e2e/screenshots.py, which takes, from a fresh demo in headless Chromium, exactly the
PNGs that docs/ shows and that docs/screenshots/ holds, none missing and none stale."""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.browser import require_chromium

ROOT = Path(__file__).resolve().parents[2]


def shown_in_the_docs() -> set[str]:
    names = set()
    for guide in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        names |= set(re.findall(r"screenshots/([a-z0-9-]+\.png)", guide.read_text(encoding="utf-8")))
    return names


def test_make_screenshots_runs_the_command_that_takes_them():
    rule = (ROOT / "Makefile").read_text().split("\nscreenshots:", 1)[1].split("\n\n", 1)[0]
    assert "-m tests.e2e.screenshots" in rule


def test_the_command_takes_every_screenshot_the_docs_show_and_no_other(tmp_path):
    require_chromium()
    from tests.e2e.screenshots import take

    taken = take(tmp_path)
    assert all(path.read_bytes().startswith(b"\x89PNG") for path in taken)
    names = {path.name for path in taken}
    assert len(names) == len(taken)  # none taken twice under one name
    assert names == shown_in_the_docs()
    assert names == {path.name for path in (ROOT / "docs" / "screenshots").glob("*.png")}
