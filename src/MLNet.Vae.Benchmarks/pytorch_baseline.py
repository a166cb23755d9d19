#!/usr/bin/python3
"""PyTorch baseline for MLNet.Vae's speed benchmark: the same VAE, measured the same way, printed as one JSON object.

Model: 784-400-20 MLP VAE (ReLU hidden layers, Bernoulli decoder on logits), loss = summed BCE + analytic KL averaged
per row, Adam, batch 128, rows shuffled each epoch: what MLNet.Vae trains with HiddenLayerSizes=[400], LatentDimension=20.
Scoring: encode, decode the mean, per-row reconstruction error (BCE minus the input's entropy), under no_grad.

With --probe it only measures one sgemm and names the OpenBLAS kernel: SpeedBenchmark probes several OpenBLAS settings
and runs the baseline with the fastest accurate one.
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


def openblas_kernel():
    """The OpenBLAS library torch runs on and the kernel it chose (openblas_get_corename), or 'not OpenBLAS'."""
    import ctypes
    with open("/proc/self/maps") as maps:
        for line in maps:
            if "openblas" in line:
                library = ctypes.CDLL(line.split()[-1])
                library.openblas_get_corename.restype = ctypes.c_char_p
                return library.openblas_get_corename().decode()
    return "not OpenBLAS"


def probe_gemm():
    """The baseline's 512x784 by 784x400 sgemm rate (median of 200) and its largest relative error against float64."""
    torch.manual_seed(1)
    a, b = torch.rand(512, 784), torch.rand(784, 400)
    for _ in range(20):
        a @ b
    times = []
    for _ in range(200):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    exact = a.double() @ b.double()
    error = ((a @ b).double() - exact).abs().max().item() / exact.abs().max().item()
    return {"kernel": openblas_kernel(), "gflops": 2 * 512 * 784 * 400 / statistics.median(times) / 1e9, "relative_error": error}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--single-rows", type=int, default=2000)
    parser.add_argument("--probe", action="store_true", help="only print the GEMM rate and the OpenBLAS kernel")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.probe:
        print(json.dumps(probe_gemm()))
        return
    gemm = probe_gemm()
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
        mean, log_variance = model.encode(test)
        z = mean + torch.exp(0.5 * log_variance) * torch.randn_like(mean)
        test_bce = F.binary_cross_entropy_with_logits(model.decode(z), test, reduction="sum")
        test_kl = -0.5 * torch.sum(1 + log_variance - mean.pow(2) - log_variance.exp())
        test_elbo = ((test_bce + test_kl) / len(test)).item()
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
        "kernel": gemm["kernel"],
        "test_negative_elbo": test_elbo,
        "gflops": gemm["gflops"],
        "epoch_seconds": epoch_seconds,
        "train_samples_per_second_median_epoch": len(train) / statistics.median(epoch_seconds),
        "score_rows_per_second_batched_median": statistics.median(batched),
        "single_row_microseconds_p50": 1e6 * latencies[len(latencies) // 2],
        "single_row_microseconds_p99": 1e6 * latencies[int(len(latencies) * 0.99)],
    }))


if __name__ == "__main__":
    main()
