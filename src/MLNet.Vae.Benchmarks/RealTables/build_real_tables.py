"""Builds the twelve tables of the real-table development suite from the frames export.R wrote, and checks their MD5s.

Each table is a CSV with float columns f0..f{d-1} and a label column (1 = anomaly, 0 = normal): a minority class, or a
few small classes, is the anomaly (the ODDS/ADBench protocol), kept whole or downsampled with numpy's default_rng(0).
Usage: python3 build_real_tables.py <exported frames folder> <suite folder>
"""
import csv
import hashlib
import os
import sys

import numpy as np

# The MD5 of each table as a correct rebuild writes it (csv.writer, newline="", repr(float) values, integer labels).
EXPECTED_MD5 = {
    "vertebral": "7f388532a648ba6b723a7840b194e01f",
    "heart": "6671477bfebae2397ad811e44504fe32",
    "ilpd": "d41d9ac5e2c37906193c0f41f912e192",
    "body": "ba90f03e59d4bdb37a2d771ce613b428",
    "cells": "37111fddd25bdd8b2144fbcee6bf49d6",
    "dhfr": "42cd95fa3b64d30c440209151799dbdf",
    "german": "073500298683ab5103f223294d67a67c",
    "lending": "67128ab33632575d09e99b17092a50a4",
    "churn": "250910f8f306432d93520f08d7742bca",
    "hpc": "b71faafb2bc2ad5c467cbb3c9b735cd3",
    "cps1988": "16f98788be0d13259c77d1e31966b7b1",
    "hmda": "49508aa7683e06a57a381f2ac7fdf9dd",
}


def frame(folder, package, name):
    """The exported frame: its header and its rows of strings."""
    with open(os.path.join(folder, f"{package}_{name}.csv"), newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def columns(header, rows, names):
    return [[row[header.index(n)] for n in names] for row in rows]


def yes(value):
    return 1.0 if value == "yes" else 0.0


def downsample(x, y, k):
    """Every normal row and k anomalies drawn with a fresh default_rng(0), back in source order."""
    rng = np.random.default_rng(0)
    anomalies = np.sort(rng.choice(np.where(y == 1)[0], size=k, replace=False))
    keep = np.sort(np.concatenate([np.where(y == 0)[0], anomalies]))
    return x[keep], y[keep]


def numeric(cells):
    return np.array([[float(v) for v in row] for row in cells], dtype=np.float64)


def build(folder):
    tables = {}

    h, r = frame(folder, "ddalpha", "vertebral_column")
    x, y = numeric(columns(h, r, [f"X{i}" for i in range(1, 7)])), np.array([1 if row[h.index("C")] == "NO" else 0 for row in r])
    tables["vertebral"] = downsample(x, y, 30)

    h, r = frame(folder, "ddalpha", "heart")
    x, y = numeric(columns(h, r, [f"X{i}" for i in range(1, 14)])), np.array([1 if row[h.index("C")] == "2" else 0 for row in r])
    tables["heart"] = downsample(x, y, 7)

    h, r = frame(folder, "ddalpha", "indian_liver_patient_1vs2")
    x, y = numeric(columns(h, r, [f"X{i}" for i in range(1, 11)])), np.array([1 if row[h.index("C")] == "1" else 0 for row in r])
    tables["ilpd"] = downsample(x, y, 18)

    h, r = frame(folder, "gclus", "body")
    x, y = numeric(columns(h, r, [c for c in h if c != "Gender"])), np.array([1 if row[h.index("Gender")] == "1" else 0 for row in r])
    tables["body"] = downsample(x, y, 13)

    h, r = frame(folder, "modeldata", "cells")
    tables["cells"] = (numeric(columns(h, r, [c for c in h if c not in ("case", "class")])),
                       np.array([1 if row[h.index("class")] == "WS" else 0 for row in r]))

    h, r = frame(folder, "caret", "dhfr")
    tables["dhfr"] = (numeric(columns(h, r, [c for c in h if c != "Y"])), np.array([1 if row[h.index("Y")] == "inactive" else 0 for row in r]))

    h, r = frame(folder, "caret", "GermanCredit")
    dropped = ("Class", "Purpose.Vacation", "Personal.Female.Single")
    tables["german"] = (numeric(columns(h, r, [c for c in h if c not in dropped])), np.array([1 if row[h.index("Class")] == "Bad" else 0 for row in r]))

    h, r = frame(folder, "modeldata", "lending_club")
    names = ["funded_amnt", "term", "int_rate", "sub_grade", "annual_inc", "delinq_2yrs", "inq_last_6mths", "revol_util", "acc_now_delinq",
             "open_il_6m", "open_il_12m", "open_il_24m", "total_bal_il", "all_util", "inq_fi", "inq_last_12m", "delinq_amnt", "num_il_tl",
             "total_il_high_credit_limit"]
    cells = columns(h, r, names)
    for row in cells:
        row[1] = 1.0 if row[1] == "term_60" else 0.0
        row[3] = float("ABCDEFG".index(row[3][0]) * 5 + int(row[3][1]))
    tables["lending"] = (numeric(cells), np.array([1 if row[h.index("Class")] == "bad" else 0 for row in r]))

    h, r = frame(folder, "modeldata", "mlc_churn")
    names = [c for c in h if c not in ("state", "area_code", "churn")]
    cells = columns(h, r, names)
    for row in cells:
        for c in ("international_plan", "voice_mail_plan"):
            row[names.index(c)] = yes(row[names.index(c)])
    tables["churn"] = (numeric(cells), np.array([1 if row[h.index("churn")] == "yes" else 0 for row in r]))

    h, r = frame(folder, "modeldata", "hpc_data")
    names = ["compounds", "input_fields", "iterations", "num_pending", "hour", "day"]
    cells = columns(h, r, names)
    days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    for row in cells:
        row[5] = float(days.index(row[5]) + 1)
    tables["hpc"] = (numeric(cells), np.array([1 if row[h.index("class")] == "L" else 0 for row in r]))

    h, r = frame(folder, "AER", "CPS1988")
    cells = []
    for row in r:
        region = row[h.index("region")]
        cells.append([row[h.index("wage")], row[h.index("education")], row[h.index("experience")],
                      1.0 if row[h.index("ethnicity")] == "afam" else 0.0, yes(row[h.index("smsa")])]
                     + [1.0 if region == name else 0.0 for name in ("northeast", "midwest", "south", "west")])
    tables["cps1988"] = (numeric(cells), np.array([1 if row[h.index("parttime")] == "yes" else 0 for row in r]))

    h, r = frame(folder, "AER", "HMDA")
    names = ["pirat", "hirat", "lvrat", "chist", "mhist", "phist", "unemp", "selfemp", "insurance", "condomin", "afam", "single", "hschool"]
    flags = {"phist", "selfemp", "insurance", "condomin", "afam", "single", "hschool"}
    cells = [[yes(row[h.index(n)]) if n in flags else row[h.index(n)] for n in names] for row in r]
    tables["hmda"] = (numeric(cells), np.array([1 if row[h.index("deny")] == "yes" else 0 for row in r]))
    return tables


def write(path, x, y):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([f"f{i}" for i in range(x.shape[1])] + ["label"])
        for features, label in zip(x, y):
            writer.writerow([repr(float(v)) for v in features] + [int(label)])


def main():
    source, target = sys.argv[1], sys.argv[2]
    os.makedirs(target, exist_ok=True)
    wrong = []
    for name, (x, y) in build(source).items():
        path = os.path.join(target, f"{name}.csv")
        write(path, x, y)
        with open(path, "rb") as f:
            md5 = hashlib.md5(f.read()).hexdigest()
        ok = md5 == EXPECTED_MD5[name]
        if not ok:
            wrong.append(name)
        print(f"{name}: {x.shape[0]} rows, {x.shape[1]} features, {int(y.sum())} anomalies ({y.mean():.2%}), MD5 {md5} {'ok' if ok else 'WRONG, expected ' + EXPECTED_MD5[name]}")
    if wrong:
        sys.exit(f"{len(wrong)} tables do not match the suite's MD5s: {', '.join(wrong)}")


if __name__ == "__main__":
    main()
