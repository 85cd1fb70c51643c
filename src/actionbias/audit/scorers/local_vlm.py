"""`LocalVLMAnswerer`: a local chat VLM (InternVL3) answering multiple-choice questions."""

from __future__ import annotations

from typing import Any

import numpy as np

from actionbias.audit.mcq_prompt import MCQPrompt, letter_from_logprobs, parse_answer
from actionbias.audit.scorers.base import MCQReply, default_device
from actionbias.audit.scorers.chat_answer import rounded_logprobs
from actionbias.errors import BadInputError
from actionbias.metrics.mcq import MCQuestion


class LocalVLMAnswerer:
    """A local chat VLM (`actionbias.models.internvl.InternVLChat`) answering MCQs.

    ``mode="logprobs"`` (default) reads the answer from the log-probability of
    each option letter as the first answer token: one forward pass, never
    unparseable. ``mode="text"`` generates a reply and parses it (the reply is
    stored with the prediction).
    """

    def __init__(
        self,
        chat: Any,
        prompt: MCQPrompt | None = None,
        mode: str = "logprobs",
        max_new_tokens: int = 16,
        spec: dict[str, Any] | None = None,
        name: str | None = None,
    ) -> None:
        if mode not in ("logprobs", "text"):
            raise BadInputError(f"mode must be logprobs or text, got {mode!r}", where="mode")
        self.chat = chat
        self.prompt = prompt or MCQPrompt()
        self.mode = mode
        self.max_new_tokens = max_new_tokens
        self.spec = dict(spec) if spec else {"type": "vlm-local", "id": type(chat).__name__}
        self.spec["mode"] = mode
        if mode == "text":
            self.spec["max_new_tokens"] = max_new_tokens
        self.spec["prompt"] = self.prompt.to_dict()
        self.name = name or str(self.spec.get("id"))

    @classmethod
    def from_pretrained(
        cls,
        id_or_path: str,
        frames: int = 8,
        device: str | None = None,
        prompt: MCQPrompt | None = None,
        mode: str = "logprobs",
        max_new_tokens: int = 16,
    ) -> LocalVLMAnswerer:
        from actionbias.models.internvl import InternVLChat

        options: dict[str, Any] = {"num_frames": frames, "device": default_device(device)}
        if options["device"].startswith("cuda"):
            options["dtype"] = "auto"  # the released checkpoints' bfloat16
        chat = InternVLChat.from_pretrained(id_or_path, **options)
        spec = {"type": "vlm-local", "id": id_or_path, "mode": mode}
        return cls(chat, prompt, mode, max_new_tokens, spec, name=id_or_path)

    def answer(
        self, clips: list[np.ndarray], questions: list[MCQuestion], class_names: list[str]
    ) -> list[MCQReply]:
        replies = []
        for frames, question in zip(clips, questions, strict=True):
            text = self.prompt.render(question, class_names)
            letters = question.letters()
            if self.mode == "logprobs":
                scores = dict(self.chat.option_logprobs(frames, text, list(letters)))
                choice = letter_from_logprobs(scores, letters)
                if choice is not None:
                    replies.append(
                        MCQReply(
                            choice, "logprobs", letters[choice], logprobs=rounded_logprobs(scores)
                        )
                    )
                    continue
            reply = str(self.chat.generate(frames, text, max_new_tokens=self.max_new_tokens))
            choice = parse_answer(reply, letters, self.prompt.answer_texts(question, class_names))
            replies.append(MCQReply(choice, "text" if choice is not None else "none", reply))
        return replies
