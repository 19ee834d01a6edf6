"""The Avtal tab's form: a controller creates an agreement (blank, a copy of another, or an uploaded TOML file) or
changes the one shown, field by field, and saves it as a new version.

The form edits the fields of a *base* (the version in force, a copy, the blank agreement, an uploaded file); what the
form does not show (annexes, vacancies, …) is kept from the base. On saving, the fields become TOML text
(the base's own text when nothing was changed, else the base's text with only the changed values rewritten,
:func:`samordning.agreement_toml.edit`, or for a blank agreement and a copy :func:`~samordning.agreement_toml.to_toml`)
and are validated by the file loader: each of its Swedish messages is shown beside the field it names."""

from __future__ import annotations

import copy
import datetime as dt
import re
import tomllib
from typing import Any

import ipywidgets as ipw

from samordning.agreement import parse_agreement
from samordning.agreement_toml import blank, edit, to_toml
from samordning.agreements import save_version, version
from samordning.errors import SamordningError
from samordning.ui.dashboard.base import STYLE, Form, button, heading, row
from samordning.ui.dashboard.html import e, message
from samordning.ui.dashboard.state import State

FORM_NAME = "formuläret"
MAX_FILE = 1_000_000  # bytes: an agreement file is a few kB of text
Path_ = tuple[str | int, ...]

# The plain fields: path in the agreement, label, kind (text, date, int, bool, list, status), width.
FIELDS: list[tuple[Path_, str, str, str]] = [
    (("id",), "Id", "text", "220px"), (("title",), "Titel", "text", "520px"),
    (("short_title",), "Kort titel", "text", "300px"), (("status",), "Status", "status", "220px"),
    (("status_clause",), "§ status", "text", "120px"), (("signing", "date"), "Undertecknat", "text", "220px"),
    (("signing", "clause"), "§ underskrift", "text", "140px"),
    (("parties", 0, "name"), "Utförare", "text", "340px"), (("parties", 1, "name"), "Beställare", "text", "340px"),
    (("parties", 0, "clause"), "§ parter", "text", "120px"),
    (("validity", "start"), "Giltig från", "date", "220px"), (("validity", "end"), "Giltig till", "date", "220px"),
    (("validity", "clause"), "§ giltighet", "text", "130px"),
    (("compensation", "total"), "Ersättning (kr)", "text", "260px"),
    (("compensation", "clause"), "§ ersättning", "text", "140px"),
    (("compensation", "installment_fraction"), "Andel per förskott", "text", "230px"),
    (("compensation", "installments_per_year"), "Förskott per år", "int", "200px"),
    (("compensation", "in_advance"), "I förskott", "bool", "160px"),
    (("compensation", "unspent_repaid"), "Kvarstående återbetalas", "bool", "240px"),
    (("compensation", "repayment_clause"), "§ återbetalning", "text", "160px"),
    (("mapping", "dimension"), "Kodningsdimension", "text", "280px"),
    (("accounts", "cost_classes"), "Kostnadsklasser", "list", "260px"),
    (("accounts", "personnel_classes"), "Personalklasser", "list", "240px"),
    (("accounts", "basis"), "Kontoplan", "text", "300px"),
    (("dispute", "withholding_cap"), "Högst innehållet (andel)", "text", "260px"),
    (("dispute", "clause"), "§ tvist", "text", "120px"),
    (("dispute", "settlement_rule"), "Regel för reglering", "text", "520px"),
    (("report", "recipients"), "Rapporten till", "list", "520px"), (("report", "clause"), "§ rapport", "text", "120px"),
    (("insight", "recipient"), "Insyn för", "text", "300px"), (("insight", "clause"), "§ insyn", "text", "120px"),
    (("contacts", "performer"), "Kontakt utförare", "text", "300px"),
    (("contacts", "commissioner"), "Kontakt beställare", "text", "300px"),
    (("contacts", "clause"), "§ kontakter", "text", "130px"),
]
AREA_FIELDS: list[tuple[str, str, str, str]] = [
    ("key", "Nyckel", "text", "170px"), ("name", "Område", "text", "300px"), ("share", "Andel", "text", "150px"),
    ("share_confirmed", "Andelen bekräftad", "bool", "200px"), ("codes", "Koder", "list", "300px"),
    ("clause", "§", "text", "90px"),
]


def path_text(path: Path_) -> str:
    """A field's path as the file loader names it: ``areas[0].codes``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _get(data: Any, path: Path_) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _set(data: Any, path: Path_, value: Any) -> None:
    for part in path[:-1]:
        data = data.setdefault(part, {}) if isinstance(part, str) else data[part]
    data[path[-1]] = value


def _shown(value: Any, kind: str) -> Any:
    if kind == "bool":
        return bool(value)
    if kind == "list":
        return ", ".join(str(v) for v in value or [])
    return "" if value is None else str(value)


def _read(value: Any, kind: str) -> Any:
    """A field's value as the TOML file would hold it (a date that is not one stays text: the loader says so)."""
    if kind == "bool":
        return bool(value)
    text = str(value).strip()
    if kind == "list":
        return [part.strip() for part in text.split(",") if part.strip()]
    if kind == "date" and re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return text
    if kind == "int" and text.isdigit():
        return int(text)
    return text


def _widget(label: str, kind: str, width: str, path: str) -> ipw.Widget:
    if label.startswith("§ "):  # a clause: the label is longer than the value ("§12")
        width = f"{int(width.removesuffix('px')) + 40}px"
    layout = ipw.Layout(width=width)
    if kind == "bool":
        w: ipw.Widget = ipw.Checkbox(description=label, style=STYLE, layout=layout, indent=False)
    elif kind == "status":
        w = ipw.Dropdown(description=label, options=["utkast", "undertecknat"], style=STYLE, layout=layout)
    else:
        w = ipw.Text(description=label, style=STYLE, layout=layout)
    w.add_class("smd-f-" + re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-"))
    return w


def advances_text(advances: list[dict[str, Any]]) -> str:
    """The plan as lines: ``2023-01-01 1/4 §6`` (a fraction of the compensation) or ``2024-10-15 300000 kr §5``."""
    lines = []
    for a in advances:
        amount = f"{a['amount']} kr" if a.get("amount") is not None else str(a.get("fraction", ""))
        lines.append(f"{a.get('due', '')} {amount} {a.get('clause', '')}".strip())
    return "\n".join(lines)


def read_advances(text: str, kept: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The plan's lines back as advances (a line that does not read stays as written: the loader names it)."""
    out = []
    for i, line in enumerate(part for part in text.splitlines() if part.strip()):
        words = line.split()
        item = dict(kept[i]) if i < len(kept) else {}
        item.pop("amount", None)
        item.pop("fraction", None)
        item["due"] = _read(words[0], "date")
        clause = words[-1] if len(words) > 1 and words[-1].startswith("§") else ""
        rest = [w for w in words[1:] if w != clause]
        if rest and rest[-1].lower() == "kr":
            item["amount"] = "".join(rest[:-1])
        else:
            item["fraction"] = "".join(rest)
        item["clause"] = clause
        out.append(item)
    return out


class AgreementForm(Form):
    """Create or change an agreement field by field; saved as a new version with the file loader's validation."""

    def build(self) -> list[ipw.Widget]:
        self.base_choice = ipw.Dropdown(description="Utgå från", style=STYLE, layout=ipw.Layout(width="420px"))
        self.base_choice.add_class("smd-f-base")
        fill = button("Fyll i formuläret")
        fill.on_click(self.status.guard(lambda _b: self.fill_from_choice()))
        self.upload = ipw.FileUpload(accept=".toml", multiple=False, description="Läs in avtalsfil (TOML)")
        self.upload.add_class("smd-agreement-upload")
        self.upload.observe(self.status.guard(lambda c: self.fill_from_upload(c["new"])), names="value")
        self.fields: dict[str, tuple[Path_, str, ipw.Widget]] = {}
        self.errors: dict[str, ipw.HTML] = {}
        boxes = {path_text(p): self._field(p, label, kind, width) for p, label, kind, width in FIELDS}
        self.areas_box = ipw.VBox()
        self.area_rows: list[dict[str, ipw.Widget]] = []
        add_area = button("Lägg till område")
        add_area.on_click(self.status.guard(lambda _b: self._add_area({})))
        self.advances = ipw.Textarea(description="Förskottsplan", style=STYLE,
                                     placeholder="ÅÅÅÅ-MM-DD 1/4 §6 (en rad per förskott; belopp: 300000 kr)",
                                     layout=ipw.Layout(width="640px", height="110px"))
        self.advances.add_class("smd-f-advances")
        self.reason = ipw.Text(description="Skäl till ändringen", style=STYLE, layout=ipw.Layout(width="640px"))
        self.reason.add_class("smd-f-reason")
        save = button("Spara ny version", button_style="primary")
        save.on_click(self.status.guard(lambda _b: self.save()))
        self.base_note = ipw.HTML()

        def group(*paths: str) -> ipw.HBox:
            return row(*(boxes[p] for p in paths))

        return [
            heading("Skapa eller ändra ett avtal", "Varje sparning blir en ny version; de tidigare finns kvar. En "
                    "undertecknad version ändras bara med ett skäl. Felen visas vid fälten, med samma text som när "
                    "en avtalsfil läses in."),
            row(self.base_choice, fill, self.upload), self.base_note,
            group("id", "title"), group("short_title", "status", "status_clause"),
            group("signing.date", "signing.clause"),
            group("parties[0].name", "parties[1].name", "parties[0].clause"), self._error("parties"),
            group("validity.start", "validity.end", "validity.clause"),
            group("compensation.total", "compensation.clause", "compensation.installment_fraction",
                  "compensation.installments_per_year"),
            group("compensation.in_advance", "compensation.unspent_repaid", "compensation.repayment_clause"),
            self.advances, self._error("advances"),
            group("mapping.dimension"), ipw.HTML(e("Områden och deras koder (exakt 7301, intervall 4000-7999, "
                                                   "prefix 73*, * för alla rader):")),
            self.areas_box, self._error("areas"), add_area,
            group("accounts.cost_classes", "accounts.personnel_classes", "accounts.basis"),
            group("dispute.withholding_cap", "dispute.clause"), group("dispute.settlement_rule"),
            group("report.recipients", "report.clause"), group("insight.recipient", "insight.clause"),
            group("contacts.performer", "contacts.commissioner", "contacts.clause"),
            self.reason, row(save), self.status.widget,
        ]

    def _error(self, key: str) -> ipw.HTML:
        self.errors[key] = ipw.HTML()
        self.errors[key].add_class("smd-field-error")
        return self.errors[key]

    def _field(self, path: Path_, label: str, kind: str, width: str) -> ipw.VBox:
        key = path_text(path)
        widget = _widget(label, kind, width, key)
        self.fields[key] = (path, kind, widget)
        return ipw.VBox([widget, self._error(key)])

    def _add_area(self, area: dict[str, Any]) -> None:
        i = len(self.area_rows)
        widgets, cells = {}, []
        for name, label, kind, width in AREA_FIELDS:
            key = f"areas[{i}].{name}"
            widgets[name] = _widget(label, kind, width, key)
            widgets[name].value = _shown(area.get(name, False if kind == "bool" else ""), kind)
            cells.append(ipw.VBox([widgets[name], self._error(key)]))
        self.area_rows.append(widgets)
        self.areas_box.children = [*self.areas_box.children, row(*cells)]

    # -- filling ---------------------------------------------------------------------------------------

    def render(self, state: State) -> None:
        shown = self.ctx.shown()
        ids = shown if shown is not None else []
        self.base_choice.options = [(f"Gällande version av {state.agreement.id}", "current"), ("Tomt avtal", "blank"),
                                    *((f"Kopia av {i}", f"copy:{i}") for i in ids)]
        self.base_choice.value = "current"
        self.fill_from_choice()

    def fill_from_choice(self) -> None:
        choice = str(self.base_choice.value)
        state = self.ctx.current()
        if choice == "blank":
            self.load(blank(), None, "Ett tomt avtal: fyll i fälten och spara.")
        elif choice.startswith("copy:"):
            source = version(self.ctx.store, choice[5:])
            raw = tomllib.loads(source.text)
            raw.update(id="", status="utkast")
            _set(raw, ("signing", "date"), "")
            self.load(raw, None, f"En kopia av {source.agreement_id} version {source.number}: ge den ett nytt id.")
        else:
            current = version(self.ctx.store, state.agreement.id)
            self.load(tomllib.loads(current.text), current.text,
                      f"Version {current.number} av {current.agreement_id}, den som gäller.")

    def fill_from_upload(self, files: Any) -> None:
        if not files:
            return
        item = files[0]
        name = str(item.get("name") if isinstance(item, dict) else item.name)
        content = bytes(item.get("content") if isinstance(item, dict) else item.content)
        if len(content) > MAX_FILE:
            raise SamordningError(f"Avtalsfilen {name} är för stor ({len(content)} byte); en avtalsfil är text på "
                                  f"högst {MAX_FILE // 1000} kB.")
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SamordningError(f"Avtalsfilen {name} är inte UTF-8-text.") from exc  # as the loader says it
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            parse_agreement(text, name)  # raises the loader's own message
            raise
        self.load(raw, text, f"Avtalsfilen {name}: kontrollera fälten och spara.")

    def load(self, raw: dict[str, Any], text: str | None, note: str) -> None:
        """Fill the form from an agreement's fields (``text``: the text they were read from, saved as it is when
        nothing is changed)."""
        self.base_raw, self.base_text = copy.deepcopy(raw), text
        for path, kind, widget in self.fields.values():
            widget.value = _shown(_get(raw, path), kind)
        self.advances.value = advances_text(raw.get("advances") or [])
        self.area_rows, self.areas_box.children = [], []
        for key in [k for k in self.errors if k.startswith("areas[")]:
            del self.errors[key]
        for area in raw.get("areas") or [{}]:
            self._add_area(area)
        for error in self.errors.values():
            error.value = ""
        self.base_note.value = message(note)
        self.status.show("")

    # -- saving ----------------------------------------------------------------------------------------

    def compose(self) -> dict[str, Any]:
        """The agreement's fields as the form holds them (what the form does not show is kept from the base)."""
        raw = copy.deepcopy(self.base_raw)
        raw.setdefault("parties", [])
        while len(raw["parties"]) < 2:
            raw["parties"].append({"role": ("utförare", "beställare")[len(raw["parties"])]})
        for path, kind, widget in self.fields.values():
            _set(raw, path, _read(widget.value, kind))
        raw["parties"][1]["clause"] = raw["parties"][0].get("clause", "")
        raw["advances"] = read_advances(str(self.advances.value), list(self.base_raw.get("advances") or []))
        areas = []
        for widgets in self.area_rows:
            area = {name: _read(widgets[name].value, kind) for name, _label, kind, _w in AREA_FIELDS}
            if any(v for k, v in area.items() if k != "share_confirmed"):
                areas.append(area)
        raw["areas"] = areas
        return raw

    def text(self) -> str:
        """The TOML text to save: the base's own text when nothing was changed; the base's text with only the changed
        values rewritten when it has one (an uploaded file or a stored version keeps its comments and layout); else
        the form's layout (a blank agreement; a copy, whose comments would speak of the agreement it copies)."""
        raw = self.compose()
        if self.base_text is None:
            return to_toml(raw)
        return self.base_text if raw == self.base_raw else edit(self.base_text, raw)

    def show_problems(self, exc: SamordningError) -> None:
        """Each of the loader's messages beside the field it names; the rest (and a summary) in the status."""
        for error in self.errors.values():
            error.value = ""
        rest = []
        for problem in exc.problems:
            found = re.match(r"fältet (\S+?): (.*)", problem.message, flags=re.S)
            key = found and max((k for k in self.errors if found.group(1) == k or found.group(1).startswith(
                (k + ".", k + "["))), key=len, default=None)
            if key:
                self.errors[key].value = message(problem.message, "error")
            else:
                rest.append(problem)
        summary = f"{exc.message} Inget har sparats; se fälten."
        self.status.show(message("\n".join([summary, *(p.message for p in rest)]), "error"))

    def save(self) -> None:
        text = self.text()
        try:
            parse_agreement(text, FORM_NAME)
        except SamordningError as exc:
            self.show_problems(exc)
            return
        shown_id = self.ctx.current().agreement.id

        def write() -> tuple[Any, bool]:
            return save_version(self.ctx.store, text, name=FORM_NAME, user=self.ctx.user, reason=self.reason.value)

        def done(result: tuple[Any, bool]) -> str:
            saved, new = result
            if not new:
                return "Fälten är desamma som gällande version; ingen ny version."
            changes = [f"Åtgärdad iakttagelse [{f['clause']}] {f['title']}" for f in saved.fixed]
            changes += [f"Ny iakttagelse [{f['clause']}] {f['title']}" for f in saved.introduced]
            return "\n".join([f"Version {saved.number} av {saved.agreement_id} är sparad.", *changes])

        saved, _ = self.ctx.actions.run(write, self.status.show, done)
        said = self.status.value
        self.reason.value = ""
        if saved.agreement_id != shown_id:
            self.ctx.open(saved.agreement_id)  # a new agreement: shown at once
            self.status.show(said)
