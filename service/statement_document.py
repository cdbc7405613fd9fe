"""A buying municipality's statement as a PDF document (fpdf2, docs/adr/0027), made offline.

The document prints what the statement body holds (service/queries/statements.py
`statement_body`) and the support of each citizen on it (service/buyers.py), and nothing it
computes itself. It is reproducible: the same point gives the same bytes. Its "dannet" time is
the recording time of the point it is read as of, never the clock; the PDF's creation date is
that same time, and its file id is a hash of its content (fpdf2's own).

A correction document prints the statement as of a later point beside the statement as of an
earlier one: the total then and now, each line whose amount changed with its periods then and
now, and the lines that came or went.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from fpdf import FPDF
from fpdf.fonts import FontFace

from domain import municipalities
from domain.values import NORDDJURS
from service.danish import KINDS, MONTHS, SLOTS, THEMES

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
SELLER = f"{municipalities.official_name(NORDDJURS)} ({NORDDJURS})"
EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)
"""The creation date of a document as of position 0 (nothing recorded yet)."""
_TYPOGRAPHY = str.maketrans({"–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...", "×": "x"})
HEADER = FontFace(emphasis="BOLD", fill_color=(230, 236, 242))


@dataclass(frozen=True)
class Point:
    """The point a document is read as of: a store position and when it was recorded."""

    position: int
    recorded_at: datetime | None


def pdf_text(value: object) -> str:
    """Text the PDF's built-in font (Latin-1) can show: typographic dashes and quotes as their
    plain forms, anything else outside Latin-1 as '?'."""
    return str(value).translate(_TYPOGRAPHY).encode("latin-1", "replace").decode("latin-1")


def kr(value: str | Decimal | None) -> str:
    """'1234.50' -> '1.234,50' (Danish), '-' for none."""
    if value is None:
        return "-"
    amount = Decimal(value)
    text = f"{abs(amount):,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
    return f"-{text}" if amount < 0 else text


def signed_kr(value: str | Decimal) -> str:
    return kr(value) if Decimal(value) < 0 else f"+{kr(value)}"


def day(value: str | date | None) -> str:
    if value is None:
        return "løbende"
    parsed = date.fromisoformat(value) if isinstance(value, str) else value
    return parsed.strftime("%d.%m.%Y")


def instant(point: Point) -> str:
    if point.recorded_at is None:
        return f"position {point.position} (intet registreret endnu)"
    local = point.recorded_at.astimezone(COPENHAGEN).strftime("%d.%m.%Y kl. %H:%M:%S")
    return f"{local} (position {point.position})"


def month_span(year: int, month: int) -> str:
    last = (date(year + (month == 12), month % 12 + 1, 1).toordinal() - 1)
    return f"{MONTHS[month - 1]} {year} ({day(date(year, month, 1))} - {day(date.fromordinal(last))})"


class StatementPdf(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=True, margin=15)
        self.doc_title = title
        self.set_title(title)
        self.set_author(SELLER)
        self.set_creator("budget-ledger")
        self.set_producer("budget-ledger (fpdf2)")

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=7)
        self.cell(0, 5, pdf_text(f"{self.doc_title} - side {self.page_no()}/{{nb}}"), align="C")

    def heading(self, text: str, size: int = 14) -> None:
        self.set_font("Helvetica", "B", size)
        self.multi_cell(0, size * 0.5, pdf_text(text), new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def para(self, text: str, size: int = 9, style: str = "") -> None:
        self.set_font("Helvetica", style, size)
        self.multi_cell(0, 4.5, pdf_text(text), new_x="LMARGIN", new_y="NEXT")

    def grid(self, header: Iterable[str], rows: Iterable[Iterable[str]], widths: tuple[int, ...],
             right: Iterable[int] = ()) -> None:
        aligned = set(right)
        self.set_font("Helvetica", size=8)
        align = tuple("RIGHT" if i in aligned else "LEFT" for i in range(len(widths)))
        with self.table(col_widths=widths, text_align=align, headings_style=HEADER, line_height=4.5,
                        first_row_as_headings=True) as table:
            for row in [list(header), *[list(r) for r in rows]]:
                cells = table.row()
                for value in row:
                    cells.cell(pdf_text(value))
        self.ln(3)


LINE_COLUMNS = ("Borger", "Tilbud", "Periode", "Niveau", "Dage", "Basistakst", "Servicetakst", "Beløb")
LINE_WIDTHS = (24, 34, 36, 12, 10, 20, 21, 23)


def statement_pdf(body: dict[str, Any], supports: dict[str, dict[str, Any]], names: dict[str, str], point: Point,
                  since: tuple[dict[str, Any], Point] | None = None) -> bytes:
    """The statement `body` as of `point` as a PDF, with each citizen's support summary
    (`supports`, by citizen_ref, bodies of GET /v1/buyers/.../citizens/{ref}) and facility
    `names`; with `since` (the statement as of an earlier point) a correction document."""
    buyer = f"{body['municipality_name'] or municipalities.label(body['municipality'])} ({body['municipality']})"
    kind = "Rettelse til afregning" if since else "Afregning"
    title = f"{kind} {buyer} {MONTHS[body['month'] - 1]} {body['year']}"
    pdf = StatementPdf(title)
    pdf.set_creation_date(point.recorded_at or EPOCH)
    pdf.set_subject(f"{kind} for køb af pladser, {month_span(body['year'], body['month'])}")
    pdf.add_page()
    pdf.heading(f"{kind} for køb af pladser i botilbud")
    pdf.para(f"Sælger: {SELLER}", 10, "B")
    pdf.para(f"Køber: {buyer}", 10, "B")
    pdf.para(f"Periode: {month_span(body['year'], body['month'])}")
    pdf.para(f"Dannet: {instant(point)} - afregningen som ledgeren stod på dette tidspunkt")
    if since:
        pdf.para(f"Rettelse siden: {instant(since[1])}")
    pdf.ln(2)
    for warning in body.get("warnings", []):
        pdf.para(f"Bemærk: {warning}", 8, "I")
    if since:
        _correction(pdf, since[0], body, names)
    _lines(pdf, body, names)
    _support(pdf, body, supports)
    return bytes(pdf.output())


def _facility(names: dict[str, str], code: str) -> str:
    return f"{names.get(code, code)} ({code})" if names.get(code) else code


def _period_rows(line: dict[str, Any], names: dict[str, str]) -> list[list[str]]:
    rows = []
    for i, p in enumerate(line["periods"]):
        rows.append([line["citizen_ref"] if i == 0 else "", _facility(names, line["facility"]) if i == 0 else "",
                     f"{day(p['from'])} - {day(p['to'])}", str(p["level"]), str(p["days"]), kr(line["basistakst"]),
                     kr(p["service_rate"]), kr(p["amount"])])
    if len(line["periods"]) > 1:
        rows.append([f"I alt {line['citizen_ref']}", "", "", "", str(line["days"]), "", "", kr(line["amount"])])
    return rows


def _lines(pdf: StatementPdf, body: dict[str, Any], names: dict[str, str]) -> None:
    pdf.heading("Ophold i måneden", 11)
    if not body["lines"]:
        pdf.para("Ingen ophold med belægningsdage betalt af køberkommunen i måneden.")
    else:
        rows = [row for line in body["lines"] for row in _period_rows(line, names)]
        rows.append(["I alt", "", "", "", str(sum(line["days"] for line in body["lines"])), "", "", kr(body["total"])])
        pdf.grid(LINE_COLUMNS, rows, LINE_WIDTHS, right=(3, 4, 5, 6, 7))
    pdf.para("Beløb i kr. Beløb = dage x (basistakst + servicetakst) for hver periode. Køberkommunen betaler for "
             "belægningsdage; afløb efter fraflytning er en intern budgetregel.", 8)
    pdf.para(f"Total: {kr(body['total'])} kr.", 11, "B")
    pdf.ln(2)


def _support(pdf: StatementPdf, body: dict[str, Any], supports: dict[str, dict[str, Any]]) -> None:
    pdf.heading("Støtte pr. borger (døgnskema)", 11)
    first, last = date(body["year"], body["month"], 1), _month_end(body["year"], body["month"])
    refs = sorted({line["citizen_ref"] for line in body["lines"] if line["citizen_ref"]})
    if not refs:
        pdf.para("Ingen borgere i måneden.")
    for ref in refs:
        found = supports.get(ref)
        if found is None:
            continue
        in_month = [a for i, a in enumerate(found["assessments"]) if _in_force_in(found["assessments"], i, first, last)]
        rows = []
        for a in in_month:
            direct = sum(e["minutes"] for e in a["entries"] if e["kind"] == "direct")
            indirect = sum(e["minutes"] for e in a["entries"] if e["kind"] == "indirect")
            split = f"{_hours(direct)} / {_hours(indirect)}" if a["entries"] else "timer pr. døgn (overført)"
            changed = _change_text(a["changes"])
            rows.append([day(a["effective_date"]), a["hours_per_day"].replace(".", ","),
                         "-" if a["level"] is None else str(a["level"]), split, changed])
        if pdf.will_page_break(25):
            pdf.add_page()
        pdf.para(ref, 9, "B")
        if rows:
            pdf.grid(("Gælder fra", "Timer/døgn", "Niveau", "Direkte / indirekte (t)", "Ændret fra forrige"), rows,
                     (22, 20, 14, 34, 90), right=(1, 2))


def _in_force_in(assessments: list[dict[str, Any]], i: int, first: date, last: date) -> bool:
    start = date.fromisoformat(assessments[i]["effective_date"])
    following = [a for a in assessments[i + 1:] if a["stay_id"] == assessments[i]["stay_id"]]
    end = date.fromisoformat(following[0]["effective_date"]).toordinal() - 1 if following else None
    return start <= last and (end is None or date.fromordinal(end) >= first)


def _month_end(year: int, month: int) -> date:
    return date.fromordinal(date(year + (month == 12), month % 12 + 1, 1).toordinal() - 1)


def _hours(minutes: int) -> str:
    return kr(Decimal(minutes) / 60).rstrip("0").rstrip(",") or "0"


def _change_text(change: dict[str, Any] | None) -> str:
    if change is None:
        return "første viste døgnskema"
    parts = [f"{THEMES.get(e['theme'], e['theme'])}, {SLOTS.get(e['slot'], e['slot']).split(' ')[0].lower()}, "
             f"{KINDS.get(e['kind'], e['kind'])}: {e['minutes_before']} -> {e['minutes_after']} min."
             for e in change["entries"]]
    head = f"fra {day(change['previous_effective_date'])}: {change['hours_per_day_before'].replace('.', ',')} t/døgn"
    return "; ".join([head, *parts]) if parts else f"{head}; samme døgnskema"


def _correction(pdf: StatementPdf, then: dict[str, Any], now: dict[str, Any], names: dict[str, str]) -> None:
    pdf.heading("Hvad er ændret", 11)
    difference = Decimal(now["total"]) - Decimal(then["total"])
    pdf.para(f"Total dengang: {kr(then['total'])} kr. Total nu: {kr(now['total'])} kr. "
             f"Forskel: {signed_kr(difference)} kr.", 10, "B")
    before = {line["stay_id"]: line for line in then["lines"]}
    after = {line["stay_id"]: line for line in now["lines"]}
    changed = [stay for stay in sorted(set(before) | set(after), key=lambda s: _line_key(before.get(s) or after[s]))
               if _comparable(before.get(stay)) != _comparable(after.get(stay))]
    if not changed:
        pdf.para("Ingen linjer er ændret.")
        return
    rows = []
    for stay in changed:
        old, new = before.get(stay), after.get(stay)
        line = new or old
        assert line is not None
        rows.append([line["citizen_ref"] or "", _facility(names, line["facility"]),
                     _periods_text(old), _periods_text(new), kr(old["amount"] if old else "0"),
                     kr(new["amount"] if new else "0"),
                     signed_kr(Decimal(new["amount"] if new else "0") - Decimal(old["amount"] if old else "0"))])
    pdf.grid(("Borger", "Tilbud", "Perioder dengang", "Perioder nu", "Dengang", "Nu", "Forskel"), rows,
             (20, 28, 38, 38, 18, 18, 20), right=(4, 5, 6))


def _line_key(line: dict[str, Any]) -> tuple[str, str, str]:
    return line["facility"], line["citizen_ref"] or "", line["stay_id"]


def _comparable(line: dict[str, Any] | None) -> Any:
    if line is None:
        return None
    return line["amount"], line["basistakst"], tuple(tuple(sorted(p.items())) for p in line["periods"])


def _periods_text(line: dict[str, Any] | None) -> str:
    if line is None:
        return "ingen linje"
    return "\n".join(f"{day(p['from'])}-{day(p['to'])} niv. {p['level']}: {p['days']} d. x "
                     f"({kr(line['basistakst'])} + {kr(p['service_rate'])})" for p in line["periods"])
