"""A seeded synthetic world of people and questions about it with known answers, for the
retrieval-quality benchmark (bench/quality.py). Pure Python: no Neo4j, no embedder.

The world is a set of families: a married couple, their children (siblings of one another),
and the children's spouses, each person with an employer, a home city, maybe an instrument,
one or two hobbies, maybe a pet and maybe a friend in another family. Every fact is a triplet
as an LLM extractor would produce it (snake_case relation, typed ends) with a natural
sentence, e.g. ("Jonas Weber", "Person", "brother_of", "Lena Weber", "Person",
"Jonas Weber is Lena Weber's brother."). A kin fact reads as its sentence does, in one
direction chosen at random, so a question may follow it forwards or backwards.

Distractors are built in: families share a surname (and so do unrelated families),
surnames come in look-alike pairs one letter apart (Fischer / Fisher), some people married
into a family are namesakes of someone else (same first name, look-alike surname), first
names repeat across families, and dozens of people share each employer, city and hobby.

Questions name their target fact, (source, relation, target):

* 1 hop, "Where does Lena Fischer work?": the fact itself;
* 2 hops, "Which instrument does the sister of Lena Fischer play?": the last fact of the
  chain (the sister's `plays` fact);
* 3 hops, "Where does the wife of Lena Fischer's brother work?": likewise.

A chain is only asked when every step is unambiguous (Lena has exactly one brother, he has
exactly one wife, she has exactly one employer) and it never comes back to a person.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

Key = tuple[str, str, str]  # (source, relation, target)

MALE = """Jonas Lukas Felix Paul Leon Maximilian Elias Noah Finn Ben Jakob Anton Emil Theo Moritz
Julian Tobias Simon David Daniel Florian Sebastian Johannes Matthias Stefan Thomas Michael Andreas
Markus Christian Tim Jan Niklas Erik Henrik Lars Sven Nils Oskar Karl Hans Peter Klaus Jens Ole
Rasmus Mikkel Aksel Magnus Viktor Samuel Adrian Fabian Dominik Philipp Robert Benedikt Konrad
Leopold Vincent Valentin Gustav Arvid Hugo Till Bastian Dennis Marco Oliver""".split()
FEMALE = """Lena Anna Marie Sophie Emma Mia Hannah Lea Laura Clara Lina Julia Sarah Lisa Katharina
Johanna Charlotte Amelie Paula Ida Greta Frieda Marlene Helena Nora Elena Sofia Maja Ella Emilia
Luisa Mila Theresa Franziska Miriam Judith Carla Ingrid Astrid Freya Sigrid Karin Birgit Heidi
Ute Petra Sabine Monika Ursula Renate Silke Anke Maren Ines Vera Nina Eva Rosa Alma Linnea Elsa
Tilda Selma Hedda Liv Smilla Martha Mathilda Irma""".split()
# Surnames in look-alike pairs one letter apart (an edit, an insertion or a deletion).
SURNAME_PAIRS = [
    ("Fischer", "Fisher"),
    ("Weber", "Webber"),
    ("Meyer", "Meier"),
    ("Schmidt", "Schmitt"),
    ("Hoffmann", "Hofmann"),
    ("Wagner", "Wegner"),
    ("Becker", "Bekker"),
    ("Schulz", "Schultz"),
    ("Neumann", "Naumann"),
    ("Larsen", "Larson"),
    ("Petersen", "Peterson"),
    ("Hansen", "Hanson"),
    ("Jensen", "Jenson"),
    ("Nilsen", "Nielsen"),
    ("Carter", "Carver"),
    ("Miller", "Millar"),
    ("Brandt", "Brand"),
    ("Lange", "Lang"),
    ("Krause", "Kraus"),
    ("Franke", "Frank"),
    ("Berger", "Burger"),
    ("Huber", "Hubner"),
    ("Keller", "Kellner"),
    ("Richter", "Reichter"),
    ("Wolff", "Wolf"),
    ("Schreiber", "Schreier"),
    ("Vogel", "Vogl"),
    ("Sommer", "Sommers"),
    ("Lindgren", "Lindgreen"),
    ("Berg", "Borg"),
    ("Holm", "Holt"),
    ("Moller", "Muller"),
    ("Engel", "Engels"),
    ("Arnold", "Arnolds"),
    ("Roth", "Rath"),
    ("Haas", "Hass"),
    ("Busch", "Bosch"),
    ("Kuhn", "Kuhne"),
    ("Pohl", "Pohle"),
    ("Martens", "Mertens"),
]
LOOKALIKE = {a: b for a, b in SURNAME_PAIRS} | {b: a for a, b in SURNAME_PAIRS}
SURNAMES = sorted(LOOKALIKE)
ORGANIZATIONS = """Siemens Allianz Bayer BASF Zeiss Miele Lufthansa Porsche Adidas Puma SAP Henkel
Continental Infineon Merck Beiersdorf Vaillant Stihl Festo Trumpf Haribo Lidl Rewe Zalando Nokia
Philips Ikea Lego Maersk Spotify Volvo Ericsson Novartis Roche Heineken Carlsberg""".split()
CITIES = """Berlin Hamburg Munich Cologne Frankfurt Stuttgart Leipzig Dresden Bremen Hanover
Nuremberg Vienna Zurich Basel Graz Salzburg Copenhagen Oslo Stockholm Helsinki Amsterdam Rotterdam
Utrecht Brussels Antwerp Lyon Prague Krakow Gothenburg Aarhus""".split()
INSTRUMENTS = [
    "piano",
    "guitar",
    "violin",
    "cello",
    "flute",
    "clarinet",
    "trumpet",
    "saxophone",
    "drums",
    "harp",
    "accordion",
    "viola",
    "oboe",
    "bassoon",
    "ukulele",
    "banjo",
    "trombone",
    "double bass",
    "harmonica",
    "mandolin",
]
HOBBIES = [
    "archery",
    "baking",
    "birdwatching",
    "bouldering",
    "calligraphy",
    "camping",
    "ceramics",
    "chess",
    "cycling",
    "dancing",
    "drawing",
    "fencing",
    "fishing",
    "gardening",
    "golf",
    "hiking",
    "juggling",
    "kayaking",
    "knitting",
    "origami",
    "painting",
    "photography",
    "pottery",
    "rowing",
    "running",
    "sailing",
    "skiing",
    "surfing",
    "swimming",
    "tennis",
    "woodworking",
    "yoga",
]
PETS = ["dog", "cat", "parrot", "hamster", "rabbit", "turtle", "goldfish", "ferret", "guinea pig", "canary"]

# attribute relation -> (values, target type, fact sentences, questions about {np})
ATTRIBUTES: dict[str, tuple[list[str], str, tuple[str, ...], tuple[str, ...]]] = {
    "works_at": (
        ORGANIZATIONS,
        "Organization",
        ("{s} works at {o}.", "{s} is employed by {o}.", "{s} has a job at {o}."),
        (
            "Where does {np} work?",
            "Which company employs {np}?",
            "Who is {np} employed by?",
            "Where does {np} have a job?",
            "What company does {np} work for?",
        ),
    ),
    "lives_in": (
        CITIES,
        "City",
        ("{s} lives in {o}.", "{s} is based in {o}.", "{s} has a flat in {o}."),
        (
            "Which city does {np} live in?",
            "Where does {np} live?",
            "Where is {np} based?",
            "Which city is home to {np}?",
            "What town does {np} call home?",
        ),
    ),
    "plays": (
        INSTRUMENTS,
        "Instrument",
        ("{s} plays the {o}.", "{s} has played the {o} for years."),
        (
            "What instrument does {np} play?",
            "Which musical instrument does {np} play?",
            "What instrument can {np} play?",
        ),
    ),
    "enjoys": (
        HOBBIES,
        "Activity",
        ("{s} enjoys {o}.", "{s} spends weekends on {o}."),
        (
            "What hobby does {np} have?",
            "What does {np} do for fun?",
            "Which pastime does {np} enjoy?",
            "What does {np} like doing in free time?",
        ),
    ),
    "owns": (
        PETS,
        "Animal",
        ("{s} owns a {o}.", "{s} has a pet {o}."),
        ("What pet does {np} own?", "What kind of pet does {np} have?", "Which animal does {np} keep as a pet?"),
    ),
}
KIN_RELATIONS = ("brother_of", "sister_of", "married_to", "parent_of", "friend_of")
RELATIONS = (*ATTRIBUTES, *KIN_RELATIONS)
# kin term used in questions -> (gender of the relative or None for either, Person field)
KIN_TERMS: dict[str, tuple[str | None, str]] = {
    "brother": ("m", "siblings"),
    "sister": ("f", "siblings"),
    "husband": ("m", "spouses"),
    "wife": ("f", "spouses"),
    "father": ("m", "parents"),
    "mother": ("f", "parents"),
    "son": ("m", "children"),
    "daughter": ("f", "children"),
    "friend": (None, "friends"),
}


@dataclass(frozen=True)
class Fact:
    source: str
    source_type: str
    relation: str
    target: str
    target_type: str
    sentence: str

    @property
    def key(self) -> Key:
        return (self.source, self.relation, self.target)


@dataclass
class Person:
    name: str
    gender: str  # "m" or "f"
    parents: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    siblings: list[str] = field(default_factory=list)
    spouses: list[str] = field(default_factory=list)
    friends: list[str] = field(default_factory=list)
    attributes: dict[str, list[str]] = field(default_factory=dict)

    @property
    def first(self) -> str:
        return self.name.split()[0]

    @property
    def surname(self) -> str:
        return self.name.split()[-1]


@dataclass(frozen=True)
class Question:
    text: str
    hops: int
    person: str  # who the question starts from
    path: tuple[str, ...]  # kin terms walked, then the attribute relation asked for
    chain: tuple[Key, ...]  # the fact of every hop; the last one is the target
    forward: tuple[bool, ...]  # per kin hop: whether it follows its fact from source to target

    @property
    def target(self) -> Key:
        return self.chain[-1]


@dataclass
class World:
    seed: int
    people: dict[str, Person]
    facts: list[Fact]
    links: dict[frozenset[str], Key]  # the kin fact between two people

    def __post_init__(self) -> None:
        self._by_key = {f.key: f for f in self.facts}

    def fact(self, key: Key) -> Fact:
        return self._by_key[key]

    def relatives(self, name: str, term: str) -> list[str]:
        gender, kind = KIN_TERMS[term]
        return [r for r in getattr(self.people[name], kind) if gender is None or self.people[r].gender == gender]


class _Builder:
    def __init__(self, seed: int):
        self.rng = random.Random(f"graphmem-quality-world-{seed}")
        self.people: dict[str, Person] = {}
        self.facts: list[Fact] = []
        self.links: dict[frozenset[str], Key] = {}

    def person(self, gender: str, surname: str | None = None, namesake_of: Person | None = None) -> Person:
        """A new person with a name nobody has yet (names are entity ids in the memory)."""
        rng = self.rng
        if namesake_of is not None:
            name = f"{namesake_of.first} {LOOKALIKE[namesake_of.surname]}"
            if name not in self.people:
                return self._add(Person(name, gender))
        firsts = MALE if gender == "m" else FEMALE
        for _ in range(100):
            name = f"{rng.choice(firsts)} {surname or rng.choice(SURNAMES)}"
            if name not in self.people:
                return self._add(Person(name, gender))
        raise RuntimeError("the name pools are exhausted: the world is too large for them")

    def _add(self, person: Person) -> Person:
        self.people[person.name] = person
        return person

    def fact(self, s: Person | str, relation: str, o: Person | str, target_type: str, sentence: str) -> Key:
        source = s.name if isinstance(s, Person) else s
        target = o.name if isinstance(o, Person) else o
        self.facts.append(Fact(source, "Person", relation, target, target_type, sentence))
        return (source, relation, target)

    def link(self, a: Person, relation: str, b: Person, sentence: str) -> None:
        self.links[frozenset((a.name, b.name))] = self.fact(a, relation, b, "Person", sentence)

    def _mutual(self, a: Person, b: Person, kin: str) -> tuple[Person, Person]:
        """Records a and b as each other's `kin` (a Person list field) and returns them in a
        random order: the fact that says so reads from either side."""
        getattr(a, kin).append(b.name)
        getattr(b, kin).append(a.name)
        return (b, a) if self.rng.random() < 0.5 else (a, b)

    def married(self, a: Person, b: Person) -> None:
        a, b = self._mutual(a, b, "spouses")
        role = "husband" if a.gender == "m" else "wife"
        sentence = self.rng.choice(("{s} is married to {o}.", "{s} is {o}'s " + role + "."))
        self.link(a, "married_to", b, sentence.format(s=a.name, o=b.name))

    def parent(self, p: Person, child: Person) -> None:
        p.children.append(child.name)
        child.parents.append(p.name)
        role = "father" if p.gender == "m" else "mother"
        sentence = self.rng.choice(("{s} is the {r} of {o}.", "{s} is {o}'s {r}."))
        self.link(p, "parent_of", child, sentence.format(s=p.name, o=child.name, r=role))

    def siblings(self, a: Person, b: Person) -> None:
        a, b = self._mutual(a, b, "siblings")
        role = "brother" if a.gender == "m" else "sister"
        sentence = self.rng.choice(("{s} is the {r} of {o}.", "{s} is {o}'s {r}."))
        self.link(a, f"{role}_of", b, sentence.format(s=a.name, o=b.name, r=role))

    def friends(self, a: Person, b: Person) -> None:
        a.friends.append(b.name)
        b.friends.append(a.name)
        sentence = self.rng.choice(("{s} is friends with {o}.", "{s} is a good friend of {o}."))
        self.link(a, "friend_of", b, sentence.format(s=a.name, o=b.name))

    def attribute(self, p: Person, relation: str, value: str) -> None:
        _, target_type, sentences, _ = ATTRIBUTES[relation]
        p.attributes.setdefault(relation, []).append(value)
        self.fact(p, relation, value, target_type, self.rng.choice(sentences).format(s=p.name, o=value))

    def family(self) -> None:
        rng = self.rng
        surname = rng.choice(SURNAMES)
        father = self.person("m", surname)
        mother = self.person("f", surname if rng.random() < 0.6 else None)
        self.married(father, mother)
        kids = [self.person(rng.choice("mf"), surname) for _ in range(rng.choices((1, 2, 3, 4), (2, 4, 3, 1))[0])]
        for kid in kids:
            self.parent(father, kid)
            self.parent(mother, kid)
        for a, b in itertools.combinations(kids, 2):
            self.siblings(a, b)
        home = rng.choice(CITIES)
        homes = {father.name: home, mother.name: home}
        for kid in kids:
            homes[kid.name] = home if rng.random() < 0.4 else rng.choice(CITIES)
            if rng.random() < 0.55:
                homes[self.in_law(kid).name] = homes[kid.name]
        for name, city in homes.items():
            self.attributes(self.people[name], city)
        for name in homes:  # a friend in another, earlier family
            if rng.random() < 0.3:
                other = self.people[rng.choice(list(self.people))]
                if other.name not in homes and frozenset((name, other.name)) not in self.links:
                    self.friends(self.people[name], other)

    def in_law(self, kid: Person) -> Person:
        """The kid's spouse: someone from outside, sometimes taking the kid's surname, sometimes
        the namesake of a person already in the world."""
        rng = self.rng
        gender = ("f" if kid.gender == "m" else "m") if rng.random() < 0.9 else kid.gender
        namesakes = [p for p in self.people.values() if p.gender == gender]
        if rng.random() < 0.15 and namesakes:
            spouse = self.person(gender, namesake_of=rng.choice(namesakes))
        else:
            takes_name = gender == "f" and kid.gender == "m" and rng.random() < 0.5
            spouse = self.person(gender, kid.surname if takes_name else None)
        self.married(kid, spouse)
        return spouse

    def attributes(self, p: Person, city: str) -> None:
        rng = self.rng
        self.attribute(p, "lives_in", city)
        if rng.random() < 0.95:
            self.attribute(p, "works_at", rng.choice(ORGANIZATIONS))
        if rng.random() < 0.55:
            for instrument in rng.sample(INSTRUMENTS, 2 if rng.random() < 0.1 else 1):
                self.attribute(p, "plays", instrument)
        for hobby in rng.sample(HOBBIES, 2 if rng.random() < 0.3 else 1):
            self.attribute(p, "enjoys", hobby)
        if rng.random() < 0.45:
            self.attribute(p, "owns", rng.choice(PETS))


def build_world(facts: int, seed: int = 0) -> World:
    """Whole families until the world holds at least `facts` facts (a family adds ~30)."""
    builder = _Builder(seed)
    while len(builder.facts) < facts:
        builder.family()
    return World(seed, builder.people, builder.facts, builder.links)


def _chains(world: World, hops: int) -> Iterator[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """Every unambiguous chain of `hops - 1` kin terms from a person: (start, terms, people)."""
    for name in world.people:
        paths: list[tuple[tuple[str, ...], tuple[str, ...]]] = [((), (name,))]
        for _ in range(hops - 1):
            longer = []
            for terms, walked in paths:
                for term in KIN_TERMS:
                    relatives = world.relatives(walked[-1], term)
                    if len(relatives) == 1 and relatives[0] not in walked:
                        longer.append(((*terms, term), (*walked, relatives[0])))
            paths = longer
        for terms, walked in paths:
            yield name, terms, walked


def _noun_phrase(rng: random.Random, name: str, terms: tuple[str, ...]) -> str:
    """'Lena Fischer', "Lena Fischer's brother" or 'the brother of Lena Fischer', and so on."""
    if not terms:
        return name
    possessive = f"{name}'s " + "'s ".join(terms)
    inner = f"{name}'s " + "'s ".join(terms[:-1]) if len(terms) > 1 else name
    return rng.choice((possessive, f"the {terms[-1]} of {inner}"))


def make_questions(world: World, per_hop: int, seed: int = 0, hops: tuple[int, ...] = (1, 2, 3)) -> list[Question]:
    """Up to `per_hop` questions for each hop count, sampled among all unambiguous ones."""
    rng = random.Random(f"graphmem-quality-questions-{seed}")
    questions = []
    for hop in hops:
        candidates = []
        for name, terms, walked in _chains(world, hop):
            last = world.people[walked[-1]]
            for relation in ATTRIBUTES:
                values = last.attributes.get(relation, [])
                if len(values) == 1:
                    candidates.append((name, terms, walked, relation, values[0]))
        for name, terms, walked, relation, value in rng.sample(candidates, min(per_hop, len(candidates))):
            kin = tuple(world.links[frozenset(pair)] for pair in itertools.pairwise(walked))
            template = rng.choice(ATTRIBUTES[relation][3])
            questions.append(
                Question(
                    text=template.format(np=_noun_phrase(rng, name, terms)),
                    hops=hop,
                    person=name,
                    path=(*terms, relation),
                    chain=(*kin, (walked[-1], relation, value)),
                    forward=tuple(fact[0] == a for fact, a in zip(kin, walked)),
                )
            )
    return questions
