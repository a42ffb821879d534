"""A small rule-based stand-in for the LLM: regexes, keyword tables, no model.

It catches the common first-person facts ("I live in Paris", "I'm allergic to peanuts",
"My sister Anna works at Acme") and simple third-person ones ("Alice lives in Paris").
Recall is low by design; it exists so graphmem runs with no endpoint and so tests are
deterministic. It records no LLMCall because it is not a model.

Only the user's side is read: turns whose role is "assistant" are skipped, because what the
assistant says ("Paris is a lovely base", "Madrid is a short flight") is not a fact the user
stated about themselves. Objects stop at a comma unless it is a list ("a, b and c"), and
filler words ("by the way", "too", "still", "now", ...) never become objects.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from .._models import (
    Entity,
    EntityExtraction,
    ExtractionInput,
    GraphExtraction,
    Message,
    RelationExtraction,
    ResolutionDecision,
    ResolutionRequest,
    ResolutionResult,
    Triplet,
    Usage,
    normalize_name,
)
from ..ontology.files import load_ontology
from .base import LLM

CITIES = set(
    "paris berlin london rome madrid lisbon vienna prague munich amsterdam dublin zurich barcelona "
    "tokyo beijing seoul delhi mumbai sydney toronto chicago boston seattle austin denver".split()
) | {"new york", "san francisco", "los angeles", "hong kong", "mexico city"}
COUNTRIES = set(
    "france germany spain italy portugal japan china india canada brazil mexico australia "
    "ireland england scotland netherlands switzerland austria poland sweden norway usa uk".split()
) | {"united states", "united kingdom", "south korea"}
FOODS = set(
    "peanut peanuts nut nuts shellfish shrimp fish gluten wheat dairy milk cheese egg eggs soy "
    "sesame pizza pasta sushi chocolate coffee tea bread rice meat chicken beef pork tofu "
    "strawberries apples bananas".split()
)
JOBS = set(
    "engineer developer programmer teacher doctor nurse lawyer designer student manager scientist "
    "chef cook writer artist accountant architect pilot researcher consultant analyst dentist "
    "professor journalist photographer musician farmer pharmacist electrician plumber".split()
)
KIN = (
    "sister|brother|mother|father|mom|dad|wife|husband|son|daughter|partner|friend|cousin|aunt|uncle|boss|"
    "colleague|girlfriend|boyfriend|teacher|neighbou?r|roommate|coach|doctor"
)
_KIN_ALIASES = {"mom": "mother", "dad": "father"}
#: the relations that hold one value at a time, as the built-in `personal` ontology declares them
SINGLE_VALUED = frozenset(r.name for r in load_ontology("personal").relations if r.cardinality == "one")

_NAME = r"[A-Z][\w'&-]*(?:\s+(?:(?:of|de|da|del|van|von)\s+)?[A-Z][\w'&-]*)*"
_BE = r"(?:'m|am|is|'s)"
# Up to three lower-case words, stopping before a preposition or conjunction.
_WORDS = r"[a-z][\w-]*(?:\s+(?!(?:at|for|in|with|and|but|or|from|on|since|because)\b)[a-z][\w-]*){0,2}"
_ADV = r"(?:(?:also|now|still|currently|really|just|recently|actually|finally)\s+)*"
_VERBS = r"(?:live|lives|moved|relocated|work|works|joined|like|likes|love|loves|enjoy|enjoys|hate|hates|dislike|dislikes|prefer|prefers|am|is|'m|come|comes|study|studies)"
_STOP_SUBJECTS = set(
    "the this that these those it he she we they you there here what when where why how yes no hi hello thanks our your his her their my i ok so but and i'd i'll i've".split()
)
_CUT = re.compile(r"\b(?:but|because|when|since|if|so|though|although|who|which)\b.*$")
_ARTICLE = re.compile(r"^(?:a|an|the|some|my|our)\s+", re.I)
_PRONOUNS = {"it", "them", "that", "this", "you", "him", "her", "me", "us", "everything", "nothing"}
# Words that say when or how, never what: "I love sushi, by the way", "in Berlin still".
_FILLER = r"(?:by\s+the\s+way|btw|too|as\s+well|also|now|still|these\s+days|nowadays|anyway|though|lately|again)"
_TRAILING_FILLER = re.compile(rf"(?:\s+{_FILLER})+$", re.I)
_LEADING_FILLER = re.compile(rf"^(?:{_FILLER}\s+)+", re.I)
# "Yes, Anna lives in Berlin": an interjection before the subject is not the subject.
_INTERJECTION = re.compile(
    r"^(?:(?:yes|yeah|yep|no|nope|well|oh|ok|okay|sure|right|exactly|sometimes|great(?:\s+so\s+far)?|"
    r"anyway|actually|so|hi|hello|hey|thanks)\s*[,.!:]\s*)+",
    re.I,
)
# "hiking on weekends", "Paris in the spring": a trailing prepositional phrase is not the object.
_TAIL = re.compile(r"\s+(?:on|in|at|with|during|every|after|before)\s+.*$")


def _place(name: str) -> str:
    return "Country" if normalize_name(name) in COUNTRIES else "City"


def _thing(name: str) -> str:
    key = normalize_name(name)
    if key in FOODS or key.split()[-1] in FOODS:
        return "Food"
    if key in CITIES:
        return "City"
    if key in COUNTRIES:
        return "Country"
    return "Activity" if key.endswith("ing") else "Thing"


def _role(name: str) -> str:
    return "Profession" if normalize_name(name).split()[-1] in JOBS else "Category"


# (predicate regex matched at the start of the text after the subject, relation, target type,
# whether the object may be a list "a, b and c"). `verb` groups pick the relation by verb.
_Rule = tuple[re.Pattern[str], str, Callable[[str], str], bool]
_RULES: list[_Rule] = [
    (
        re.compile(
            rf"(?:lives?|living|{_BE}\s+living|(?:have|has)\s+(?:been\s+living|lived))\s+in\s+(?:the\s+)?(?P<obj>{_NAME})"
        ),
        "lives_in",
        _place,
        False,
    ),
    (
        re.compile(rf"(?:(?:have|has)\s+)?(?:moved|relocated)\s+(?:back\s+)?to\s+(?:the\s+)?(?P<obj>{_NAME})"),
        "lives_in",
        _place,
        False,
    ),
    (
        re.compile(rf"(?:works?|{_BE}\s+working)\s+(?:at|for)\s+(?:the\s+)?(?P<obj>{_NAME})"),
        "works_at",
        lambda _: "Organization",
        False,
    ),
    (
        re.compile(rf"(?:joined|{_BE}\s+employed\s+by)\s+(?:the\s+)?(?P<obj>{_NAME})"),
        "works_at",
        lambda _: "Organization",
        False,
    ),
    (
        re.compile(rf"(?:stud(?:y|ies)|{_BE}\s+studying)\s+at\s+(?:the\s+)?(?P<obj>{_NAME})"),
        "studies_at",
        lambda _: "Organization",
        False,
    ),
    (re.compile(rf"{_BE}\s+married\s+to\s+(?P<obj>{_NAME})"), "married_to", lambda _: "Person", False),
    (re.compile(rf"(?:{_BE}\s+from|comes?\s+from)\s+(?P<obj>{_NAME})"), "comes_from", _place, False),
    (re.compile(rf"(?:{_BE}\s+(?:called|named))\s+(?P<obj>{_NAME})"), "name", lambda _: "Person", False),
    (re.compile(rf"{_BE}\s+(?P<obj>\d{{1,3}})(?:\s+years?\s+old)?$"), "age", lambda _: "Age", False),
    (
        re.compile(rf"(?:{_BE}\s+)?allergic\s+to\s+(?P<obj>.+)"),
        "allergic_to",
        lambda o: "Food" if _thing(o) == "Food" else "Substance",
        True,
    ),
    (re.compile(rf"works?\s+as\s+(?:an?\s+)?(?P<obj>{_WORDS})"), "works_as", lambda _: "Profession", False),
    (re.compile(rf"{_BE}\s+learning\s+(?:to\s+(?:play|speak)\s+)?(?!to\b)(?P<obj>.+)"), "learning", _thing, True),
    (re.compile(rf"{_BE}\s+an?\s+(?P<obj>{_WORDS})"), "is_a", _role, False),
    (re.compile(r"(?P<verb>like|love|enjoy|hate|dislike|prefer)s?\s+(?P<obj>.+)"), "", _thing, True),
]
_VERB_RELATION = {
    "like": "likes",
    "enjoy": "likes",
    "love": "loves",
    "hate": "hates",
    "dislike": "dislikes",
    "prefer": "prefers",
}

_FACTS = {
    "lives_in": "{s} lives in {o}",
    "works_at": "{s} works at {o}",
    "works_as": "{s} works as {a} {o}",
    "studies_at": "{s} studies at {o}",
    "married_to": "{s} is married to {o}",
    "comes_from": "{s} comes from {o}",
    "name": "{s}'s name is {o}",
    "age": "{s} is {o} years old",
    "allergic_to": "{s} is allergic to {o}",
    "is_a": "{s} is {a} {o}",
    "learning": "{s} is learning {o}",
}


def _fact(s: str, relation: str, o: str) -> str:
    if relation.endswith("_of"):
        return f"{s} is {o}'s {relation[:-3]}."
    template = _FACTS.get(relation, "{s} " + relation.replace("_", " ") + " {o}")
    return template.format(s=s, o=o, a="an" if o[:1].lower() in "aeiou" else "a") + "."


def _objects(raw: str, is_list: bool) -> list[str]:
    """The object phrase(s): cut at clause words and commas, split lists, drop articles,
    pronouns, fillers and trailing prepositional phrases."""
    raw = _CUT.sub("", raw).strip(" ,")
    # A list runs to its "and/or" item ("a, b and c, by the way"); any other comma ends the object.
    segments = raw.split(",")
    ends = [i for i, seg in enumerate(segments) if is_list and re.search(r"(?:^|\s)(?:and|or)\s+\S", seg)]
    raw = ",".join(segments[: ends[0] + 1] if ends else segments[:1])
    parts = re.split(r",\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+", raw) if is_list else [raw]
    found = []
    for part in parts:
        item = _LEADING_FILLER.sub("", re.sub(r"^to\s+", "", part.strip()))
        item = _ARTICLE.sub("", _TAIL.sub("", item) if is_list else item)
        item = _TRAILING_FILLER.sub("", item).strip()
        if (
            item
            and not re.fullmatch(_FILLER, item, re.I)
            and item.casefold() not in _PRONOUNS
            and len(item.split()) <= 4
        ):
            found.append(item)
    return found


def _predicates(subject: str, subject_type: str, rest: str) -> Iterator[Triplet]:
    # "live in Paris and work at Acme": a new verb after and/but starts a new predicate.
    # "allergic to peanuts and also allergic to shellfish" likewise.
    for predicate in re.split(rf"(?:,\s*|\s+)(?:and|but)\s+(?={_ADV}(?:{_VERBS}|allergic)\b)", rest.strip()):
        predicate = re.sub(rf"^{_ADV}", "", predicate.strip())
        for pattern, relation, type_of, is_list in _RULES:
            match = pattern.match(predicate)
            if not match:
                continue
            rel = relation or _VERB_RELATION[match.group("verb")]
            if rel == "is_a" and _role(match.group("obj")) == "Profession":
                rel = "works_as"  # "I am a teacher" is a job, which is single-valued
            for obj in _objects(match.group("obj"), is_list):
                yield Triplet(
                    source=subject,
                    source_type=subject_type,
                    relation=rel,
                    target=obj,
                    target_type=type_of(obj),
                    fact=_fact(subject, rel, obj),
                )
            break


def _clause(text: str, speaker: str) -> list[Triplet]:
    """Triplets of one clause; the first subject form that yields any wins."""
    kin = re.search(rf"\b[Mm]y\s+(?P<kin>{KIN}),?\s+(?P<name>{_NAME}),?\s*(?P<rest>.*)", text)
    if kin:
        name, rel = kin["name"], _KIN_ALIASES.get(kin["kin"], kin["kin"]) + "_of"
        own = Triplet(
            source=name,
            source_type="Person",
            relation=rel,
            target=speaker,
            target_type="Person",
            fact=_fact(name, rel, speaker),
        )
        return [own, *_predicates(name, "Person", kin["rest"])]
    named = re.search(rf"\b[Mm]y\s+name\s+is\s+(?P<obj>{_NAME})", text)
    if named:
        return [
            Triplet(
                source=speaker,
                source_type="Person",
                relation="name",
                target=named["obj"],
                target_type="Person",
                fact=_fact(speaker, "name", named["obj"]),
            )
        ]
    first = re.search(r"\bI(?P<rest>(?:\s|'m\b).*)", text)
    if first and (found := list(_predicates(speaker, "Person", first["rest"]))):
        return found
    is_kin = re.match(rf"(?P<name>{_NAME})\s+is\s+my\s+(?P<kin>{KIN})\b", text)
    if is_kin and is_kin["name"].split()[0].casefold() not in _STOP_SUBJECTS:
        rel = _KIN_ALIASES.get(is_kin["kin"], is_kin["kin"]) + "_of"
        return [
            Triplet(
                source=is_kin["name"],
                source_type="Person",
                relation=rel,
                target=speaker,
                target_type="Person",
                fact=_fact(is_kin["name"], rel, speaker),
            )
        ]
    third = re.match(rf"(?P<name>{_NAME})\s+(?P<rest>.*)", text)
    if third and third["name"].split()[0].casefold() not in _STOP_SUBJECTS:
        return list(_predicates(third["name"], "Person", third["rest"]))
    return []


def extract_triplets(message: Message) -> list[Triplet]:
    """All triplets of one turn, sentence by sentence, in text order, without duplicates.
    An assistant turn yields none: its statements are not the user's facts."""
    if message.role == "assistant":
        return []
    text = message.content.replace("\u2019", "'")
    found: dict[tuple[str, str, str], Triplet] = {}
    for sentence in re.split(r"(?<=[.!?])\s+|[\n;]+", text):
        sentence = _INTERJECTION.sub("", sentence.strip().rstrip(".!?").strip())
        # "..., and I work at Acme": a new first-person subject starts a new clause.
        for clause in re.split(r"(?:,\s*|\s+)(?:and|but|so)\s+(?=(?:I|[Mm]y)\b)", sentence):
            for t in _clause(clause.strip(), message.speaker):
                found.setdefault((normalize_name(t.source), t.relation, normalize_name(t.target)), t)
    return list(found.values())


def entities_of(triplets: list[Triplet]) -> list[Entity]:
    seen: dict[str, Entity] = {}
    for t in triplets:
        seen.setdefault(normalize_name(t.source), Entity(name=t.source, type=t.source_type))
        seen.setdefault(normalize_name(t.target), Entity(name=t.target, type=t.target_type))
    return list(seen.values())


class OfflineLLM(LLM):
    """Deterministic rule-based extractor and resolver (no model, no usage records).
    Assistant turns are skipped: the offline rules extract only what the user says."""

    name = "offline"
    is_fallback = True

    def _triplets(self, source: ExtractionInput) -> list[Triplet]:
        # Only the new turns; context turns are reference material, as for a model.
        return [t for m in source.messages for t in extract_triplets(m)]

    def extract_entities(self, source: ExtractionInput, usage: Usage) -> EntityExtraction:
        return EntityExtraction(entities=entities_of(self._triplets(source)))

    def extract_relations(self, source: ExtractionInput, entities: list[Entity], usage: Usage) -> RelationExtraction:
        return RelationExtraction(triplets=self._triplets(source))

    def extract_graph(self, source: ExtractionInput, usage: Usage) -> GraphExtraction:
        triplets = self._triplets(source)
        return GraphExtraction(entities=entities_of(triplets), triplets=triplets)

    def resolve(self, request: ResolutionRequest, usage: Usage) -> ResolutionResult:
        """Same source+relation+target: noop. Same source+relation, other target, for a
        single-valued relation (lives_in, works_at, ...): invalidate. Anything else: add."""
        decisions = []
        for item in request.items:
            new = item.new
            same = [
                f
                for f in item.candidates
                if normalize_name(f.source) == normalize_name(new.source) and f.relation == new.relation
            ]
            restated = [f.id for f in same if normalize_name(f.target) == normalize_name(new.target)]
            rivals = [f.id for f in same if f.is_valid and normalize_name(f.target) != normalize_name(new.target)]
            if restated:
                decisions.append(
                    ResolutionDecision(index=item.index, action="noop", existing_ids=restated, reason="already stored")
                )
            elif rivals and new.relation in SINGLE_VALUED:
                decisions.append(
                    ResolutionDecision(
                        index=item.index,
                        action="invalidate",
                        existing_ids=rivals,
                        reason=f"{new.relation} holds one value at a time",
                    )
                )
            else:
                decisions.append(ResolutionDecision(index=item.index, action="add", reason="new fact"))
        return ResolutionResult(decisions=decisions)
