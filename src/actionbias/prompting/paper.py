"""The 20 automated prompts the paper published (appendix A.5), with its reported scores.

They were found by GPT-4.1 for GPT-4o-mini on HAT Action-Swap; scoring them on
another model or data set (``actionbias prompt-eval --paper-prompts``) shows
whether the search's result transfers. The figures are the paper's (held-out
75 % of HAT Action-Swap, GPT-4o-mini), kept for comparison only. The starred
prompt of the paper is `PAPER_BEST`.
"""

from __future__ import annotations

PAPER_AUTOMATED_PROMPTS: tuple[tuple[str, float, float], ...] = (
    # (instruction, SHAcc %, SBErr %)
    (
        "Focus only on the person's movements and actions. What activity is the person doing, "
        "regardless of the background?",
        40.24,
        48.83,
    ),
    (
        "Ignore the background. Based only on the person's movements, what action are they "
        "performing?",
        45.27,
        43.55,
    ),
    (
        "Describe only the main action the person is doing, without considering the background "
        "or location.",
        40.26,
        49.43,
    ),
    (
        "Based solely on the person's body movements, what action are they performing in this "
        "video? Ignore the background.",
        45.56,
        43.38,
    ),
    (
        "Ignore the setting. What is the person doing, based only on their actions and movements?",
        46.07,
        43.32,
    ),
    (
        "Disregard the background. Identify the action the person is performing by observing "
        "their movements only.",
        45.91,
        42.87,
    ),
    (
        "Only consider the person's actions and body movements. What activity are they doing, "
        "without using any clues from the background?",
        39.15,
        48.37,
    ),
    (
        "Focus only on the person's motion and behavior. What action are they performing, "
        "ignoring all background details?",
        46.02,
        41.55,
    ),
    (
        "Watch the person's movements and actions only. What are they doing, without using any "
        "information from the background?",
        40.26,
        46.74,
    ),
    (
        "Based only on the person's physical actions, what activity are they performing? Do not "
        "use any background information.",
        39.55,
        50.26,
    ),
    (
        "Ignore everything except the person's movements. What action are they performing?",
        45.79,
        43.78,
    ),
    (
        "Looking only at the person's actions, what are they doing in this video? Ignore the "
        "surroundings.",
        40.35,
        47.97,
    ),
    (
        "Ignore the environment. What is the person doing, based only on their actions in the "
        "video?",
        46.19,
        43.55,
    ),
    (
        "Focus only on the person's movements in the video. What action are they performing, "
        "without considering the background?",
        40.53,
        46.42,
    ),
    (
        "Ignore where the video takes place. What action is the person doing, based only on "
        "their movements?",
        46.70,
        41.55,
    ),
    (
        "Disregard the location and background. What is the person doing, based only on their "
        "actions?",
        46.48,
        42.75,
    ),
    (
        "Without using any clues from the background or location, what action is the person "
        "performing in this video?",
        40.15,
        47.08,
    ),
    (
        "Ignore the background and setting. What action is the person performing, based only on "
        "their movements?",
        45.99,
        41.69,
    ),
    (
        "What is the person doing in this video, based only on their actions and not the "
        "background?",
        39.73,
        47.68,
    ),
    (
        "Describe the action the person is performing, using only their movements and ignoring "
        "the background.",
        40.72,
        48.74,
    ),
)

PAPER_BEST = PAPER_AUTOMATED_PROMPTS[14][0]
"""The prompt the paper marks as best (SHAcc 46.70 %, SBErr 41.55 %)."""
