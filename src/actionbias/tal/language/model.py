"""Language models over per-frame vision tokens: F_lang,cls, F_lang,loc and F_adv (paper 3.2).

Each frame becomes one vision token (its feature, spatially mean-pooled when it
still has a spatial grid, projected to the model width) followed by three
learned special tokens [cls], [loc] and [adv]; the action descriptions are
added to the same sequence. The last hidden states of the special tokens are the
continuous language features: [cls]/[loc] are projected back to the vision
feature width so they can be added residually to F_vis (Eq. 5), and [adv] is
returned at model width for the advantage regressor (Eq. 2).

Two backends share that contract (`LanguageFeatures`):

* `CompactLanguageModel` (CPU default): a small transformer whose frame tokens
  attend to each other within a frame and to the description embeddings of the
  offline MiniLM encoder, with masked depthwise temporal convolutions carrying
  context across frames (linear in the number of frames, so 2304-step inputs
  stay cheap). Its auxiliary text generation is over a structured proposal
  vocabulary (class and time-bin tokens), teacher-forced.
* `CausalLMLanguageModel`: a Hugging Face causal LM (Qwen2 family, e.g.
  Qwen2.5-1.5B/3B, the language model of InternVL3) adapted with LoRA (rank 128,
  alpha 256 by default) through `peft`; the base weights are frozen and only the
  adapters, the vision projector, the special-token embeddings and the output
  projections train. Its text generation loss is the ordinary teacher-forced
  next-token cross-entropy over the proposal sentence, computed only at the
  target positions (never the full-vocabulary logits of the whole sequence).

Why the descriptions come first in the causal LM by default: the paper appends
T_desc after the frame tokens, but under causal attention the special tokens
then never see the descriptions and F_lang cannot depend on them (which would
also make LAP trivially zero). `prompt_position="suffix"` reproduces the literal
layout for comparison.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

SPECIAL_TOKENS = ("[cls]", "[loc]", "[adv]")
TOKENS_PER_FRAME = 1 + len(SPECIAL_TOKENS)


@dataclass
class LanguageFeatures:
    """Outputs of a language branch for a batch of B videos with T frames.

    `cls` and `loc` are in the detector's layout (B, C_vis, T); `adv` is (B, T, H)
    at the language model's width; `tg_loss` is the teacher-forced text-generation
    loss (a scalar) when targets were given, else None. Padded frames are zero.
    """

    cls: Tensor
    loc: Tensor
    adv: Tensor
    tg_loss: Tensor | None = None


def pool_frame_tokens(feats: Tensor) -> Tensor:
    """(B, C, T) or (B, C, T, H, W) vision features -> (B, T, C) per-frame tokens.

    A spatial grid is averaged away: one token per frame keeps long videos
    tractable for the language model (appendix A.2).
    """
    if feats.dim() == 5:
        feats = feats.mean(dim=(-2, -1))
    if feats.dim() != 3:
        raise ValueError(f"vision features must be (B, C, T) or (B, C, T, H, W), got {feats.shape}")
    return feats.transpose(1, 2)


def _check_mask(feats: Tensor, mask: Tensor) -> Tensor:
    if mask.shape != (feats.shape[0], feats.shape[2]):
        raise ValueError(f"mask {tuple(mask.shape)} does not match features {tuple(feats.shape)}")
    return mask.bool()


# ----------------------------------------------------------------------------- compact backend


class StructuredProposalVocab:
    """Token ids for the structured proposal template of the compact backend.

    The sentence "<class> from <start> to <end>." becomes three tokens per
    segment: a class token and two time-bin tokens (the video's length cut into
    `num_bins` equal bins), closed by an end token. It carries the same
    supervision as the text template without a word-piece vocabulary.
    """

    PAD, BOS, EOS = 0, 1, 2

    def __init__(self, num_classes: int, num_bins: int = 32):
        self.num_classes = int(num_classes)
        self.num_bins = int(num_bins)
        self.size = 3 + self.num_classes + self.num_bins

    def encode(self, segments: Tensor, labels: Tensor, num_frames: int) -> list[int]:
        """Token ids (BOS first, EOS last) for one video's segments in frame units."""
        ids = [self.BOS]
        order = (
            torch.argsort(segments[:, 0] * (num_frames + 1) + segments[:, 1]) if len(labels) else []
        )
        for i in order:
            start, end = (float(v) for v in segments[i])
            ids.append(3 + int(labels[i]))
            for t in (start, end):
                b = int(min(max(t / max(num_frames, 1), 0.0), 1.0 - 1e-9) * self.num_bins)
                ids.append(3 + self.num_classes + b)
        ids.append(self.EOS)
        return ids

    def batch(
        self, segments: Sequence[Tensor], labels: Sequence[Tensor], num_frames: int, max_len: int
    ) -> Tensor:
        """(B, S) padded ids; sequences longer than `max_len` keep their first segments."""
        rows = [self.encode(s, lab, num_frames) for s, lab in zip(segments, labels, strict=True)]
        rows = [r if len(r) <= max_len else [*r[: max_len - 1], self.EOS] for r in rows]
        width = max(len(r) for r in rows)
        out = torch.full((len(rows), width), self.PAD, dtype=torch.long)
        for i, r in enumerate(rows):
            out[i, : len(r)] = torch.tensor(r)
        return out


class _CompactLayer(nn.Module):
    """Frame tokens attend within the frame and to the descriptions; depthwise conv across time."""

    def __init__(self, width: int, heads: int, kernel: int, dropout: float):
        super().__init__()
        if width % heads:
            raise ValueError(f"width {width} is not divisible by heads {heads}")
        self.heads = heads
        self.norm_attn = nn.LayerNorm(width)
        self.norm_desc = nn.LayerNorm(width)
        self.q = nn.Linear(width, width)
        self.kv = nn.Linear(width, 2 * width)
        self.kv_desc = nn.Linear(width, 2 * width)
        self.proj = nn.Linear(width, width)
        self.norm_time = nn.LayerNorm(width)
        self.time = nn.Conv1d(
            width * TOKENS_PER_FRAME,
            width * TOKENS_PER_FRAME,
            kernel,
            padding=kernel // 2,
            groups=width * TOKENS_PER_FRAME,
        )
        self.norm_mlp = nn.LayerNorm(width)
        self.mlp = nn.Sequential(
            nn.Linear(width, 4 * width), nn.GELU(), nn.Dropout(dropout), nn.Linear(4 * width, width)
        )
        self.drop = nn.Dropout(dropout)

    def forward(self, x: Tensor, desc: Tensor, desc_mask: Tensor, mask: Tensor) -> Tensor:
        # x: (B, T, 4, W); desc: (B, K, W); desc_mask (B, K) bool; mask (B, T) bool
        b, t, n, w = x.shape
        h, d = self.heads, w // self.heads
        y = self.norm_attn(x)
        q = self.q(y).view(b, t, n, h, d)
        k, v = self.kv(y).view(b, t, n, 2, h, d).unbind(3)
        kd, vd = self.kv_desc(self.norm_desc(desc)).view(b, -1, 2, h, d).unbind(2)
        scale = 1.0 / math.sqrt(d)
        s_frame = torch.einsum("btqhd,btkhd->bthqk", q, k) * scale
        s_desc = torch.einsum("btqhd,bkhd->bthqk", q, kd) * scale
        s_desc = s_desc.masked_fill(~desc_mask[:, None, None, None, :], float("-inf"))
        attn = torch.cat([s_frame, s_desc], dim=-1).softmax(dim=-1)
        a_frame, a_desc = attn.split([n, kd.shape[1]], dim=-1)
        out = torch.einsum("bthqk,btkhd->btqhd", a_frame, v) + torch.einsum(
            "bthqk,bkhd->btqhd", a_desc, vd
        )
        x = x + self.drop(self.proj(out.reshape(b, t, n, w)))
        m = mask[:, :, None, None].to(x.dtype)
        y = (self.norm_time(x) * m).reshape(b, t, n * w).transpose(1, 2)
        x = x + self.drop(self.time(y).transpose(1, 2).reshape(b, t, n, w)) * m
        x = x + self.drop(self.mlp(self.norm_mlp(x)))
        return x * m


class CompactLanguageModel(nn.Module):
    """Compact transformer over frame tokens and sentence-embedded descriptions (CPU default).

    `vis_dim`: channels of the vision features; `desc_dim`: width of the
    description embeddings (384 for MiniLM); `width`: model width (the width of
    F_adv). `prompt` in `forward` is the (K, desc_dim) or (B, K, desc_dim) matrix
    of description embeddings, one row per class in class-index order.
    """

    def __init__(
        self,
        vis_dim: int,
        num_classes: int,
        *,
        desc_dim: int = 384,
        width: int = 128,
        layers: int = 2,
        heads: int = 4,
        kernel: int = 5,
        dropout: float = 0.0,
        num_time_bins: int = 32,
        max_target_tokens: int = 96,
    ):
        super().__init__()
        self.hidden_size = width
        self.vis_dim = vis_dim
        self.vis_proj = nn.Sequential(nn.Linear(vis_dim, width), nn.GELU(), nn.Linear(width, width))
        self.desc_proj = nn.Linear(desc_dim, width)
        # Which class a description belongs to: attention over the description tokens is
        # order-blind, so without a per-class slot embedding a permutation of the
        # descriptions (LAP's mismatched prompt) would give exactly the same output.
        self.class_slots = nn.Parameter(torch.randn(num_classes, width) * 0.02)
        self.special = nn.Parameter(torch.randn(len(SPECIAL_TOKENS), width) * 0.02)
        self.layers = nn.ModuleList(
            _CompactLayer(width, heads, kernel, dropout) for _ in range(layers)
        )
        self.norm = nn.LayerNorm(width)
        self.out_cls = nn.Linear(width, vis_dim)
        self.out_loc = nn.Linear(width, vis_dim)
        self.vocab = StructuredProposalVocab(num_classes, num_time_bins)
        self.max_target_tokens = max_target_tokens
        self.tok_embed = nn.Embedding(self.vocab.size, width)
        self.decoder = nn.TransformerDecoderLayer(
            width, heads, 2 * width, dropout=dropout, batch_first=True, norm_first=True
        )
        self.lm_head = nn.Linear(width, self.vocab.size)

    def forward(
        self,
        feats: Tensor,
        mask: Tensor,
        prompt: Tensor,
        targets: tuple[Sequence[Tensor], Sequence[Tensor]] | None = None,
    ) -> LanguageFeatures:
        """`targets` = (segments per video in frame units, labels per video) for L_tg."""
        mask = _check_mask(feats, mask)
        tokens = self.vis_proj(pool_frame_tokens(feats))  # (B, T, W)
        b, t, _w = tokens.shape
        special = self.special[None, None].expand(b, t, -1, -1)
        x = torch.cat([tokens[:, :, None], special], dim=2)  # (B, T, 4, W)
        if prompt.dim() == 2:
            prompt = prompt[None].expand(b, -1, -1)
        if prompt.shape[1] != self.class_slots.shape[0]:
            raise ValueError(
                f"prompt has {prompt.shape[1]} descriptions, the model {self.class_slots.shape[0]}"
                " classes: pass one description per class, in class-index order"
            )
        desc = self.desc_proj(prompt.to(tokens.dtype)) + self.class_slots
        desc_mask = torch.ones(desc.shape[:2], dtype=torch.bool, device=desc.device)
        x = x * mask[:, :, None, None].to(x.dtype)
        for layer in self.layers:
            x = layer(x, desc, desc_mask, mask)
        x = self.norm(x) * mask[:, :, None, None].to(x.dtype)
        h_cls, h_loc, h_adv = x[:, :, 1], x[:, :, 2], x[:, :, 3]
        m = mask[:, None, :].to(x.dtype)
        f_cls = self.out_cls(h_cls).transpose(1, 2) * m
        f_loc = self.out_loc(h_loc).transpose(1, 2) * m
        tg = None if targets is None else self._generation_loss(h_cls, mask, desc, targets)
        return LanguageFeatures(cls=f_cls, loc=f_loc, adv=h_adv, tg_loss=tg)

    def _generation_loss(
        self, h_cls: Tensor, mask: Tensor, desc: Tensor, targets: tuple[Sequence, Sequence]
    ) -> Tensor:
        segments, labels = targets
        ids = self.vocab.batch(segments, labels, h_cls.shape[1], self.max_target_tokens)
        ids = ids.to(h_cls.device)
        inp, out = ids[:, :-1], ids[:, 1:]
        n = inp.shape[1]
        causal = torch.triu(torch.ones(n, n, dtype=torch.bool, device=ids.device), 1)
        memory = torch.cat([desc, h_cls], dim=1)
        memory_pad = torch.cat(
            [torch.zeros(desc.shape[:2], dtype=torch.bool, device=ids.device), ~mask], dim=1
        )
        y = self.decoder(
            self.tok_embed(inp),
            memory,
            tgt_mask=causal,
            tgt_key_padding_mask=inp == self.vocab.PAD,
            memory_key_padding_mask=memory_pad,
            tgt_is_causal=True,
        )
        logits = self.lm_head(y)
        return F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), out.reshape(-1), ignore_index=self.vocab.PAD
        )


# ----------------------------------------------------------------------------- causal LM backend

QWEN2_LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


class CausalLMLanguageModel(nn.Module):
    """A Hugging Face causal LM with LoRA adapters over [prompt | frame tokens | target text].

    `lm` is a `*ForCausalLM` whose decoder is reachable with `get_decoder()` and
    whose output layer is `lm_head` (Qwen2/Qwen2.5, Llama and most others).
    `prompt` in `forward` is (P,) or (B, P) token ids of T_ins + descriptions
    (see `descriptions.instruction_text`), `prompt_mask` its padding mask; the
    text-generation `targets` are (B, S) ids of the proposal sentence with
    `target_mask`. Build with `from_pretrained` (a hub id or a local folder) or
    `from_config` (random weights, for tests).
    """

    def __init__(
        self,
        lm: nn.Module,
        vis_dim: int,
        *,
        lora_rank: int = 128,
        lora_alpha: int = 256,
        lora_dropout: float = 0.05,
        target_modules: Sequence[str] = QWEN2_LORA_TARGETS,
        prompt_position: str = "prefix",
        gradient_checkpointing: bool = False,
    ):
        super().__init__()
        if prompt_position not in ("prefix", "suffix"):
            raise ValueError(
                f"prompt_position must be 'prefix' or 'suffix', not {prompt_position!r}"
            )
        try:
            from peft import LoraConfig, inject_adapter_in_model
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "the causal-LM language backend needs peft: pip install peft"
            ) from exc

        config = LoraConfig(
            r=lora_rank,
            lora_alpha=lora_alpha,
            lora_dropout=lora_dropout,
            target_modules=list(target_modules),
            bias="none",
        )
        self.lm = inject_adapter_in_model(config, lm)
        for name, param in self.lm.named_parameters():
            param.requires_grad = "lora_" in name
        if gradient_checkpointing:
            self.lm.gradient_checkpointing_enable()
        self.prompt_position = prompt_position
        hidden = int(lm.config.hidden_size)
        self.hidden_size = hidden
        self.vis_dim = vis_dim
        self.vis_proj = nn.Sequential(
            nn.Linear(vis_dim, hidden), nn.GELU(), nn.Linear(hidden, hidden)
        )
        std = float(lm.get_input_embeddings().weight.detach().float().std())
        self.special = nn.Parameter(torch.randn(len(SPECIAL_TOKENS), hidden) * std)
        self.out_cls = nn.Linear(hidden, vis_dim)
        self.out_loc = nn.Linear(hidden, vis_dim)

    @classmethod
    def from_pretrained(
        cls, name_or_path: str, vis_dim: int, *, dtype: torch.dtype | None = None, **options
    ) -> CausalLMLanguageModel:
        from transformers import AutoModelForCausalLM

        lm = AutoModelForCausalLM.from_pretrained(name_or_path, dtype=dtype)
        return cls(lm, vis_dim, **options)

    @classmethod
    def from_config(cls, config, vis_dim: int, **options) -> CausalLMLanguageModel:
        from transformers import AutoModelForCausalLM

        return cls(AutoModelForCausalLM.from_config(config), vis_dim, **options)

    @staticmethod
    def tokenize(
        tokenizer, texts: Sequence[str], *, append_eos: bool = False
    ) -> tuple[Tensor, Tensor]:
        """(ids, mask) of right-padded texts without special tokens, for `prompt`/`targets`.

        The prompt is `descriptions.instruction_text(...)`; the targets are
        `descriptions.proposals_text(...)` with `append_eos=True`, so generation
        learns where the list of proposals ends.
        """
        rows = [list(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts]
        eos = getattr(tokenizer, "eos_token_id", None)
        if append_eos and eos is not None:
            rows = [[*r, int(eos)] for r in rows]
        width = max(len(r) for r in rows)
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        ids = torch.full((len(rows), width), int(pad), dtype=torch.long)
        mask = torch.zeros(len(rows), width, dtype=torch.bool)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = torch.tensor(r, dtype=torch.long)
            mask[i, : len(r)] = True
        return ids, mask

    def lora_parameters(self) -> list[nn.Parameter]:
        return [p for n, p in self.lm.named_parameters() if "lora_" in n]

    def forward(
        self,
        feats: Tensor,
        mask: Tensor,
        prompt: Tensor,
        prompt_mask: Tensor | None = None,
        targets: Tensor | None = None,
        target_mask: Tensor | None = None,
    ) -> LanguageFeatures:
        mask = _check_mask(feats, mask)
        embed = self.lm.get_input_embeddings()
        dtype = embed.weight.dtype
        b, _, t = feats.shape[:3]
        if prompt.dim() == 1:
            prompt = prompt[None].expand(b, -1)
        if prompt_mask is None:
            prompt_mask = torch.ones_like(prompt, dtype=torch.bool)
        elif prompt_mask.dim() == 1:
            prompt_mask = prompt_mask[None].expand(b, -1)
        frames = self.vis_proj(pool_frame_tokens(feats).float())  # (B, T, H)
        special = self.special[None, None].expand(b, t, -1, -1)
        frames = torch.cat([frames[:, :, None], special], dim=2).reshape(
            b, t * TOKENS_PER_FRAME, -1
        )
        frame_mask = mask.repeat_interleave(TOKENS_PER_FRAME, dim=1)
        parts = [(frames.to(dtype), frame_mask)]
        prompt_part = (embed(prompt), prompt_mask.bool())
        parts.insert(0 if self.prompt_position == "prefix" else 1, prompt_part)
        if targets is not None:
            if target_mask is None:
                target_mask = torch.ones_like(targets, dtype=torch.bool)
            parts.append((embed(targets), target_mask.bool()))
        inputs = torch.cat([p[0] for p in parts], dim=1)
        attention = torch.cat([p[1] for p in parts], dim=1).long()
        hidden = self.lm.get_decoder()(inputs_embeds=inputs, attention_mask=attention)
        hidden = hidden.last_hidden_state
        start = 0 if self.prompt_position == "suffix" else prompt.shape[1]
        states = hidden[:, start : start + t * TOKENS_PER_FRAME].reshape(b, t, TOKENS_PER_FRAME, -1)
        states = states.float() * mask[:, :, None, None].to(torch.float32)
        m = mask[:, None, :].float()
        f_cls = self.out_cls(states[:, :, 1]).transpose(1, 2) * m
        f_loc = self.out_loc(states[:, :, 2]).transpose(1, 2) * m
        tg = None
        if targets is not None:
            s = targets.shape[1]
            # position i predicts token i + 1: the state just before each target token
            pred = hidden[:, -s - 1 : -1]
            logits = self.lm.lm_head(pred).float()
            labels = targets.masked_fill(~target_mask.bool(), -100)
            tg = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))
        return LanguageFeatures(cls=f_cls, loc=f_loc, adv=states[:, :, 3], tg_loss=tg)
