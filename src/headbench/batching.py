"""Dynamic padding, length-grouped training batches and length-sorted evaluation batches."""
from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset
from transformers import DataCollatorWithPadding
from transformers.trainer_pt_utils import LengthGroupedSampler


class TokenDataset(Dataset):
    def __init__(self, ids: list[np.ndarray], targets: np.ndarray | None = None):
        self.ids = ids
        self.targets = targets

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        row = {"input_ids": self.ids[i].tolist()}
        if self.targets is not None:
            row["labels"] = float(self.targets[i])
        return row

    @property
    def lengths(self) -> list[int]:
        return [len(x) for x in self.ids]


def length_grouped_batches(lengths: list[int], batch_size: int, generator: torch.Generator) -> BatchSampler:
    """Shuffled mega-batches sorted by length inside: every row once per epoch, batches of similar length."""
    sampler = LengthGroupedSampler(batch_size, lengths=lengths, generator=generator)
    return BatchSampler(sampler, batch_size, drop_last=False)


def sorted_batches(lengths: list[int], batch_size: int) -> list[list[int]]:
    order = np.argsort(lengths, kind="stable")[::-1]
    return [order[i : i + batch_size].tolist() for i in range(0, len(order), batch_size)]


def make_loader(dataset: TokenDataset, tokenizer, batch_sampler, pin_memory: bool = False) -> DataLoader:
    collate = DataCollatorWithPadding(tokenizer, padding="longest", return_tensors="pt")
    return DataLoader(dataset, batch_sampler=batch_sampler, collate_fn=collate, pin_memory=pin_memory)
