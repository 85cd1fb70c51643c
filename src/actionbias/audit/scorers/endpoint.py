"""`EndpointVLMAnswerer`: an OpenAI-compatible chat endpoint answering multiple-choice questions."""

from __future__ import annotations

from typing import Any

import numpy as np

from actionbias.audit.mcq_prompt import MCQPrompt
from actionbias.audit.scorers.base import MCQReply
from actionbias.audit.scorers.chat_answer import read_chat_answer, reply_field
from actionbias.metrics.mcq import MCQuestion


def _one_line(err: BaseException) -> str:
    message = " ".join(str(err).split()) or type(err).__name__
    return f"{type(err).__name__}: {message}"[:300]


class EndpointVLMAnswerer:
    """Any OpenAI-compatible chat endpoint (OpenAI, vLLM, Ollama) answering MCQs.

    Frames go as base64 JPEG ``image_url`` parts before the question; the reply
    is requested at temperature 0 with the top log-probabilities of each token.
    A failed call (after the client's retries) becomes an ``error`` reply: the
    audit counts it and does not crash, and a rerun retries it. Servers that
    refuse ``logprobs`` are detected on the first batch where every call fails
    mentioning them, and asked again without.
    """

    def __init__(
        self,
        client: Any,
        prompt: MCQPrompt | None = None,
        max_tokens: int = 16,
        top_logprobs: int = 5,
        logprobs: bool = True,
        max_side: int | None = 512,
        quality: int | None = None,
        spec: dict[str, Any] | None = None,
        name: str | None = None,
    ) -> None:
        self.client = client
        self.prompt = prompt or MCQPrompt()
        self.max_tokens = max_tokens
        self.top_logprobs = top_logprobs
        self.use_logprobs = logprobs
        self.max_side = max_side
        self.quality = quality
        model = getattr(client, "model", None)
        self.spec = dict(spec) if spec else {"type": "vlm-endpoint", "id": str(model)}
        # what changes the answers is part of the run's identity (config.json)
        self.spec["prompt"] = self.prompt.to_dict()
        self.spec.update(
            max_side=max_side, max_tokens=max_tokens, logprobs=logprobs, top_logprobs=top_logprobs
        )
        self.name = name or str(self.spec.get("id"))

    @classmethod
    def from_spec(
        cls,
        base_url: str,
        model: str,
        api_key_env: str = "OPENAI_API_KEY",
        prompt: MCQPrompt | None = None,
        client_options: dict[str, Any] | None = None,
        **options: Any,
    ) -> EndpointVLMAnswerer:
        from actionbias.llm import ChatClient

        client = ChatClient(base_url, model, api_key_env=api_key_env, **(client_options or {}))
        spec = {
            "type": "vlm-endpoint",
            "id": model,
            "model": model,
            "base_url": base_url,
            "api_key_env": api_key_env,
        }
        return cls(client, prompt, spec=spec, name=model, **options)

    def _messages(self, frames: np.ndarray, text: str) -> list[dict[str, Any]]:
        from actionbias.llm import frames_to_image_parts

        options: dict[str, Any] = {}
        if self.max_side is not None:
            options["max_side"] = self.max_side
        if self.quality is not None:
            options["quality"] = self.quality
        parts = list(frames_to_image_parts(np.asarray(frames), **options))
        parts.append({"type": "text", "text": text})
        return [{"role": "user", "content": parts}]

    def _call(self, messages: list[list[dict[str, Any]]]) -> list[Any]:
        options: dict[str, Any] = {"temperature": 0, "max_tokens": self.max_tokens}
        if self.use_logprobs:
            options.update(logprobs=True, top_logprobs=self.top_logprobs)
        return list(self.client.chat_many(messages, return_exceptions=True, **options))

    def answer(
        self, clips: list[np.ndarray], questions: list[MCQuestion], class_names: list[str]
    ) -> list[MCQReply]:
        texts = [self.prompt.render(q, class_names) for q in questions]
        messages = [self._messages(f, t) for f, t in zip(clips, texts, strict=True)]
        results = self._call(messages)
        replies = []
        for question, result in zip(questions, results, strict=True):
            if isinstance(result, BaseException):
                replies.append(MCQReply(None, "error", _one_line(result)))
                continue
            text = str(reply_field(result, "text") or "")
            replies.append(
                read_chat_answer(
                    text,
                    reply_field(result, "logprobs"),
                    question.letters(),
                    self.prompt.answer_texts(question, class_names),
                )
            )
        return replies
