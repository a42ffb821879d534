"""Answering and judging for the LOCOMO evaluation: two plain chat calls, not part of the
extraction interface (`graphmem.llm.LLM`).

An *answerer* is any callable ``(question, memories) -> str | Reply`` where ``memories`` maps
each speaker's name to the dated memory lines retrieved from that speaker's scope. A *judge*
is any callable ``(question, gold, generated) -> bool | Verdict``. Tests pass scripted
callables; :func:`openai_answerer` and :func:`openai_judge` call an OpenAI-compatible
endpoint with the `openai` client (settings.openai_base_url / openai_api_key), temperature 0.

The prompts follow the Mem0 paper's evaluation (its answer prompt and its generous
CORRECT/WRONG judge), in our own words.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, cast

from pydantic import BaseModel

from .._errors import ConfigError, LLMError
from .._settings import Settings


class Reply(BaseModel):
    """What an answerer returns (a bare str is read as Reply(text=...))."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    llm_calls: int = 0


class Verdict(BaseModel):
    """What a judge returns (a bare bool is read as Verdict(correct=...))."""

    correct: bool
    label: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    llm_calls: int = 0


Answerer = Callable[[str, Mapping[str, str]], str | Reply]
Judge = Callable[[str, str, str], bool | Verdict]


def as_reply(value: str | Reply) -> Reply:
    return value if isinstance(value, Reply) else Reply(text=str(value))


def as_verdict(value: bool | Verdict) -> Verdict:
    if isinstance(value, Verdict):
        return value
    return Verdict(correct=bool(value), label="CORRECT" if value else "WRONG")


ANSWER_PROMPT = """You answer a question about two people from memories of their past conversations.

Each memory line starts with the date of the conversation it comes from: [YYYY-MM-DD].

How to answer:
1. Read the memories of both people; use only what they say.
2. Look for direct evidence of the event or fact asked about, and check the dates.
3. Turn relative times into absolute ones using the memory's date: a memory dated
   2022-05-04 that says "went to India last year" means 2021; "two months ago" in a memory
   dated 2023-05-10 means March 2023. Answer with the date, month or year, never "last year".
4. When memories disagree, trust the most recent one.
5. People named inside a memory are not necessarily one of the two speakers; keep them apart.
6. Reply with the answer only, in at most six words, no explanation.

Memories of {speaker_1}:
{memories_1}

Memories of {speaker_2}:
{memories_2}

Question: {question}
Answer:"""

JUDGE_PROMPT = """Label a generated answer to a question as CORRECT or WRONG.

You get (1) a question one person asked about another, based on their past conversations,
(2) the gold (ground truth) answer, usually short, and (3) a generated answer.

Be generous. The generated answer may be longer or worded differently: if it is about the
same thing as the gold answer, it is CORRECT. For questions about time, the generated answer
is CORRECT when it names the same date or period as the gold answer, whatever the format
("May 7th" and "7 May" are the same date) and even if it is phrased relative to another date.
It is WRONG when it names something else, contradicts the gold answer or does not answer.

Question: {question}
Gold answer: {gold}
Generated answer: {generated}

Give a one-sentence reason, then the label. Reply in JSON: {{"reason": "...", "label": "CORRECT"}} or
{{"reason": "...", "label": "WRONG"}}. Never use both words as the label."""


def answer_prompt(question: str, memories: Mapping[str, str]) -> str:
    (speaker_1, memories_1), (speaker_2, memories_2) = list(memories.items())[:2]
    return ANSWER_PROMPT.format(
        speaker_1=speaker_1,
        memories_1=memories_1 or "(none)",
        speaker_2=speaker_2,
        memories_2=memories_2 or "(none)",
        question=question,
    )


def judge_prompt(question: str, gold: str, generated: str) -> str:
    return JUDGE_PROMPT.format(question=question, gold=gold, generated=generated)


def parse_label(content: str) -> str:
    """CORRECT or WRONG from the judge's reply (JSON `label`, else the last of the two words)."""
    text = content.strip()
    fenced = re.match(r"^```(?:json)?\s*(.*?)\s*```$", text, re.DOTALL)
    if fenced:
        text = fenced.group(1)
    try:
        data = json.loads(text)
        if isinstance(data, dict) and str(data.get("label", "")).strip().upper() in ("CORRECT", "WRONG"):
            return str(data["label"]).strip().upper()
    except json.JSONDecodeError:
        pass
    found = re.findall(r"\b(CORRECT|WRONG)\b", text.upper())
    if not found:
        raise LLMError(f"the judge's reply has no CORRECT/WRONG label: {text[:200]!r}")
    return cast(str, found[-1])  # re.findall with one group: a list of str


def make_client(settings: Settings) -> Any:
    """An `openai.OpenAI` client for the configured endpoint (key optional for local servers)."""
    import openai

    if not settings.openai_api_key and not settings.openai_base_url:
        raise ConfigError(
            "answering and judging need an LLM endpoint: set OPENAI_API_KEY (OpenAI) or OPENAI_BASE_URL "
            "(a local OpenAI-compatible server), or run with --retrieval-only"
        )
    try:
        return openai.OpenAI(
            api_key=settings.openai_api_key or "not-needed",
            base_url=settings.openai_base_url,
            timeout=settings.llm_timeout,
            max_retries=settings.llm_max_retries,
        )
    except openai.OpenAIError as exc:
        raise ConfigError(f"cannot create the OpenAI client ({exc})") from None


def _chat(client: Any, model: str, prompt: str, operation: str, *, json_mode: bool = False) -> tuple[str, int, int]:
    import openai

    messages = [{"role": "user", "content": prompt}]
    try:
        try:
            extra = {"response_format": {"type": "json_object"}} if json_mode else {}
            response = client.chat.completions.create(model=model, messages=messages, temperature=0.0, **extra)
        except openai.BadRequestError:
            if not json_mode:
                raise
            # servers without JSON mode: ask again in plain text (the label is parsed either way)
            response = client.chat.completions.create(model=model, messages=messages, temperature=0.0)
    except openai.OpenAIError as exc:
        detail = getattr(exc, "message", None) or str(exc)
        raise LLMError(f"{operation}: model {model!r} failed: {detail[:300]}") from None
    usage = response.usage
    content = (response.choices[0].message.content or "") if response.choices else ""
    return content, (usage.prompt_tokens if usage else 0), (usage.completion_tokens if usage else 0)


def openai_answerer(client: Any, model: str) -> Answerer:
    def answer(question: str, memories: Mapping[str, str]) -> Reply:
        content, prompt_tokens, completion_tokens = _chat(client, model, answer_prompt(question, memories), "answer")
        return Reply(
            text=content.strip(), prompt_tokens=prompt_tokens, completion_tokens=completion_tokens, llm_calls=1
        )

    return answer


def openai_judge(client: Any, model: str) -> Judge:
    def judge(question: str, gold: str, generated: str) -> Verdict:
        prompt = judge_prompt(question, gold, generated)
        content, p, c = _chat(client, model, prompt, "judge", json_mode=True)
        label = parse_label(content)
        return Verdict(correct=label == "CORRECT", label=label, prompt_tokens=p, completion_tokens=c, llm_calls=1)

    return judge


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started
