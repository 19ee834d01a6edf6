"""The agreement as data: load and validate a file under ``data/avtal/``, and derive its plan.

Nothing about a particular agreement is written in Python; every fact comes from the file and keeps
the clause (``"§6"``) that states it, so the UI and the report can show where a figure comes from.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from decimal import Decimal
from fractions import Fraction
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from samordning.errors import Problem, SamordningError
from samordning.mapping import check_dimension, overlaps, parse_rule
from samordning.money import kr_to_ore, share_of, split

Clause = Annotated[str, StringConstraints(pattern=r"^§\d+$")]


def _to_fraction(value: object) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal, Fraction)):
        raise ValueError("ange ett bråktal som \"1/4\" eller \"0.5\"")
    try:
        fraction = Fraction(str(value).replace(",", ".").strip())
    except (ValueError, ZeroDivisionError) as exc:
        raise ValueError("ange ett bråktal som \"1/4\" eller \"0.5\"") from exc
    if not 0 <= fraction <= 1:
        raise ValueError("ska ligga mellan 0 och 1")
    return fraction


def _to_kr(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise ValueError("ange ett belopp i kronor, till exempel \"5319000.00\"")
    try:
        kr_to_ore(str(value).replace(" ", "").replace(",", "."))
    except ValueError as exc:
        raise ValueError("ange ett belopp i kronor med högst två decimaler") from exc
    amount = Decimal(str(value).replace(" ", "").replace(",", "."))
    if amount < 0:
        raise ValueError("beloppet får inte vara negativt")
    return amount


def _rule(value: str) -> str:
    parse_rule(value)  # raises ValueError with a Swedish message
    return value


Share = Annotated[Fraction, BeforeValidator(_to_fraction)]
CodeRule = Annotated[str, AfterValidator(_rule)]
Kronor = Annotated[Decimal, BeforeValidator(_to_kr)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


class Party(_Model):
    name: str = Field(min_length=1)
    role: Literal["utförare", "beställare"]
    clause: Clause


class Validity(_Model):
    start: dt.date
    end: dt.date
    clause: Clause

    @model_validator(mode="after")
    def _ordered(self) -> Validity:
        if self.end < self.start:
            raise ValueError("slutdatum ligger före startdatum")
        return self


class Compensation(_Model):
    total: Kronor
    clause: Clause
    installment_fraction: Share
    installments_per_year: int = Field(ge=1, le=12)
    in_advance: bool
    unspent_repaid: bool
    repayment_clause: Clause


class Advance(_Model):
    due: dt.date
    fraction: Share | None = None
    amount: Kronor | None = None
    clause: Clause

    @model_validator(mode="after")
    def _one_of(self) -> Advance:
        if (self.fraction is None) == (self.amount is None):
            raise ValueError("ange antingen fraction eller amount för förskottet")
        return self


class Mapping(_Model):
    """Which coding dimension the areas' codes are read from (see :mod:`samordning.mapping`)."""

    dimension: Annotated[str, AfterValidator(check_dimension)]


class Area(_Model):
    key: str = Field(min_length=1, pattern=r"^[a-z0-9_-]+$")
    name: str = Field(min_length=1)
    share: Share
    share_confirmed: bool
    codes: tuple[CodeRule, ...] = Field(min_length=1)   # rules: "7301", "4000-7999", "73*", "*"
    clause: Clause


class Accounts(_Model):
    cost_classes: tuple[str, ...] = Field(min_length=1)
    personnel_classes: tuple[str, ...] = ()
    basis: str


class Dispute(_Model):
    withholding_cap: Share
    clause: Clause
    settlement_rule: str = ""


class Report(_Model):
    recipients: tuple[str, ...]
    clause: Clause


class Insight(_Model):
    recipient: str
    clause: Clause


class Vacancies(_Model):
    replacement_recruited_by: str
    clause: Clause


class Annex(_Model):
    name: str
    referenced_in: Clause
    available: bool


class Contacts(_Model):
    clause: Clause
    performer: str = ""
    commissioner: str = ""


class Signing(_Model):
    clause: Clause
    date: str = ""


class Agreement(_Model):
    """One agreement file. Amounts are kronor as written; use the ``*_ore`` properties to compute."""

    id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    short_title: str = ""
    status: Literal["utkast", "undertecknat"]
    status_clause: Clause
    parties: tuple[Party, ...] = Field(min_length=2)
    validity: Validity
    compensation: Compensation
    advances: tuple[Advance, ...] = ()
    mapping: Mapping
    areas: tuple[Area, ...] = Field(min_length=1)
    accounts: Accounts
    dispute: Dispute
    report: Report
    insight: Insight
    vacancies: Vacancies | None = None
    annexes: tuple[Annex, ...] = ()
    contacts: Contacts
    signing: Signing

    @field_validator("areas")
    @classmethod
    def _codes_apart(cls, areas: tuple[Area, ...]) -> tuple[Area, ...]:
        clashes = overlaps((a.key, a.codes) for a in areas)
        if clashes:
            raise ValueError("; ".join(clashes))
        return areas

    @model_validator(mode="after")
    def _consistent(self) -> Agreement:
        keys = [a.key for a in self.areas]
        if len(set(keys)) != len(keys):
            raise ValueError("två områden har samma key")
        roles = {p.role for p in self.parties}
        if roles != {"utförare", "beställare"}:
            raise ValueError("parterna ska vara en utförare och en beställare")
        if sum((a.share for a in self.areas), Fraction(0)) > 1:
            raise ValueError("områdenas andelar är tillsammans mer än 100 %")
        return self

    # -- derived facts ---------------------------------------------------------------------------

    def party(self, role: Literal["utförare", "beställare"]) -> Party:
        return next(p for p in self.parties if p.role == role)

    @property
    def compensation_ore(self) -> int:
        return kr_to_ore(self.compensation.total)

    def advance_ore(self, advance: Advance) -> int:
        if advance.amount is not None:
            return kr_to_ore(advance.amount)
        assert advance.fraction is not None
        return share_of(self.compensation_ore, advance.fraction)

    @cached_property
    def quarters(self) -> tuple[str, ...]:
        """The calendar quarters the validity period touches, as ``"2023Q1"``."""
        start, end = self.validity.start, self.validity.end
        out = []
        year, q = start.year, (start.month - 1) // 3 + 1
        while (year, q) <= (end.year, (end.month - 1) // 3 + 1):
            out.append(f"{year}Q{q}")
            year, q = (year + 1, 1) if q == 4 else (year, q + 1)
        return tuple(out)

    @cached_property
    def months(self) -> tuple[str, ...]:
        """The months of the validity period as ``"2023-01"``."""
        start, end = self.validity.start, self.validity.end
        out = []
        year, month = start.year, start.month
        while (year, month) <= (end.year, end.month):
            out.append(f"{year}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return tuple(out)

    def in_validity(self, day: dt.date) -> bool:
        return self.validity.start <= day <= self.validity.end

    def area_shares_ore(self, ore: int) -> dict[str, int]:
        """An amount split over the areas by their shares, to the öre (parts add up exactly)."""
        parts = split(ore, [a.share for a in self.areas])
        return {a.key: part for a, part in zip(self.areas, parts, strict=True)}

    def area(self, key: str) -> Area:
        for area in self.areas:
            if area.key == key:
                return area
        raise SamordningError(f"Avtalet {self.id} har inget område {key!r}.")


def quarter_of(day: dt.date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def quarter_label(quarter: str) -> str:
    """``"2023Q1"`` → ``"Kv 1 2023"``, as the council writes it."""
    return f"Kv {quarter[-1]} {quarter[:4]}"


# -- loading -----------------------------------------------------------------------------------

_MESSAGES = {
    "missing": "saknas",
    "extra_forbidden": "okänt fält (felstavat?)",
    "string_type": "ska vara text",
    "string_too_short": "får inte vara tomt",
    "string_pattern_mismatch": "har fel form",
    "bool_type": "ska vara true eller false",
    "bool_parsing": "ska vara true eller false",
    "int_type": "ska vara ett heltal",
    "int_parsing": "ska vara ett heltal",
    "date_type": "ska vara ett datum, till exempel 2023-01-01",
    "date_parsing": "ska vara ett datum, till exempel 2023-01-01",
    "date_from_datetime_parsing": "ska vara ett datum, till exempel 2023-01-01",
    "literal_error": "har ett värde som inte är tillåtet",
    "too_short": "får inte vara tom",
    "greater_than_equal": "är för litet",
    "less_than_equal": "är för stort",
}


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(hela filen)"


def _problems(exc: ValidationError, file: str) -> list[Problem]:
    problems = []
    for err in exc.errors():
        if err["type"] == "value_error":
            message = str(err["ctx"]["error"]) if "ctx" in err else err["msg"]
        elif err["type"] == "literal_error":
            message = f"ska vara något av {err['ctx']['expected']}"
        else:
            message = _MESSAGES.get(err["type"], "ogiltigt värde")
        value = None if err["type"] in ("missing",) or isinstance(err.get("input"), dict) else err.get("input")
        problems.append(Problem(message=f"fältet {_field_path(err['loc'])}: {message}", file=file, value=value))
    return problems


def load_agreement(path: str | Path) -> Agreement:
    """Read and validate an agreement file; refuse a malformed one naming each bad field."""
    return parse_agreement(agreement_text(path), Path(path).name)


def agreement_text(path: str | Path) -> str:
    """An agreement file's text, or a Swedish refusal when it is missing, unreadable or not UTF-8."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise SamordningError(f"Avtalsfilen {path} finns inte.") from exc
    except UnicodeDecodeError as exc:
        raise SamordningError(f"Avtalsfilen {path.name} är inte UTF-8-text.") from exc
    except OSError as exc:
        raise SamordningError(f"Avtalsfilen {path} kan inte läsas ({exc.strerror}).") from exc


def parse_agreement(text: str, name: str) -> Agreement:
    """Validate an agreement's TOML text (a file's, or a stored version's, ``name`` naming it in messages);
    refuse a malformed one naming each bad field."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SamordningError(f"Avtalsfilen {name} är inte giltig TOML: {exc}.") from exc
    try:
        return Agreement.model_validate(raw)
    except ValidationError as exc:
        raise SamordningError(
            f"Avtalsfilen {name} kan inte läsas: {exc.error_count()} fel.", _problems(exc, name)
        ) from exc


def agreement_files(folder: str | Path) -> list[Path]:
    return sorted(Path(folder).glob("*.toml"))


# -- finding the agreement to work on ------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
AGREEMENT_ENV = "SAMORDNING_AGREEMENT"
AGREEMENTS_DIR_ENV = "SAMORDNING_AVTAL"


def agreements_dir() -> Path:
    """The folder of agreement files: ``$SAMORDNING_AVTAL``, else ``data/avtal`` of this checkout."""
    return Path(os.environ.get(AGREEMENTS_DIR_ENV) or ROOT / "data" / "avtal")


def agreement_path(choice: str | None = None) -> Path:
    """The agreement file named by ``choice`` (a file path or an agreement id), else by
    ``$SAMORDNING_AGREEMENT``, else the only file in the agreements folder."""
    choice = choice or os.environ.get(AGREEMENT_ENV)
    if choice and Path(choice).is_file():
        return Path(choice).resolve()
    files = agreement_files(agreements_dir())
    if not files:
        raise SamordningError(f"Hittar inga avtalsfiler (*.toml) i {agreements_dir()}.")
    if choice:
        for path in files:
            if load_agreement(path).id == choice:
                return path
        raise SamordningError(f"Hittar inget avtal {choice!r}. Tillgängliga: "
                              + ", ".join(load_agreement(f).id for f in files) + ".")
    if len(files) > 1:
        raise SamordningError("Flera avtal finns; välj ett med --agreement: "
                              + ", ".join(load_agreement(f).id for f in files) + ".")
    return files[0]


def resolve_agreement(choice: str | None = None) -> Agreement:
    return load_agreement(agreement_path(choice))
