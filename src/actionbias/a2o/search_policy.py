"""`SearchPolicy`: offline search over a fixed vocabulary, the default without an LLM endpoint.

It is not the paper's method, and every record says so ("offline search, not
an LLM"): it explores the same space (object sets of at most C_max items) with
the same reward, so the loop, the environment and the report can run end to
end on a machine with no LLM, and it is a non-LLM reference point.

Shared rules. A set is compared as a set of lowercase names; "tried" means
proposed in any earlier trial (own or injected, ok or failed), and a tried set
is never proposed again unless every reachable set has been tried. Only this
run's evaluated trials count as evidence; ties in accuracy go to the earlier
trial. The *prior* of an item ranks the items to add: "uniform" (vocabulary
order), "minilm" (largest cosine similarity between the item and any class
name under the offline all-MiniLM-L6-v2 encoder) or a mapping item -> score.
The *evidence* of an item o of the best set is, over the evaluated trials,
max over classes c of [mean class-c accuracy of the trials with o] - [mean
class-c accuracy of those without o] (overall accuracy when no class-wise
figures exist; 0 when no trial lacks o); the weakest item has the lowest
evidence, ties going to the later item in the set.

Greedy (deterministic, no randomness used unless everything is exhausted):
iteration 1 (no evaluated trial) proposes the initial set (`initial`, or the
`initial_size` items with the highest prior). Later iterations edit the best
set B so far with one edit: "add" the untried item with the highest prior (if
|B| < C_max), "swap" the weakest item for that item, or "remove" the weakest
item. The edit kind is the previous trial's when that trial became the best,
else the next in the cycle add -> swap -> remove -> add. If the chosen kind
yields only tried sets, the other kinds are tried in cycle order, with items
that were already tried elsewhere as candidates after the untried ones.

Evolutionary (seeded by (seed, iteration), so a resumed run proposes the same
set): parents are the `population` best evaluated sets. Up to 200 draws: pick
a parent (weights P, P-1, ..., 1 by rank); with probability 1/2 (and two or
more parents) cross it with another (items in both are kept, each item in one
only is kept with probability 1/2); then mutate once (add / remove / swap,
uniformly among those possible; the item added is drawn with probability
proportional to its shifted prior, doubled for never-tried items); clip to
C_max. The first untried child is proposed; if none, the greedy rule decides.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from actionbias.a2o.policy_base import RUN, ProposedSet, Trial, normalise_objects
from actionbias.a2o.task import TaskDescription
from actionbias.errors import BadInputError

LABEL = "offline search, not an LLM"
EDITS = ("add", "swap", "remove")
STRATEGIES = ("greedy", "evolutionary")
PRIORS = ("uniform", "minilm")


def minilm_prior(encoder: Any = None) -> Callable[[Sequence[str], Sequence[str]], list[float]]:
    """A prior function: max cosine similarity of each item to the class names (MiniLM)."""

    def score(items: Sequence[str], classes: Sequence[str]) -> list[float]:
        nonlocal encoder
        if encoder is None:
            from actionbias.models.text_encoder import MiniLMEncoder

            encoder = MiniLMEncoder()
        item_vecs = np.asarray(encoder.encode(list(items)), dtype=np.float64)
        class_vecs = np.asarray(encoder.encode(list(classes)), dtype=np.float64)
        sims = item_vecs @ class_vecs.T
        return [float(s) for s in sims.max(axis=1)]

    return score


class SearchPolicy:
    """Greedy or evolutionary search over `vocabulary` (see the module docstring for the rules).

    `prior`: "uniform", "minilm", or a mapping item -> score (higher is
    tried first). `encoder`: a text encoder with ``encode(texts)`` for the
    "minilm" prior (default: the bundled MiniLM, loaded on first use).
    """

    kind = "search"
    uses_history = True
    label = LABEL

    def __init__(
        self,
        vocabulary: Sequence[str],
        strategy: str = "greedy",
        seed: int = 0,
        *,
        initial: Sequence[str] | None = None,
        initial_size: int = 4,
        prior: str | Mapping[str, float] = "uniform",
        population: int = 4,
        encoder: Any = None,
    ):
        if strategy not in STRATEGIES:
            raise BadInputError(
                f"unknown search strategy {strategy!r}; choose from {', '.join(STRATEGIES)}",
                where="strategy",
            )
        self.vocabulary = normalise_objects(vocabulary, where="vocabulary")
        if not self.vocabulary:
            raise BadInputError("the search vocabulary is empty", where="vocabulary")
        self.initial = normalise_objects(initial, where="initial") if initial else None
        if initial_size < 1 or population < 1:
            raise BadInputError("initial_size and population must be >= 1", where="search")
        if isinstance(prior, str) and prior not in PRIORS:
            raise BadInputError(
                f"unknown prior {prior!r}; choose from {', '.join(PRIORS)} or pass a mapping",
                where="prior",
            )
        self.strategy = strategy
        self.seed = int(seed)
        self.initial_size = int(initial_size)
        self.population = int(population)
        self.prior = prior
        self.name = f"search-{strategy}"
        self._encoder = encoder
        self._scores: dict[tuple[str, ...], dict[str, float]] = {}
        # Items of the initial set that are not in the vocabulary still belong to the space.
        self.universe = list(dict.fromkeys([*self.vocabulary, *(self.initial or [])]))

    @property
    def spec(self) -> dict[str, Any]:
        if isinstance(self.prior, str):
            prior: Any = self.prior
        else:
            blob = json.dumps(sorted((str(k), float(v)) for k, v in self.prior.items()))
            prior = "mapping:" + hashlib.sha256(blob.encode()).hexdigest()[:16]
        return {
            "kind": self.kind,
            "name": self.name,
            "label": LABEL,
            "strategy": self.strategy,
            "seed": self.seed,
            "vocabulary": list(self.vocabulary),
            "initial": self.initial,
            "initial_size": self.initial_size,
            "prior": prior,
            "population": self.population,
        }

    # ------------------------------------------------------------------ scoring

    def prior_scores(self, classes: Sequence[str]) -> dict[str, float]:
        """Item -> prior score (uniform: earlier in the vocabulary scores higher)."""
        key = tuple(classes)
        if key in self._scores:
            return self._scores[key]
        n = len(self.universe)
        if self.prior == "uniform":
            scores = {item: float(n - i) / n for i, item in enumerate(self.universe)}
        elif self.prior == "minilm":
            values = minilm_prior(self._encoder)(self.universe, classes)
            scores = dict(zip(self.universe, values, strict=True))
        else:
            mapping = {" ".join(str(k).lower().split()): float(v) for k, v in self.prior.items()}
            scores = {item: mapping.get(item, 0.0) for item in self.universe}
        self._scores[key] = scores
        return scores

    def ranked(self, classes: Sequence[str]) -> list[str]:
        """The universe by descending prior, vocabulary order on ties."""
        scores = self.prior_scores(classes)
        order = {item: i for i, item in enumerate(self.universe)}
        return sorted(self.universe, key=lambda item: (-scores[item], order[item]))

    @staticmethod
    def evidence(item: str, trials: Sequence[Trial]) -> float:
        """How much the trials with `item` beat those without it, in its best class."""
        with_ = [t for t in trials if item in t.objects]
        without = [t for t in trials if item not in t.objects]
        if not with_ or not without:
            return 0.0
        classes = sorted(set().union(*(t.classwise for t in trials)))
        gains = []
        for c in classes:
            a = [t.classwise[c] for t in with_ if c in t.classwise]
            b = [t.classwise[c] for t in without if c in t.classwise]
            if a and b:
                gains.append(float(np.mean(a)) - float(np.mean(b)))
        if not gains:
            return float(
                np.mean([t.accuracy for t in with_]) - np.mean([t.accuracy for t in without])
            )
        return max(gains)

    def weakest_first(self, best: Sequence[str], trials: Sequence[Trial]) -> list[str]:
        """Items of `best`, weakest first (lowest evidence; later position on ties)."""
        pos = {item: i for i, item in enumerate(best)}
        return sorted(best, key=lambda item: (self.evidence(item, trials), -pos[item]))

    # ------------------------------------------------------------------ proposing

    def propose(
        self, task: TaskDescription, history: Sequence[Trial], iteration: int
    ) -> ProposedSet:
        cap = task.max_objects
        tried = {frozenset(t.objects) for t in history}
        evaluated = [t for t in history if t.source == RUN and t.ok]
        if not evaluated:
            start = (self.initial or self.ranked(task.classes)[: self.initial_size])[:cap]
            if frozenset(start) not in tried:
                return self._result(start, "initial set", {"edit": "initial"})
            best = list(start)
            edit = "add"
        else:
            best_trial = max(evaluated, key=lambda t: (t.accuracy, -t.iteration))
            best = list(best_trial.objects)
            edit = self._next_edit(history, best_trial)
        if self.strategy == "evolutionary" and evaluated:
            child = self._evolve(task, evaluated, tried, iteration)
            if child is not None:
                return child
        return self._greedy(task, best, evaluated, tried, edit, iteration)

    def _next_edit(self, history: Sequence[Trial], best: Trial) -> str:
        own = [t for t in history if t.source == RUN]
        last = own[-1] if own else None
        previous = (last.extra.get("policy") or {}).get("edit") if last else None
        if previous not in EDITS:
            return "add"
        if last is best:
            return previous
        return EDITS[(EDITS.index(previous) + 1) % len(EDITS)]

    def _greedy(
        self,
        task: TaskDescription,
        best: list[str],
        evaluated: Sequence[Trial],
        tried: set[frozenset[str]],
        edit: str,
        iteration: int,
    ) -> ProposedSet:
        cap = task.max_objects
        ever = set().union(*tried) if tried else set()
        ranked = [item for item in self.ranked(task.classes) if item not in best]
        candidates = [i for i in ranked if i not in ever] + [i for i in ranked if i in ever]
        weak = self.weakest_first(best, evaluated)
        start = EDITS.index(edit)
        for kind in (EDITS[(start + k) % len(EDITS)] for k in range(len(EDITS))):
            for objects, what in self._edits(kind, best, candidates, weak, cap):
                if frozenset(objects) not in tried:
                    return self._result(objects, f"{kind} {what} to the best set", {"edit": kind})
        rng = np.random.default_rng([self.seed, iteration])
        for _ in range(1000):
            size = int(rng.integers(1, min(cap, len(self.universe)) + 1))
            pick = rng.choice(len(self.universe), size=size, replace=False)
            objects = [self.universe[i] for i in sorted(pick)]
            if frozenset(objects) not in tried:
                return self._result(objects, "random set (no untried edit)", {"edit": "random"})
        return self._result(best[:cap], "search space exhausted: best set again", {"edit": "none"})

    @staticmethod
    def _edits(kind: str, best: list[str], candidates: list[str], weak: list[str], cap: int):
        if kind == "add" and len(best) < cap:
            for item in candidates:
                yield [*best, item], f"{item!r}"
        elif kind == "swap":
            for out in weak:
                for item in candidates:
                    yield [item if o == out else o for o in best], f"{out!r} -> {item!r}"
        elif kind == "remove" and len(best) > 1:
            for out in weak:
                yield [o for o in best if o != out], f"{out!r}"

    def _evolve(
        self,
        task: TaskDescription,
        evaluated: Sequence[Trial],
        tried: set[frozenset[str]],
        iteration: int,
    ) -> ProposedSet | None:
        cap = task.max_objects
        ranked_trials = sorted(evaluated, key=lambda t: (-t.accuracy, t.iteration))
        parents = [list(t.objects) for t in ranked_trials[: self.population]]
        weights = np.arange(len(parents), 0, -1, dtype=np.float64)
        weights /= weights.sum()
        scores = self.prior_scores(task.classes)
        ever = set().union(*tried) if tried else set()
        rng = np.random.default_rng([self.seed, iteration])
        for _ in range(200):
            a = int(rng.choice(len(parents), p=weights))
            child = list(parents[a])
            crossed = None
            if len(parents) > 1 and rng.random() < 0.5:
                b = int(rng.choice([i for i in range(len(parents)) if i != a]))
                other = parents[b]
                both = [o for o in child if o in other]
                either = [o for o in [*child, *other] if o not in both]
                either = list(dict.fromkeys(either))
                child = both + [o for o in either if rng.random() < 0.5]
                crossed = b
            child, what = self._mutate(child, scores, ever, cap, rng)
            child = list(dict.fromkeys(child))[:cap]
            if child and frozenset(child) not in tried:
                note = f"mutation ({what}) of parent {a + 1}"
                if crossed is not None:
                    note = f"crossover of parents {a + 1} and {crossed + 1}, then {what}"
                return self._result(child, note, {"edit": "evolve"})
        return None

    def _mutate(
        self,
        child: list[str],
        scores: Mapping[str, float],
        ever: set[str],
        cap: int,
        rng: np.random.Generator,
    ) -> tuple[list[str], str]:
        outside = [item for item in self.universe if item not in child]
        ops = []
        if outside and len(child) < cap:
            ops.append("add")
        if len(child) > 1:
            ops.append("remove")
        if outside and child:
            ops.append("swap")
        if not ops:
            return child, "no mutation"
        op = ops[int(rng.integers(len(ops)))]
        if op == "remove":
            out = child[int(rng.integers(len(child)))]
            return [o for o in child if o != out], f"remove {out!r}"
        base = np.array([scores[item] for item in outside], dtype=np.float64)
        w = base - base.min() + 1e-3
        w *= np.array([1.0 if item in ever else 2.0 for item in outside])
        new = outside[int(rng.choice(len(outside), p=w / w.sum()))]
        if op == "add":
            return [*child, new], f"add {new!r}"
        out = child[int(rng.integers(len(child)))]
        return [new if o == out else o for o in child], f"swap {out!r} -> {new!r}"

    def _result(self, objects: Sequence[str], what: str, details: dict) -> ProposedSet:
        return ProposedSet(
            list(objects),
            f"{LABEL}: {self.strategy}, {what}",
            {"label": LABEL, **details},
        )


__all__ = ["LABEL", "SearchPolicy", "minilm_prior"]
