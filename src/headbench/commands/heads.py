"""Every registered head with its options, their types and defaults (the registry in headbench.model.heads).

A variant in params.yaml names a head and may set any of its options, e.g.
`lstm: {head: lstm, head_options: {lstm_size: 256, bidirectional: true}}`.
"""
from headbench.model.heads import HEADS, describe_kind, option_specs


def add_arguments(ap) -> None:
    pass


def listing() -> str:
    lines = []
    for name in sorted(HEADS):
        doc = (HEADS[name].__doc__ or "").strip().splitlines()
        lines.append(f"{name}: {doc[0] if doc else ''}")
        for opt, (kind, default) in option_specs(name).items():
            shown = str(default).lower() if isinstance(default, bool) else default   # as params.yaml writes it
            lines.append(f"    {opt:<16} {describe_kind(kind):<24} default {shown}")
    return "\n".join(lines)


def run(args) -> None:
    print(listing())
