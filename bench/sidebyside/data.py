"""One deterministic synthetic conversation, and the one "truth" both LLM stand-ins answer from.

`make_script(n, seed)` gives `n` first-person user turns ("I live in X", "My friend Z lives
in W", "Z moved to V", ...) from one speaker, plus what a perfect extractor would return for
each turn: its entities (name, type) and relations (source, relation, target). The answer is
a pure function of the text, so the same text always gets the same answer, in both systems.

`make_queries(script, q, seed)` gives `q` questions about the final state with the facts that
answer them (for a rough hit@5 sanity check) and the entities a query-entity extractor names.

Nothing here imports graphmem or mem0.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

SPEAKER = "Sam"
#: a new value of one of these replaces the old one (moves, job changes); everything else accumulates
FUNCTIONAL = frozenset({"lives_in", "works_at"})

CITIES = """Amsterdam Athens Auckland Austin Baltimore Bangalore Barcelona Beirut Belgrade Bergen
Berlin Bilbao Bogota Bologna Bordeaux Boston Bratislava Bremen Brisbane Bristol Brussels Bucharest
Budapest Cairo Calgary Cardiff Chicago Cologne Copenhagen Cork Dakar Dallas Denver Dresden Dublin
Durban Edinburgh Florence Frankfurt Geneva Genoa Glasgow Gothenburg Graz Hamburg Hanoi Helsinki
Houston Istanbul Jakarta Kyoto Lagos Leeds Leipzig Lille Lima Lisbon Liverpool Ljubljana London
Lyon Madrid Malaga Manchester Marseille Melbourne Miami Milan Montreal Mumbai Munich Nairobi Nantes
Naples Nice Oslo Ottawa Oxford Palermo Paris Perth Porto Prague Quebec Reykjavik Riga Rome Rotterdam
Salzburg Santiago Seattle Seville Seoul Sofia Stockholm Stuttgart Sydney Tallinn Tokyo Toronto
Toulouse Turin Utrecht Valencia Vancouver Venice Vienna Vilnius Warsaw Zagreb Zurich""".split()

FIRST_NAMES = """Aaron Abigail Adrian Alba Alice Amara Amir Anna Arjun Astrid Beatriz Bruno Camille
Carlos Chiara Chloe Daniel Dara Diego Elena Elif Emil Emma Erik Esther Felix Fiona Freya Gabriel
Greta Hana Hannah Hugo Ines Ingrid Isaac Ivan Jade Jonas Julia Kai Karim Keiko Lara Leo Lina Luca
Lucia Maya Mateo Mila Nadia Nico Nina Noah Nora Omar Oscar Paula Priya Rafael Rosa Ruben Sara Selin
Sofia Stefan Tariq Theo Tomas Uma Vera Viktor Yara Yusuf Zoe""".split()

LAST_NAMES = """Abbott Alvarez Andersen Baker Bauer Becker Berg Brandt Carter Castro Chen Costa Dahl
Diaz Dubois Evans Fischer Fontaine Garcia Gomez Hansen Hartmann Ito Jensen Kaur Keller Kim Klein
Kowalski Lambert Larsen Lopez Martin Meyer Moreau Morris Nakamura Novak Okafor Olsen Park Patel
Petrov Quinn Reyes Rossi Sato Schmidt Silva Suzuki Tanaka Torres Vogel Wagner Walsh Weber Yilmaz
Young Ziegler""".split()

COMPANY_HEADS = """Acme Apex Aurora Beacon Birch Bluebird Cedar Cobalt Copper Crescent Delta Ember Falcon
Granite Harbor Helix Horizon Indigo Juniper Kestrel Lumen Maple Meridian Nimbus Northwind Onyx Orbit
Pinnacle Quartz Redwood Sable Summit Tidal Vertex Willow Zephyr""".split()
COMPANY_TAILS = """Analytics Bakery Bank Biotech Books Brewing Clinic Foods Games Insurance Labs
Logistics Media Motors Pharma Robotics Shipping Software Studios Systems Telecom Textiles""".split()

HOBBIES = [
    "archery",
    "baking",
    "birdwatching",
    "board games",
    "bouldering",
    "calligraphy",
    "camping",
    "ceramics",
    "chess",
    "climbing",
    "cooking",
    "cycling",
    "dancing",
    "drawing",
    "embroidery",
    "fencing",
    "fishing",
    "gardening",
    "golf",
    "hiking",
    "jazz",
    "juggling",
    "kayaking",
    "knitting",
    "origami",
    "painting",
    "photography",
    "poetry",
    "pottery",
    "rowing",
    "running",
    "sailing",
    "salsa",
    "sculpting",
    "skiing",
    "snowboarding",
    "surfing",
    "swimming",
    "tennis",
    "volleyball",
    "woodworking",
    "yoga",
]


@dataclass(frozen=True)
class Relation:
    source: str
    relation: str
    target: str


@dataclass(frozen=True)
class Extraction:
    """What a perfect extractor returns for one text: entities (name, type) and relations."""

    entities: tuple[tuple[str, str], ...]
    relations: tuple[Relation, ...] = ()


@dataclass(frozen=True)
class Turn:
    text: str
    extraction: Extraction


@dataclass(frozen=True)
class Query:
    text: str
    extraction: Extraction  # entities named in the question (relations empty)
    expected: tuple[Relation, ...]  # any of these among the top 5 counts as a hit


@dataclass
class Script:
    turns: list[Turn]
    state: dict = field(default_factory=dict)  # final truth: who lives/works where, likes what

    def answers(self) -> dict[str, Extraction]:
        """text -> extraction, the lookup table the LLM stand-ins answer from."""
        table: dict[str, Extraction] = {}
        for turn in self.turns:
            previous = table.setdefault(turn.text, turn.extraction)
            assert previous == turn.extraction, f"one text, two answers: {turn.text!r}"
        return table


def _person(name: str) -> tuple[str, str]:
    return (name, "Person")


def make_script(n: int, seed: int = 7) -> Script:
    """`n` turns of one speaker; the cast grows over time (new friends, cities, companies)."""
    rng = random.Random(seed)
    companies = [f"{h} {t}" for h in COMPANY_HEADS for t in COMPANY_TAILS]
    rng.shuffle(companies)
    full_names = [f"{first} {last}" for first in FIRST_NAMES for last in LAST_NAMES]
    rng.shuffle(full_names)
    friends: list[str] = []
    lives: dict[str, str] = {}
    works: dict[str, str] = {}
    likes: dict[str, set[str]] = {}
    visited: dict[str, set[str]] = {}

    # the cast grows roughly with the log of the conversation: new names keep appearing
    def friend(new_chance: float = 0.35) -> str:
        if not friends or (rng.random() < new_chance and len(friends) < len(full_names)):
            friends.append(full_names[len(friends)])
            return friends[-1]
        return rng.choice(friends)

    def company() -> str:
        used = max(8, min(len(companies), len(friends) + 8))
        return companies[rng.randrange(used)]

    def city() -> str:
        used = max(10, min(len(CITIES), len(friends) // 2 + 10))
        return CITIES[rng.randrange(used)]

    turns: list[Turn] = []
    me = SPEAKER
    templates = [
        "me_live",
        "me_work",
        "friend_lives",
        "friend_works",
        "friend_moved",
        "me_like",
        "friend_likes",
        "visit",
    ]
    weights = [8, 8, 24, 16, 12, 10, 12, 10]
    while len(turns) < n:
        kind = rng.choices(templates, weights)[0]
        if kind == "me_live":
            c = city()
            if lives.get(me) == c:
                continue
            lives[me] = c
            turns.append(
                Turn(f"I live in {c} now.", Extraction((_person(me), (c, "City")), (Relation(me, "lives_in", c),)))
            )
        elif kind == "me_work":
            o = company()
            if works.get(me) == o:
                continue
            works[me] = o
            turns.append(
                Turn(f"I work at {o}.", Extraction((_person(me), (o, "Organization")), (Relation(me, "works_at", o),)))
            )
        elif kind == "friend_lives":
            f, c = friend(0.6), city()
            lives[f] = c
            turns.append(
                Turn(
                    f"My friend {f} lives in {c}.",
                    Extraction(
                        (_person(me), _person(f), (c, "City")),
                        (Relation(me, "friend_of", f), Relation(f, "lives_in", c)),
                    ),
                )
            )
        elif kind == "friend_works":
            f, o = friend(), company()
            works[f] = o
            turns.append(
                Turn(f"{f} works at {o}.", Extraction((_person(f), (o, "Organization")), (Relation(f, "works_at", o),)))
            )
        elif kind == "friend_moved":
            if not friends:
                continue
            f = rng.choice(friends)
            c = city()
            if lives.get(f) == c:
                continue
            lives[f] = c
            turns.append(
                Turn(f"{f} moved to {c}.", Extraction((_person(f), (c, "City")), (Relation(f, "lives_in", c),)))
            )
        elif kind == "me_like":
            h = rng.choice(HOBBIES)
            likes.setdefault(me, set()).add(h)
            turns.append(
                Turn(f"I really like {h}.", Extraction((_person(me), (h, "Hobby")), (Relation(me, "likes", h),)))
            )
        elif kind == "friend_likes":
            f, h = friend(), rng.choice(HOBBIES)
            likes.setdefault(f, set()).add(h)
            turns.append(Turn(f"{f} likes {h}.", Extraction((_person(f), (h, "Hobby")), (Relation(f, "likes", h),))))
        else:  # visit
            f, c = friend(), city()
            visited.setdefault(me, set()).add(c)
            visited.setdefault(f, set()).add(c)
            turns.append(
                Turn(
                    f"I visited {c} with {f} last week.",
                    Extraction(
                        (_person(me), (c, "City"), _person(f)),
                        (Relation(me, "visited", c), Relation(f, "visited", c), Relation(me, "friend_of", f)),
                    ),
                )
            )
    state = {"friends": friends, "lives": lives, "works": works, "likes": likes, "visited": visited}
    return Script(turns=turns, state=state)


def make_queries(script: Script, q: int, seed: int = 11) -> list[Query]:
    """`q` questions about the final state, each with the stored facts that answer it."""
    rng = random.Random(seed)
    lives, works, likes = script.state["lives"], script.state["works"], script.state["likes"]
    queries: list[Query] = []
    people = [SPEAKER] + list(script.state["friends"])
    attempts = 0
    while len(queries) < q and attempts < q * 50:
        attempts += 1
        person = rng.choice(people)
        kind = rng.choice(["live", "work", "like"])
        me = person == SPEAKER
        if kind == "live" and person in lives:
            text = "Where do I live?" if me else f"Where does {person} live?"
            expected = (Relation(person, "lives_in", lives[person]),)
        elif kind == "work" and person in works:
            text = "Where do I work?" if me else f"Where does {person} work?"
            expected = (Relation(person, "works_at", works[person]),)
        elif kind == "like" and likes.get(person):
            text = "What do I like to do?" if me else f"What does {person} like to do?"
            expected = tuple(Relation(person, "likes", h) for h in sorted(likes[person]))
        else:
            continue
        queries.append(Query(text, Extraction((_person(person),)), expected))
    return queries
