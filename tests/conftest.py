"""Shared fixtures: a tiny data folder and a small model trained on it once per session."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from namecls.model import ModelConfig
from namecls.train import TrainConfig, fit

REPO = Path(__file__).resolve().parent.parent
FULL_DATA = REPO / "data" / "names"

TINY = {
    "Japanese": "Satoshi Nakamura Tanaka Suzuki Takahashi Watanabe Yamamoto Kobayashi Yoshida Yamada "
    "Sasaki Matsumoto Inoue Kimura Hayashi Shimizu Yamaguchi Morita Ishikawa Okada",
    "Russian": "Ivanov Smirnov Kuznetsov Popov Vasiliev Petrov Sokolov Mikhailov Novikov Fedorov "
    "Morozov Volkov Alekseev Lebedev Semenov Egorov Pavlov Kozlov Stepanov Nikolaev",
    "Italian": "Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo "
    "Conti Mancini Costa Giordano Rizzo Lombardi Moretti Barbieri",
}


def write_tiny(folder: Path, langs: dict[str, str] = TINY) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for lang, names in langs.items():
        (folder / f"{lang}.txt").write_text("\n".join(names.split()) + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def tiny_dir(tmp_path: Path) -> Path:
    return write_tiny(tmp_path / "names")


@pytest.fixture(scope="session")
def tiny_session_dir(tmp_path_factory) -> Path:
    return write_tiny(tmp_path_factory.mktemp("data") / "names")


@pytest.fixture(scope="session")
def tiny_model(tiny_session_dir: Path, tmp_path_factory) -> Path:
    """A small GRU trained for a few seconds on the tiny data; returns the checkpoint path."""
    out = tmp_path_factory.mktemp("model") / "tiny.pt"
    fit(
        tiny_session_dir,
        ModelConfig(arch="gru", hidden=16, embed_dim=8),
        TrainConfig(epochs=20, batch_size=8, lr=0.02, patience=20, valid_frac=0.2, test_frac=0.2),
        torch.device("cpu"),
        out=out,
    )
    return out


@pytest.fixture
def full_data() -> Path:
    if not (FULL_DATA / "Russian.txt").is_file():
        pytest.skip("data/names is empty: run `make data`")
    return FULL_DATA
