"""Regular-expression detectors for identifiers that have a shape: emails, UK phone
numbers, postcodes, NHS and National Insurance numbers, dates, ages, street addresses
and a few senior job titles.

Each detector takes one text and returns `(start, end, category)` spans, end exclusive,
category a `study.model.Category` value. They aim at precision as much as recall, since
every false find is one more item in the researcher's review list: bare numbers, weekdays
and words like "yesterday" are never dates, and numbers with a checksum must pass it.

Limits of the ROLE rule: it knows a short list of posts there are usually only one of in
a service ("head of safeguarding", "director of children's services", "team manager",
"designated safeguarding lead", "headteacher", ...), and flags them wherever they occur,
even when a participant speaks of the role in general ("every team manager I've had").
Identifying descriptions that are not titles ("the only Polish-speaking social worker in
the team") are beyond any rule; the researcher has to spot and register those.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from study.model import Category

Span = tuple[int, int, str]

# --- emails ---------------------------------------------------------------------------------

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b")
# As a recogniser writes one down when it is read aloud: "sarah dot jones at leeds dot gov
# dot uk". The domain must end in a word that is a common top-level domain.
_SPOKEN_EMAIL = re.compile(
    r"\b(?:[A-Za-z0-9]+\s+dot\s+)*[A-Za-z0-9]+\s+at\s+(?:[A-Za-z0-9-]+\s+dot\s+)+"
    r"(?:uk|com|org|net|gov|nhs|ac|co|scot|wales|io|info)\b", re.IGNORECASE)


def emails(text: str) -> list[Span]:
    found = [(m.start(), m.end(), Category.EMAIL.value) for m in _EMAIL.finditer(text)]
    found += [(m.start(), m.end(), Category.EMAIL.value) for m in _SPOKEN_EMAIL.finditer(text)]
    return found


# --- phone numbers --------------------------------------------------------------------------

# 0 or +44 (optionally "+44 (0)") then ten digits starting 1, 2, 3 or 7 (landlines,
# non-geographic 03 lines, mobiles), grouped by single spaces, hyphens or a bracket.
_PHONE = re.compile(
    r"(?<![\w+])(?:\+44[ ]?(?:\(0\)[ ]?)?|\(0|0)[1237](?:[ \-)]{0,2}\d){9}(?![\d])")


def phones(text: str) -> list[Span]:
    return [(m.start(), m.end(), Category.PHONE.value) for m in _PHONE.finditer(text)]


# --- postcodes ------------------------------------------------------------------------------

# Full UK postcodes: outward code (area letters, district) and inward code (digit and two
# letters from the set Royal Mail uses). Capitals only, as transcripts write them.
_POSTCODE = re.compile(
    r"\b(?:GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-HJKPSTUW\d]? ?\d[ABD-HJLNP-UW-Z]{2})\b")


def postcodes(text: str) -> list[Span]:
    return [(m.start(), m.end(), Category.POSTCODE.value) for m in _POSTCODE.finditer(text)]


# --- NHS numbers ----------------------------------------------------------------------------

_NHS = re.compile(r"(?<![\d+])\d{3}([ -]?)\d{3}\1\d{4}(?!\d)")


def nhs_check_digit_ok(number: str) -> bool:
    """The NHS number's modulus 11 check: weights 10..2 on the first nine digits."""
    digits = [int(c) for c in number if c.isdigit()]
    if len(digits) != 10:
        return False
    check = 11 - sum(d * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True)) % 11
    check = 0 if check == 11 else check
    return check != 10 and check == digits[9]


def nhs_numbers(text: str) -> list[Span]:
    return [(m.start(), m.end(), Category.NHS_NUMBER.value) for m in _NHS.finditer(text)
            if nhs_check_digit_ok(m.group())]


# --- National Insurance numbers -------------------------------------------------------------

_NI = re.compile(r"\b([A-Za-z]{2}) ?(\d{2}) ?(\d{2}) ?(\d{2}) ?([A-Da-d])\b")
_NI_BAD_PREFIXES = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


def ni_number_ok(prefix: str) -> bool:
    """HMRC's prefix rules: no D, F, I, Q, U or V; no O second; seven pairs never used."""
    first, second = prefix.upper()
    return (first not in "DFIQUV" and second not in "DFIQUVO"
            and prefix.upper() not in _NI_BAD_PREFIXES)


def ni_numbers(text: str) -> list[Span]:
    return [(m.start(), m.end(), Category.NI_NUMBER.value) for m in _NI.finditer(text)
            if ni_number_ok(m.group(1))]


# --- dates ----------------------------------------------------------------------------------

_MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|"
          r"November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?")
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d\d"
_DATE_PATTERNS = (
    # 3 March, 3rd of March 2023, 3rd March, 2023
    re.compile(rf"\b{_DAY}(?:\s+of)?\s+{_MONTH}(?:,?\s+{_YEAR}(?!\d))?"),
    # March 3rd, March the 3rd 2023
    re.compile(rf"\b{_MONTH}\s+(?:the\s+)?(?:[12]\d|3[01]|0?[1-9])(?![\d:])(?:st|nd|rd|th)?"
               rf"(?:,?\s+{_YEAR}(?!\d))?\b"),
    # March 2021, March of 2021
    re.compile(rf"\b{_MONTH},?\s+(?:of\s+)?{_YEAR}(?!\d)"),
    # summer 2019, Christmas of 2020
    re.compile(rf"\b(?:spring|summer|autumn|winter|Christmas|Easter)\s+(?:of\s+)?{_YEAR}(?!\d)",
               re.IGNORECASE),
)
_NUMERIC_DATE = re.compile(r"(?<![\d/.-])(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?![\d/.-])")
_ISO_DATE = re.compile(rf"\b{_YEAR}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])\b")
# A year alone is a date only after a word that makes it one ("in 2019", "since 2016").
_YEAR_AFTER = re.compile(
    rf"\b(?:in|since|until|till|from|by|during|before|after|around|early|late|mid|of|to|"
    rf"and|between)\s+({_YEAR})(?!\d)(?!\s*(?:%|per\s?cent|people|pounds|quid|cases|"
    r"staff|families|referrals|words|miles))", re.IGNORECASE)


def dates(text: str) -> list[Span]:
    found: list[Span] = []
    for pattern in _DATE_PATTERNS:
        found += [(m.start(), m.end(), Category.DATE.value) for m in pattern.finditer(text)]
    for m in _NUMERIC_DATE.finditer(text):
        a, b = int(m.group(1)), int(m.group(3))
        if 1 <= a <= 31 and 1 <= b <= 31 and min(a, b) <= 12:
            found.append((m.start(), m.end(), Category.DATE.value))
    found += [(m.start(), m.end(), Category.DATE.value) for m in _ISO_DATE.finditer(text)]
    found += [(m.start(1), m.end(1), Category.DATE.value) for m in _YEAR_AFTER.finditer(text)]
    return found


# --- ages -----------------------------------------------------------------------------------

_UNITS = ("one|two|three|four|five|six|seven|eight|nine")
_NUMBER_WORD = (rf"(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)"
                rf"(?:[- ](?:{_UNITS}))?|ten|eleven|twelve|thirteen|fourteen|fifteen|"
                rf"sixteen|seventeen|eighteen|nineteen|{_UNITS})")
_AGE_NUMBER = rf"(?:\d{{1,3}}|{_NUMBER_WORD})"
_AGE_PATTERNS = (
    re.compile(rf"\b(?:aged|age)\s+(?:of\s+)?{_AGE_NUMBER}\b(?!\s*(?:%|to\s+\d))",
               re.IGNORECASE),
    re.compile(rf"\b{_AGE_NUMBER}(?:\s+|-)(?:years?|yrs?|months?)(?:\s+|-)old\b",
               re.IGNORECASE),
    re.compile(r"\bin\s+(?:his|her|my|their|your|our)\s+(?:early\s+|mid[- ]?|late\s+)?"
               r"(?:teens|twenties|thirties|forties|fifties|sixties|seventies|eighties|"
               r"nineties)\b", re.IGNORECASE),
)
# "she's 12", "I was 22 when ...": a person, a form of "to be", a number and then the end of
# the clause ("now", "when", a comma...). Only the number is the identifier. Anything after
# the number ("he's 6 foot", "I was 5 minutes late", "she's one of ...") rules it out.
_STATED_AGE = re.compile(
    rf"(?:\b(?:I['’]m|I\s+am|I\s+was|[Yy]ou['’]re|(?:[Hh]e|[Ss]he)(?:['’]s|\s+is|\s+was)|"
    rf"[Ww]ho(?:['’]s|\s+is|\s+was))|\b(?!(?:It|That|This|There|What|Which|Everything|"
    rf"Nothing|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b)"
    rf"[A-Z][a-z]+\s+(?:is|was))\s+(?:about\s+|only\s+|just\s+|nearly\s+|almost\s+)?"
    rf"({_AGE_NUMBER})\b(?=\s*(?:[.,;!?]|\s+now\b|\s+when\b|\s+at\s+the\s+time\b|"
    rf"\s+and\b|\s+then\b|$))")


def ages(text: str) -> list[Span]:
    found: list[Span] = []
    matches = [(m.start(), m.end(), m.group()) for p in _AGE_PATTERNS for m in p.finditer(text)]
    matches += [(m.start(1), m.end(1), m.group(1)) for m in _STATED_AGE.finditer(text)]
    for start, end, piece in matches:
        number = re.search(r"\d+", piece)
        if number is None or int(number.group()) <= 120:
            found.append((start, end, Category.AGE.value))
    return found


# --- street addresses -----------------------------------------------------------------------

_STREET_WORDS = (r"(?:Road|Rd|Street|St|Lane|Ln|Avenue|Ave|Terrace|Close|Drive|Way|Crescent|"
                 r"Grove|Place|Gardens|Court|Row|Walk|Square|Mews|Rise|Parade|Hill|View|Green|"
                 r"Park|Vale|Fold|Gate|Croft|Wharf|Boulevard|Approach|Mount)")
# Without a house number only the unmistakable street words count: "Way", "Park", "Hill"
# and the like name too many other things.
_STREET_ONLY_WORDS = (r"(?:Road|Street|Lane|Avenue|Terrace|Close|Crescent|Grove|Gardens|"
                      r"Mews|Drive)")
_NAME_WORDS = r"(?:(?!The\b|A\b|An\b|I\b)[A-Z][A-Za-z'’-]+\s+){1,3}"
_NUMBERED_ADDRESS = re.compile(
    rf"\b(?:(?:Flat|Apartment|Apt|Unit)\.?\s+\d+[A-Za-z]?,?\s+)?\d{{1,4}}[A-Za-z]?,?\s+"
    rf"{_NAME_WORDS}{_STREET_WORDS}\b")
_STREET = re.compile(rf"\b{_NAME_WORDS}{_STREET_ONLY_WORDS}\b")


def addresses(text: str) -> list[Span]:
    found = [(m.start(), m.end(), Category.ADDRESS.value)
             for m in _NUMBERED_ADDRESS.finditer(text)]
    found += [(m.start(), m.end(), Category.ADDRESS.value) for m in _STREET.finditer(text)]
    return found


# --- job roles ------------------------------------------------------------------------------

_TITLES = re.compile(
    r"\b(?:designated\s+safeguarding\s+lead|safeguarding\s+lead|team\s+manager|"
    r"service\s+manager|head\s?teacher|deputy\s+head(?:\s?teacher)?|practice\s+manager|"
    r"ward\s+manager|clinical\s+lead|principal\s+social\s+worker|chief\s+executive)\b",
    re.IGNORECASE)
# Words that end the name of a department: "head of safeguarding at ..." stops at "at".
_ROLE_STOP = ("at|for|in|who|was|is|were|with|on|from|to|there|here|she|he|they|i|we|but|so|"
              "had|has|said|says|or|then|when|because|as|if|that|this|just|about|and|it|them|"
              "all|everything|everyone|me|you|us|her|him")
_DEPARTMENT_WORD = rf"(?!(?:{_ROLE_STOP})\b)[A-Za-z0-9][\w'’&-]*"
_HEAD_OF = re.compile(
    rf"\b(?:(?:deputy|assistant)\s+)?(?:head|director)\s+of\s+(?:the\s+)?"
    rf"{_DEPARTMENT_WORD}(?:[ \t]+(?:and[ \t]+|&[ \t]+)?{_DEPARTMENT_WORD}){{0,3}}",
    re.IGNORECASE)


def roles(text: str) -> list[Span]:
    found = [(m.start(), m.end(), Category.ROLE.value) for m in _TITLES.finditer(text)]
    found += [(m.start(), m.end(), Category.ROLE.value) for m in _HEAD_OF.finditer(text)]
    return found


DETECTORS: tuple[Callable[[str], list[Span]], ...] = (
    emails, phones, postcodes, nhs_numbers, ni_numbers, dates, ages, addresses, roles)


def non_overlapping(spans: list[Span]) -> Iterator[Span]:
    """Non-overlapping spans, the longest kept when two overlap (then the earliest)."""
    taken: list[tuple[int, int]] = []
    for start, end, category in sorted(spans, key=lambda s: (s[0] - s[1], s[0])):
        if all(end <= s or start >= e for s, e in taken):
            taken.append((start, end))
            yield start, end, category


def find_all(text: str) -> list[Span]:
    """Every rule's finds in `text`, overlaps resolved (longest wins), in text order."""
    found: list[Span] = []
    for detector in DETECTORS:
        found += detector(text)
    return sorted(non_overlapping(found))
