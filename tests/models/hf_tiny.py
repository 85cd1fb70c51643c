"""Tiny random-weight Hugging Face models for tests: the real classes, small configs.

No model hub is reachable from the tests, so every model here is the class a
real checkpoint loads into (CLIPModel, SiglipModel, Siglip2Model,
InternVLForConditionalGeneration) built from a tiny config, with a tiny real
tokenizer (CLIPTokenizer / SiglipTokenizer / Siglip2Tokenizer / Qwen2Tokenizer
built in memory) and the real PIL image processor with small sizes.
`save_tiny(...)` writes one as a normal pretrained folder so that the
`from_pretrained(path)` code paths run too.

Import it from a test module in this folder with
``sys.path.insert(0, str(Path(__file__).parent))`` and from elsewhere (e.g.
tests/audit) with ``sys.path.insert(0, str(Path(__file__).parents[1] / "models"))``,
then ``import hf_tiny``.

Builders (all deterministic for a given seed):

* ``tiny_clip(seed)`` -> (CLIPModel, CLIPProcessor)
* ``tiny_siglip(workdir, seed)`` -> (SiglipModel, SiglipProcessor); the
  SentencePiece model is trained on the fly and written to ``workdir``
* ``tiny_siglip2(seed)`` -> (Siglip2Model, Siglip2Processor)
* ``tiny_internvl(seed)`` -> TinyInternVL(model, tokenizer, image_processor);
  the tokenizer carries the chat template. ``InternVLProcessor`` itself cannot
  be built without torchvision (see actionbias.models.internvl).
"""

from __future__ import annotations

import io
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

# The (single-character) alphabet every tiny tokenizer covers: lower/upper case
# letters, digits, punctuation and space, enough for class names and prompts.
TEXT_CHARS = string.ascii_letters + string.digits + string.punctuation + " "

# Class names and prompts used to train the tiny SentencePiece model.
SAMPLE_TEXTS = [
    "This is a photo of playing guitar.",
    "a photo of a person doing jumping jacks.",
    "a video of a person practicing waving hands.",
    "a demonstration of a person performing walking the dog.",
    "Answer with the option's letter from the given choices directly.",
]

INTERNVL_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{'<|im_start|>' + message['role'] + '\n'}}"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' %}{{ '<IMG_CONTEXT>\n' }}"
    "{% elif content['type'] == 'video' %}{{ '<video>\n' }}"
    "{% elif content['type'] == 'text' %}{{ content['text'] }}{% endif %}"
    "{% endfor %}{% endif %}"
    "{{'<|im_end|>\n'}}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{'<|im_start|>assistant\n'}}{% endif %}"
)

ANSWER_LETTERS = "ABCDE"


def _byte_alphabet() -> list[str]:
    from tokenizers import pre_tokenizers

    return sorted(pre_tokenizers.ByteLevel.alphabet())


#: The one-layer transformer tower every tiny model here is made of.
TOWER = {
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
}


def text_tower(tokenizer: Any, max_positions: int, **overrides: Any) -> dict[str, Any]:
    """A `TOWER` text config over the tokenizer's vocabulary and special token ids."""
    return {
        **TOWER,
        "vocab_size": len(tokenizer),
        "max_position_embeddings": max_positions,
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
        **overrides,
    }


def seeded(seed: int, build: Any) -> Any:
    """Build a model with a fixed torch seed, restoring the global RNG afterwards."""
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        return build().eval()
    finally:
        torch.random.set_rng_state(state)


# ---------------------------------------------------------------------- CLIP
def clip_tokenizer() -> Any:
    """A real CLIPTokenizer over a byte-level alphabet without merges (one token per char)."""
    from transformers import CLIPTokenizer

    alphabet = _byte_alphabet()
    vocab: dict[str, int] = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for char in alphabet:
        vocab[char] = len(vocab)
    for char in alphabet:
        vocab[char + "</w>"] = len(vocab)
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77)


def tiny_clip(seed: int = 0, image_size: int = 32) -> tuple[Any, Any]:
    """(CLIPModel, CLIPProcessor) with a 1-layer text and vision tower."""
    from transformers import CLIPConfig, CLIPModel, CLIPProcessor
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    tokenizer = clip_tokenizer()
    config = CLIPConfig(
        text_config=text_tower(tokenizer, 77),
        vision_config={**TOWER, "image_size": image_size, "patch_size": 8},
        projection_dim=16,
    )
    model = seeded(seed, lambda: CLIPModel(config))
    image_processor = CLIPImageProcessorPil(
        size={"shortest_edge": image_size},
        crop_size={"height": image_size, "width": image_size},
    )
    return model, CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer)


# -------------------------------------------------------------------- SigLIP
def siglip_tokenizer(workdir: Path) -> Any:
    """A real SiglipTokenizer on a SentencePiece model trained here (byte-free, ~80 pieces)."""
    import sentencepiece as spm
    from transformers import SiglipTokenizer

    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    stream = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter([*SAMPLE_TEXTS, TEXT_CHARS.lower()]),
        model_writer=stream,
        vocab_size=80,
        model_type="unigram",
        character_coverage=1.0,
        required_chars=TEXT_CHARS.lower().replace(" ", ""),
        pad_id=-1,
        unk_id=2,
        bos_id=-1,
        eos_id=1,
        minloglevel=2,
    )
    path = workdir / "spiece.model"
    path.write_bytes(stream.getvalue())
    return SiglipTokenizer(vocab_file=str(path))


def tiny_siglip(workdir: Path, seed: int = 0, image_size: int = 32) -> tuple[Any, Any]:
    """(SiglipModel, SiglipProcessor); text length 64 as in the released models."""
    from transformers import SiglipConfig, SiglipModel, SiglipProcessor
    from transformers.models.siglip.image_processing_pil_siglip import SiglipImageProcessorPil

    tokenizer = siglip_tokenizer(workdir)
    config = SiglipConfig(
        text_config=text_tower(tokenizer, 64, bos_token_id=None),
        vision_config={**TOWER, "image_size": image_size, "patch_size": 8},
    )
    model = seeded(seed, lambda: SiglipModel(config))
    image_processor = SiglipImageProcessorPil(size={"height": image_size, "width": image_size})
    return model, SiglipProcessor(image_processor=image_processor, tokenizer=tokenizer)


def siglip2_tokenizer() -> Any:
    """A real Siglip2Tokenizer (Gemma-style BPE) whose vocab holds single characters."""
    from transformers import Siglip2Tokenizer

    vocab: dict[str, int] = {"<pad>": 0, "<eos>": 1, "<bos>": 2, "<unk>": 3, "<mask>": 4}
    for char in "▁" + TEXT_CHARS.replace(" ", ""):
        vocab.setdefault(char, len(vocab))
    return Siglip2Tokenizer(vocab=vocab, merges=[])


def tiny_siglip2(seed: int = 0, patch_size: int = 4, max_num_patches: int = 16) -> tuple[Any, Any]:
    """(Siglip2Model, Siglip2Processor) with NaFlex patches (at most 16 of 4x4 pixels)."""
    from transformers import Siglip2Config, Siglip2Model, Siglip2Processor
    from transformers.models.siglip2.image_processing_pil_siglip2 import (
        Siglip2ImageProcessorPil,
    )

    tokenizer = siglip2_tokenizer()
    config = Siglip2Config(
        text_config=text_tower(tokenizer, 64),
        vision_config={**TOWER, "num_patches": max_num_patches, "patch_size": patch_size},
    )
    model = seeded(seed, lambda: Siglip2Model(config))
    image_processor = Siglip2ImageProcessorPil(
        patch_size=patch_size, max_num_patches=max_num_patches
    )
    return model, Siglip2Processor(image_processor=image_processor, tokenizer=tokenizer)


# ------------------------------------------------------------------ InternVL
@dataclass
class TinyInternVL:
    """The three parts InternVLChat needs; ``tokenizer.chat_template`` is set."""

    model: Any
    tokenizer: Any
    image_processor: Any

    def save(self, folder: Path) -> Path:
        """Write a pretrained folder that InternVLChat.from_pretrained loads."""
        folder = Path(folder)
        self.model.save_pretrained(folder)
        self.tokenizer.save_pretrained(folder)
        self.image_processor.save_pretrained(folder)
        return folder


def internvl_tokenizer() -> Any:
    """A real Qwen2Tokenizer (byte-level BPE) with InternVL's image tokens and ChatML tokens.

    Merges make the answer letters exist both as 'A' and as ' A' (one token each),
    the two forms a real Qwen2 vocabulary has.
    """
    from transformers import Qwen2Tokenizer

    vocab = {char: index for index, char in enumerate(_byte_alphabet())}
    merges = []
    for letter in ANSWER_LETTERS:
        vocab["Ġ" + letter] = len(vocab)
        merges.append(("Ġ", letter))
    tokenizer = Qwen2Tokenizer(
        vocab=vocab,
        merges=merges,
        extra_special_tokens={
            "start_image_token": "<img>",
            "end_image_token": "</img>",
            "context_image_token": "<IMG_CONTEXT>",
            "video_token": "<video>",
        },
    )
    tokenizer.add_special_tokens(
        {"extra_special_tokens": ["<|im_start|>", "<|im_end|>"]},
        replace_extra_special_tokens=False,
    )
    tokenizer.chat_template = INTERNVL_CHAT_TEMPLATE
    return tokenizer


def tiny_internvl(seed: int = 0, image_size: int = 28) -> TinyInternVL:
    """InternVLForConditionalGeneration: 1-layer InternViT (7x7 patches) + 1-layer Qwen2.

    A 28x28 tile has 16 patches; pixel shuffle with ratio 0.5 leaves 4 image tokens
    per frame (``image_seq_length``), the same arithmetic as 448/14 -> 256.
    """
    from transformers import (
        InternVLConfig,
        InternVLForConditionalGeneration,
        InternVLVisionConfig,
        Qwen2Config,
    )
    from transformers.models.got_ocr2.image_processing_pil_got_ocr2 import (
        GotOcr2ImageProcessorPil,
    )

    tokenizer = internvl_tokenizer()
    patch = 7
    seq_length = int(((image_size // patch) ** 2) * 0.5**2)
    config = InternVLConfig(
        vision_config=InternVLVisionConfig(**TOWER, image_size=image_size, patch_size=patch),
        text_config=Qwen2Config(
            **TOWER,
            vocab_size=len(tokenizer),
            num_key_value_heads=1,
            max_position_embeddings=1024,
            eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),
            pad_token_id=tokenizer.pad_token_id,
            bos_token_id=None,
            tie_word_embeddings=False,
        ),
        image_token_id=tokenizer.context_image_token_id,
        image_seq_length=seq_length,
        downsample_ratio=0.5,
        tie_word_embeddings=False,
    )
    model = seeded(seed, lambda: InternVLForConditionalGeneration(config))
    model.generation_config.eos_token_id = config.text_config.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    image_processor = GotOcr2ImageProcessorPil(
        size={"height": image_size, "width": image_size},
        image_mean=[0.485, 0.456, 0.406],
        image_std=[0.229, 0.224, 0.225],
    )
    return TinyInternVL(model=model, tokenizer=tokenizer, image_processor=image_processor)


def favour_letters(model: Any, tokenizer: Any, letters: str = ANSWER_LETTERS) -> None:
    """Rewire the LM head so that the next token is always one of the answer letters.

    Every other vocabulary row is zeroed (logit 0) and the rows of 'A' and 'B' are
    opposite, so one of the two has a positive logit whatever the hidden state:
    greedy decoding starts with a letter, which makes "the log-prob argmax equals
    the first generated letter" a real check on a random-weight model.
    """
    head = model.get_output_embeddings().weight
    ids = [tokenizer.convert_tokens_to_ids(letter) for letter in letters]
    spaced = [tokenizer.convert_tokens_to_ids("Ġ" + letter) for letter in letters]
    with torch.no_grad():
        keep = torch.nn.functional.normalize(head[ids + spaced].clone(), dim=-1)
        head.zero_()
        head[ids + spaced] = keep * 20.0  # big enough for the letters to dominate
        head[ids[1]] = -head[ids[0]]


# ------------------------------------------------------------ video classifiers
VIDEO_CLASSIFIER_KINDS = ("videomae", "timesformer", "vivit")


def tiny_video_classifier(
    kind: str, labels: list[str], seed: int = 0, image_size: int = 32, num_frames: int = 4
) -> tuple[Any, Any]:
    """(XForVideoClassification, its image processor) for VideoMAE, TimeSformer or ViViT.

    The processors are the ones each family's checkpoints ship (VideoMAE's for
    VideoMAE and TimeSformer, ViViT's own, which rescales to [-1, 1]), with
    deliberately different resize/crop sizes and statistics so a test can tell
    whether the model's own settings were used.
    """
    from transformers import (
        TimesformerConfig,
        TimesformerForVideoClassification,
        VideoMAEConfig,
        VideoMAEForVideoClassification,
        VivitConfig,
        VivitForVideoClassification,
        VivitImageProcessor,
    )
    from transformers.models.videomae.image_processing_pil_videomae import (
        VideoMAEImageProcessorPil,
    )

    common = {
        **TOWER,
        "image_size": image_size,
        "num_frames": num_frames,
        "id2label": dict(enumerate(labels)),
        "label2id": {name: i for i, name in enumerate(labels)},
    }
    if kind == "videomae":
        config = VideoMAEConfig(patch_size=8, tubelet_size=2, **common)
        model = seeded(seed, lambda: VideoMAEForVideoClassification(config))
        processor = VideoMAEImageProcessorPil(
            size={"shortest_edge": image_size + 8},
            crop_size={"height": image_size, "width": image_size},
            image_mean=[0.485, 0.456, 0.406],
            image_std=[0.229, 0.224, 0.225],
        )
    elif kind == "timesformer":
        config = TimesformerConfig(patch_size=8, **common)
        model = seeded(seed, lambda: TimesformerForVideoClassification(config))
        processor = VideoMAEImageProcessorPil(
            size={"shortest_edge": image_size},
            crop_size={"height": image_size, "width": image_size},
            image_mean=[0.45, 0.45, 0.45],
            image_std=[0.225, 0.225, 0.225],
        )
    elif kind == "vivit":
        config = VivitConfig(tubelet_size=[2, 8, 8], **common)
        model = seeded(seed, lambda: VivitForVideoClassification(config))
        processor = VivitImageProcessor(
            size={"shortest_edge": image_size + 4},
            crop_size={"height": image_size, "width": image_size},
        )
    else:
        raise ValueError(f"unknown kind {kind!r}; choose from {VIDEO_CLASSIFIER_KINDS}")
    return model.eval(), processor


def tiny_xclip(seed: int = 0, image_size: int = 32, num_frames: int = 4) -> tuple[Any, Any]:
    """(XCLIPModel, XCLIPProcessor): 1-layer towers, VideoMAE's PIL processor, CLIP tokenizer."""
    from transformers import XCLIPConfig, XCLIPModel, XCLIPProcessor
    from transformers.models.videomae.image_processing_pil_videomae import (
        VideoMAEImageProcessorPil,
    )

    tokenizer = clip_tokenizer()
    config = XCLIPConfig(
        text_config={**TOWER, "vocab_size": len(tokenizer), "max_position_embeddings": 77},
        vision_config={
            **TOWER,
            "image_size": image_size,
            "patch_size": 8,
            "num_frames": num_frames,
            "mit_hidden_size": 32,
            "mit_intermediate_size": 64,
            "mit_num_hidden_layers": 1,
            "mit_num_attention_heads": 2,
        },
        projection_dim=32,
        prompt_layers=1,
        prompt_attention_heads=2,
    )
    model = seeded(seed, lambda: XCLIPModel(config))
    image_processor = VideoMAEImageProcessorPil(
        size={"shortest_edge": image_size},
        crop_size={"height": image_size, "width": image_size},
    )
    return model.eval(), XCLIPProcessor(image_processor=image_processor, tokenizer=tokenizer)
