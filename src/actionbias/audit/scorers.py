"""Every model behind one of two audit interfaces.

* `ClipScorer` (``score(clips) -> (B, C) scores``) for the "all classes"
  protocol: our classifiers, CLIP/SigLIP zero-shot, or any Python callable. The
  same scores answer the multiple-choice protocol by the argmax over the five
  choices (`actionbias.metrics.answer_by_scores`), as the paper does for
  Slow-only and CLIP.
* `MCQAnswerer` (``answer(clips, questions, class_names) -> replies``) for
  video LLMs: a local InternVL3 (`LocalVLMAnswerer`) or any OpenAI-compatible
  endpoint (`EndpointVLMAnswerer`). An answer comes from the option letters'
  log-probabilities when they are available, otherwise from the reply text
  through `parse_answer`; an unusable reply is counted as no answer, and a
  failed call as an error that the next run of the audit retries.

A scorer may additionally implement ``predict_records`` (see `RecordScorer`):
then it decodes the videos itself. Our classifiers do, because segmented,
dual-branch and weighted-focus models need person masks aligned with the
sampled frames, which train's dataset code provides (the same decoding as in
training, masks included).

Model strings of the command line (`parse_model_string`)::

    runs/slow/checkpoints/best.ckpt          a checkpoint of `actionbias train` (any existing file)
    clip:openai/clip-vit-base-patch32        CLIP zero-shot (Hugging Face id or local folder)
    siglip:google/siglip2-base-patch16-224   SigLIP / SigLIP2 zero-shot
    hf:MCG-NJU/videomae-base-finetuned-kinetics   a Hugging Face video classifier (or folder)
    xclip:microsoft/xclip-base-patch32       X-CLIP zero-shot over the label space
    internvl:OpenGVLab/InternVL3-8B          a local InternVL3 chat model
    openai:gpt-4o-mini                        an OpenAI-compatible endpoint (api.openai.com)
    openai:MODEL@http://localhost:8000/v1     the same at another base URL (vLLM, Ollama...)

Options follow a ``?``: ``clip:ID?pooling=mean``, ``internvl:ID?mode=text``,
``openai:MODEL@URL?key_env=MY_KEY&logprobs=false&max_side=512``.

CLIP/SigLIP prompts (``?prompts=``): ``label`` (default, the paper's: the raw
class label is the text, e.g. "playing guitar"), ``authors`` (the model
authors' templates: CLIP's 28 Kinetics-700 templates, ensembled; SigLIP's
"This is a photo of {}.") or one template with ``{}`` (URL-encode spaces as
``%20`` or quote the argument).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import parse_qsl

import numpy as np

from actionbias.audit.mcq_prompt import (
    MCQPrompt,
    display_name,
    letter_from_logprobs,
    parse_answer,
)
from actionbias.errors import BadInputError
from actionbias.metrics.mcq import MCQuestion

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
MODEL_TYPES = (
    "classifier",
    "hf",
    "callable",
    "clip",
    "siglip",
    "xclip",
    "vlm-local",
    "vlm-endpoint",
)
PROMPT_MODES = ("label", "authors")
"""``label``: the raw class label as the text (the paper); ``authors``: the model's templates."""
ANSWER_SOURCES = ("logprobs", "text", "scores", "none", "error")
SMALL_RUN = 64
"""Videos below which a classifier audit decodes in the main process (no loader workers)."""


# ------------------------------------------------------------------------ protocols


@runtime_checkable
class ClipScorer(Protocol):
    """ "All classes" protocol: clips (uint8 ``T x H x W x 3`` RGB) -> ``(B, C)`` scores."""

    def score(self, clips: list[np.ndarray]) -> np.ndarray: ...


@dataclass
class MCQReply:
    """One answer to one multiple-choice question.

    ``choice`` is the position in ``question.choices`` (None: no usable answer);
    ``source`` says where it came from: "logprobs", "text", "scores", "none"
    (reply unparseable) or "error" (the call failed; retried by the next run).
    """

    choice: int | None
    source: str
    reply: str = ""
    logprobs: dict[str, float] | None = field(default=None)


@runtime_checkable
class MCQAnswerer(Protocol):
    """Multiple-choice protocol: one reply per (clip, question)."""

    def answer(
        self, clips: list[np.ndarray], questions: list[MCQuestion], class_names: list[str]
    ) -> list[MCQReply]: ...


SkipCallback = Callable[[Any, str], None]
"""``on_skip(record, reason)``: a video that could not be used (broken media, no mask)."""


@runtime_checkable
class RecordScorer(Protocol):
    """A scorer that reads the videos itself (decoding, masks) instead of taking clips."""

    def predict_records(
        self, records: Sequence[Any], batch_size: int, frames: int, on_skip: SkipCallback
    ) -> Iterator[tuple[list[Any], np.ndarray]]: ...


def describe(scorer: Any) -> tuple[str, dict[str, Any]]:
    """(display name, model spec for config.json) of any scorer or answerer."""
    spec = getattr(scorer, "spec", None)
    if not isinstance(spec, dict):
        spec = {"type": "callable", "id": type(scorer).__name__}
    name = getattr(scorer, "name", None) or str(spec.get("id") or type(scorer).__name__)
    return str(name), dict(spec)


def _device(device: str | None) -> str:
    """The torch device to load a model on: the given one, else CUDA when there is one."""
    if device:
        return str(device)
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


# ------------------------------------------------------------------------ callables


class CallableScorer:
    """Any Python callable ``clips -> (B, C) scores`` over ``class_names``.

    The "bring your own model" path of the Python API: ``fn`` gets the sampled
    uint8 RGB clips of one batch and returns one row of scores per clip (logits,
    probabilities or similarities: only their order matters for top-1/MCQ; top-5
    and mAP use them as they are).
    """

    def __init__(
        self,
        fn: Callable[[list[np.ndarray]], Any],
        class_names: Sequence[str] | None = None,
        name: str | None = None,
        spec: dict[str, Any] | None = None,
    ) -> None:
        self.fn = fn
        self.class_names = list(class_names) if class_names is not None else None
        self.name = name or getattr(fn, "__name__", type(fn).__name__)
        self.spec = dict(spec) if spec else {"type": "callable", "id": self.name}

    def score(self, clips: list[np.ndarray]) -> np.ndarray:
        scores = np.asarray(self.fn(clips), dtype=np.float64)
        if scores.ndim != 2 or scores.shape[0] != len(clips):
            raise ValueError(
                f"{self.name} returned scores of shape {scores.shape} for {len(clips)} clips"
            )
        if self.class_names is not None and scores.shape[1] != len(self.class_names):
            raise ValueError(
                f"{self.name} returned {scores.shape[1]} scores for {len(self.class_names)} classes"
            )
        return scores


# ------------------------------------------------------------------------ classifiers


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class ClassifierScorer:
    """A checkpoint of `actionbias train`, preprocessed exactly as in training.

    ``predict_records`` runs train's dataset code (decode, person masks from
    SynthAct / HAT ``seg/`` / the segment cache, resize, crop, human-only
    compositing, normalisation), so every registered model works, masks
    included. ``score(clips)`` is the lighter path for video-only models given
    decoded clips (resize + centre crop + normalise here).
    """

    def __init__(
        self,
        module: Any,
        device: str | None = None,
        overrides: dict[str, Any] | None = None,
        checkpoint: str | Path | None = None,
        num_workers: int | None = None,
    ) -> None:
        import torch

        from actionbias.train.config import config_from_dict

        self.device = torch.device(_device(device))
        self.module = module.eval().to(self.device)
        self.classes = list(module.classes)
        stored = dict(module.hparams.get("data") or {})
        merged = {**stored, **(overrides or {})}
        self.data_config = config_from_dict({"data": merged}, source=str(checkpoint or "")).data
        self.needs = tuple(module.required_inputs)
        self.num_workers = num_workers
        model_name = str(module.hparams.get("model_name", "classifier"))
        self.name = model_name
        self.spec: dict[str, Any] = {"type": "classifier", "id": model_name}
        if checkpoint is not None:
            path = Path(checkpoint).resolve()
            self.spec.update(
                {"id": str(path), "model_name": model_name, "sha256": _file_digest(path)}
            )
        self.default_frames = int(self.data_config.num_frames)
        self._autocast = self.device.type == "cuda" and torch.cuda.is_bf16_supported()

    @classmethod
    def from_checkpoint(
        cls,
        path: str | Path,
        device: str | None = None,
        overrides: dict[str, Any] | None = None,
        num_workers: int | None = None,
    ) -> ClassifierScorer:
        from actionbias.train.evaluation import load_classifier

        return cls(load_classifier(path), device, overrides, path, num_workers)

    @property
    def needs_masks(self) -> bool:
        return "human" in self.needs or "mask" in self.needs

    def clip_spec(self, frames: int | None = None) -> Any:
        from actionbias.train.clips import ClipSpec

        spec = ClipSpec.from_config(self.data_config)
        if frames is not None and frames != spec.num_frames:
            spec = ClipSpec(**{**spec.__dict__, "num_frames": int(frames)})
        return spec

    def _forward(self, batch: dict[str, Any]) -> np.ndarray:
        import torch

        inputs = {
            k: v.to(self.device, non_blocking=True)
            for k, v in batch.items()
            if k in ("video", "human", "mask")
        }
        with torch.inference_mode():
            if self._autocast:
                with torch.autocast("cuda", dtype=torch.bfloat16):
                    logits = self.module.model(inputs)
            else:
                logits = self.module.model(inputs)
            return torch.softmax(logits.double(), dim=1).cpu().numpy()

    def score(self, clips: list[np.ndarray]) -> np.ndarray:
        import torch

        from actionbias.train.clips import normalise
        from actionbias.video import center_crop, resize_short_side

        if self.needs_masks:
            raise ValueError(
                f"{self.name} reads person masks ({', '.join(self.needs)}); audit it on a "
                "dataset (run_audit) so masks are loaded with the frames"
            )
        spec = self.clip_spec()
        tensors = []
        for clip in clips:
            frames = clip
            if spec.resize_to is not None:
                frames = resize_short_side(frames, spec.resize_to)
            if spec.crop_size is not None:
                frames = center_crop(frames, spec.crop_size)
            tensors.append(normalise(frames, spec.mean, spec.std))
        return self._forward({"video": torch.stack(tensors)})

    def predict_records(
        self, records: Sequence[Any], batch_size: int, frames: int, on_skip: SkipCallback
    ) -> Iterator[tuple[list[Any], np.ndarray]]:
        import torch
        from torch.utils.data import DataLoader

        from actionbias.data import Manifest
        from actionbias.train.datamodule import build_mask_source
        from actionbias.train.dataset import SKIPPED, ClipDataset, EpochSampler, collate

        records = list(records)
        if not records:
            return
        source = build_mask_source(self.data_config, self.needs, Manifest(records, self.classes))
        dataset = ClipDataset(records, self.clip_spec(frames), self.needs, source)
        workers = self.num_workers
        if workers is None:
            # starting worker processes costs more than decoding a few dozen clips
            workers = 0 if len(records) < SMALL_RUN else int(self.data_config.num_workers)
        loader = DataLoader(
            dataset,
            batch_size=batch_size,
            sampler=EpochSampler(len(dataset), shuffle=False),
            num_workers=workers,
            multiprocessing_context=self.data_config.worker_start if workers else None,
            collate_fn=collate,
            pin_memory=self.device.type == "cuda",
        )
        by_id = {r.id: r for r in records}
        for batch in loader:
            for record_id, _path, reason in batch.get(SKIPPED, ()):
                on_skip(by_id[record_id], reason)
            if "label" not in batch:
                continue
            scores = self._forward(batch)
            index = batch["index"].tolist() if isinstance(batch["index"], torch.Tensor) else []
            yield [dataset.record_of(int(i)) for i in index], scores


# ------------------------------------------------------------------------ HF classifiers


class HFVideoScorer:
    """A Hugging Face video classifier (`HFVideoClassifier`): softmax over its id2label.

    Its labels are its class list; `align_to` renames those that match a dataset
    class by normalised name to the dataset's spelling, so labels and predictions
    compare, and returns what matched and what did not (stored in the run config).
    Frames per clip default to the model's ``num_frames``; resizing, cropping and
    normalisation are its own image processor's.
    """

    def __init__(self, model: Any, spec: dict[str, Any] | None = None) -> None:
        self.model = model
        self.classes: list[str] = list(model.labels)
        self.default_frames = int(model.num_frames)
        self.name = str(model.name)
        self.spec = dict(spec) if spec else {"type": "hf", "id": self.name}
        self.spec.setdefault("model_type", model.model_type)
        self.spec.setdefault("frames", self.default_frames)
        self.label_match: dict[str, Any] | None = None

    @classmethod
    def from_pretrained(cls, id_or_path: str, device: str | None = None) -> HFVideoScorer:
        from actionbias.models.hf_video import HFVideoClassifier

        model = HFVideoClassifier.from_pretrained(id_or_path, device=_device(device))
        return cls(model, {"type": "hf", "id": id_or_path})

    def align_to(self, data_classes: Sequence[str]) -> dict[str, Any]:
        """Rename matched labels to the dataset's spelling; the match report (also logged)."""
        from actionbias.models.hf_video import match_labels

        match = match_labels(self.model.labels, data_classes)
        if match.matched == 0:
            raise BadInputError(
                f"none of the model's {len(self.model.labels)} labels (e.g. "
                f"{self.model.labels[0]!r}) names a class of the data (e.g. "
                f"{data_classes[0]!r})"
                if data_classes
                else "the data has no class list",
                source=self.name,
                where="id2label",
            )
        if match.model_only or match.data_only:
            log.warning(
                "%s: %d of %d labels match the data's classes; %d labels not in the data, "
                "%d data classes the model cannot name%s",
                self.name,
                match.matched,
                len(match.classes),
                len(match.model_only),
                len(match.data_only),
                f" (e.g. {match.data_only[0]!r}: their videos are left out)"
                if match.data_only
                else "",
            )
        self.classes = match.classes
        self.label_match = match.describe()
        return self.label_match

    def score(self, clips: list[np.ndarray]) -> np.ndarray:
        logits = self.model.logits(clips)
        shifted = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        return exp / exp.sum(axis=1, keepdims=True)


class XCLIPScorer:
    """X-CLIP zero-shot over the run's class list (its label space), whole clips.

    Frames per clip default to the model's ``num_frames`` (its processor
    resizes and normalises); the class text is the raw label unless a template
    is given (``xclip:ID?prompts=a video of {}.``).
    """

    def __init__(
        self, model: Any, class_names: Sequence[str], spec: dict[str, Any] | None = None
    ) -> None:
        self.model = model
        self.class_names = list(class_names)
        self.default_frames = int(model.num_frames)
        self.name = str(model.name)
        self.spec = dict(spec) if spec else {"type": "xclip", "id": self.name}
        self.spec.setdefault("frames", self.default_frames)

    @classmethod
    def from_pretrained(
        cls,
        id_or_path: str,
        class_names: Sequence[str],
        device: str | None = None,
        prompts: str = "label",
    ) -> XCLIPScorer:
        from actionbias.models.hf_video import XCLIPZeroShot

        templates = ["{}"] if prompts == "label" else [prompts]
        model = XCLIPZeroShot.from_pretrained(id_or_path, _device(device), templates)
        return cls(model, class_names, {"type": "xclip", "id": id_or_path, "prompts": prompts})

    def score(self, clips: list[np.ndarray]) -> np.ndarray:
        scores = np.asarray(self.model.class_scores(clips, self.class_names), dtype=np.float64)
        if scores.shape != (len(clips), len(self.class_names)):
            raise ValueError(
                f"X-CLIP scores of shape {scores.shape} for {len(clips)} clips and "
                f"{len(self.class_names)} classes"
            )
        return scores


# ------------------------------------------------------------------------ zero-shot


def prompt_templates(prompts: str) -> list[str] | None:
    """Templates for a ``prompts`` mode: ``label`` -> ``["{}"]`` (the raw label, the
    paper's protocol), ``authors`` -> None (the model family's own templates), or
    the one template given."""
    if prompts == "label":
        return ["{}"]
    if prompts == "authors":
        return None
    if prompts.count("{}") != 1:
        raise BadInputError(
            f"prompts must be label, authors or a template with one {{}}, got {prompts!r}",
            where="--model",
        )
    return [prompts]


class ZeroShotScorer:
    """CLIP / SigLIP zero-shot over the run's class list (`ZeroShotVideoClassifier`).

    Class names are shown to the text encoder as written in the class list with
    underscores turned into spaces; built from a model string, the text is the
    raw label (``prompts=label``, the paper's protocol) unless ``prompts=authors``
    or a template is asked for; frame pooling is the model
    wrapper's (centre frame by default, as in the paper; the audit then decodes
    a single frame, the centre one, unless ``frames`` says otherwise). The
    wrapper caches the class text embeddings, so they are encoded once per run.
    """

    def __init__(
        self,
        model: Any,
        class_names: Sequence[str],
        spec: dict[str, Any] | None = None,
        name: str | None = None,
    ) -> None:
        self.model = model
        self.class_names = list(class_names)
        self.prompt_names = [display_name(c) for c in self.class_names]
        self.spec = dict(spec) if spec else {"type": "clip", "id": type(model).__name__}
        self.name = name or str(self.spec.get("id"))
        # Centre-frame pooling reads one frame: decode only that one (the exact centre,
        # as in the paper) unless the caller asks for more frames.
        pooling = self.spec.get("pooling", getattr(model, "frame_pooling", "center"))
        self.default_frames = 1 if pooling == "center" else 8

    @classmethod
    def from_pretrained(
        cls,
        kind: str,
        id_or_path: str,
        class_names: Sequence[str],
        pooling: str = "center",
        device: str | None = None,
        templates: Sequence[str] | None = None,
        prompts: str = "label",
    ) -> ZeroShotScorer:
        """``prompts``: see `prompt_templates`; explicit ``templates`` take precedence."""
        from actionbias.models.zeroshot import ZeroShotVideoClassifier

        options: dict[str, Any] = {"frame_pooling": pooling, "device": _device(device)}
        chosen = list(templates) if templates is not None else prompt_templates(prompts)
        if chosen is not None:
            options["templates"] = chosen
        model = ZeroShotVideoClassifier.from_pretrained(id_or_path, **options)
        spec: dict[str, Any] = {"type": kind, "id": id_or_path, "pooling": pooling}
        if templates is not None:
            spec["templates"] = list(templates)
        else:
            spec["prompts"] = prompts
        return cls(model, class_names, spec, name=id_or_path)

    def score(self, clips: list[np.ndarray]) -> np.ndarray:
        scores = self.model.class_scores(clips, self.prompt_names)
        if hasattr(scores, "detach"):
            scores = scores.detach().float().cpu().numpy()
        scores = np.asarray(scores, dtype=np.float64)
        if scores.shape != (len(clips), len(self.class_names)):
            raise ValueError(
                f"zero-shot scores of shape {scores.shape} for {len(clips)} clips and "
                f"{len(self.class_names)} classes"
            )
        return scores


# ------------------------------------------------------------------------ video LLMs


def _letters(question: MCQuestion) -> str:
    return question.letters()


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

        options: dict[str, Any] = {"num_frames": frames, "device": _device(device)}
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
            letters = _letters(question)
            if self.mode == "logprobs":
                scores = dict(self.chat.option_logprobs(frames, text, list(letters)))
                choice = letter_from_logprobs(scores, letters)
                if choice is not None:
                    replies.append(
                        MCQReply(choice, "logprobs", letters[choice], logprobs=_floats(scores))
                    )
                    continue
            reply = str(self.chat.generate(frames, text, max_new_tokens=self.max_new_tokens))
            choice = parse_answer(reply, letters, self.prompt.answer_texts(question, class_names))
            replies.append(MCQReply(choice, "text" if choice is not None else "none", reply))
        return replies


def _floats(scores: dict[str, Any]) -> dict[str, float]:
    return {str(k): round(float(v), 6) for k, v in scores.items()}


def _field(obj: Any, name: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _candidates(entry: Any) -> list[tuple[str, float]]:
    """The (token, logprob) alternatives of one generated token, whatever the client's shape."""
    top = _field(entry, "top_logprobs")
    if top is None:
        top = _field(entry, "top")  # actionbias.llm.TokenLogprob
    out: list[tuple[str, float]] = []
    if isinstance(top, dict):
        return [(str(k), float(v)) for k, v in top.items() if v is not None]
    for item in top or []:
        if isinstance(item, (tuple, list)) and len(item) == 2:
            token, logprob = item
        else:
            token, logprob = _field(item, "token"), _field(item, "logprob")
        if token is not None and logprob is not None:
            out.append((str(token), float(logprob)))
    token, logprob = _field(entry, "token"), _field(entry, "logprob")
    if token is not None and logprob is not None and all(t != token for t, _ in out):
        out.append((str(token), float(logprob)))
    return out


_DECORATION = re.compile(r"[\W_]")


def read_chat_answer(
    text: str,
    token_logprobs: Sequence[Any] | None,
    letters: str,
    option_texts: Sequence[Sequence[str]],
) -> MCQReply:
    """Answer of one chat completion: letter log-probabilities when usable, else the text.

    The log-probabilities are read at the first generated token that carries
    content (decoration such as "(" or "**" is skipped) when that token is
    itself an option letter and the text does not name a different option
    ("A person is..." starts with the article A). There the answer is the
    valid letter with the highest probability among the returned alternatives.
    """
    parsed = parse_answer(text, letters, option_texts)
    for entry in token_logprobs or []:
        token = str(_field(entry, "token") or "")
        content = _DECORATION.sub("", token)
        if not content:
            continue
        if len(content) == 1 and content in letters and parsed in (None, letters.index(content)):
            candidates = _candidates(entry)
            choice = letter_from_logprobs(candidates, letters)
            if choice is not None:
                letter_scores: dict[str, float] = {}
                for tok, lp in candidates:
                    key = _DECORATION.sub("", tok)
                    if len(key) == 1 and key in letters:
                        letter_scores[key] = max(letter_scores.get(key, -np.inf), lp)
                return MCQReply(choice, "logprobs", text, logprobs=_floats(letter_scores))
        break
    return MCQReply(parsed, "text" if parsed is not None else "none", text)


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
            text = str(_field(result, "text") or "")
            replies.append(
                read_chat_answer(
                    text,
                    _field(result, "logprobs"),
                    _letters(question),
                    self.prompt.answer_texts(question, class_names),
                )
            )
        return replies


# ------------------------------------------------------------------------ resolution


def _options(text: str) -> tuple[str, dict[str, str]]:
    if "?" not in text:
        return text, {}
    head, _, query = text.partition("?")
    return head, dict(parse_qsl(query, keep_blank_values=True))


def _flag(value: str, name: str) -> bool:
    lowered = value.casefold()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise BadInputError(f"option {name} must be true or false, got {value!r}", where="--model")


def parse_model_string(text: str) -> dict[str, Any]:
    """A ``--model`` string -> a model spec dict (see the module docstring for the syntax)."""
    text = text.strip()
    if not text:
        raise BadInputError("empty model", where="--model")
    if ":" in text.split("/")[0] and not Path(text).exists():
        kind, _, rest = text.partition(":")
        kind = kind.casefold()
        rest, options = _options(rest)
        if not rest:
            raise BadInputError(f"model {text!r} names no id after {kind}:", where="--model")
        if kind in ("clip", "siglip", "siglip2"):
            pooling = options.pop("pooling", "center")
            if pooling not in ("center", "mean"):
                raise BadInputError(
                    f"pooling must be center or mean, got {pooling!r}", where="--model"
                )
            prompts = options.pop("prompts", "label")
            if prompts not in PROMPT_MODES and prompts.count("{}") != 1:
                raise BadInputError(
                    f"prompts must be label, authors or a template with one {{}}, got {prompts!r}",
                    where="--model",
                )
            spec: dict[str, Any] = {
                "type": "siglip" if kind.startswith("siglip") else "clip",
                "id": rest,
                "pooling": pooling,
                "prompts": prompts,
            }
        elif kind == "hf":
            spec = {"type": "hf", "id": rest}
        elif kind == "xclip":
            prompts = options.pop("prompts", "label")
            if prompts != "label" and prompts.count("{}") != 1:
                raise BadInputError(
                    f"X-CLIP prompts must be label or a template with one {{}}, got {prompts!r}",
                    where="--model",
                )
            spec = {"type": "xclip", "id": rest, "prompts": prompts}
        elif kind == "internvl":
            mode = options.pop("mode", "logprobs")
            if mode not in ("logprobs", "text"):
                raise BadInputError(f"mode must be logprobs or text, got {mode!r}", "--model")
            spec = {"type": "vlm-local", "id": rest, "mode": mode}
        elif kind == "openai":
            model, _, base_url = rest.partition("@")
            if not model:
                raise BadInputError(f"model {text!r} names no model before @", where="--model")
            spec = {
                "type": "vlm-endpoint",
                "id": model,
                "model": model,
                "base_url": base_url or DEFAULT_BASE_URL,
                "api_key_env": options.pop("key_env", "OPENAI_API_KEY"),
            }
            if "logprobs" in options:
                spec["logprobs"] = _flag(options.pop("logprobs"), "logprobs")
            for key in ("max_side", "max_tokens", "top_logprobs", "concurrency", "timeout"):
                if key in options:
                    try:
                        spec[key] = int(options.pop(key))
                    except ValueError:
                        raise BadInputError(f"option {key} must be an integer", "--model") from None
        else:
            raise BadInputError(
                f"unknown model kind {kind!r} in {text!r}: give a checkpoint path or "
                "hf:ID, clip:ID, siglip:ID, xclip:ID, internvl:ID, openai:MODEL[@BASE_URL]",
                where="--model",
            )
        if options:
            raise BadInputError(
                f"unknown option(s) {', '.join(sorted(options))} for {kind}:", where="--model"
            )
        return spec
    path = Path(text)
    if path.is_file():
        return {"type": "classifier", "checkpoint": str(path)}
    raise BadInputError(
        "model is neither an existing checkpoint file nor hf:ID, clip:ID, siglip:ID, "
        "xclip:ID, internvl:ID, openai:MODEL[@BASE_URL]",
        source=text,
        where="--model",
    )


def resolve_scorer(
    spec: dict[str, Any] | str,
    class_names: Sequence[str],
    frames: int = 8,
    device: str | None = None,
    prompt: MCQPrompt | None = None,
    num_workers: int | None = None,
) -> Any:
    """Build the scorer/answerer a model spec names (``class_names``: the data's classes)."""
    if isinstance(spec, str):
        spec = parse_model_string(spec)
    kind = spec.get("type")
    if kind == "classifier":
        checkpoint = spec.get("checkpoint") or spec.get("id")
        if not checkpoint:
            raise BadInputError("a classifier spec needs 'checkpoint'", where="model")
        overrides = spec.get("overrides")
        return ClassifierScorer.from_checkpoint(
            checkpoint, device=device, overrides=overrides, num_workers=num_workers
        )
    if kind == "hf":
        return HFVideoScorer.from_pretrained(str(spec["id"]), device=device)
    if kind == "xclip":
        return XCLIPScorer.from_pretrained(
            str(spec["id"]), class_names, device=device, prompts=str(spec.get("prompts", "label"))
        )
    if kind in ("clip", "siglip"):
        return ZeroShotScorer.from_pretrained(
            kind,
            str(spec["id"]),
            class_names,
            pooling=str(spec.get("pooling", "center")),
            device=device,
            templates=spec.get("templates"),
            prompts=str(spec.get("prompts", "label")),
        )
    if kind == "vlm-local":
        return LocalVLMAnswerer.from_pretrained(
            str(spec["id"]),
            frames=frames,
            device=device,
            prompt=prompt,
            mode=str(spec.get("mode", "logprobs")),
        )
    if kind == "vlm-endpoint":
        client_options = {
            k: spec[k] for k in ("concurrency", "timeout", "max_retries", "cache_dir") if k in spec
        }
        options = {k: spec[k] for k in ("max_side", "max_tokens", "top_logprobs") if k in spec}
        if "logprobs" in spec:
            options["logprobs"] = bool(spec["logprobs"])
        return EndpointVLMAnswerer.from_spec(
            str(spec.get("base_url") or DEFAULT_BASE_URL),
            str(spec.get("model") or spec.get("id")),
            api_key_env=str(spec.get("api_key_env", "OPENAI_API_KEY")),
            prompt=prompt,
            client_options=client_options,
            **options,
        )
    raise BadInputError(
        f"unknown model type {kind!r}; choose from {', '.join(MODEL_TYPES)}", where="model.type"
    )
