"""Temporal action localisation: feature datasets, an ActionFormer-style detector,
losses, soft-NMS, training and inference (the language branch lives in `language`).

`train.fit` is the one training loop (vision-only detector and every ActionVLM
variant; `tal train` and `tal demo` both use it), `actionvlm` builds, saves and
loads the models it trains, `config` resolves `tal train`'s YAML configs
(`configs/`) and ``--set`` overrides, `evaluation` reads results files for the
ActivityNet/ActionFormer mAP in `actionbias.metrics.tal`.

Submodules are imported directly (``from actionbias.tal.detector import ActionFormer``)
so that importing the package stays cheap and free of cycles.
"""
