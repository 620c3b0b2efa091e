"""Parsing of indicator target/actual text (年度指标值 / 实际完成值) into comparable values."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

KIND_NUMBER = "number"
KIND_DATE = "date"
KIND_QUALITATIVE = "qualitative"
KIND_EMPTY = "empty"

COMPARATORS = (">=", "<=", "=", ">", "<")
# Comparators whose target is "less is better" (rule 3); the others are "more is better".
LESS_IS_BETTER = ("<=", "<")

UNIT_MAX_LENGTH = 20
COMPARATOR_MAX_LENGTH = 2

# (year, month, day); any part may be None when the text does not say it.
DateValue = tuple[int | None, int | None, int | None]


@dataclass(frozen=True)
class ParsedValue:
    """A target or actual value read from free text; `text` is the normalised input."""

    kind: str
    comparator: str = ""
    number: Decimal | None = None
    unit: str = ""
    date_value: DateValue | None = None
    text: str = ""

    @property
    def is_number(self) -> bool:
        """True for a numeric value (with or without unit)."""
        return self.kind == KIND_NUMBER

    @property
    def is_date(self) -> bool:
        """True for a date or deadline."""
        return self.kind == KIND_DATE

    @property
    def is_quantitative(self) -> bool:
        """True when the value can be compared automatically (number or date)."""
        return self.kind in (KIND_NUMBER, KIND_DATE)


# Cells that mean "nothing written" in the seed files.
_PLACEHOLDERS = {"", "/", "-", "--", "—", "——", "–", "\\", "、", "…", "……", "n/a", "N/A"}

# Symbols first: after NFKC, full-width "＞＝" is already ">=", but "≥"/"≧" are not folded.
_SYMBOL_REPLACEMENTS = (
    ("≥", ">="),
    ("≧", ">="),
    ("⩾", ">="),
    ("≤", "<="),
    ("≦", "<="),
    ("⩽", "<="),
    ("=>", ">="),
    ("=<", "<="),
    ("==", "="),
    ("〉", ">"),
    ("〈", "<"),
)

# Longest first so that "大于等于" wins over "大于".
_PREFIX_WORDS = (
    ("大于或等于", ">="),
    ("大于等于", ">="),
    ("高于或等于", ">="),
    ("高于等于", ">="),
    ("小于或等于", "<="),
    ("小于等于", "<="),
    ("低于或等于", "<="),
    ("低于等于", "<="),
    ("达到或超过", ">="),
    ("不得低于", ">="),
    ("不得少于", ">="),
    ("不得小于", ">="),
    ("不低于", ">="),
    ("不少于", ">="),
    ("不小于", ">="),
    ("至少", ">="),
    ("达到", ">="),
    ("不得高于", "<="),
    ("不得超过", "<="),
    ("不得大于", "<="),
    ("不得多于", "<="),
    ("不高于", "<="),
    ("不超过", "<="),
    ("不大于", "<="),
    ("不多于", "<="),
    ("至多", "<="),
    ("最多", "<="),
    ("大于", ">"),
    ("高于", ">"),
    ("超过", ">"),
    ("多于", ">"),
    ("小于", "<"),
    ("低于", "<"),
    ("少于", "<"),
    ("等于", "="),
    ("约", ""),
)

_SUFFIX_WORDS = (
    ("及以上", ">="),
    ("以上", ">="),
    ("及以下", "<="),
    ("以下", "<="),
    ("以内", "<="),
    ("之内", "<="),
    ("之前", "<="),
    ("以前", "<="),
    ("前", "<="),
    ("内", "<="),
    ("左右", "="),
)

# "(含)" says the bound itself counts: "95%（含）以上", "95%以上（含95%）", "95%(含本数)以上".
# "以上"/"以下" already include it on these forms, so the note is dropped before parsing.
_INCLUSIVE_RE = re.compile(r"\(含[^()]{0,12}\)|含(?=以上$|以下$)")

_NUMBER_RE = re.compile(r"^(-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)")
# A unit is short (longer text after a number is a sentence) and made of letters, CJK, %, ‰ or "/" (万元/套); "m2" comes from NFKC of ㎡.
_UNIT_RE = re.compile(r"^[A-Za-z\u4e00-\u9fff%‰/·]{0,8}[23]?$")
_MAX_INTEGER_DIGITS = 15

_YEAR_MIN, _YEAR_MAX = 1900, 2100
_FULL_DATE_RE = re.compile(
    r"^(?:(?P<year>\d{4})年)?(?P<month>\d{1,2})月(?:份)?"
    r"(?:(?P<day>\d{1,2})[日号]|底|末|份|上旬|中旬|下旬)?$"
)
# The day is required so that a decimal such as "2021.5" is not read as a date.
_ISO_DATE_RE = re.compile(r"^(?P<year>\d{4})[-./](?P<month>\d{1,2})[-./](?P<day>\d{1,2})$")
_YEAR_ONLY_RE = re.compile(r"^(?P<year>\d{4})年(?P<end>底|末|度|内)?$")
_YEAR_END_WORDS = {"年底": 12, "年末": 12, "年内": 12, "全年": 12, "上半年": 6, "年中": 6}
_RANGE_SPLIT_RE = re.compile(r"[-~—–至到]")


def normalise_text(text: object) -> str:
    """Fold full-width characters, comparator symbols and all whitespace."""
    if text is None:
        return ""
    s = unicodedata.normalize("NFKC", str(text))
    for old, new in _SYMBOL_REPLACEMENTS:
        s = s.replace(old, new)
    # Spaces inside a value ("> = 95 %") carry no meaning on these forms.
    return "".join(s.split())


def parse_value(text: object) -> ParsedValue:
    """Parse a target/actual cell; never raises, falls back to qualitative."""
    try:
        return _parse(text)
    except Exception:  # noqa: BLE001 - robustness is the contract: any text must parse to something
        return ParsedValue(kind=KIND_QUALITATIVE, text=str(text) if text is not None else "")


def db_fields(
    text: object, *, max_digits: int = 20, decimal_places: int = 6
) -> tuple[str, Decimal | None, str]:
    """Return (comparator, number, unit) sized for the model's CharField/DecimalField columns."""
    parsed = parse_value(text)
    comparator = parsed.comparator[:COMPARATOR_MAX_LENGTH]
    if parsed.kind != KIND_NUMBER or parsed.number is None:
        return comparator, None, ""
    number = parsed.number
    if number.as_tuple().exponent < -decimal_places:  # type: ignore[operator]
        number = number.quantize(Decimal(1).scaleb(-decimal_places), rounding=ROUND_HALF_UP)
    if number.adjusted() >= max_digits - decimal_places:
        # Too large for the column: keep the text, drop the number.
        return comparator, None, parsed.unit[:UNIT_MAX_LENGTH]
    return comparator, number, parsed.unit[:UNIT_MAX_LENGTH]


def compare_dates(a: DateValue, b: DateValue) -> int | None:
    """Compare two dates on the parts both state: -1, 0, 1, or None if nothing is shared."""
    shared = False
    # A year missing on one side is skipped (forms often omit it); month and day are compared
    # only as far as both sides state them, so "12月" and "12月15日" compare equal.
    pairs = [(a[0], b[0])] if a[0] is not None and b[0] is not None else []
    for x, y in (*pairs, (a[1], b[1]), (a[2], b[2])):
        if x is None or y is None:
            break
        shared = True
        if x != y:
            return -1 if x < y else 1
    return 0 if shared else None


def unit_factor(target_unit: str, actual_unit: str) -> Decimal | None:
    """Factor that converts an actual in `actual_unit` into `target_unit`, or None if incompatible."""
    if not target_unit or not actual_unit:
        # "=1600户" vs "1600": the unit is implied by the target.
        return Decimal(1)
    if target_unit == actual_unit:
        return Decimal(1)
    t_scale, t_base = _split_scale(target_unit)
    a_scale, a_base = _split_scale(actual_unit)
    if t_base == a_base or not t_base or not a_base:
        return a_scale / t_scale
    return None


_UNIT_SYNONYMS = {"日": "天", "个月": "月", "小时": "时", "平米": "平方米", "m2": "平方米"}


def _split_scale(unit: str) -> tuple[Decimal, str]:
    """Split a Chinese magnitude prefix off a unit: "万元" -> (10000, "元")."""
    scale = Decimal(1)
    if unit.startswith("亿"):
        scale, unit = Decimal(100_000_000), unit[1:]
    elif unit.startswith("万"):
        scale, unit = Decimal(10_000), unit[1:]
    return scale, _UNIT_SYNONYMS.get(unit, unit)


def _parse(text: object) -> ParsedValue:
    s = normalise_text(text)
    if s in _PLACEHOLDERS:
        return ParsedValue(kind=KIND_EMPTY, text=s)
    body = _INCLUSIVE_RE.sub("", s.rstrip("。.;；,，"))
    comparator, body = _strip_comparator(body)
    date_value = _parse_date(body)
    if date_value is not None:
        return ParsedValue(kind=KIND_DATE, comparator=comparator, date_value=date_value, text=s)
    number, unit = _parse_number(body)
    if number is not None:
        return ParsedValue(
            kind=KIND_NUMBER, comparator=comparator, number=number, unit=unit, text=s
        )
    return ParsedValue(kind=KIND_QUALITATIVE, text=s)


def _strip_comparator(s: str) -> tuple[str, str]:
    """Remove a leading symbol/word and a trailing word comparator; an explicit symbol wins."""
    symbol = ""
    for op in COMPARATORS:
        if s.startswith(op):
            symbol, s = op, s[len(op) :]
            break
    word = ""
    for prefix, op in _PREFIX_WORDS:
        if s.startswith(prefix) and len(s) > len(prefix):
            word, s = op, s[len(prefix) :]
            break
    if not symbol:
        # "不低于>=95%" is unlikely, but a symbol after a word must not stay in the number.
        for op in COMPARATORS:
            if s.startswith(op):
                symbol, s = op, s[len(op) :]
                break
    suffix = ""
    # "年内" is a date on its own; only strip a suffix from text that is not already one.
    if _parse_date(s) is None:
        for ending, op in _SUFFIX_WORDS:
            if s.endswith(ending) and len(s) > len(ending):
                suffix, s = op, s[: -len(ending)]
                break
    return symbol or word or suffix, s


def _parse_number(s: str) -> tuple[Decimal | None, str]:
    m = _NUMBER_RE.match(s)
    if not m:
        return None, ""
    digits = m.group(1).replace(",", "")
    if len(digits.split(".")[0].lstrip("-")) > _MAX_INTEGER_DIGITS:
        return None, ""
    unit = s[m.end() :]
    if len(unit) >= 2 and unit[0] == "(" and unit[-1] == ")":
        unit = unit[1:-1]
    if not _UNIT_RE.match(unit) or len(unit) > UNIT_MAX_LENGTH:
        return None, ""
    try:
        return Decimal(digits), unit
    except InvalidOperation:
        return None, ""


def _parse_date(s: str) -> DateValue | None:
    if s in _YEAR_END_WORDS:
        return (None, _YEAR_END_WORDS[s], None)
    single = _parse_single_date(s)
    if single is not None:
        return single
    # A range ("2021年1月-12月", "1-12月", "1月至8月") is judged by its end.
    parts = _RANGE_SPLIT_RE.split(s)
    if len(parts) != 2 or not parts[0] or not parts[1]:
        return None
    start = _parse_single_date(parts[0])
    if start is None:
        if not (parts[0].isdigit() and 1 <= int(parts[0]) <= 12):
            return None
        start = (None, int(parts[0]), None)
    end = _parse_single_date(parts[1])
    if end is None:
        return None
    if end[0] is None and start[0] is not None:
        end = (start[0], end[1], end[2])
    return end


def _parse_single_date(s: str) -> DateValue | None:
    m = _FULL_DATE_RE.match(s) or _ISO_DATE_RE.match(s)
    if m:
        year = _year(m.group("year"))
        if m.group("year") and year is None:
            return None
        month = int(m.group("month"))
        day = int(m.group("day")) if m.group("day") else None
        if not 1 <= month <= 12 or (day is not None and not 1 <= day <= 31):
            return None
        return (year, month, day)
    m = _YEAR_ONLY_RE.match(s)
    if m:
        year = _year(m.group("year"))
        if year is None:
            return None
        return (year, 12 if m.group("end") in ("底", "末") else None, None)
    for word, month in _YEAR_END_WORDS.items():
        if s.endswith(word) and _year(s[: -len(word)].rstrip("年")) is not None:
            return (_year(s[: -len(word)].rstrip("年")), month, None)
    return None


def _year(text: str | None) -> int | None:
    if not text or not text.isdigit() or len(text) != 4:
        return None
    year = int(text)
    return year if _YEAR_MIN <= year <= _YEAR_MAX else None


# --- numbers typed into a number field (分值, 得分, amounts in 万元) -----------------------

# The units a number field may carry after its digits, longest first; each is the field's
# own unit, so stripping it changes nothing ("10分" in a 分值 field is 10).
POINTS_UNITS = ("分",)
MONEY_UNITS = ("万元", "万")

NUMBER_OK = ""
NUMBER_NOT_A_NUMBER = "not_a_number"  # "十分", "约10", "1,00"
NUMBER_OTHER_UNIT = "other_unit"  # a unit that is not the field's own: "95000元" for 万元

# Digits with optional thousands separators in groups of three, and a decimal part. A
# Chinese full stop between digits ("9。5") is an input method's decimal point.
_TYPED_NUMBER_RE = re.compile(
    r"^(?P<sign>[+-]?)(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:[.。](?P<frac>\d+))?(?P<unit>.*)$",
    re.ASCII,  # digits 0-9 only (full-width ones are folded first); no other scripts' digits
)
# What a typed unit may look like (to tell "95000元" from "十分" in the message).
_TYPED_UNIT_RE = re.compile(r"^[%‰A-Za-z\u4e00-\u9fff/()]{1,6}$")


@dataclass(frozen=True)
class NumberReading:
    """A number field's text as read: the number, and what was understood or why not.

    ``number`` is None for a blank field and for text that is not a number (``ok`` then
    tells them apart). ``understood`` is the plain number when the text was not already
    one ("10分" → "10", "１２３．５" → "123.5"), so the page can say how it was read.
    """

    text: str
    number: Decimal | None = None
    ok: bool = True
    understood: str = ""
    problem: str = NUMBER_OK
    unit: str = ""  # the unit found, for the message of NUMBER_OTHER_UNIT

    @property
    def is_blank(self) -> bool:
        """True for a field left empty (or holding only a dash or its unit)."""
        return self.ok and self.number is None


def read_number(text: object, *, units: tuple[str, ...] = ()) -> NumberReading:
    """Read what was typed into a number field leniently, but only where it is unambiguous.

    Accepted: surrounding spaces (also full-width), full-width digits and punctuation,
    thousands separators in groups of three ("1,000", "1，000"), a Chinese full stop as the
    decimal point between digits, and one of ``units`` after the number (the field's own
    unit). Blank, a dash or the unit alone read as blank. Anything else is refused with a
    reason (``problem``); nothing is guessed. Never raises.
    """
    raw = "" if text is None else str(text)
    try:
        return _read_number(raw, units)
    except Exception:  # noqa: BLE001 - a number field's text must never crash a page
        return NumberReading(text=raw, ok=False, problem=NUMBER_NOT_A_NUMBER)


def _read_number(raw: str, units: tuple[str, ...]) -> NumberReading:
    s = unicodedata.normalize("NFKC", raw).strip()
    if s in _PLACEHOLDERS or s in units:
        return NumberReading(text=raw)
    m = _TYPED_NUMBER_RE.match(s)
    if not m:
        return NumberReading(text=raw, ok=False, problem=NUMBER_NOT_A_NUMBER)
    unit = m.group("unit").strip()
    if unit and unit not in units:
        problem = NUMBER_OTHER_UNIT if _TYPED_UNIT_RE.match(unit) else NUMBER_NOT_A_NUMBER
        return NumberReading(text=raw, ok=False, problem=problem, unit=unit)
    digits = m.group("int").replace(",", "")
    if len(digits) > _MAX_INTEGER_DIGITS:
        return NumberReading(text=raw, ok=False, problem=NUMBER_NOT_A_NUMBER)
    plain = m.group("sign").replace("+", "") + digits
    if m.group("frac") is not None:
        plain += "." + m.group("frac")
    number = Decimal(plain)
    # Only say how the text was read when it was not already the plain number.
    understood = plain if plain != raw.strip() else ""
    return NumberReading(text=raw, number=number, understood=understood, unit=unit)
