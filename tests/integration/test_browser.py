"""The saved inspection queries (cypher/inspect/*.cypher) and the Browser style sheet.

1. Every saved query runs, read-only, against a seeded graph with Browser-style params
   and returns the rows it promises.
2. Neo4j Browser, as served by the server, driven in headless Chromium: connect, load
   graphmem.grass and user_graph.cypher by drag-and-drop (as docs/inspect.md tells a
   user to), set $user_id, run the saved query from Favorites and check that the graph
   is drawn with the style's captions and colours. Screenshot: artifacts/browser.png.

The seeded user is the bundled sample transcript ingested with the offline extractor,
plus one hand-made orphan entity ('Maya Chen', also a duplicate candidate of 'Maya').
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import graphmem
from graphmem import GraphMemory, Scope, Settings
from graphmem._models import normalize_name
from graphmem.llm import OfflineLLM
from graphmem.store import statements
from graphmem.store.transport import Store
from graphmem.write.ingest import ingest_messages
from graphmem.write.transcripts import read_transcript

pytestmark = pytest.mark.neo4j

ROOT = Path(__file__).resolve().parents[2]
INSPECT = ROOT / "cypher" / "inspect"
ARTIFACTS = ROOT / "artifacts"
SAMPLE = Path(graphmem.__file__).parent / "data" / "sample_transcript.jsonl"
QUERIES = sorted(p.stem for p in INSPECT.glob("*.cypher"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@dataclass
class Seeded:
    user_id: str
    memory: GraphMemory
    paris_fact_id: str  # 'Maya lives in Paris', invalidated by 'Maya lives in London'

    def params(self, **extra: Any) -> dict[str, Any]:
        # Every parameter any saved query uses; Neo4j ignores the ones a query does not.
        return {"user_id": self.user_id, "name": "anna", "days": 1, "fact_id": self.paris_fact_id, **extra}


@pytest.fixture(scope="module")
def seeded(store: Store, embedder, neo4j_settings: Settings) -> Iterator[Seeded]:
    user_id = f"test-inspect-{uuid.uuid4().hex[:10]}"
    memory = GraphMemory(store, llm=OfflineLLM(), embedder=embedder, settings=neo4j_settings)
    try:
        stats = ingest_messages(memory, read_transcript(SAMPLE)[0].messages, user_id=user_id)
        assert stats.invalidated >= 3 and not stats.failures, stats
        paris = next(
            f
            for f in memory.get_all(user_id=user_id, include_invalidated=True)
            if (f.source, f.relation, f.target) == ("Maya", "lives_in", "Paris")
        )
        # The API leaves no orphans (delete() removes entities left without facts), so
        # make one by hand, named to also be a duplicate candidate of 'Maya'.
        scope = Scope(user_id=user_id)
        store.run_text(
            "CREATE (e:Entity:Person {id: $id, name: 'Maya Chen', normalized: $normalized, type: 'Person', "
            "embedding: $embedding, mentions: 1, created_at: datetime(), updated_at: datetime(), "
            "user_id: $user_id, agent_id: null, run_id: null, scope_key: $scope_key})",
            {"id": uuid.uuid4().hex, "normalized": normalize_name("Maya Chen"),
             "embedding": embedder.embed(["Maya Chen"])[0], "scope_key": scope.key, **scope.params()},
            write=True,
        )  # fmt: skip
        yield Seeded(user_id=user_id, memory=memory, paris_fact_id=paris.id)
    finally:
        memory.delete_all(user_id=user_id)


def _run(store: Store, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    # Read-only transaction: a saved inspection query must never write.
    _, rows = store.run_read_only(statements.load(f"inspect/{name}"), params)
    return rows


def _names(value: Any) -> set[str]:
    """Entity names in a node dict or a path (a list of node dicts and type strings)."""
    items = value if isinstance(value, list) else [value]
    return {item["name"] for item in items if isinstance(item, dict) and "name" in item}


# -- 1. the saved queries -------------------------------------------------------------


def test_the_expected_queries_exist() -> None:
    assert set(QUERIES) >= {
        "user_graph", "entity_neighbourhood", "recent_invalidations", "fact_provenance",
        "orphans_and_duplicates", "timeline",
    }  # fmt: skip
    assert (INSPECT / "graphmem.grass").is_file()


@pytest.mark.parametrize("name", QUERIES)
def test_query_header_tells_how_to_set_params(name: str) -> None:
    text = (INSPECT / f"{name}.cypher").read_text(encoding="utf-8")
    header = []
    for line in text.splitlines():
        if not line.startswith("//"):
            break
        header.append(line)
    # The first line becomes the Favorites title when the file is dropped on Browser.
    assert header and header[0].startswith("// graphmem: "), name
    body = "\n".join(text.splitlines()[len(header) :])
    for param in sorted(set(_params_in(body))):
        assert f":param {param} =>" in "\n".join(header), f"{name}: no ':param {param} => ...' line in the header"


def _params_in(text: str) -> list[str]:
    return re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", text)


def test_user_graph(store: Store, seeded: Seeded) -> None:
    rows = _run(store, "user_graph", seeded.params())
    entities = {row["e"]["name"] for row in rows}
    assert {"Maya", "Anna", "London", "Paris", "Acme", "Maya Chen"} <= entities
    drawn = set().union(*(_names(row["p"]) for row in rows if row["p"]))
    assert {"Maya", "London", "Siemens"} <= drawn
    # Paris, Acme and Lumen Labs are only reached by invalidated facts.
    assert not drawn & {"Paris", "Acme", "Lumen Labs"}


def test_entity_neighbourhood(store: Store, seeded: Seeded) -> None:
    rows = _run(store, "entity_neighbourhood", seeded.params(name=" ANNA "))
    assert rows and {row["e"]["name"] for row in rows} == {"Anna"}
    reached = set().union(*(_names(row["p"]) for row in rows if row["p"]))
    assert {"Berlin", "Siemens", "Maya"} <= reached  # one hop
    assert {"London", "Leo"} <= reached  # two hops, through Maya
    assert "Acme" not in reached and "Madrid" not in reached  # invalidated / three hops


def test_recent_invalidations(store: Store, seeded: Seeded) -> None:
    rows = _run(store, "recent_invalidations", seeded.params(days=1))
    changes = {row["old_triplet"]: row["replaced_by"] for row in rows}
    assert changes["Maya -[lives_in]-> Paris"] == "Maya -[lives_in]-> London"
    assert changes["Anna -[works_at]-> Acme"] == "Anna -[works_at]-> Siemens"
    assert all(row["invalidated_at"] is not None and row["old_valid_to"] is not None for row in rows)
    assert [r["invalidated_at"] for r in rows] == sorted((r["invalidated_at"] for r in rows), reverse=True)


def test_fact_provenance(store: Store, seeded: Seeded) -> None:
    rows = _run(store, "fact_provenance", seeded.params())
    assert rows and {row["triplet"] for row in rows} == {"Maya -[lives_in]-> Paris"}
    said = [(row["speaker"], row["text"]) for row in rows]
    assert ("Maya", "Hi! I'm setting up a travel and health assistant. I live in Paris.") in said
    assert [r["timestamp"] for r in rows] == sorted(r["timestamp"] for r in rows)


def test_orphans_and_duplicates(store: Store, seeded: Seeded) -> None:
    rows = _run(store, "orphans_and_duplicates", seeded.params())
    orphans = {row["name"] for row in rows if row["kind"] == "orphan"}
    assert orphans == {"Maya Chen"}
    pairs = {frozenset((row["name"], row["other"])) for row in rows if row["kind"] == "duplicate?"}
    assert frozenset(("Maya", "Maya Chen")) in pairs


def test_timeline(store: Store, seeded: Seeded) -> None:
    rows = _run(store, "timeline", seeded.params())
    facts = seeded.memory.get_all(user_id=seeded.user_id, include_invalidated=True)
    assert len(rows) == len(facts)
    assert [r["valid_from"] for r in rows] == sorted(r["valid_from"] for r in rows)
    paris = next(r for r in rows if r["fact_id"] == seeded.paris_fact_id)
    assert (paris["status"], paris["source"], paris["relation"], paris["target"]) == (
        "invalidated", "Maya", "lives_in", "Paris",
    )  # fmt: skip
    assert paris["valid_to"] is not None
    assert {r["status"] for r in rows} == {"valid", "invalidated"}


# -- 2. Neo4j Browser in headless Chromium ---------------------------------------------


def _chromium() -> str:
    path = os.environ.get("GRAPHMEM_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).is_file():
        pytest.skip("no Chromium: install it (Debian: apt-get install chromium) or set GRAPHMEM_CHROMIUM")
    return path


def _browser_url(settings: Settings) -> str:
    if os.environ.get("GRAPHMEM_TEST_BROWSER_URL"):
        return os.environ["GRAPHMEM_TEST_BROWSER_URL"]
    if not settings.managed:
        pytest.skip("Neo4j Browser URL unknown for NEO4J_URI servers: set GRAPHMEM_TEST_BROWSER_URL")
    from graphmem import _managed_neo4j

    return _managed_neo4j.status(settings).http_url + "/browser/"


_DROP_FILE = """([name, text]) => {
  const target = document.querySelector('.filedrop');
  if (!target) throw new Error('no .filedrop element: Browser layout changed');
  const data = new DataTransfer();
  data.items.add(new File([text], name, {type: 'text/plain'}));
  target.dispatchEvent(new DragEvent('drop', {bubbles: true, cancelable: true, dataTransfer: data}));
}"""


def _run_in_editor(page: Any, command: str) -> None:
    page.click('[data-testid="activeEditor"]')
    page.keyboard.insert_text(command)
    page.click('[data-testid="editor-Run"]')


def _dismiss_usage_banner(page: Any) -> None:
    """Browser's first-run telemetry banner; only in the way of the screenshot."""
    text = page.get_by_text("we collect information on product usage")
    try:
        text.wait_for(timeout=2_000)
        text.locator("xpath=..").locator(":scope > :last-child").click(timeout=2_000)
    except Exception:
        pass


def test_browser_draws_user_graph(seeded: Seeded, neo4j_settings: Settings) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    chromium = _chromium()
    url = _browser_url(neo4j_settings)
    bolt = neo4j_settings.bolt_uri  # e.g. bolt://127.0.0.1:7688
    scheme, _, host = bolt.partition("://")
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "browser.png"

    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = None
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            context.set_default_timeout(20_000)
            # Hermetic: Browser's telemetry, fonts and guides from the internet are refused.
            context.route(
                "**/*",
                lambda route: (
                    route.continue_()
                    if route.request.url.startswith(("http://127.0.0.1", "http://localhost", "data:", "blob:"))
                    else route.abort()
                ),
            )
            page = context.new_page()
            # connectURL pre-fills scheme, host and user; the password is typed as a user would.
            page.goto(f"{url}?connectURL={scheme}://{neo4j_settings.neo4j_user}@{host}", timeout=30_000)
            page.locator('[data-testid="boltaddress"]').wait_for(timeout=30_000)
            page.select_option('[data-testid="bolt-scheme-select"]', f"{scheme}://")
            page.fill('[data-testid="boltaddress"]', host)
            page.fill('[data-testid="username"]', neo4j_settings.neo4j_user)
            page.fill('[data-testid="password"]', neo4j_settings.password())
            page.click('[data-testid="connect"]')
            page.get_by_text("You are connected as user").wait_for()

            frames = page.locator('[data-testid="frame"]')  # newest first
            _dismiss_usage_banner(page)

            # The style sheet, dropped on the window: Browser answers with a :style frame.
            page.evaluate(_DROP_FILE, ["graphmem.grass", (INSPECT / "graphmem.grass").read_text()])
            frames.first.locator('[data-testid="frameCommand"]', has_text=":style").wait_for()

            # The saved query, dropped on the window and saved to Favorites.
            page.evaluate(_DROP_FILE, ["user_graph.cypher", (INSPECT / "user_graph.cypher").read_text()])
            page.click(".filedrop-save-to-favorites")

            # Draw only what the query returns (docs/inspect.md), then set $user_id.
            _run_in_editor(page, ":config autoComplete: false")
            frames.first.locator('[data-testid="frameCommand"]', has_text=":config").wait_for()
            _run_in_editor(page, f":param user_id => '{seeded.user_id}'")
            frames.first.get_by_text("Successfully set your parameters").wait_for()

            # Run the favourite from the Favorites drawer.
            page.click('[data-testid="navigationFavorites"]')
            favourite = page.locator('[data-testid="savedScriptListItem"]', has_text="graphmem: user graph")
            favourite.locator('[data-testid="savedScriptsButton-Run"]').click()

            result = frames.first
            nodes = result.locator("svg.neod3viz g.node")
            error = result.locator('[data-testid="cypherFrameErrorMessage"]')
            result.locator('svg.neod3viz g.node, [data-testid="cypherFrameErrorMessage"]').first.wait_for(
                timeout=30_000
            )
            assert error.count() == 0, error.inner_text()
            page.click('[data-testid="navigationFavorites"]')  # close the drawer for the picture
            page.wait_for_timeout(1500)  # let the force layout settle before the screenshot
            page.screenshot(path=str(shot))

            captions = set(result.locator("svg.neod3viz g.node text.caption").all_text_contents())
            captions = {c.strip() for c in captions}
            assert {"Maya", "Anna", "London", "Berlin"} <= captions, captions
            valid = seeded.memory.get_all(user_id=seeded.user_id)
            entities = {f.source_id for f in valid} | {f.target_id for f in valid}
            assert result.locator("svg.neod3viz g.relationship").count() == len(valid)
            assert nodes.count() >= len(entities)
            # graphmem.grass: FACTs captioned by relation (Browser's default is the type).
            edge_labels = {t.strip() for t in result.locator("svg.neod3viz g.relationship text").all_text_contents()}
            assert {"lives_in", "works_at"} <= edge_labels, edge_labels
            # ... and Person nodes in the sheet's blue.
            maya_caption = page.locator("text.caption", has_text=re.compile(r"^\s*Maya\s*$"))
            maya = result.locator("svg.neod3viz g.node", has=maya_caption).first
            assert maya.locator("circle.b-outline").get_attribute("fill").upper() == "#4C8EDA"
        except Exception:
            if page is not None:
                page.screenshot(path=str(ARTIFACTS / "browser-failure.png"))
            raise
        finally:
            browser.close()
    assert shot.stat().st_size > 10_000
