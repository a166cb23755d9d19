#!/usr/bin/python3
"""PyTorch baseline for MLNet.Vae's speed benchmark: the same VAE, measured the same way, printed as one JSON object.

Model: 784-400-20 MLP VAE (ReLU hidden layers, Bernoulli decoder on logits), loss = summed BCE + analytic KL averaged
per row, Adam, batch 128, rows shuffled each epoch: what MLNet.Vae trains with HiddenLayerSizes=[400], LatentDimension=20.
Scoring: encode, decode the mean, per-row reconstruction error (BCE minus the input's entropy), under no_grad.

Run by SpeedBenchmark (dotnet run -c Release --project src/MLNet.Vae.Benchmarks -- speed); needs Debian's python3-torch
with libopenblas0-openmp (setup-debian.sh).
"""
import argparse
import gzip
import json
import os
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def read_images(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    count, rows, cols = (int.from_bytes(data[i:i + 4], "big") for i in (4, 8, 12))
    pixels = np.frombuffer(data, dtype=np.uint8, offset=16).reshape(count, rows * cols)
    return torch.from_numpy(pixels.astype(np.float32) / np.float32(255.0))


class Vae(nn.Module):
    def __init__(self, width=784, hidden=400, latent=20):
        super().__init__()
        self.encoder = nn.Linear(width, hidden)
        self.mean = nn.Linear(hidden, latent)
        self.log_variance = nn.Linear(hidden, latent)
        self.decoder_hidden = nn.Linear(latent, hidden)
        self.decoder_output = nn.Linear(hidden, width)

    def encode(self, x):
        h = F.relu(self.encoder(x))
        return self.mean(h), self.log_variance(h)

    def decode(self, z):
        return self.decoder_output(F.relu(self.decoder_hidden(z)))


def score(model, x):
    mean, _ = model.encode(x)
    logits = model.decode(mean)
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)
    entropy = -(x * x.clamp_min(1e-12).log() + (1 - x) * (1 - x).clamp_min(1e-12).log()).sum(1)
    return bce - entropy


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--single-rows", type=int, default=2000)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    train = read_images(os.path.join(args.data, "train-images-idx3-ubyte.gz"))
    test = read_images(os.path.join(args.data, "t10k-images-idx3-ubyte.gz"))

    model = Vae()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    epoch_seconds = []
    for _ in range(args.epochs):
        start = time.perf_counter()
        model.train()
        for batch in torch.randperm(len(train)).split(128):
            x = train[batch]
            mean, log_variance = model.encode(x)
            z = mean + torch.exp(0.5 * log_variance) * torch.randn_like(mean)
            reconstruction = F.binary_cross_entropy_with_logits(model.decode(z), x, reduction="sum")
            kl = -0.5 * torch.sum(1 + log_variance - mean.pow(2) - log_variance.exp())
            loss = (reconstruction + kl) / len(x)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        epoch_seconds.append(time.perf_counter() - start)

    model.eval()
    batched = []
    with torch.no_grad():
        # One warm-up pass, then the median of 20: a single 10 000-row pass takes ~0.15 s, too short to time once.
        for repeat in range(21):
            start = time.perf_counter()
            for batch in test.split(1000):
                score(model, batch)
            if repeat > 0:
                batched.append(len(test) / (time.perf_counter() - start))
        latencies = []
        for i in range(args.single_rows):
            row = test[i % len(test)].unsqueeze(0)
            start = time.perf_counter()
            score(model, row)
            latencies.append(time.perf_counter() - start)
    latencies.sort()
    print(json.dumps({
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "epoch_seconds": epoch_seconds,
        "train_samples_per_second_median_epoch": len(train) / statistics.median(epoch_seconds),
        "score_rows_per_second_batched_median": statistics.median(batched),
        "single_row_microseconds_p50": 1e6 * latencies[len(latencies) // 2],
        "single_row_microseconds_p99": 1e6 * latencies[int(len(latencies) * 0.99)],
    }))


if __name__ == "__main__":
    main()
