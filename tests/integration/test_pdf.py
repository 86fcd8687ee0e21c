"""The core's PDF service (core/pdf.c) through tests/modules/pdfmod: the
documents are read back with pdftotext (poppler-utils)."""
import re
import subprocess

import pytest

from conftest import client_of, pdfmod_instance, png


def pdf_text(stack, doc, tmp_path, **params):
    inst = pdfmod_instance(stack)
    r = client_of(stack, inst).get("/api/v1/test/pdfmod/pdf", params=dict(doc=doc, **params))
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/pdf")
    assert r.content.startswith(b"%PDF-")
    f = tmp_path / ("%s.pdf" % doc)
    f.write_bytes(r.content)
    out = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", str(f), "-"],
                         capture_output=True, check=True)
    return out.stdout.decode("utf-8")


def test_accents_and_euro_come_back(stack, tmp_path):
    text = pdf_text(stack, "accents", tmp_path)
    for s in ("Élève", "garçon", "cœur", "œuvre", "« Citation »", "très", "où", "Noël",
              "12,50 €", "Hélène Dupré-Françoise", "Attestation de droits à l'Assurance Maladie"):
        assert s in text, (s, text)
    # every page: the fund's header, the footer and the page number
    assert stack.config["server"].get("fund_name", "votre caisse d’Assurance Maladie") in text
    assert "Document généré par le portail" in text
    assert "Page 1 / 1" in text


def test_a_200_row_table_continues_over_pages_with_its_header(stack, tmp_path):
    text = pdf_text(stack, "table", tmp_path, rows=200)
    pages = text.split("\f")
    pages = [p for p in pages if p.strip()]
    n = len(pages)
    assert n >= 3, n
    for i, page in enumerate(pages, 1):
        assert "Page %d / %d" % (i, n) in page, page[-300:]
        assert "Montant remboursé" in page and "Date des soins" in page, i
        assert "votre caisse d’Assurance Maladie" in page
    rows = re.findall(r"^\s*(\d+)\s+\d\d/\d\d/2026", text, re.M)
    assert [int(x) for x in rows] == list(range(1, 201))
    assert "Total" in pages[-1] and "1 234,56 €" in pages[-1]


def test_fund_address_and_logo_from_the_config(stack, tmp_path):
    logo = tmp_path / "logo.png"
    logo.write_bytes(png(8, 4, rgb=b"\x00\x00\x91"))
    inst = pdfmod_instance(stack, overrides={
        "server": {"fund_name": "CPAM de la Sarthe"},
        "pdf": {"fund_address": "178 avenue Bollée\n72000 Le Mans", "logo": str(logo)}})
    c = client_of(stack, inst)
    r = c.get("/api/v1/test/pdfmod/pdf", params={"doc": "table", "rows": 80})
    assert r.status_code == 200, r.text
    f = tmp_path / "a.pdf"
    f.write_bytes(r.content)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(f), "-"], capture_output=True,
                          check=True).stdout.decode()
    assert text.count("CPAM de la Sarthe") >= 2
    assert "178 avenue Bollée" in text and "72000 Le Mans" in text
    images = subprocess.run(["pdfimages", "-list", str(f)], capture_output=True, text=True).stdout
    assert len([l for l in images.splitlines()[2:] if l.strip()]) >= 2  # the logo on each page


@pytest.mark.parametrize("content", [None, b"\x89PNG\r\n\x1a\nnot a png"])
def test_missing_or_broken_logo_stops_the_start(stack, tmp_path, content):
    logo = tmp_path / "logo.png"
    if content:
        logo.write_bytes(content)
    rc, err = stack.run_portaild_expect_fail({"pdf": {"logo": str(logo)}})
    assert rc == 1, (rc, err)
    assert "pdf: " in err and str(logo) in err, err


def test_logo_is_read_once_at_start(stack, tmp_path):
    """A logo file damaged on disk after the start changes nothing: the
    renders draw the bytes checked at start (libpng would abort the process
    on a damaged file)."""
    logo = tmp_path / "logo.png"
    logo.write_bytes(png(8, 4))
    inst = pdfmod_instance(stack, overrides={"pdf": {"logo": str(logo)}})
    logo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    r = client_of(stack, inst).get("/api/v1/test/pdfmod/pdf", params={"doc": "accents"})
    assert r.status_code == 200, r.text
    f = tmp_path / "a.pdf"
    f.write_bytes(r.content)
    images = subprocess.run(["pdfimages", "-list", str(f)], capture_output=True, text=True).stdout
    assert len([l for l in images.splitlines()[2:] if l.strip()]) == 1, images


def test_a_font_libharu_cannot_use_stops_the_start(stack, tmp_path):
    font = tmp_path / "broken.ttf"
    font.write_bytes(b"\x00\x01\x00\x00" + b"\x00" * 200)
    rc, err = stack.run_portaild_expect_fail({"pdf": {"font": str(font)}})
    assert rc == 1, (rc, err)
    assert "pdf: " in err and str(font) in err, err


def test_qr_code_is_vector(stack, tmp_path):
    text = pdf_text(stack, "qr", tmp_path)
    assert "Scannez ce code" in text
    r = client_of(stack, pdfmod_instance(stack)).get("/api/v1/test/pdfmod/pdf",
                                                     params={"doc": "qr"})
    f = tmp_path / "qr.pdf"
    f.write_bytes(r.content)
    images = subprocess.run(["pdfimages", "-list", str(f)], capture_output=True, text=True).stdout
    assert len(images.splitlines()) <= 2  # no bitmap: squares


def test_three_page_render_time(stack):
    r = client_of(stack, pdfmod_instance(stack)).get("/api/v1/test/pdfmod/bench",
                                                     params={"n": 3})
    assert r.status_code == 200, r.text
    assert r.json()["renders"] == 3 and r.json()["mean_ms"] > 0
