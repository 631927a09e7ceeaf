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
    assert [p.rsplit("/", 1)[-1] for p in paths] == [
        "pledge-2018.docx",
        "nomination-2018.docx",
        "pledge-2019.docx",
    ]
    assert (out / "pledge-2018.docx").read_bytes() == documents.render(samples.pledge_2018())
    assert (out / "nomination-2018.docx").read_bytes() == documents.render(
        samples.nomination_2018()
    )
    assert not [p for p in out.iterdir() if p.name.endswith(".part")]


def test_demo_reports_an_unusable_folder(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = CliRunner().invoke(main, ["demo", "--out", str(blocker / "sub")])
    assert result.exit_code == 2
    assert "không tạo được thư mục" in result.output
    assert "Traceback" not in result.output
