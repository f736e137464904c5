"""A report document (a list of :class:`report.plan_report.Block`) as a Word .docx file (python-docx).

County offices write their documents in Word or WPS: headings are real Word
headings (levels 1–3, so the navigation pane and a table of contents work),
tables are Word tables with a header row, charts are PNG images at page width.
The East Asian font is set on the Normal style so Chinese text renders in Word
and WPS alike.
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

EAST_ASIAN_FONT = "SimSun"  # 宋体: present in every Chinese Windows and in WPS


def _set_east_asian(style, font: str) -> None:
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), font)


def write_docx(blocks, charts: dict[str, Path], path: Path, lang: str = "zh") -> Path:
    """Write ``blocks`` to ``path`` (headings, paragraphs, tables, chart images)."""
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.size = Pt(10.5)
    _set_east_asian(normal, EAST_ASIAN_FONT)
    for name in ("Heading 1", "Heading 2", "Heading 3", "Title"):
        _set_east_asian(doc.styles[name], EAST_ASIAN_FONT)
    section = doc.sections[0]
    section.left_margin = section.right_margin = Cm(2.0)
    width = section.page_width - section.left_margin - section.right_margin
    for blk in blocks:
        if blk.kind in ("h1", "h2", "h3"):
            doc.add_heading(blk.text, level=int(blk.kind[1]))
        elif blk.kind == "p":
            doc.add_paragraph(blk.text)
        elif blk.kind == "table":
            table = doc.add_table(rows=1, cols=len(blk.header))
            table.style = "Table Grid"
            for cell, text in zip(table.rows[0].cells, blk.header):
                cell.text = str(text)
                for run in cell.paragraphs[0].runs:
                    run.bold = True
            for row in blk.rows:
                cells = table.add_row().cells
                for cell, text in zip(cells, row):
                    cell.text = str(text)
            doc.add_paragraph()
        elif blk.kind == "chart" and blk.chart in charts:
            doc.add_picture(str(charts[blk.chart]), width=width)
            doc.add_paragraph(blk.text)
    doc.core_properties.title = blocks[0].text if blocks else ""
    doc.core_properties.language = "zh-CN" if lang == "zh" else "en"
    doc.save(str(path))
    return path


__all__ = ["write_docx"]
