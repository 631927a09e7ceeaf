"""``thidua demo --out DIR`` writes the sample documents and prints their paths.

Plain ``thidua demo`` serves the demo instance; tests/web/test_cli_demo.py covers it.
"""

from __future__ import annotations

from click.testing import CliRunner

import documents
from documents import samples
from web.cli import main


def test_demo_writes_the_samples(tmp_path):
    out = tmp_path / "demo"
    result = CliRunner().invoke(main, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    paths = result.output.split()
    dossier = documents.render_dossier(samples.nomination_2018())
    assert [p.removeprefix(str(out) + "/") for p in paths] == [
        "pledge-2018.docx",
        *(f"nomination-2018/{part.name}" for part in dossier),
        "pledge-2019.docx",
    ]
    assert (out / "pledge-2018.docx").read_bytes() == documents.render(samples.pledge_2018())
    for part in dossier:  # the dossier's documents, each a file of its own
        assert (out / "nomination-2018" / part.name).read_bytes() == part.docx
    assert not [p for p in out.rglob("*") if p.name.endswith(".part")]


def test_demo_reports_an_unusable_folder(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = CliRunner().invoke(main, ["demo", "--out", str(blocker / "sub")])
    assert result.exit_code == 2
    assert "không tạo được thư mục" in result.output
    assert "Traceback" not in result.output
