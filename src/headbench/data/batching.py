"""Dynamic padding, length-grouped training batches and length-sorted evaluation batches."""
from __future__ import annotations

import math

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler
from transformers import DataCollatorWithPadding
from transformers.trainer_pt_utils import get_length_grouped_indices


class TokenDataset(Dataset):
    def __init__(self, ids: list[np.ndarray], targets: np.ndarray | None = None):
        self.ids = ids
        self.targets = targets

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        row = {"input_ids": self.ids[i].tolist()}
        if self.targets is not None:
            row["labels"] = self.targets[i].tolist()  # a float, a list of floats (several targets) or a class index
        return row

    @property
    def lengths(self) -> list[int]:
        return [len(x) for x in self.ids]


class LengthGroupedBatches(Sampler[list[int]]):
    """Every row once per epoch, in batches of similar length, the batches in random order.

    Rows are sorted by length inside shuffled mega-batches (transformers' ``get_length_grouped_indices``).
    Its default mega-batch, a quarter of the rows, is a single batch on a dataset of fewer than 8 batches,
    which groups nothing: here a mega-batch holds at least 4 batches. The batches are then shuffled, so the
    learning-rate schedule does not meet the long rows first and the short rows last."""

    def __init__(self, lengths: list[int], batch_size: int, generator: torch.Generator):
        self.lengths, self.batch_size, self.generator = list(lengths), batch_size, generator
        self.mega_batch_mult = max(4, min(len(self.lengths) // (batch_size * 4), 50))

    def __len__(self) -> int:
        return math.ceil(len(self.lengths) / self.batch_size)

    def __iter__(self):
        order = get_length_grouped_indices(self.lengths, self.batch_size, self.mega_batch_mult, self.generator)
        batches = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        for k in torch.randperm(len(batches), generator=self.generator).tolist():
            yield batches[k]


def sorted_batches(lengths: list[int], batch_size: int) -> list[list[int]]:
    order = np.argsort(lengths, kind="stable")[::-1]
    return [order[i : i + batch_size].tolist() for i in range(0, len(order), batch_size)]


def make_loader(dataset: TokenDataset, tokenizer, batch_sampler, pad_to_multiple_of: int | None = None,
                pin_memory: bool = False) -> DataLoader:
    collate = DataCollatorWithPadding(tokenizer, padding="longest", pad_to_multiple_of=pad_to_multiple_of,
                                      return_tensors="pt")
    return DataLoader(dataset, batch_sampler=batch_sampler, collate_fn=collate, pin_memory=pin_memory)
