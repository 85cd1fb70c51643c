"""``actionbias prompt-tune`` and ``actionbias prompt-eval``: flags and handlers.

``prompt-tune`` runs the whole search (manual prompts, then the optimiser's
proposals) into one folder and writes its report; rerunning the same command
resumes it, and a larger ``--iterations`` extends it. ``prompt-eval`` scores
given instructions (the paper's manual prompts by default) on the same
seeded split without an optimiser, e.g. the paper's 20 published prompts on
another model.

Model strings are the audit's: ``openai:MODEL[@BASE_URL][?key_env=VAR]`` for
an endpoint (OpenAI, vLLM, Ollama, llama.cpp) and ``internvl:ID`` for a local
InternVL3 (scorer only; the optimiser must be a chat endpoint).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from actionbias.argtypes import open_fraction, positive_int
from actionbias.commandline import Command, flags
from actionbias.errors import BadInputError

log = logging.getLogger(__name__)


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data",
        required=True,
        type=Path,
        help="swap videos: a SynthAct folder, a HAT root/manifest or a swap_pairs.csv",
    )
    p.add_argument(
        "--model", required=True, help="video LLM to tune for: openai:MODEL[@URL] or internvl:ID"
    )
    p.add_argument("--out", required=True, type=Path, help="tuning folder (resumed if it exists)")
    p.add_argument("--swap-split", default="swap", help="SynthAct split with the swap videos")
    p.add_argument("--format", default="auto", help="manifest format (default: %(default)s)")
    p.add_argument("--root", type=Path, help="media root the manifest's paths are relative to")
    p.add_argument("--classes", type=Path, help="class list file (one name per line)")
    p.add_argument("--limit", type=positive_int, help="only the first N swap videos")
    p.add_argument("--tune-fraction", type=open_fraction, default=0.25, help="tuning share (0.25)")
    p.add_argument("--seed", type=int, default=0, help="split, question and bootstrap seed (0)")
    p.add_argument("--objective", default="shacc - sberr", help="what to maximise (%(default)s)")
    p.add_argument("--frames", type=positive_int, default=8, help="frames per video (8)")
    p.add_argument("--batch-size", type=positive_int, default=8, help="videos per batch (8)")
    p.add_argument("--bootstrap", type=positive_int, default=1000, help="resamples (1000)")
    p.add_argument("--device", help="torch device for a local model (cpu, cuda, cuda:1)")
    p.add_argument("--cache-dir", type=Path, help="LLM reply cache (default: OUT/llm_cache)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per request (60)")
    p.add_argument("--max-retries", type=int, default=5, help="retries per request (5)")
    p.add_argument("--concurrency", type=positive_int, default=4, help="requests in flight (4)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")


def add_prompt_tune_arguments(p: argparse.ArgumentParser) -> None:
    """Flags of ``actionbias prompt-tune``."""
    _add_common(p)
    p.add_argument(
        "--optimizer",
        required=True,
        help="optimiser chat model: openai:MODEL[@URL][?key_env=VAR] (the paper: gpt-4.1)",
    )
    p.add_argument(
        "--mode",
        choices=("conversation", "opro"),
        default="conversation",
        help="conversation (default, the paper's appendix A.5: one running dialogue, each "
        "prompt's SHAcc/SBErr reported back to the optimiser) or opro (a fresh meta-prompt "
        "with the best --top-k scored prompts each step)",
    )
    p.add_argument("--iterations", type=int, default=20, help="optimisation steps (20)")
    p.add_argument(
        "--top-k", type=positive_int, default=20, help="best prompts shown, opro mode (20)"
    )
    p.add_argument("--temperature", type=float, default=1.0, help="optimiser temperature (1.0)")
    p.add_argument(
        "--attempts", type=positive_int, default=3, help="replies per step before skipping (3)"
    )
    p.add_argument("--report", type=Path, help="report HTML (default: OUT/report.html)")
    p.add_argument("--no-report", action="store_true", help="do not write the report")


def add_prompt_eval_arguments(p: argparse.ArgumentParser) -> None:
    """Flags of ``actionbias prompt-eval``."""
    _add_common(p)
    p.add_argument(
        "--styles",
        nargs="*",
        default=["neutral", "prefixed", "human", "background"],
        help="manual prompt styles to score (all four by default; none with an empty list)",
    )
    p.add_argument(
        "--instruction", action="append", default=[], help="an instruction to score (repeatable)"
    )
    p.add_argument("--instructions-file", type=Path, help="instructions to score, one per line")
    p.add_argument(
        "--paper-prompts",
        action="store_true",
        help="also score the paper's 20 automated prompts (appendix A.5)",
    )


def _client_options(args: argparse.Namespace) -> dict[str, Any]:
    if args.max_retries < 0:
        raise BadInputError(f"must be >= 0, got {args.max_retries}", where="--max-retries")
    return {
        "timeout": args.timeout,
        "max_retries": args.max_retries,
        "concurrency": args.concurrency,
    }


def _answerer(args: argparse.Namespace, cache_dir: Path) -> Any:
    from actionbias.prompting.scorer import build_answerer

    return build_answerer(
        args.model,
        cache_dir=cache_dir,
        frames=args.frames,
        device=args.device,
        client_options=_client_options(args),
    )


def _optimizer(args: argparse.Namespace, cache_dir: Path) -> Any:
    from actionbias.audit.mcq_prompt import ANSWER_INSTRUCTION
    from actionbias.audit.scorers import DEFAULT_BASE_URL, parse_model_string
    from actionbias.llm import ChatClient
    from actionbias.prompting.conversation import ConversationOptimizer
    from actionbias.prompting.optimizer import Optimizer

    spec = parse_model_string(args.optimizer)
    if spec.get("type") != "vlm-endpoint":
        raise BadInputError(
            f"the optimiser must be a chat endpoint (openai:MODEL[@URL]), got {args.optimizer!r}",
            where="--optimizer",
        )
    client = ChatClient(
        str(spec.get("base_url") or DEFAULT_BASE_URL),
        str(spec["model"]),
        api_key_env=str(spec.get("api_key_env", "OPENAI_API_KEY")),
        cache_dir=cache_dir,
        **_client_options(args),
    )
    kind = ConversationOptimizer if getattr(args, "mode", "opro") == "conversation" else Optimizer
    return kind(
        client,
        temperature=args.temperature,
        attempts=args.attempts,
        answer_instruction=ANSWER_INSTRUCTION,
    )


def _scoring(args: argparse.Namespace) -> dict[str, Any]:
    """How prompts are scored, the same for tuning and evaluation (`_add_common`'s flags):
    both commands must score a prompt alike for their figures to be comparable."""
    return {
        **flags(args, "objective", "tune_fraction", "seed", "frames", "batch_size"),
        **flags(args, "limit", "swap_split", "root", "classes"),
        "n_boot": args.bootstrap,
        "data_format": args.format,
        "progress": not args.no_progress,
    }


def _stats(obj: Any) -> str | None:
    client = getattr(obj, "client", None)
    stats = getattr(client, "stats", None)
    return stats.summary() if stats is not None else None


def cmd_prompt_tune(args: argparse.Namespace) -> int:
    """automated prompt tuning of a video LLM (OPRO-style) on Action-Swap MCQ

    An optimiser LLM proposes instructions from the history of tried ones and their SHAcc/SBErr on a
    25 % tuning split of the swap set; every prompt is also scored on the held-out 75 %. Resumable:
    history is saved after every step.
    """
    from actionbias.prompting.loop import run_prompt_tuning
    from actionbias.prompting.report import write_prompt_report

    cache_dir = args.cache_dir or args.out / "llm_cache"
    answerer = _answerer(args, cache_dir)
    optimizer = _optimizer(args, cache_dir)

    def on_step(record: Any) -> None:
        if isinstance(record, dict):
            print(f"step {record['step']}: skipped (no usable proposal)", file=sys.stderr)
            return
        where = record.label if record.kind == "manual" else f"step {record.step}"
        print(
            f"{where}: tuning SHAcc {100 * record.tune.shacc:.1f}% "
            f"SBErr {100 * record.tune.sberr:.1f}% | {record.instruction}",
            file=sys.stderr,
        )

    result = run_prompt_tuning(
        answerer,
        optimizer,
        args.data,
        args.out,
        **flags(args, "iterations", "top_k"),
        **_scoring(args),
        on_step=on_step,
    )
    summary: dict[str, Any] = {
        "out": str(args.out),
        "steps": len(result.steps),
        "skipped_steps": len(result.skipped_steps),
    }
    best = result.best()
    if best is not None:
        summary["best"] = {
            "instruction": best.instruction,
            "step": best.step,
            "tune": best.tune.to_json(),
            "heldout": best.heldout.to_json(),
            "gap": best.gap,
        }
    if not args.no_report:
        summary["report"] = str(write_prompt_report(args.out, args.report))
    for name, obj in (("scorer", answerer), ("optimizer", optimizer)):
        text = _stats(obj)
        if text:
            summary[f"{name}_calls"] = text
    print(json.dumps(summary, indent=2))
    return 0


def _instructions(args: argparse.Namespace) -> list[str]:
    texts = [t for t in args.instruction if t.strip()]
    if args.paper_prompts:
        from actionbias.prompting.paper import PAPER_AUTOMATED_PROMPTS

        texts += [text for text, _, _ in PAPER_AUTOMATED_PROMPTS]
    if args.instructions_file is not None:
        path = args.instructions_file
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise BadInputError(f"cannot read ({exc.strerror})", source=path) from None
        texts += [line.strip() for line in lines if line.strip()]
    return texts


def cmd_prompt_eval(args: argparse.Namespace) -> int:
    """score the paper's manual (and automated) prompts on Action-Swap MCQ

    SHAcc and SBErr of the paper's manual prompts for one video LLM.
    """
    from actionbias.audit.mcq_prompt import ANSWER_INSTRUCTION, PROMPT_STYLES, MCQPrompt
    from actionbias.prompting.evaluation import RESULT, evaluate_prompts
    from actionbias.prompting.scorer import instruction_prompt
    from actionbias.prompting.splits import HELDOUT

    unknown = [s for s in args.styles if s not in PROMPT_STYLES]
    if unknown:
        raise BadInputError(
            f"unknown style {unknown[0]!r}; choose from {', '.join(PROMPT_STYLES)}",
            where="--styles",
        )
    prompts: list[tuple[str, MCQPrompt]] = [
        (f"manual-{s}", MCQPrompt.from_style(s, ANSWER_INSTRUCTION)) for s in args.styles
    ]
    prompts += [
        (f"given-{i + 1}", instruction_prompt(t)) for i, t in enumerate(_instructions(args))
    ]
    if not prompts:
        raise BadInputError("nothing to score: give --styles or --instruction", where="--styles")

    def on_prompt(row: dict[str, Any], prompt: MCQPrompt) -> None:
        print(
            f"{row['label']}: held-out SHAcc {100 * row[HELDOUT]['shacc']:.1f}% "
            f"SBErr {100 * row[HELDOUT]['sberr']:.1f}% | {prompt.question}",
            file=sys.stderr,
        )

    result = evaluate_prompts(
        _answerer(args, args.cache_dir or args.out / "llm_cache"),
        prompts,
        args.data,
        args.out,
        **_scoring(args),
        on_prompt=on_prompt,
    )
    summary = {"out": str(args.out / RESULT), "prompts": len(result["prompts"])}
    print(json.dumps(summary, indent=2))
    return 0


COMMANDS: tuple[Command, ...] = (
    Command("prompt-tune", add_prompt_tune_arguments, cmd_prompt_tune),
    Command("prompt-eval", add_prompt_eval_arguments, cmd_prompt_eval),
)
