"""`ledger export --output`: never through a symbolic link, never over an existing file without
`--force`, and a folder that does not exist is a one-line error with a non-zero exit, on both
stores."""

from __future__ import annotations

import os

from service.importer import import_lines
from tests.integration.test_import import example_lines
from tests.integration.test_spreadsheet_cli import ADMIN, cli  # noqa: F401

CENTRAL = ("export", "central", "--year", "2026", "--format", "xlsx")


def one_line(output: str) -> str:
    return " ".join(output.split())


def test_an_export_refuses_to_write_through_a_symbolic_link_even_with_force(ledger, cli, tmp_path):  # noqa: F811
    import_lines(ledger, example_lines(), ADMIN)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (tmp_path / "out.xlsx").symlink_to(victim)
    (tmp_path / "dangling.xlsx").symlink_to(tmp_path / "nothing-here")
    for name, extra in [("out.xlsx", ()), ("out.xlsx", ("--force",)), ("dangling.xlsx", ())]:
        done = cli(*CENTRAL, "--output", str(tmp_path / name), *extra)
        assert done.exit_code == 1 and "symbolic link" in one_line(done.output), done.output
    assert victim.read_text() == "keep me" and not (tmp_path / "nothing-here").exists()


def test_an_export_overwrites_an_existing_file_only_with_force(ledger, cli, tmp_path):  # noqa: F811
    import_lines(ledger, example_lines(), ADMIN)
    existing = tmp_path / "central.xlsx"
    existing.write_text("last month's")
    refused = cli(*CENTRAL, "--output", str(existing))
    assert refused.exit_code == 1 and "--force" in one_line(refused.output), refused.output
    assert existing.read_text() == "last month's"
    done = cli(*CENTRAL, "--output", str(existing), "--force")
    assert done.exit_code == 0, done.output
    assert existing.read_bytes()[:2] == b"PK"  # an xlsx workbook is a zip file
    assert cli(*CENTRAL).exit_code == 0  # the default name, in the current folder
    again = cli(*CENTRAL)
    assert again.exit_code == 1 and "central-2026.xlsx exists" in one_line(again.output), again.output


def test_a_new_export_file_is_readable_by_its_owner_only(ledger, cli, tmp_path):  # noqa: F811
    import_lines(ledger, example_lines(), ADMIN)
    target = tmp_path / "statement.xlsx"
    assert cli("export", "statement", "--municipality", "751", "--year", "2026", "--month", "9",
               "--output", str(target)).exit_code == 0
    assert os.stat(target).st_mode & 0o777 == 0o600


def test_an_export_into_a_missing_folder_is_a_one_line_error(ledger, cli, tmp_path):  # noqa: F811
    import_lines(ledger, example_lines(), ADMIN)
    done = cli(*CENTRAL, "--output", str(tmp_path / "no" / "such" / "folder" / "central.xlsx"))
    assert done.exit_code == 1, done.output
    assert "does not exist" in done.output and "Traceback" not in done.output
    assert len(done.output.strip().splitlines()) == 1, done.output
    assert isinstance(done.exception, SystemExit)
