"""The strings the torch-free MiniLM is checked on against sentence-transformers' vectors:
deterministic (seeded), made here, 1,200 of them across the cases that break encoders
(short names, turns past the 256-piece truncation, unicode, punctuation only, blank)."""

from __future__ import annotations

import json
import random
from pathlib import Path

NAMES = [
    "Anna",
    "Maya",
    "Mom",
    "Dr. Okafor",
    "Acme GmbH",
    "São Paulo",
    "Zoë",
    "李雷",
    "Jürgen",
    "O'Neill",
    "Bosch",
    "Hamburg",
    "Paris",
    "the dentist",
    "my sister",
    "Tokyo Tower",
    "MIT",
    "R2-D2",
    "Ilse",
    "Kai",
]
VERBS = [
    "works at",
    "lives in",
    "moved to",
    "is allergic to",
    "likes",
    "hates",
    "visited",
    "married",
    "adopted",
    "started learning",
    "quit",
    "was born in",
    "plays",
    "teaches",
    "owns",
]
OBJECTS = [
    "peanuts",
    "Berlin",
    "a golden retriever",
    "the violin",
    "chess",
    "Google",
    "sushi",
    "a red bicycle",
    "yoga on Tuesdays",
    "Python",
    "the night shift",
    "a flat near the harbour",
    "pottery",
    "Lisbon",
    "jazz",
]
UNICODE = [
    "Straße",
    "café",
    "東京",
    "🙂",
    "naïve",
    "Ελλάδα",
    "مرحبا",
    "привет",
    "ñandú",
    "עברית",
    "한국어",
    "à la carte",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "e\u0301",
    "\u200bzero\u200bwidth",
    "ﬁ ligature",
    "👩‍👩‍👧",
    "½ ⅓ ²",
]
PUNCT = ["...", "?!", "---", "()", "“”", "!!!", ";:", "@#$%^&*", "<>", "[]{}", "''", "…", "—", "· · ·"]
BLANK = ["", " ", "   ", "\n", "\t", " \n\t ", "\u00a0", "\u3000"]
WORDS = (
    "the a and to of in I you my we it is was for on with at by from about after before when "
    "yesterday tomorrow remember tell doctor appointment flight hotel dinner birthday meeting project "
    "garden coffee weekend family friend brother daughter office train museum recipe allergy medicine"
).split()


def strings(n: int = 1200, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out: list[str] = []
    kinds = ["name", "fact", "question", "unicode", "punct", "blank", "salad", "long", "mixed", "number"]
    while len(out) < n:
        kind = kinds[len(out) % len(kinds)]
        if kind == "name":
            text = rng.choice(NAMES) if rng.random() < 0.7 else " ".join(rng.sample(NAMES, 2))
        elif kind == "fact":
            text = f"{rng.choice(NAMES)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}"
        elif kind == "question":
            text = f"Where does {rng.choice(NAMES)} {rng.choice(['work', 'live', 'go on holiday'])} now?"
        elif kind == "unicode":
            text = " ".join(rng.choices(UNICODE + NAMES, k=rng.randint(1, 8)))
        elif kind == "punct":
            text = "".join(rng.choices(PUNCT, k=rng.randint(1, 5)))
        elif kind == "blank":
            text = rng.choice(BLANK) * rng.randint(1, 3)
        elif kind == "salad":
            text = " ".join(rng.choices(WORDS, k=rng.randint(3, 60)))
        elif kind == "long":  # past the 256-piece truncation
            text = " ".join(rng.choices(WORDS + OBJECTS + UNICODE, k=rng.randint(200, 600)))
        elif kind == "mixed":
            text = (
                f"{rng.choice(NAMES)}: {rng.choice(UNICODE)} {rng.choice(PUNCT)} {' '.join(rng.choices(WORDS, k=12))}"
            )
        else:
            text = f"{rng.randint(0, 10**9)} {rng.choice(['EUR', '%', 'km', 'am', '2026-12-07'])} {rng.random():.4f}"
        out.append(text)
    return out


if __name__ == "__main__":
    print(json.dumps(strings()[:20], ensure_ascii=False, indent=1))
    print(Path(__file__))
