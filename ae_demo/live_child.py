"""Watch it learn, the child's side: the small dense autoencoder trained in a worker process of its own.

    python -m ae_demo.live_child --latent-dim 2     # live_training.LiveTrainer starts it

It trains (``train_live``) and sends what the page shows, a dict of ``live_training.LiveSnapshot``'s fields,
to the server as a pickled message on its stdout before the first epoch and after every epoch;
the server's messages come on its stdin (both through ``ae_demo.workers``). See
``ae_demo.live_training`` for the server's side and the numbers both sides share.
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time

import numpy as np

from . import workers
from .datasets import DEFAULT_DATASET, names
from .live_training import (BATCH_SIZE, EPOCHS, HIDDEN, LEARNING_RATE, MAX_SECONDS, N_TRAIN, N_UNSEEN, NICE,
                            SHOWN_CLASSES)


def live_data(dataset: str):
    """(train (1600, 1, 28, 28), unseen (400, 1, 28, 28)) float32 tensors in [0, 1], unseen labels (400,),
    rows of the 8 shown images within ``unseen``: all from the bundled held-out sample."""
    from .data import to_unit
    from .zoo import load_verified_reference

    reference = load_verified_reference(dataset)
    rows = np.arange(len(reference.labels))
    train_rows, unseen_rows = rows[rows % 5 != 0][:N_TRAIN], rows[rows % 5 == 0][:N_UNSEEN]
    unseen_labels = reference.labels.numpy()[unseen_rows]
    shown = np.array([np.flatnonzero(unseen_labels == c)[0] for c in SHOWN_CLASSES])
    return (to_unit(reference.images[train_rows]), to_unit(reference.images[unseen_rows]), unseen_labels, shown)


def train_live(dataset: str, latent_dim: int, seed: int, epochs: int, deadline: float,
               report, should_stop=lambda: False) -> str:
    """Train the small dense autoencoder for ``epochs`` epochs or until ``deadline`` (time.time()),
    calling ``report(fields)`` after every epoch (and before the first); return "finished" (the
    budget is spent) or "stopped" (``should_stop()`` became true).

    fields: a dict of what :class:`LiveSnapshot` holds, as numpy arrays.
    """
    import torch

    from .metrics import sse as sse_of
    from .models import DenseAutoencoder, ModelConfig
    from .train import Recipe, training_loss

    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    train, unseen, unseen_labels, shown = live_data(dataset)
    config = ModelConfig("dense", latent_dim, hidden=HIDDEN)
    model = DenseAutoencoder(config)
    recipe = Recipe("dense", dataset, config, lr=LEARNING_RATE)  # the zoo's loss for a dense net, as it trains them
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    losses: list[tuple[int, float]] = []
    shown_sse, unseen_sse, epoch_times = [], [], []

    def evaluate(epoch: int, state: str) -> None:
        model.eval()
        with torch.no_grad():
            recon = model.reconstruct(unseen)
            sse = sse_of(recon, unseen)
            codes = model.encode(unseen) if latent_dim == 2 else torch.zeros(0, 2)
        model.train()
        shown_sse.append(float(sse[shown].mean()))
        unseen_sse.append(float(sse.mean()))
        epoch_times.append(time.time())
        report({"state": state, "epoch": epoch, "loss_history": np.array(losses, np.float32).reshape(-1, 2),
                "images": unseen[shown, 0].numpy(), "reconstructions": recon[shown, 0].numpy(),
                "shown_sse": np.array(shown_sse, np.float32), "unseen_sse": np.array(unseen_sse, np.float32),
                "epoch_times": np.array(epoch_times), "codes": codes.numpy().astype(np.float32),
                "code_labels": unseen_labels})

    evaluate(0, "training")
    step = 0
    for epoch in range(1, epochs + 1):
        order = torch.randperm(len(train), generator=generator)
        for start in range(0, len(train), BATCH_SIZE):
            if should_stop():
                evaluate(epoch - 1, "stopped")
                return "stopped"
            batch = train[order[start:start + BATCH_SIZE]]
            loss = training_loss(model, batch, batch, recipe)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            losses.append((step, loss.item()))
        out_of_time = time.time() > deadline
        evaluate(epoch, "finished" if epoch == epochs or out_of_time else "training")
        if out_of_time:
            break
    return "finished"


def _follow_the_server(stop: threading.Event) -> None:
    """"stop" from the server asks for a stop; the end of its messages means the server is gone: nobody
    will read the snapshots, so the process ends."""
    for message in workers.server_messages():
        if message == "stop":
            stop.set()
            return
    os._exit(0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ae_demo.live_child", description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default=DEFAULT_DATASET, choices=names())
    parser.add_argument("--latent-dim", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--deadline", type=float, help="time.time() by which to stop (default: now + MAX_SECONDS)")
    args = parser.parse_args(argv)
    workers.lower_priority(NICE)   # before importing torch: the import itself is seconds of CPU
    snapshots = workers.replies_channel()  # a stray print (a warning of torch's) goes to stderr, not the snapshots
    import torch

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    stop = threading.Event()
    threading.Thread(target=_follow_the_server, args=(stop,), daemon=True).start()
    deadline = args.deadline if args.deadline is not None else time.time() + MAX_SECONDS
    train_live(args.dataset, args.latent_dim, args.seed, args.epochs, deadline,
               lambda fields: workers.send(snapshots, fields), stop.is_set)
    return 0


if __name__ == "__main__":
    sys.exit(main())
