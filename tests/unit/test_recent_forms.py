"""The cookie that marks what a UI session recorded a moment ago (service/ui/recent_forms.py,
docs/adr/0044): read only by its own session, only marks the UI wrote, newest first, one mark
per command, a bounded number of them."""

from __future__ import annotations

from service.ui.recent_forms import MAX_MARKS, Mark, cookie_value, read_marks, with_recording

SESSION, OTHER = "a" * 64, "b" * 64


def fingerprint(n: int) -> str:
    return f"{n:016x}" + "f" * 48


def test_the_marks_are_read_back_by_their_session_only_newest_first():
    marks = with_recording([], fingerprint(1), "1" * 64)
    marks = with_recording(marks, fingerprint(2), "2" * 64)
    cookie = cookie_value(marks, SESSION)
    assert read_marks(cookie, SESSION) == [Mark(fingerprint(2)[:16], "2" * 64), Mark(fingerprint(1)[:16], "1" * 64)]
    assert read_marks(cookie, OTHER) == []
    assert read_marks(None, SESSION) == [] and read_marks("", SESSION) == []


def test_a_command_recorded_again_keeps_one_mark_and_the_cookie_stays_small():
    marks = with_recording([], fingerprint(1), "1" * 64)
    marks = with_recording(marks, fingerprint(1), "3" * 64)
    assert marks == [Mark(fingerprint(1)[:16], "3" * 64)]
    for n in range(MAX_MARKS + 5):
        marks = with_recording(marks, fingerprint(n + 10), f"{n:064x}")
    assert len(marks) == MAX_MARKS and len(cookie_value(marks, SESSION)) < 1100


def test_what_is_not_a_mark_is_left_out():
    cookie = cookie_value([Mark(fingerprint(1)[:16], "1" * 64)], SESSION)
    assert read_marks(cookie + "-<script>-" + "z" * 81, SESSION) == [Mark(fingerprint(1)[:16], "1" * 64)]
