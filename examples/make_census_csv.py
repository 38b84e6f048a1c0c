"""Writes `examples/census/`: a small synthetic file in the shape of the census-income data
(the UCI/KDD file behind the MMoE paper's income / never-married tasks), for
`configs/csv_census.yaml`.

Like the real file it is headerless, every text cell starts with a space
(`" Private"`), unknown values are `?`, industry codes and the year are integers
that mean categories, `instance_weight` is a sampling weight (not a feature),
`marital_stat` is the source of the derived `never_married` label, and
`wage_per_hour` is in cents (values in the thousands). Two gzip shards for train,
one for test. Labels depend on the features, so a model has something to learn.
Deterministic (seed 0).

Run: .venv/bin/python examples/make_census_csv.py
"""

import csv
import gzip
import io
import os

import numpy as np

COLUMNS = ["age", "class_of_worker", "industry_code", "education", "marital_stat", "sex",
           "weeks_worked", "capital_gains", "wage_per_hour", "instance_weight", "year", "income"]
WORKERS = ("Private", "Self-employed-not incorporated", "Local government", "Not in universe")
EDUCATION = ("10th grade", "High school graduate", "Some college but no degree",
             "Bachelors degree(BA AB BS)", "Masters degree(MA MS MEng MEd MSW MBA)")
MARITAL = ("Never married", "Married-civilian spouse present", "Divorced", "Widowed")
FOLDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "census")
FILES = {"census-train-0.csv.gz": (300, 0), "census-train-1.csv.gz": (300, 1),
         "census-test.csv.gz": (150, 2)}


def rows(count, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        age = int(rng.integers(17, 80))
        education = int(rng.choice(len(EDUCATION), p=(0.15, 0.35, 0.25, 0.17, 0.08)))
        worker = int(rng.choice(len(WORKERS), p=(0.6, 0.1, 0.1, 0.2)))
        never = age < 30 and rng.random() < 0.8 or rng.random() < 0.08
        marital = 0 if never else int(rng.choice((1, 2, 3), p=(0.75, 0.15, 0.10)))
        sex = "Female" if rng.random() < 0.5 else "Male"
        weeks = 0 if worker == 3 else int(rng.integers(20, 53))
        gains = int(rng.choice((0, 0, 0, 0, 0, 0, 2174, 5178, 15024)))
        wage = 0 if weeks == 0 or rng.random() < 0.5 else \
            int(400 + 350 * education + 10 * min(age, 60) + rng.normal(0, 150))
        score = 0.8 * education + 0.03 * (weeks - 30) + gains / 5000 + 0.02 * min(age - 17, 35) \
            - 0.5 * (sex == "Female") - 3.5 + rng.normal(0, 0.7)
        row = [age, WORKERS[worker], int(rng.integers(0, 52)) if worker != 3 else 0,
               EDUCATION[education], MARITAL[marital], sex, weeks, gains, wage,
               round(float(rng.uniform(800, 3000)), 2), int(rng.choice((94, 95))),
               "50000+." if score > 0 else "- 50000."]
        for i, p in ((1, 0.05), (2, 0.03), (8, 0.05)):  # unknowns, as the real file writes them
            if rng.random() < p:
                row[i] = "?"
        # Numbers as bare digits, text with a leading space, as in the real file.
        yield [str(v) if isinstance(v, (int, float)) and i not in (1, 3, 4, 5, 11) else f" {v}"
               for i, v in enumerate(row)]


def main(folder=FOLDER):
    os.makedirs(folder, exist_ok=True)
    for name, (count, seed) in FILES.items():
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows(rows(count, seed))
        # mtime=0: the same bytes every time.
        with open(os.path.join(folder, name), "wb") as f:
            f.write(gzip.compress(text.getvalue().encode(), mtime=0))
        print(f"wrote {os.path.join(folder, name)}")


if __name__ == "__main__":
    main()
