"""`comunicast qr` from the command line: terminal code, files, posters, config texts, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MINIMAL_CONFIG, run_cli, write
from PIL import Image
from typer.testing import CliRunner

from comunicast.cli.app import app
from comunicast.poster import terminal
from comunicast.poster.qr import decode, rasterize_pdf

URL = "https://whatsapp.com/channel/0029VaTestTestTestTest00"
runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), terminal_width=100)
    return result.exit_code, result.stdout, result.stderr


def _pdf_text(path: Path) -> str:
    import pypdfium2

    pdf = pypdfium2.PdfDocument(str(path))
    try:
        return " ".join(pdf[0].get_textpage().get_text_range().split())
    finally:
        pdf.close()


def _logo(path: Path, fmt: str = "PNG") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (300, 200), (180, 20, 40)).save(path, format=fmt)
    return path


def test_without_out_the_code_is_printed_and_scans_from_the_text(project: Path) -> None:
    code, out, err = invoke("qr")
    assert code == 0, err
    lines = out.rstrip("\n").split("\n")
    assert lines[-1] == URL
    matrix = terminal.from_lines(lines[:-1])
    assert decode(terminal.matrix_image(matrix)) == [URL]
    assert set("".join(lines[:-1])) <= {"█", "▀", "▄", " "}


def test_poster_pdf_reports_size_and_scanning_distance(project: Path) -> None:
    code, out, err = invoke("qr", "--out", "poster.pdf")
    assert code == 0, err
    assert "poster.pdf" in out and "A4" in out
    assert "scans from about" in out and " cm" in out
    assert decode(rasterize_pdf(project / "poster.pdf", scale=2)) == [URL]
    # The poster speaks the interface's language: English here (COMUNICAST_LANG=en).
    assert "Follow Comune di Cremona on WhatsApp" in _pdf_text(project / "poster.pdf")


def test_the_poster_is_italian_by_default(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMUNICAST_LANG")
    for var in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")  # decides nothing: Italian, the default
    code, out, err = invoke("qr", "--out", "poster.pdf")
    assert code == 0, err
    assert "si legge da circa" in out
    text = _pdf_text(project / "poster.pdf")
    assert "Segui il Comune di Cremona su WhatsApp" in text
    assert "Tocca «Iscriviti»" in text and "Gli aggiornamenti restano visibili per 30 giorni" in text


@pytest.mark.parametrize("paper", ["a4", "a3", "a5", "square", "story"])
def test_json_report_for_each_paper(project: Path, paper: str) -> None:
    code, out, err = invoke("qr", "--out", f"{paper}.png", "--paper", paper, "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    assert report["kind"] == "poster" and report["paper"] == paper and report["verified"] is True
    assert report["url"] == URL and report["error_correction"] == "M"
    if paper in ("square", "story"):
        assert report["code_px"] > 300 and report["code_cm"] is None
    else:
        assert abs(report["scan_distance_cm"] - 10 * report["code_cm"]) <= 1
    with Image.open(project / f"{paper}.png") as image:
        assert decode(image) == [URL]


def test_bare_code_with_url_needs_no_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for ext in ("png", "svg", "pdf"):
        code, out, err = invoke(
            "qr", "--url", "https://example.org/x", "--code-only", "--out", f"c.{ext}"
        )
        assert code == 0, err
        assert f"c.{ext}" in out
    code, out, err = invoke("qr", "--url", "https://example.org/x")
    assert code == 0 and out.rstrip().endswith("https://example.org/x")


def test_poster_without_config_is_a_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = invoke("qr", "--url", URL, "--out", "poster.png")
    assert code == 3 and "comunicast.yaml" in err
    assert not (tmp_path / "poster.png").exists()


def test_a_broken_config_is_reported_even_with_url(project: Path) -> None:
    (project / "comunicast.yaml").write_text("organization: [\n", encoding="utf-8")
    code, _, err = invoke("qr", "--url", URL)
    assert code == 3 and "comunicast.yaml" in err


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--out", "poster.svg"], "--code-only"),
        (["--out", "poster.gif"], ".png, .pdf"),
        (["--code-only", "--out", "code.jpg"], ".png, .svg, .pdf"),
        (["--code-only", "--paper", "a3", "--out", "c.png"], "--paper"),
        (["--paper", "a3"], "--out"),
        (["--logo-in-code"], "--out"),
        (["--url", "http://example.org", "--code-only", "--out", "c.png"], "https://"),
        (["--paper", "letter", "--out", "p.png"], "letter"),
    ],
)
def test_usage_errors(project: Path, args: list[str], needle: str) -> None:
    code, out, err = invoke("qr", *args)
    assert code == 2, (out, err)
    assert needle in err
    assert sorted(p.name for p in project.iterdir()) == ["comunicast.yaml", "messages"]


def test_low_contrast_colour_is_refused_naming_both_colours_and_the_ratio(project: Path) -> None:
    write(project / "comunicast.yaml", MINIMAL_CONFIG + 'poster:\n  qr_color: "#999999"\n')
    code, _, err = invoke("qr", "--out", "poster.png")
    assert code == 3
    assert "#999999" in err and "#FFFFFF" in err and "2.8:1" in err and "7:1" in err
    assert "comunicast.yaml:" in err
    assert not (project / "poster.png").exists()
    code, _, err = invoke("qr")
    assert code == 3 and "2.8:1" in err


def test_contrast_and_inversion_rules() -> None:
    from comunicast.errors import ConfigError
    from comunicast.poster.qr import check_contrast, contrast

    assert contrast("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert check_contrast("#003366") > 7
    with pytest.raises(ConfigError, match="inverted"):
        check_contrast("#FFFFFF", "#000000")
    with pytest.raises(ConfigError, match="#777777.*#FFFFFF.*4.5:1"):
        check_contrast("#777777")


def test_poster_texts_come_from_config(project: Path) -> None:
    write(
        project / "comunicast.yaml",
        MINIMAL_CONFIG
        + "poster:\n"
        + "  title: Resta aggiornato con il {organization}\n"
        + "  steps: [Apri la fotocamera, Premi «Segui», Accendi la campanella 🔔]\n"
        + "  privacy: Nessuno vede il tuo numero. Messaggi visibili 30 giorni.\n",
    )
    code, _, err = invoke("qr", "--out", "poster.pdf")
    assert code == 0, err
    text = _pdf_text(project / "poster.pdf")
    assert "Resta aggiornato con il Comune di Cremona" in text
    assert (
        "Apri la fotocamera" in text and "Premi «Segui»" in text and "Accendi la campanella" in text
    )
    assert "Nessuno vede il tuo numero." in text
    assert "Segui il" not in text  # the default title is replaced


def test_logo_from_config_in_header_and_in_code(project: Path) -> None:
    _logo(project / "assets" / "stemma.png")
    config = MINIMAL_CONFIG.replace("  website:", "  logo: assets/stemma.png\n  website:")
    write(project / "comunicast.yaml", config)
    code, out, err = invoke("qr", "--out", "poster.png")
    assert code == 0, err
    code, out, err = invoke("qr", "--out", "inside.pdf", "--logo-in-code", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["error_correction"] == "H"
    assert decode(rasterize_pdf(project / "inside.pdf", scale=2)) == [URL]
    code, out, err = invoke(
        "qr", "--code-only", "--out", "c.svg", "--logo-in-code", "--format", "json"
    )
    assert code == 0, err
    assert json.loads(out)["error_correction"] == "H"
    assert "data:image/png;base64," in (project / "c.svg").read_text()


@pytest.mark.parametrize("problem", ["missing", "gif"])
def test_bad_logo_is_a_located_configuration_error(project: Path, problem: str) -> None:
    if problem == "gif":
        _logo(project / "assets" / "stemma.png", fmt="GIF")
    config = MINIMAL_CONFIG.replace("  website:", "  logo: assets/stemma.png\n  website:")
    write(project / "comunicast.yaml", config)
    code, _, err = invoke("qr", "--out", "poster.png")
    assert code == 3
    assert "comunicast.yaml:3" in err and "stemma.png" in err
    if problem == "gif":
        assert "PNG or JPEG" in err


def test_logo_in_code_needs_a_logo(project: Path) -> None:
    code, _, err = invoke("qr", "--out", "poster.png", "--logo-in-code")
    assert code == 3 and "organization.logo" in err


def test_font_from_config(project: Path) -> None:
    from comunicast.poster.fonts import SEMIBOLD, bundled

    (project / "fonts").mkdir()
    (project / "fonts" / "mine.ttf").write_bytes(bundled(SEMIBOLD).read_bytes())
    write(project / "comunicast.yaml", MINIMAL_CONFIG + "poster:\n  font: fonts/mine.ttf\n")
    code, _, err = invoke("qr", "--out", "poster.pdf")
    assert code == 0, err
    assert b"TitilliumWeb-SemiBold" in (project / "poster.pdf").read_bytes()
    write(project / "comunicast.yaml", MINIMAL_CONFIG + "poster:\n  font_bold: fonts/none.ttf\n")
    code, _, err = invoke("qr", "--out", "poster.pdf")
    assert code == 3 and "none.ttf" in err and "comunicast.yaml:" in err


def test_http_invite_url_in_config_is_located(project: Path) -> None:
    write(
        project / "comunicast.yaml", MINIMAL_CONFIG.replace("https://whatsapp", "http://whatsapp")
    )
    code, _, err = invoke("qr")
    assert code == 3 and "comunicast.yaml:" in err and "https://" in err


def test_the_installed_command_writes_a_verified_poster(project: Path) -> None:
    result = run_cli(["qr", "--out", "poster.png", "--paper", "a5"], cwd=project)
    assert result.returncode == 0, result.stderr
    assert "scans from about" in result.stdout
    with Image.open(project / "poster.png") as image:
        assert decode(image) == [URL]


def test_the_command_module_imports_no_heavy_library() -> None:
    code = (
        "import sys, comunicast.cli.qr; "
        "print([m for m in ('PIL', 'qrcode', 'reportlab', 'zxingcpp', 'pypdfium2') if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_an_out_path_that_cannot_be_written_is_a_clear_error_not_a_crash(project: Path) -> None:
    (project / "poster.png").mkdir()  # a folder where the file should go
    (project / "notes.txt").write_text("x", encoding="utf-8")
    for target, needle in (("poster.png", "poster.png"), ("notes.txt/poster.png", "notes.txt")):
        proc = run_cli(["qr", "--out", target], project)
        assert proc.returncode == 3, proc.stderr
        assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr
        assert needle in proc.stderr and proc.stdout == ""
    assert not list(project.glob(".poster.*"))


@pytest.mark.parametrize("args", [["qr"], ["qr", "--out", "poster.pdf"], ["qr", "--code-only", "--out", "c.svg"]])
def test_the_example_invite_link_of_init_is_refused_not_printed_on_a_poster(
    tmp_path: Path, args: list[str]
) -> None:
    root = tmp_path / "fresh"
    assert run_cli(["init", str(root)], tmp_path).returncode == 0
    proc = run_cli(args, root)
    assert proc.returncode == 3, proc.stderr
    assert "comunicast.yaml:" in proc.stderr and "invite_url" in proc.stderr
    assert proc.stdout == ""
    assert not (root / "poster.pdf").exists() and not (root / "c.svg").exists()
    # --url overrides the link from the config
    proc = run_cli([*args, "--url", URL], root)
    assert proc.returncode == 0, proc.stderr
