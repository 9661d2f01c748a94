from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader

from namecls.data import (
    PAD_IDX,
    UNK_IDX,
    LengthBatchSampler,
    NamesDataset,
    Vocab,
    collate,
    length_batches,
    load_corpus,
    normalize,
    split_indices,
)
from namecls.errors import DataError


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Ślusàrski", "slusarski"),
        ("Иванов", "ivanov"),
        ("Groß", "gross"),
        ("佐藤", "zuo teng"),
        ("O'Neill", "o'neill"),
        ("Smith-Jones", "smith-jones"),
        ("  De la   fontaine\t", "de la fontaine"),
        ("Rafaj1", "rafaj"),
        ("Lu:", "lu"),
        ("12345", ""),
        ("😀🎉", ""),
        ("", ""),
        ("--", ""),
    ],
)
def test_normalize(raw, expected):
    assert normalize(raw) == expected


def test_load_counts_drops_and_dedup(tmp_path: Path):
    d = tmp_path / "names"
    d.mkdir()
    (d / "Russian.txt").write_text(
        "Ivanov\nIvanov\nИванов\nTo The First Page\n\n12\nPetrov\n", encoding="utf-8"
    )
    (d / "German.txt").write_text("Müller\nMueller\nMuller\n", encoding="utf-8")
    c = load_corpus(d)
    assert c.labels == ["German", "Russian"]
    ru = next(x for x in c.counts if x.label == "Russian")
    assert (ru.read, ru.dropped, ru.duplicates, ru.kept) == (6, 2, 2, 2)
    assert sorted(x.reason for x in c.dropped) == ["more than 3 words", "no letters"]
    assert sorted(zip(c.targets, c.names, strict=True)) == [
        (0, "mueller"),
        (0, "muller"),
        (1, "ivanov"),
        (1, "petrov"),
    ]


def test_same_name_two_labels_kept_once_each(tmp_path: Path):
    d = tmp_path / "names"
    d.mkdir()
    (d / "English.txt").write_text("Smith\nBrown\n")
    (d / "Scottish.txt").write_text("Smith\nMacleod\n")
    c = load_corpus(d)
    assert c.multi_label_names() == {"smith": ["English", "Scottish"]}


def test_data_folder_errors(tmp_path: Path):
    with pytest.raises(DataError, match="does not exist"):
        load_corpus(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no .txt files"):
        load_corpus(tmp_path / "empty")
    one = tmp_path / "one"
    one.mkdir()
    (one / "Russian.txt").write_text("Ivanov\n")
    with pytest.raises(DataError, match="1 language"):
        load_corpus(one)


def test_non_utf8_names_file_and_line(tmp_path: Path):
    d = tmp_path / "names"
    d.mkdir()
    (d / "A.txt").write_text("Abc\n")
    (d / "B.txt").write_bytes(b"Good\nAlso good\nBad\xff\n")
    with pytest.raises(DataError, match=r"B\.txt is not UTF-8 \(line 3"):
        load_corpus(d)


def test_split_is_leak_free_deterministic_and_stratified(full_data: Path):
    c = load_corpus(full_data)
    s = split_indices(c, seed=0)
    assert sorted(s["train"] + s["valid"] + s["test"]) == list(range(len(c)))
    names = {k: {c.names[i] for i in v} for k, v in s.items()}
    assert not names["train"] & names["test"]
    assert not names["train"] & names["valid"]
    assert not names["valid"] & names["test"]
    assert split_indices(c, seed=0) == s
    assert split_indices(c, seed=1)["test"] != s["test"]
    # every language is represented in test, roughly in proportion
    test_labels = {c.targets[i] for i in s["test"]}
    assert test_labels == set(range(len(c.labels)))
    assert abs(len(s["test"]) / len(c) - 0.1) < 0.01


def test_full_data_quirks(full_data: Path):
    c = load_corpus(full_data)
    assert len(c.labels) == 18
    assert sum(x.read for x in c.counts) == 20074
    ru = next(x for x in c.counts if x.label == "Russian")
    assert ru.dropped == 24  # "To The First Page", one of them with a no-break space
    ar = next(x for x in c.counts if x.label == "Arabic")
    assert (ar.read, ar.kept) == (2000, 108)
    assert len(c.multi_label_names()) > 400


def test_vocab_reserves_pad_and_unk():
    v = Vocab.build(["abc", "cab"])
    assert v.itos[PAD_IDX] == "<pad>" and v.itos[UNK_IDX] == "<unk>"
    assert v.encode("abz") == [v.stoi["a"], v.stoi["b"], UNK_IDX]
    assert len(v) == 5


def test_collate_and_bucket_sampler():
    names = ["a", "abcd", "ab", "abcdef", "abc", "b", "ba"]
    v = Vocab.build(names)
    ds = NamesDataset(names, list(range(len(names))), v)
    x, lengths, y = next(iter(DataLoader(ds, batch_sampler=[[1, 0]], collate_fn=collate)))
    assert x.shape == (2, 4) and lengths.tolist() == [4, 1] and y.tolist() == [1, 0]
    assert (x[1, 1:] == PAD_IDX).all()
    assert torch.equal(x[0], torch.tensor(v.encode("abcd")))


def test_length_batches_keep_one_length_per_batch_but_for_the_leftovers():
    lengths = [3] * 25 + [5] * 12 + [1] * 4
    order = list(range(len(lengths)))[::-1]
    batches = length_batches(order, lengths, 10)
    assert sorted(i for b in batches for i in b) == sorted(order)
    # two full batches of length 3, one of length 5, then the 4 + 5 + 2 left over, cut at 10
    assert [sorted({lengths[i] for i in b}) for b in batches] == [[3], [3], [5], [1, 3, 5], [5]]
    # for scoring every batch keeps to one length, the last of each just smaller
    scoring = length_batches(order, lengths, 10, mix_leftovers=False)
    assert [(lengths[b[0]], len(b)) for b in scoring] == [(1, 4), (3, 10), (3, 10), (3, 5), (5, 10), (5, 2)]
    assert all(len({lengths[i] for i in b}) == 1 for b in scoring)
    assert batches[0] == order[16:26]  # within a length, the given order is kept


def test_length_sampler_covers_each_name_once_groups_lengths_and_splits_across_processes():
    lengths = [(i * 7) % 13 + 1 for i in range(200)]
    sampler = LengthBatchSampler(lengths, batch_size=5, seed=1)
    sampler.set_epoch(1)
    epoch1 = list(sampler)
    assert sorted(i for b in epoch1 for i in b) == list(range(200))
    assert len(epoch1) == len(sampler)
    assert epoch1 == list(sampler)  # seeded: the same epoch gives the same batches
    sampler.set_epoch(2)
    assert list(sampler) != epoch1  # and another epoch other batches
    # nearly every batch holds names of one length, so it needs no padding
    uniform = sum(len({lengths[i] for i in b}) == 1 for b in epoch1)
    assert uniform >= len(epoch1) - 3
    # three processes take turns through the same epoch's batches, disjoint and equally many:
    # the one batch of 40 that would make a rank one longer is left out, so all-reduces stay in step
    ranks = [LengthBatchSampler(lengths, 5, seed=1, rank=r, world_size=3) for r in range(3)]
    for r in ranks:
        r.set_epoch(1)
    taken = [list(r) for r in ranks]
    assert len(sampler) == 40 and [len(t) for t in taken] == [len(r) for r in ranks] == [13, 13, 13]
    seen = [i for t in taken for b in t for i in b]
    assert len(seen) == len(set(seen))
