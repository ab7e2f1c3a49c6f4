"""A deterministic synthetic news corpus for scale runs, with the real seed articles as needles.

`generate(folder, chunks=N, seed=S)` writes about N chunks' worth of article files: invented
outlets, datelines, people, places and organisations, on a dozen beats (economy, courts,
weather, …). Article sentences are drawn from a fixed pool (`sentence_pool(seed)`), so a scale run
can embed every distinct sentence once with the real model and compose chunk vectors from them
(see benchmarks/scale.py). The five articles of seeds/ are copied in unchanged as needles.
Same arguments, same bytes.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FIRST = (
    "Amara Daniel Elena Farid Grace Hiro Ines Jonas Kemal Lena Marco Nadia Omar Priya Quentin Rosa "
    "Samir Tomas Uma Viktor Wen Yusuf Zara Aiko Bruno Chiara Dmitri Esther Felix Goran Hana Ivan"
).split()
LAST = (
    "Okafor Lindqvist Moreau Haddad Tanaka Novak Varga Costa Brennan Ibrahim Petrov Santos Keller "
    "Mensah Rossi Nakamura Dubois Kowalski Alvarez Byrne Demir Eriksen Fontaine Grant Horvat Jansen"
).split()
PLACES = (
    "Valmora Kestrel Bay Northfield Ardenne Port Salim Lakeview Ostrava Heights Mirelle Dunmore "
    "Calvera Westbrook Tarsk Elden Ferrow Greyhaven Halden Istria Junction Korvan Larch Hollow"
).split(" ")
OUTLETS = (
    "The Meridian Herald",
    "Northfield Gazette",
    "Coastal Tribune",
    "The Daily Ledger",
    "Valmora Post",
    "Capital Monitor",
    "The Evening Journal",
    "Harbour Press",
    "Lakeview Times",
    "Continental News",
    "The Observer Weekly",
    "Metro Telegraph",
)
ORGS = (
    "the transport ministry",
    "the city council",
    "the central bank",
    "the health authority",
    "the teachers' union",
    "the port authority",
    "the energy regulator",
    "the supreme court",
    "the farmers' association",
    "the national weather service",
    "the chamber of commerce",
    "the water board",
)
BEATS = {
    "economy": (
        "inflation rose to {n} percent in {month}, the highest level in {m} years",
        "exporters warned that a stronger currency would cut orders by {n} percent",
        "the budget deficit narrowed after tax receipts grew faster than spending",
        "retail sales fell for a {ordinal} month as households cut back on travel",
        "economists at {org} expect growth of about {n} percent next year",
    ),
    "courts": (
        "the judge adjourned the hearing until {month} after new evidence emerged",
        "prosecutors said the contracts had been awarded without a public tender",
        "the defence argued that the recordings had been obtained unlawfully",
        "an appeal against the ruling is expected to reach {org} within {m} months",
        "the jury deliberated for {m} days before returning its verdict",
    ),
    "weather": (
        "rainfall in {month} was {n} percent above the long-term average",
        "the river rose {m} metres overnight and flooded low-lying streets",
        "forecasters at {org} issued an amber warning for high winds",
        "farmers said the late frost had damaged most of the early harvest",
        "emergency crews cleared fallen trees from {m} roads after the storm",
    ),
    "transport": (
        "the new rail line will cut the journey to the capital to {m} hours",
        "bus drivers walked out over pay, leaving thousands of commuters stranded",
        "{org} approved a plan to widen the coastal motorway by {month}",
        "ferry services were suspended after a collision in the harbour",
        "ticket prices will rise by {n} percent from the start of {month}",
    ),
    "health": (
        "hospital waiting lists grew by {n} percent over the past year",
        "{org} said vaccination rates among children had recovered",
        "nurses at the regional hospital voted to accept the new contract",
        "a shortage of doctors has forced {m} rural clinics to close at weekends",
        "the outbreak has been contained, according to {org}",
    ),
    "schools": (
        "enrolment at the technical college rose by {n} percent this autumn",
        "{org} called for smaller classes and more support staff",
        "exam results improved in mathematics but fell in languages",
        "the school will reopen in {month} after repairs to its roof",
        "parents protested against plans to merge {m} village schools",
    ),
    "energy": (
        "the wind farm will supply power to about {n} thousand homes",
        "{org} approved higher tariffs for industrial customers",
        "the old coal plant is due to close by the end of {month}",
        "engineers restored power to {m} districts after the outage",
        "solar capacity doubled over the past {m} years",
    ),
    "sport": (
        "the home side won {m} to {k} after a late goal in extra time",
        "the marathon drew a record {n} thousand runners this year",
        "the coach resigned after a run of {m} defeats",
        "the stadium will be rebuilt in time for the {month} final",
        "the young sprinter broke the national record by {k} hundredths of a second",
    ),
    "culture": (
        "the festival sold {n} thousand tickets in its first week",
        "the museum returned {m} artefacts to their country of origin",
        "the novel won the national book prize on its first nomination",
        "the theatre will stage the opera for the first time in {m} decades",
        "the library extended its opening hours after a campaign by readers",
    ),
    "housing": (
        "house prices in the region rose {n} percent over the year",
        "{org} approved plans for {n} hundred affordable homes",
        "tenants' groups warned that rents had outpaced wages for {m} years",
        "construction of the new district stalled after the developer went bankrupt",
        "the eviction ban will end in {month}, officials said",
    ),
    "agriculture": (
        "the grain harvest was {n} percent smaller than last year",
        "{org} demanded compensation for losses caused by the drought",
        "milk prices paid to farmers fell for the {ordinal} time this year",
        "the cooperative opened a new processing plant employing {n} people",
        "locusts destroyed crops on {m} thousand hectares in the south",
    ),
    "security": (
        "police arrested {m} people after clashes near the border crossing",
        "{org} said the cyber attack had disrupted payments for {m} hours",
        "the army withdrew its troops from the northern district in {month}",
        "the minister promised an inquiry into the handling of the protests",
        "officials said the smuggling network had operated for {m} years",
    ),
}
ATTRIBUTIONS = (
    "{name}, a spokesperson for {org}, said",
    "according to {name} of {org},",
    "{name}, who has studied the issue for years, said",
    "in {place}, {name} told reporters that",
    "{name}, a resident of {place}, said",
    "officials in {place} said",
)
MONTHS = ("January February March April May June July August September October November December").split()
ORDINALS = "second third fourth fifth sixth seventh".split()


def _fill(rng: random.Random, template: str) -> str:
    return template.format(
        n=rng.randint(2, 90),
        m=rng.randint(2, 12),
        k=rng.randint(1, 9),
        month=rng.choice(MONTHS),
        ordinal=rng.choice(ORDINALS),
        org=rng.choice(ORGS),
        name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
        place=rng.choice(PLACES),
    )


def sentence_pool(seed: int = 0, per_beat: int = 250) -> dict[str, list[str]]:
    """Distinct sentences per beat, each an attribution plus a fact ("X of Y said the …")."""
    rng = random.Random(seed)
    pool: dict[str, list[str]] = {}
    for beat, facts in BEATS.items():
        seen: dict[str, None] = {}
        while len(seen) < per_beat:
            fact = _fill(rng, rng.choice(facts))
            lead = _fill(rng, rng.choice(ATTRIBUTIONS))
            text = f"{lead} {fact}."
            seen[text[0].upper() + text[1:]] = None
        pool[beat] = list(seen)
    return pool


def _article(rng: random.Random, beat: str, sentences: list[str]) -> str:
    place = rng.choice(PLACES)
    title = f"{place}: {rng.choice(sentences).split(' said ')[-1].rstrip('.').capitalize()}"[:90]
    date = f"{rng.choice(MONTHS)} {rng.randint(1, 28)}, {rng.randint(2012, 2024)}"
    paragraphs = [" ".join(rng.sample(sentences, rng.randint(2, 4))) for _ in range(rng.randint(4, 8))]
    return f"{title}\n\nSource: {rng.choice(OUTLETS)}\nPublished: {date}\n\n" + "\n\n".join(paragraphs) + "\n"


def words_per_chunk() -> float:
    """Roughly how many article words make one chunk (200-word chunks, one sentence overlap)."""
    return 165.0


def generate(
    folder: Path, *, chunks: int, seed: int = 0, needles: Path | None = ROOT / "seeds"
) -> list[Path]:
    """Write about `chunks` chunks' worth of articles (plus the needles) into `folder`; their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    pool = sentence_pool(seed)
    rng = random.Random(seed + 1)
    paths: list[Path] = []
    budget = chunks * words_per_chunk()
    i = 0
    while budget > 0:
        beat = rng.choice(sorted(pool))
        text = _article(rng, beat, pool[beat])
        path = folder / f"syn{seed}_{i:06d}.txt"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
        budget -= len(text.split())
        i += 1
    for needle in sorted(needles.glob("*.txt")) if needles else []:
        shutil.copyfile(needle, folder / needle.name)
        paths.append(folder / needle.name)
    return paths
