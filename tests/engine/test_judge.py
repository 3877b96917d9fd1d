"""ChatJudge over real HTTP: the request it sends, the verdicts it accepts, and every way it refuses."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from policyhub.engine.judge import SYSTEM_PROMPT, ChatJudge, JudgeError
from tests.engine.judge_server import FakeChatServer, fake_chat_server


@pytest.fixture(scope="module")
def chat() -> Iterator[FakeChatServer]:
    with fake_chat_server() as server:
        yield server


@pytest.fixture
def judge(chat: FakeChatServer) -> Iterator[ChatJudge]:
    chat.requests.clear()
    j = ChatJudge(chat.url, model="judge-model", api_key="sk-test-key-123")
    yield j
    j.close()


def test_a_violation_verdict_and_the_request_that_asked_for_it(chat: FakeChatServer, judge: ChatJudge) -> None:
    chat.answer(content={"violated": True, "explanation": "  Mentions a competitor.  "})
    verdict = judge.judge("No competitor talk", "Is AcmeCorp cheaper?", timeout_s=2)
    assert verdict.violated is True and verdict.explanation == "Mentions a competitor."
    (sent,) = chat.requests
    assert sent["path"] == "/v1/chat/completions"
    assert sent["headers"]["Authorization"] == "Bearer sk-test-key-123"
    body = sent["body"]
    assert body["model"] == "judge-model" and body["temperature"] == 0
    assert body["response_format"] == {"type": "json_object"}
    assert body["messages"][0] == {"role": "system", "content": SYSTEM_PROMPT}
    assert json.loads(body["messages"][1]["content"]) == {
        "policy": "No competitor talk",
        "text": "Is AcmeCorp cheaper?",
    }


def test_not_violated(chat: FakeChatServer, judge: ChatJudge) -> None:
    chat.answer(content={"violated": False, "explanation": "Unrelated."})
    assert judge.judge("rule", "text", timeout_s=2).violated is False


def test_a_full_chat_completions_url_is_used_as_given(chat: FakeChatServer) -> None:
    chat.requests.clear()
    j = ChatJudge(chat.url + "/chat/completions/", model="m")
    chat.answer()
    j.judge("rule", "text", timeout_s=2)
    assert chat.requests[0]["path"] == "/v1/chat/completions" and "Authorization" not in chat.requests[0]["headers"]
    j.close()


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"raw": b"<html>oops</html>"}, "not a chat completion"),
        ({"raw": b'{"choices": []}'}, "not a chat completion"),
        ({"raw": b'{"choices": [{"message": {"content": null}}]}'}, "no text content"),
        ({"content": "Yes, it violates the policy."}, "not a JSON object"),
        ({"content": '```json\n{"violated": true, "explanation": "x"}\n```'}, "not a JSON object"),
        ({"content": "[true]"}, "not a JSON object"),
        ({"content": {"violated": "true", "explanation": "x"}}, 'boolean "violated"'),
        ({"content": {"violated": 1, "explanation": "x"}}, 'boolean "violated"'),
        ({"content": {"violated": True}}, 'string "explanation"'),
        ({"status": 500, "raw": b'{"error": "boom"}'}, "HTTP 500"),
        ({"status": 429, "raw": b"{}"}, "HTTP 429"),
    ],
)
def test_malformed_answers_are_errors(
    chat: FakeChatServer, judge: ChatJudge, answer: dict[str, object], message: str
) -> None:
    chat.answer(**answer)
    with pytest.raises(JudgeError, match=message) as info:
        judge.judge("rule", "my card is 4111111111111111", timeout_s=2)
    assert "4111" not in str(info.value) and "sk-test" not in str(info.value)


def test_a_slow_judge_times_out(chat: FakeChatServer, judge: ChatJudge) -> None:
    chat.answer(delay_s=1.0)
    with pytest.raises(JudgeError, match=r"did not answer within 0\.2s"):
        judge.judge("rule", "text", timeout_s=0.2)


def test_an_unreachable_judge_is_an_error() -> None:
    j = ChatJudge("http://127.0.0.1:9/v1", model="m")
    with pytest.raises(JudgeError, match=r"could not be reached|did not answer"):
        j.judge("rule", "text", timeout_s=1)
    j.close()


def test_text_too_long_is_refused_not_truncated(chat: FakeChatServer) -> None:
    chat.requests.clear()
    j = ChatJudge(chat.url, model="m", max_text_chars=10)
    with pytest.raises(JudgeError, match="too long"):
        j.judge("rule", "x" * 11, timeout_s=1)
    assert chat.requests == []
    j.close()
