"""A2O: object-centric features from detection, with the object vocabulary chosen by ICRL.

Modules (imported on use, so ``import actionbias.a2o`` stays light; the 1x1
adapter lives in `actionbias.models.object_adapter` and the MiniLM encoder used by
the vocabulary mapping in `actionbias.models.text_encoder`):

* `maps` - detectors -> per-query likelihood maps (synth-oracle, pose, owlv2,
  grounding-dino), cached per (video, query, backend) by `maps.MapStore`;
* `data` - clips + aligned maps; `config` - `A2OTrainConfig`, how each trial
  trains; `environment` - `TrainEnvironment`: one ICRL trial (fresh recogniser,
  Lightning training, validation reward); `scorer` - `A2OScorer`, trained
  weights scored on any split (an audit scorer);
* `task`, `concepts` - the task description of Listing 2, reply parsing;
  `policy_base` - the trial record, the policy protocol and `LLMPolicyBase`;
  `llm_policy` - the LLM policy; `policies`, `search_policy` - the baselines
  (fixed, static prompts, prompt pool, OOD history, offline search);
* `loop` - Algorithm 1 (`run_icrl`), resumable; `history` - its history.jsonl;
  `held_out` - the final model's held-out test figure; `protocols` - few-shot subsets,
  repeated runs with paired t-tests, the background-removal ablation;
* `demo`, `report`, `commands` - ``actionbias a2o demo|run|maps``.
"""
