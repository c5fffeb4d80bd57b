"""Split an article into argument units following ``CODEBOOK.md`` section 1.

The work happens in three layers, each general rather than tuned to any one article:

1. **Lines.** A unit never crosses a line break, so the text is cut into lines first. Whole lines
   of page furniture (site names, section labels, bylines, datelines, share and navigation lines,
   copyright notices) and bare titles are dropped here; a leading metadata prefix such as
   ``date 2011-11-18`` is skipped.
2. **Sentences.** A statistical splitter proposes sentence boundaries inside each line. Two are
   available: ``blingfire`` (the default, fast) and ``pysbd`` (rule-based, slower).
3. **Repairs.** Proposed boundaries that the codebook forbids are undone: after abbreviations and
   initials, inside an open quotation or bracket, before a bracketed sentence (which stays with
   the sentence before it), before a lower-case continuation. Sentences that are platform notices
   are dropped.

Offsets always index the text exactly as given, so ``text[start:end] == unit.text``. This module
is pure Python and never imports torch.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tqdm.auto import tqdm

from .schema import Unit, atomic_write
from .sources import SourceError, iter_articles

Span = tuple[int, int]
SPLITTERS = ("blingfire", "pysbd")

# --- layer 1: lines ------------------------------------------------------------------------------

# Navigation, promotion and sharing lines. Matched against the whole line, case-insensitively,
# after trailing punctuation such as ":" or "»" is ignored.
_NAV_LINE = re.compile(
    r"""^(?:
        go\ to\ homepage|before\ you\ go|popular\ in\ the\ community|read\ more|continue\ reading
      | (?:share|email|print|tweet|like|save|copy\ link|share\ (?:this|on\ \w+|via\ \w+|article|story))
        (?:\s*[|/·•]\s*(?:share|email|print|tweet|like|save|facebook|twitter|linkedin|reddit|copy\ link))*
      | advertisement|sponsored(?:\ content)?|promoted|supported\ by
      | comments?(?:\s*\(\d+\))?|(?:\d+|no)\s+comments?|view\ comments|show\ comments|leave\ a\ (?:comment|reply)
      | cancel\ reply|\(?\s*log\ (?:in|out)(?:\s*/\s*change\s*\)?)?
      | subscribe\b.*|sign\ up\b.*|join\ (?:the\ conversation|us)\b.*|follow\ (?:us|me)\b.*
      | follow\ (?:the|our)\ (?:[\w-]+\ ){0,3}on\ (?:twitter|facebook|instagram|linkedin|threads|bluesky)
        (?:\s+(?:@[\w.]+|and|or|&|twitter|facebook|instagram|linkedin|threads|bluesky))*
      | (?:get\ )?(?:our|the)\ (?:daily|weekly|morning|evening)?\s*(?:newsletter|briefing)\b.*
      | (?:get|receive|sign\ up\ for|subscribe\ to)\ (?:our|the)\ (?:[\w-]+\ ){0,3}(?:newsletter|briefing)s?
      | (?:more\ from|most\ (?:read|popular)|trending|recommended|top\ stories|you\ may\ also\ like|around\ the\ web)\b.*
      | skip\ to\ (?:main\ )?content|(?:[▲↑^]\s*)?(?:back|return)\ to\ top|menu|search|home|loading\.*|close
      | (?:«\s*)?(?:previous|next|older|newer)\ (?:post|article|story|page|entry)\b.*
      | like\ this:?.*|\d+\ (?:bloggers?|people)\ like\ this\.?
      | (?:to\ the\ editor|dear\ editor|dear\ sirs?(?:\ or\ madam)?|letters?\ to\ the\ editor)
      | (?:opinion|commentary|editorial|letters?|blogs?|op-ed)(?:\s*[|/:»>-]\s*\w+(?:\s\w+)?)?
    )[\s:.»>|]*$""",
    re.IGNORECASE | re.VERBOSE,
)
# Lines that start like furniture, whatever follows: "Related: ...", "Photo: ...", "Tags: ...".
_NAV_PREFIX = re.compile(
    r"^(?:related|read\ more|see\ also|also\ read|recommended|more|tags?|topics?|filed\ under|categories|"
    r"photo|image|credit|photo\ credit|image\ credit|caption|source|editor'?s\ note|click\ here|"
    r"copyright|all\ rights\ reserved|©|\(c\)\s*\d{4})\b\s*[:©]?"
    r"|^\d+\s+(?:responses?|comments?|replies|thoughts)\s+(?:to|on)\b"
    r"|^(?:a|an|the|our)\s+(?:[\w'’-]+\s+){0,2}(?:blog|newsletter|podcast|column|magazine|website|site)\s+"
    r"(?:about|on|for|from|of|by|covering)\b"
    r"|^special\ to\ (?:the\ )?[A-Z]"
    r"|^re:\s|^re\s+[\"“'‘]"  # a letter's reference to the article it answers: 'Re: ...', 'Re "Headline," ...'
    r"|^share(?:\ (?:this|on|via)\b[\w\ ]*)?\s*:",
    re.IGNORECASE | re.VERBOSE,
)
_BYLINE = re.compile(
    r"^(?i:by|written\ by|posted\ by|words\ by)\s+(?:the\s+)?[A-Z][\w.'’-]*(?:\s+[\w.'’\"“”&-]+){0,6}"
    r"(?:\s*[,|–—-]\s*[^.!?]{0,80})?$",
    re.VERBOSE,
)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATE = rf"(?:\d{{4}}-\d{{2}}-\d{{2}}(?:[T ]\d{{1,2}}:\d{{2}}(?::\d{{2}})?Z?)?|\d{{1,2}}/\d{{1,2}}/\d{{2,4}}|{_MONTH}\s+\d{{1,2}},?\s+\d{{4}}|\d{{1,2}}\s+{_MONTH}\s+\d{{4}})"
# A line that is only a date or a "Posted/Updated ..." stamp, with an optional time.
_DATELINE = re.compile(
    rf"^(?:(?:posted|published|updated|last\ updated|last\ modified|modified|date|dated|first\ published)\b[\s:]*(?:on\s+)?)?"
    rf"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s+)?"
    rf"(?:{_DATE})?(?:,?\s+(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\b)?[\s,|at]*(?:\d{{1,2}}(?::\d{{2}})?\s*(?:a\.m\.|p\.m\.|am|pm)?(?:\s*[A-Z]{{2,4}})?)?\s*\.?$",
    re.IGNORECASE | re.VERBOSE,
)
# A metadata prefix at the start of a line that goes on with body text: "date 2011-11-18 On ...".
_META_PREFIX = re.compile(
    rf"^\s*(?:date|posted|published|updated)\s*:?\s*{_DATE}\s+", re.IGNORECASE | re.VERBOSE
)
# The place line under a letter's signature: "Hustleville, Ala." or "Reno, NV".
_SIGNOFF_PLACE = re.compile(
    r"^[A-Z][\w.'’ -]{1,40},\s*(?:[A-Z][a-z]{1,5}\.|[A-Z]{2})$"
    rf"|^[A-Z][\w.'’ -]{{1,30}},\s*(?i:{_MONTH})\s+\d{{1,2}}$"  # a letter's place and date: "Port Adair, Jan. 17"
)
# A signature under a letter: "— Angela Reyes, Linwood"
_NAME = r"[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){1,3}"
_SIGNATURE = re.compile(
    rf"^[—–-]{{1,2}}\s*{_NAME}(?:,\s*[^.!?]{{1,50}})?$"  # "— Angela Reyes, Linwood"
    rf"|^{_NAME},\s*[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*){{0,3}}(?:,\s*(?:[A-Z]{{2}}|[A-Z][a-z]{{1,5}}\.))?$"  # "Ruth A. Delacroix, Carver Springs[, NV]"
)
# Separators between the pieces of a furniture line: "Published ... | Updated ...".
_PIECES = re.compile(r"\s+[|·•«»/›>]\s+|\s+[—–]\s+|\s{3,}")
# A section tag and a colon in front of a headline: "Letter: Sanctuary vote was a slap in the face".
# When more than three words follow the tag and they are not furniture or a bare-title pattern, the
# whole line is a unit (tag included, as the corpus's hand segmentation does), as an untagged line of
# that length would be; "Letter: Detainers" goes.
_TAG_PREFIX = re.compile(
    r"^\s*(?:letters?(?:\ to\ the\ editor)?|opinion|editorial|commentary|op-ed|column|guest\ column|"
    r"viewpoint|my\ turn|your\ turn|readers?\ respond)\s*:\s+(?=\S)",  # ":" only: "OPINION | Courts" is a section
    re.IGNORECASE | re.VERBOSE,
)
# Markdown block markers that belong to the format, not the sentence.
_MARKDOWN_PREFIX = re.compile(r"^\s*(?:#{1,6}\s+|>\s*|[-*+]\s+(?=\S))")
# A bare title names a topic or a piece rather than making a claim.
_BARE_TITLE = re.compile(
    r"^(?:(?:a|an|the|my|our|some|open)\s+)?(?:letter|letters|note|notes|thoughts|reflections|questions|"
    r"dispatch|report|memo|primer|q&a|faq|reader\s+mail|mailbag|update)\b"
    r"|^(?:on|about|re|regarding|concerning)\b[\s:]"
    # Titles that announce the piece rather than argue: "What I Saw at the Jail", "What the Bible
    # Says About Per-Diem Rates". ("Why ..." titles announce reasons, i.e. a claim: they stay.)
    r"|^(?:what|how|where|when)\s+(?:[\w'’-]+\s+){1,3}(?:saw|learned|heard|found|told|did|knew|taught|"
    r"discovered|noticed|wrote|asked)\b"
    r"|^an?\s+(?:[\w-]+\s+){0,2}(?:look|guide|primer|review|walk-through|tour)\s+(?:at|of|through)\b"
    r"|^an?\s+(?=[^:]*$)[\w-]+(?:'s|’s)\s"  # "A Dairyman's Two Cents on ...", "A Farmer's View"
    r"|^what\s+.+\s+(?:says?|said|teaches|tells\s+us|means)\s+about\b"
    # A title that introduces its author rather than a claim: "A Dairy Farmer Weighs In on ...",
    # "A Police Chief's Two Minds on ...".
    r"|^an?\s+(?=[^:]*$)(?:[\w-]+\s+){0,2}(?:farmer|chief|sheriff|mayor|pastor|priest|rabbi|teacher|nurse|doctor|"
    r"veteran|mother|father|daughter|son|widow|resident|immigrant|officer|deputy|judge|lawyer|prosecutor|"
    r"economist|legislator|senator|commissioner|voter|citizen|parent|worker|owner|student|taxpayer|"
    r"advocate|reader|neighbor|neighbour)(?:'s|’s)?\b",
    re.IGNORECASE,
)
_TERMINAL = ".!?…"
_CLOSERS = "\"'”’)]»"


def _words(s: str) -> int:
    return len(s.split())


def _has_terminal_punctuation(line: str) -> bool:
    return line.rstrip(_CLOSERS + " ")[-1:] in _TERMINAL + ":;"


# The name of a publication or an organisation, as a masthead line: ends in what it is.
_PUBLICATION = re.compile(
    r"\b(?:times|tribune|dispatch|news|journal|herald|gazette|courier|chronicle|register|press|media|daily|"
    r"weekly|monitor|observer|examiner|inquirer|bulletin|ledger|sentinel|standard|reporter|institute|center|"
    r"centre|foundation|council|blog|magazine|digest|wire|review|quarterly|online|network)\.?$"
    r"|^(?:the\s+)?(?:[\w'’-]+\s+){0,3}(?:institute|center|centre|foundation|council|office|project)\s+(?:for|of|on)\b",
    re.IGNORECASE,
)
# A piece of a masthead line that names the kind of publication: "a blog from Avondale".
_MASTHEAD_PIECE = re.compile(
    r"^(?=(?:\S+\s+){0,6}\S+$).*\b(?:blog|column|newsletter|podcast|magazine|website|journal|opinion|"
    r"commentary|editorials?|op-eds?|notes|diary|dispatches)\b",
    re.IGNORECASE,
)


# Short calls to action: "Submit a letter to the editor", "Download the full brief (PDF, 1.1 MB)".
_CALL_TO_ACTION = re.compile(
    r"^(?:submit|download|subscribe|watch|listen|view|click|tap|follow|sign\s+up|print|email|share|read|"
    r"support|donate|contact)\b", re.IGNORECASE)
_STAMP = re.compile(r"^(?:posted|published|updated|last\ updated|last\ modified|first\ published)\b(?=.*\d)",
                    re.IGNORECASE)


def _is_furniture(s: str) -> bool:
    if _STAMP.match(s) and _words(s) <= 14:
        return True  # "Published 7:02 a.m. CT July 14, 2015"
    if _CALL_TO_ACTION.match(s) and _words(s) <= 8 and not _has_terminal_punctuation(s):
        return True
    return bool(_NAV_LINE.match(s) or _NAV_PREFIX.match(s) or _DATELINE.match(s) or _BYLINE.match(s))


def is_boilerplate_line(line: str) -> bool:
    """True for a line of page furniture or a bare title, which is not an argument unit."""
    s = line.strip().strip("*_").strip()
    if not s:
        return True
    if _is_furniture(s) or _SIGNOFF_PLACE.match(s) or _SIGNATURE.match(s):
        return True
    pieces = [p.strip() for p in _PIECES.split(s) if p.strip()]
    if len(pieces) > 1 and all(_is_furniture(p) or _words(p) <= 3 for p in pieces):
        return True  # "Published June 2, 2012 | Updated 6:40 p.m.", "« Previous post | Next post »"
    if _has_terminal_punctuation(s):
        # Datelines such as "Updated 4:15 p.m." end in a full stop; _DATELINE caught them above.
        return False
    # Headline-like lines: site names and section labels are short ("OPINION | GUEST COLUMN",
    # "Valley Voices — Community Blog"); so are bare titles.
    if len(pieces) > 1 and any(_MASTHEAD_PIECE.match(p) or _BARE_TITLE.match(p) for p in pieces):
        return True  # "THE SALT RIVER SKILLET — Notes from a Phoenix kitchen"
    if _words(s) <= 6 and _PUBLICATION.search(s):
        return True  # "The Pinal Valley Dispatch", "Gulf South Policy Institute"
    return all(_words(p) <= 3 for p in pieces) or bool(_BARE_TITLE.match(s))


# --- layer 2: sentence splitters -----------------------------------------------------------------


def _blingfire_spans(text: str) -> list[Span]:
    import blingfire

    _, offsets = blingfire.text_to_sentences_and_offsets(text)
    return list(offsets)


@lru_cache(maxsize=1)
def _pysbd_segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def _pysbd_spans(text: str) -> list[Span]:
    return [(s.start, s.end) for s in _pysbd_segmenter().segment(text)]


def _splitter(name: str) -> Callable[[str], list[Span]]:
    if name == "blingfire":
        return _blingfire_spans
    if name == "pysbd":
        return _pysbd_spans
    raise ValueError(f"unknown sentence splitter {name!r}; choose one of {', '.join(SPLITTERS)}")


# --- layer 3: repairs ----------------------------------------------------------------------------

# Abbreviations that never end a sentence: titles and words that always precede a name or number.
_ALWAYS_ABBREV = frozenset(
    "mr mrs ms mx dr prof gov lt gen col maj capt cpt sgt cpl det insp supt rep reps sen sens atty "
    "rev hon pres sec secy dept no nos vol art ch fig pp st ste mt ft vs v cf approx est".split()
)
# Abbreviations that can end a sentence; they only continue one when a lower-case word or a number
# follows ("the U.S. program", "Maricopa Co. sheriff").
_MAYBE_ABBREV = frozenset(
    "u.s u.s.a u.k u.n d.c e.g i.e etc inc co corp ltd llc jr sr bros a.m p.m a.d b.c ph.d "
    "jan feb mar apr jun jul aug sep sept oct nov dec ave blvd rd hwy dist assn univ "
    # US state abbreviations in AP style
    "ala ariz ark calif colo conn del fla ga ill ind kan kans ky la md mass mich minn miss mo mont neb "
    "nev n.h n.j n.m n.y n.c n.d okla ore pa r.i s.c s.d tenn tex va vt wash wis wyo".split()
)
_LAST_TOKEN = re.compile(r"([A-Za-z][A-Za-z.]*)\.[\"'”’)]*$")
_INITIAL = re.compile(r"(?:^|[\s(“\"])([A-Z])\.$")
_NOTICE = re.compile(
    r"this (?:post|article|story|piece|essay) (?:was|is|has been|originally) "
    r"(?:\w+ )?(?:published|appeared|posted|adapted|republished|cross-?posted)"
    r"|^this (?:commentary|post|article|essay|piece|op-ed|column|editorial) (?:is|was) (?:part|one) of"
    r"|contributors control their own work|flag this entry as abusive|send us an email"
    r"|the views expressed (?:here|in this)|do not necessarily (?:reflect|represent) the views"
    r"|all rights reserved|this material may not be published|^©|^copyright\b"
    r"|^this (?:copyrighted )?(?:material|article|content|story) may not be (?:re-?)?"
    r"(?:published|reproduced|redistributed|broadcast)\b.*without (?:\w+ )?permission"
    r"|^you are commenting using your|^fill in your details below|^notify me of (?:new|follow-?up)"
    r"|^reader comments (?:posted|submitted) to this|^comments (?:are|have been) closed\W*$"
    r"|letters? (?:may|will|are) be edited|^send (?:yours|your letters?|letters)\b"
    r"|[\w.+-]+@[\w-]+\.[a-z]{2,}",  # a contact line: an e-mail address
    re.IGNORECASE,
)


# Single quotes double as apostrophes ("don't", "workers' rights", "the '90s"), so only a quote
# mark at the start of a word opens a quotation, and only one after a word and before a space,
# punctuation or the end closes it; a mark between two letters is an apostrophe.
_SINGLE_OPEN = re.compile(r"(?:^|(?<=[\s(\[“\"—–-]))['‘](?=[^\W\d])(?!(?:em|til|cause|n)['’]?\b)", re.IGNORECASE)
_SINGLE_CLOSE = re.compile(r"(?<=[\w.,!?;:…])['’](?=\s|$|[.,!?;:)\]”\"—–-])")


def _unbalanced(s: str) -> bool:
    """True when ``s`` leaves a quotation or a bracket open."""
    if s.count("“") > s.count("”"):
        return True
    # Straight double quotes pair up; an odd count leaves one open.
    if s.count('"') % 2 == 1:
        return True
    if len(_SINGLE_OPEN.findall(s)) > len(_SINGLE_CLOSE.findall(s)):
        return True
    return s.count("(") > s.count(")") or s.count("[") > s.count("]")


def _ends_with_abbreviation(prev: str, nxt: str) -> bool:
    m = _LAST_TOKEN.search(prev)
    if not m:
        return False
    token = m.group(1).lower()
    first = nxt[:1]
    if token in _ALWAYS_ABBREV:
        return True
    continues = first.islower() or first.isdigit() or first in "$%(-–—,;"
    if token in _MAYBE_ABBREV:
        return continues
    # Initials: "John F. Kennedy", "J. Smith"; a lone capital before a capitalised word.
    if _INITIAL.search(prev.rstrip("\"'”’)")) and (first.isupper() or first.isdigit()):
        return True
    # Dotted acronyms of any kind ("N.Y.P.D.") continue before lower case.
    return "." in token and continues


_SPEECH_VERBS = (r"(?:said|says|asked|asks|told|tells|added|adds|wrote|writes|explained|recalled|insisted|"
                 r"replied|argued|argues|noted|notes|warned|warns|declared|testified|answered|shouted|joked)")
# After a quotation that ends in ? or ! (or a comma), "Mr. Ruiz said ..." finishes the same sentence.
_ATTRIBUTION = re.compile(
    rf"^(?:(?:[A-Z][\w.'’-]*\s+){{1,4}}{_SPEECH_VERBS}\b|{_SPEECH_VERBS}\s+(?:[A-Z]\w*|he|she|they)\b)"
)
# A candidate sentence end the splitter may have missed: a word, sentence-final punctuation,
# closing quotes or brackets, a space and a capital ("... not the law. Sure.").
_CANDIDATE_END = re.compile(r"\b([A-Za-z]+)[.!?][\"'”’)]*(\s+)(?=[\"“(]?[A-Z])")


def _joins(prev: str, nxt: str) -> bool:
    """Whether the boundary a splitter proposed between ``prev`` and ``nxt`` is false."""
    first = nxt[:1]
    if _unbalanced(prev):
        return True
    if first in "([”’)]»":
        # A bracketed sentence stays with the one before it; a stray closer belongs to it too.
        # (A straight quote here opens a new quotation: the quotes of prev are balanced.)
        return True
    if first.islower() or first in ",;:–—-%":
        return True
    if prev.endswith(".") and prev[-2:-1].isdigit() and first.isdigit():
        return True  # a decimal: "$65.4 million"
    if prev.rstrip(_CLOSERS)[-1:] not in _TERMINAL:
        # The splitter cut somewhere other than after sentence-final punctuation.
        return True
    if prev[:1] in "“\"" and prev[-1:] in "”\"" and prev.rstrip("”\"")[-1:] in "?!," and _ATTRIBUTION.match(nxt):
        return True  # a quotation that opens the sentence, then who said it
    return _ends_with_abbreviation(prev, nxt)


def _split_missed(line: str, spans: list[Span]) -> list[Span]:
    """Split where an ordinary word ends a sentence before a capital, which statistical splitters
    sometimes miss before short sentences. Abbreviations never count ("approx. Ten", "Calif. Gov.")."""
    out: list[Span] = []
    for start, end in spans:
        for m in _CANDIDATE_END.finditer(line, start, end):
            word = m.group(1)
            if word.lower() in _ALWAYS_ABBREV | _MAYBE_ABBREV or word.isupper():
                continue  # an abbreviation or an acronym: the statistical splitter knows best
            if len(word) < (2 if word[0].islower() else 3):
                continue  # an initial ("John F. Kennedy") or a two-letter abbreviation
            out.append((start, m.start(2)))
            start = m.end(2)
        out.append((start, end))
    return out


def _repair(line: str, spans: list[Span]) -> list[Span]:
    out: list[Span] = []
    for start, end in _split_missed(line, spans):
        start, end = _trim(line, start, end)
        if start >= end:
            continue
        if out and _joins(line[out[-1][0] : out[-1][1]], line[start:end]):
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def _trim(s: str, start: int, end: int) -> Span:
    while start < end and (s[start].isspace() or s[start] == "\ufeff"):
        start += 1
    while end > start and s[end - 1].isspace():
        end -= 1
    return start, end


# --- putting it together -------------------------------------------------------------------------


def _lines(text: str) -> Iterator[Span]:
    start = 0
    for m in re.finditer(r"\r\n|\r|\n|\u2028|\u2029", text):
        yield start, m.start()
        start = m.end()
    yield start, len(text)


def segment_spans(text: str, splitter: str = "blingfire") -> list[Span]:
    """Return the ``[start, end)`` spans of the argument units of ``text``, in order."""
    split = _splitter(splitter)
    spans: list[Span] = []
    for line_start, line_end in _lines(text):
        line = text[line_start:line_end]
        tag = _TAG_PREFIX.match(line)
        headline = tag and _words(line[tag.end():]) > 3 and not is_boilerplate_line(line[tag.end():])
        if not headline and is_boilerplate_line(line):
            continue
        offset = 0
        m = _META_PREFIX.match(line) or _MARKDOWN_PREFIX.match(line)
        if m:
            offset = m.end()
        body = line[offset:]
        if not headline and is_boilerplate_line(body):
            continue
        for s, e in _repair(body, split(body)):
            sentence = body[s:e]
            if not any(c.isalpha() for c in sentence):
                continue  # a list marker or a stray number ("1.", "2)", "***") says nothing
            if _NOTICE.search(sentence) or _NAV_LINE.match(sentence):
                # Platform notices, and furniture glued to the end of a paragraph ("... Read More").
                continue
            spans.append((line_start + offset + s, line_start + offset + e))
    return spans


def segment_document(doc_id: str, text: str, splitter: str = "blingfire") -> list[Unit]:
    """Segment one article into codebook units with ids ``doc_id:0``, ``doc_id:1``, ..."""
    return [
        Unit(doc_id=doc_id, unit_id=f"{doc_id}:{i}", start=s, end=e, text=text[s:e])
        for i, (s, e) in enumerate(segment_spans(text, splitter))
    ]


@dataclass
class SegmentSummary:
    articles: int = 0
    units: int = 0
    errors: int = 0


def segment_inputs(
    inputs: Iterable[Path],
    out: Path,
    *,
    splitter: str = "blingfire",
    id_field: str | None = None,
    text_field: str = "text",
    on_error: Callable[[SourceError], None] = lambda e: None,
) -> SegmentSummary:
    """Segment every article of ``inputs`` into ``out`` (JSONL), streaming, written atomically."""
    summary = SegmentSummary()
    with atomic_write(out) as f:
        items = iter_articles(inputs, id_field=id_field, text_field=text_field)
        for item in tqdm(items, desc="segmenting", unit=" articles", disable=None, leave=False):
            if isinstance(item, SourceError):
                summary.errors += 1
                on_error(item)
                continue
            units = segment_document(item.doc_id, item.text, splitter)
            for unit in units:
                f.write(unit.model_dump_json() + "\n")
            summary.articles += 1
            summary.units += len(units)
    return summary
