"""The LOCOMO evaluation: metric functions against hand-computed values, the data reader on a
small synthetic file, and the harness and the CLI end to end against the real Neo4j."""

from __future__ import annotations

import json
import math
import os
import subprocess
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graphmem import Message, Scope
from graphmem.eval import _metrics
from graphmem.eval._answer import Reply, Verdict, answer_prompt, as_reply, as_verdict, parse_label
from graphmem.eval._locomo import (
    LocomoConfig,
    load_locomo,
    message_node_id,
    parse_evidence,
    read_records,
    run_locomo,
    select_messages,
    select_questions,
    session_of,
)
from graphmem.eval._metrics import (
    aggregate,
    answer_recall,
    bleu1,
    f1_score,
    j_score,
    percentile,
    simple_tokenize,
    word_tokenize,
)
from graphmem.llm import ScriptedLLM
from graphmem.store.ids import message_node_id as stored_id


def _find_locomo() -> Path:
    """LOCOMO_PATH, else ../shared/datasets/locomo next to this checkout or, for a clone of a
    local checkout (a CI clone), next to the checkout it was cloned from. Never copied here."""
    if os.environ.get("LOCOMO_PATH"):
        return Path(os.environ["LOCOMO_PATH"])
    repo = Path(__file__).resolve().parents[2]
    candidates = [repo.parent / "shared/datasets/locomo/locomo10.json"]
    origin = subprocess.run(
        ["git", "-C", str(repo), "config", "--get", "remote.origin.url"], capture_output=True, text=True
    ).stdout.strip()
    if origin and "://" not in origin and Path(origin).is_dir():
        candidates.append(Path(origin).resolve().parent / "shared/datasets/locomo/locomo10.json")
    return next((c for c in candidates if c.is_file()), candidates[0])


LOCOMO = _find_locomo()
needs_locomo = pytest.mark.skipif(not LOCOMO.is_file(), reason=f"LOCOMO data not found at {LOCOMO} (set LOCOMO_PATH)")


# --- F1 -----------------------------------------------------------------------------------


def test_f1_is_over_unique_lowercased_tokens_with_punctuation_as_spaces():
    assert simple_tokenize("The cat, sat!Down? ok.") == ["the", "cat", "sat", "down", "ok"]
    # pred {the, cat, sat}, gold {the, cat, mat}: P = R = 2/3
    assert f1_score("The cat sat.", "the cat, the mat!") == pytest.approx(2 / 3)
    # pred {paris, france}, gold {paris}: P = 1/2, R = 1, F1 = 2 * 0.5 / 1.5
    assert f1_score("Paris, France", "Paris") == pytest.approx(2 / 3)
    assert f1_score("yes yes yes", "Yes") == 1.0  # duplicates do not count twice
    assert f1_score("", "Paris") == 0.0 and f1_score("Paris", "") == 0.0
    assert f1_score("London", "Paris") == 0.0
    assert f1_score("2022", 2022) == 1.0  # LOCOMO has a few integer answers


# --- BLEU ---------------------------------------------------------------------------------


def test_bleu1_brevity_penalty():
    # hyp [7, may], ref [7, may, 2023]: p1 = 2/2, c = 2 < r = 3 -> BP = exp(1 - 3/2)
    assert bleu1("7 May", "7 May 2023") == pytest.approx(math.exp(-0.5))
    # a longer answer is not penalised, only diluted: p1 = 2/5
    assert bleu1("She went in May 2023", "May 2023") == pytest.approx(0.4)


def test_bleu1_clips_repeated_words():
    # hyp [the, the, the] vs ref [the, cat]: "the" counts once -> p1 = 1/3; c = 3 > r = 2 -> BP = 1
    assert bleu1("the the the", "the cat") == pytest.approx(1 / 3)


def test_bleu1_ignores_word_order_and_higher_orders():
    # weights (1, 0, 0, 0): the smoothed bigram precision is weighted 0, so BLEU-1 = BP * p1
    assert bleu1("b a", "a b") == pytest.approx(1.0)
    # no unigram in common, or nothing to score: 0
    assert bleu1("London", "Paris") == 0.0
    assert bleu1("", "Paris") == 0.0
    assert bleu1("Paris", "") == 0.0


def test_bleu1_is_case_blind_and_splits_punctuation():
    # "Paris." -> [paris, .] vs [paris]: p1 = 1/2, c = 2 > r = 1 -> BP = 1
    assert bleu1("Paris.", "paris") == pytest.approx(0.5)


def test_word_tokenize_is_nltks():
    assert word_tokenize("caroline's painting, isn't it?") == [
        "caroline",
        "'s",
        "painting",
        ",",
        "is",
        "n't",
        "it",
        "?",
    ]
    assert word_tokenize("7 may 2023.") == ["7", "may", "2023", "."]
    assert word_tokenize("1,000 at 10:30 (well-known)") == ["1,000", "at", "10:30", "(", "well-known", ")"]
    assert word_tokenize("i cannot go") == ["i", "can", "not", "go"]


def test_context_tokens_are_counted_with_cl100k_base_offline():
    from graphmem.eval._tokens import token_counter

    count, label = token_counter()
    assert "cl100k_base" in label
    # cl100k_base: "hello" " world" "," " tik" "token" " is" " great" "!"
    assert count("hello world, tiktoken is great!") == 8
    assert count("<|endoftext|>") > 1  # special-token text is counted as plain text


# --- aggregation --------------------------------------------------------------------------


def test_j_is_the_share_of_correct_labels():
    assert j_score([True, False, True, True]) == 75.0
    assert j_score([]) is None
    assert as_verdict(True).correct and not as_verdict(False).correct
    assert as_verdict(Verdict(correct=True, llm_calls=1)).llm_calls == 1
    assert as_reply("Paris").text == "Paris" and as_reply(Reply(text="x", llm_calls=1)).llm_calls == 1


def test_overall_is_question_weighted_and_category_5_is_left_out():
    records = (
        [{"category": 1, "judge": True, "f1": 1.0}] * 2
        + [{"category": 2, "judge": True, "f1": 0.5}] * 2
        + [{"category": 2, "judge": False, "f1": 0.0}] * 6
        + [{"category": 5, "judge": True, "f1": 1.0}] * 5
    )
    result = aggregate(records)
    assert set(result["categories"]) == {"1", "2"}
    assert result["categories"]["1"]["j"] == 100.0 and result["categories"]["1"]["n"] == 2
    assert result["categories"]["2"]["j"] == 25.0 and result["categories"]["2"]["n"] == 8
    # 4 correct of 10 questions -> 40, not the mean of the category means (62.5)
    assert result["overall"]["j"] == pytest.approx(40.0) and result["overall"]["n"] == 10
    # F1: (2 * 1.0 + 2 * 0.5) / 10
    assert result["overall"]["f1"] == pytest.approx(30.0)
    assert result["categories"]["2"]["f1"] == pytest.approx(12.5)
    # scores a record does not carry are not averaged as zeros
    assert result["overall"]["answer_recall"] is None and result["overall"]["answer_recall_n"] == 0


def test_categories_carry_both_namings():
    result = aggregate([{"category": c, "judge": True} for c in (1, 2, 3, 4)])
    names = {c: (b["locomo_name"], b["mem0_name"]) for c, b in result["categories"].items()}
    assert names == {
        "1": ("multi-hop", "single-hop"),
        "2": ("temporal", "temporal"),
        "3": ("open-domain", "multi-hop"),
        "4": ("single-hop", "open-domain"),
    }
    assert _metrics.category_label(3) == "3 (LOCOMO open-domain / Mem0 multi-hop)"


def test_percentiles_interpolate_linearly():
    assert percentile([4, 1, 3, 2], 50) == pytest.approx(2.5)
    assert percentile([1, 2, 3, 4], 95) == pytest.approx(3.85)
    assert percentile([7], 95) == 7 and percentile([], 50) is None


def test_answer_recall_counts_content_tokens_of_the_gold_answer():
    # content tokens {psychology, counseling, certification}: 1 of 3 present
    assert answer_recall("Psychology, counseling certification", "Caroline wants to study psychology") == pytest.approx(
        1 / 3
    )
    assert answer_recall("The sunset", "Melanie painted a sunset.") == 1.0  # 'the' is a stopword
    assert answer_recall("the", "nothing here") == 0.0  # only stopwords: they are kept
    assert answer_recall("", "anything") is None


# --- answering ----------------------------------------------------------------------------


def test_judge_labels_are_parsed_from_json_or_text():
    assert parse_label('{"reason": "same date", "label": "CORRECT"}') == "CORRECT"
    assert parse_label('```json\n{"label": "wrong"}\n```') == "WRONG"
    assert parse_label("The answer names another city. WRONG") == "WRONG"
    prompt = answer_prompt("Where?", {"Ann": "- [2023-05-08] Ann lives in Paris", "Bob": ""})
    assert "Memories of Ann:\n- [2023-05-08] Ann lives in Paris" in prompt and "Memories of Bob:\n(none)" in prompt


def test_openai_answerer_and_judge_over_a_fake_endpoint():
    import openai

    try:  # openai>=3 is built on httpx2; older releases on httpx
        import httpx2 as httpx
    except ImportError:  # pragma: no cover
        import httpx  # type: ignore[no-redef]

    from graphmem.eval import openai_answerer, openai_judge

    bodies: list[dict] = []

    def endpoint(request):
        body = json.loads(request.content)
        bodies.append(body)
        if body.get("response_format"):  # this server has no JSON mode
            return httpx.Response(400, json={"error": {"message": "response_format not supported"}})
        content = "7 May 2023" if "Answer:" in body["messages"][0]["content"] else "Same date. CORRECT"
        return httpx.Response(
            200,
            json={
                "id": "x",
                "object": "chat.completion",
                "created": 0,
                "model": "m",
                "choices": [
                    {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}
                ],
                "usage": {"prompt_tokens": 40, "completion_tokens": 4, "total_tokens": 44},
            },
        )

    client = openai.OpenAI(
        api_key="k",
        base_url="http://test/v1",
        max_retries=0,
        http_client=httpx.Client(transport=httpx.MockTransport(endpoint)),
    )
    reply = openai_answerer(client, "answer-model")("When?", {"Ann": "- [2023-05-08] x", "Bob": ""})
    assert reply == Reply(text="7 May 2023", prompt_tokens=40, completion_tokens=4, llm_calls=1)
    verdict = openai_judge(client, "judge-model")("When?", "7 May 2023", reply.text)
    assert verdict.correct and verdict.label == "CORRECT" and verdict.llm_calls == 1
    assert [b["model"] for b in bodies] == ["answer-model", "judge-model", "judge-model"]
    assert all(b["temperature"] == 0.0 for b in bodies)


def test_llm_mode_without_an_endpoint_is_a_config_error(monkeypatch, tmp_path):
    from graphmem.cli import app

    monkeypatch.setenv("GRAPHMEM_LLM_PROVIDER", "openai")
    for key in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(key, raising=False)
    data = _synthetic_locomo(tmp_path / "syn.json")
    result = CliRunner().invoke(app, ["eval", "locomo", str(data), "--out", str(tmp_path / "o")])
    assert result.exit_code == 4 and "--retrieval-only" in result.output


# --- the data -----------------------------------------------------------------------------


def _synthetic_locomo(path: Path) -> Path:
    sample = {
        "sample_id": "syn-1",
        "conversation": {
            "speaker_a": "Ann",
            "speaker_b": "Bob",
            "session_1_date_time": "1:56 pm on 8 May, 2023",
            "session_1": [
                {"speaker": "Ann", "dia_id": "D1:1", "text": "I painted a sunrise last year."},
                {"speaker": "Bob", "dia_id": "D1:2", "text": "I adopted a dog called Rex."},
            ],
            "session_2_date_time": "2:00 pm on 20 May, 2023",
            "session_2": [{"speaker": "Ann", "dia_id": "D2:1", "text": "I moved to Lisbon."}],
            "session_3_date_time": "3:00 pm on 1 June, 2023",  # a date with no session, as in the real data
        },
        "qa": [
            {"question": "When did Ann paint a sunrise?", "answer": 2022, "evidence": ["D1:1"], "category": 2},
            {
                "question": "What did Bob adopt, and where does Ann live?",
                "answer": "a dog; Lisbon",
                "evidence": ["D2:1; D1:2"],
                "category": 1,
            },
            {"question": "What did Ann adopt?", "adversarial_answer": "a dog", "evidence": ["D1:2"], "category": 5},
            {"question": "What is the dog called?", "answer": "Rex", "evidence": ["D:1:02"], "category": 4},
            {"question": "What is Bob's job?", "answer": "nurse", "evidence": ["D9:9", "D"], "category": 4},
        ],
    }
    path.write_text(json.dumps([sample]))
    return path


def test_evidence_ids_are_normalised():
    assert parse_evidence(["D8:6; D9:17"]) == ["D8:6", "D9:17"]
    assert parse_evidence(["D:11:26", "D30:05", "D", "D9:1 D4:4 D4:6"]) == ["D11:26", "D30:5", "D9:1", "D4:4", "D4:6"]
    assert parse_evidence(["D1:3", "D1:3"]) == ["D1:3"]
    assert session_of("conv-26:D12:3") == 12


def test_load_locomo_and_slices(tmp_path):
    sample = load_locomo(_synthetic_locomo(tmp_path / "syn.json"))[0]
    assert sample.speakers == ("Ann", "Bob") and sample.sessions() == [1, 2]
    assert [m.id for m in sample.messages] == ["syn-1:D1:1", "syn-1:D1:2", "syn-1:D2:1"]
    assert sample.messages[0].name == "Ann" and sample.messages[0].timestamp.day == 8
    q = sample.questions
    assert q[0].answer == "2022" and q[0].evidence == ["D1:1"]
    assert q[1].evidence == ["D2:1", "D1:2"] and q[3].evidence == ["D1:2"]
    assert q[4].evidence == [] and q[4].evidence_dropped == 2  # D9:9 is no turn of this conversation; 'D' names none
    assert q[2].answer == "a dog"  # adversarial questions have no 'answer' (and are never scored)

    assert [x.index for x in select_questions(sample, None, None)] == [0, 1, 3, 4]  # category 5 left out
    assert [x.index for x in select_questions(sample, None, 2)] == [0, 1]
    assert [x.index for x in select_questions(sample, 1, None)] == [0, 3]  # all evidence in session 1
    assert [m.id for m in select_messages(sample, 1)] == ["syn-1:D1:1", "syn-1:D1:2"]


def test_message_node_id_is_the_stored_id():
    stored = stored_id(Scope(user_id="conv-26:Caroline"), Message(content="hi", id="conv-26:D1:3"))
    assert message_node_id("conv-26:Caroline", "conv-26:D1:3") == stored
    assert message_node_id("conv-26:Melanie", "conv-26:D1:3") != stored  # per scope


# --- end to end against Neo4j ----------------------------------------------------------------


def per_turn_graph(source):
    """A scripted extractor: one fact per turn, the turn's text as the fact sentence."""
    entities, triplets = [], []
    for message in source.messages:
        topic = " ".join(message.content.split()[:6])
        entities += [{"name": message.speaker, "type": "Person"}, {"name": topic, "type": "Topic"}]
        triplets.append(
            {
                "source": message.speaker,
                "source_type": "Person",
                "relation": "said",
                "target": topic,
                "target_type": "Topic",
                "fact": f"{message.speaker} said: {message.content}",
            }
        )
    return {"entities": entities, "triplets": triplets}


@pytest.fixture
def locomo_scopes(scope_ids):
    """A fresh scope prefix; both speaker scopes of conv-26 under it are deleted afterwards."""
    prefix = f"test-eval-{uuid.uuid4().hex[:8]}-"
    scope_ids.extend([f"{prefix}conv-26:Caroline", f"{prefix}conv-26:Melanie"])
    return prefix


@pytest.mark.neo4j
@needs_locomo
def test_harness_with_scripted_answerer_and_judge(make_memory, locomo_scopes, tmp_path):
    memory = make_memory(ScriptedLLM(graph=per_turn_graph), single_pass=True)
    sample = load_locomo(LOCOMO)[0]
    chosen = select_questions(sample, 3, 20)
    assert len(chosen) == 20
    right = {q.question: q.answer for q in chosen if q.index % 2 == 0}
    asked: list[str] = []

    def answerer(question, memories):
        asked.append(question)
        assert set(memories) == {"Caroline", "Melanie"}
        return Reply(text=right.get(question, "no idea"), prompt_tokens=100, completion_tokens=3, llm_calls=1)

    def judge(question, gold, generated):
        return Verdict(correct=f1_score(generated, gold) == 1.0, llm_calls=1, prompt_tokens=50, completion_tokens=2)

    # 6 turns per add and top-10 keep the test short; the CLI test below runs the defaults (2, top-30)
    config = LocomoConfig(
        path=LOCOMO,
        out=tmp_path / "out",
        conversations=1,
        questions=20,
        sessions=3,
        batch=6,
        top_k=10,
        scope_prefix=locomo_scopes,
    )
    summary = run_locomo(memory, config, answerer=answerer, judge=judge)

    out = tmp_path / "out"
    for name in ("results.json", "results.md", "results.png", "questions.jsonl", "ingest.json", "run.json"):
        assert (out / name).is_file(), name
    assert (out / "results.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    records = read_records(out / "questions.jsonl")
    assert len(records) == 20 and len(asked) == 20
    expected_j = 100.0 * len(right) / 20
    overall = summary["scores"]["overall"]
    assert summary["mode"] == "llm" and overall["n"] == 20
    assert overall["j"] == pytest.approx(expected_j)
    assert overall["f1"] >= expected_j - 1e-9  # the right answers score F1 100
    assert overall["evidence_recall"] > 0 and overall["answer_recall"] > 0
    assert sum(b["n"] for b in summary["scores"]["categories"].values()) == 20
    assert summary["ingestion"]["messages"] == 2 * 58 and summary["ingestion"]["llm_calls"] > 0
    assert summary["answering"]["llm_calls"] == 20 and summary["judging"]["prompt_tokens"] == 20 * 50
    assert summary["latency_seconds"]["search"]["p95"] >= summary["latency_seconds"]["search"]["p50"] > 0
    assert summary["context_tokens"]["mean"] > 0 and summary["context_tokens"]["tokenizer"]
    markdown = (out / "results.md").read_text()
    assert "| 1 | multi-hop | single-hop |" in markdown and "question-weighted" in markdown

    # A re-run resumes: nothing is ingested or asked again, the scores are the same.
    again = run_locomo(
        make_memory(ScriptedLLM(graph=per_turn_graph), single_pass=True), config, answerer=answerer, judge=judge
    )
    assert len(asked) == 20
    assert again["scores"] == summary["scores"]
    assert again["ingestion"]["per_scope"][f"{locomo_scopes}conv-26:Caroline"]["skipped"] == 58
    assert again["ingestion"]["llm_calls"] == summary["ingestion"]["llm_calls"]  # kept from the first run


@pytest.mark.neo4j
@needs_locomo
def test_cli_offline_retrieval_only_runs_to_the_end(neo4j_settings, monkeypatch, locomo_scopes, tmp_path, store):
    from graphmem.cli import app

    for key, value in {
        "NEO4J_URI": neo4j_settings.bolt_uri,
        "NEO4J_USER": neo4j_settings.neo4j_user,
        "NEO4J_PASSWORD": neo4j_settings.password(),
        "GRAPHMEM_LLM_PROVIDER": "offline",
        "HF_HUB_OFFLINE": "1",
    }.items():
        monkeypatch.setenv(key, value)
    out = tmp_path / "offline"
    result = CliRunner().invoke(
        app,
        [
            "eval",
            "locomo",
            str(LOCOMO),
            "--conversations",
            "1",
            "--questions",
            "20",
            "--sessions",
            "3",
            "--out",
            str(out),
            "--scope-prefix",
            locomo_scopes,
            "--cleanup",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "retrieval-only (no LLM)" in result.output
    summary = json.loads((out / "results.json").read_text())
    assert summary["mode"] == "retrieval-only"
    assert summary["score_label"] == "retrieval-only (no LLM): answer-recall@k / evidence-recall@k"
    overall = summary["scores"]["overall"]
    assert overall["n"] == 20 and "j" not in overall and "f1" not in overall
    assert {"answer_recall", "answer_hit", "evidence_recall"} <= set(overall)
    assert "| J |" not in (out / "results.md").read_text()
    assert len((out / "questions.jsonl").read_text().splitlines()) == 20
    for speaker in ("Caroline", "Melanie"):  # --cleanup deleted the scopes
        counts = store.run("scope_stats", Scope(user_id=f"{locomo_scopes}conv-26:{speaker}").params())[0]
        assert counts["messages"] == 0 and counts["entities"] == 0
