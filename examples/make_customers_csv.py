"""Writes `examples/customers.csv`: a small synthetic multi-task CSV for `configs/csv_example.yaml`.

Features: age, city, device, tenure_months, monthly_visits (some cells empty).
Labels (some cells empty = missing labels): churned (binary yes/no), plan
(multiclass basic/plus/pro), spend (regression), interests (multilabel,
"|"-separated, "none" for no interest). Labels depend on the features, so a
model has something to learn. Deterministic (seed 0).

Run: .venv/bin/python examples/make_customers_csv.py
"""

import csv
import os

import numpy as np

CITIES = ("berlin", "lisbon", "oslo", "paris", "rome", "vienna")
DEVICES = ("android", "ios", "web")
INTERESTS = ("music", "news", "sports", "tech")


def rows(count, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        age = int(rng.integers(18, 80))
        city = CITIES[rng.integers(len(CITIES))]
        device = DEVICES[rng.integers(len(DEVICES))]
        tenure = int(rng.integers(0, 60))
        visits = round(float(rng.gamma(2.0, 4.0)), 1)
        churned = "yes" if visits + rng.normal(0, 2) < 5 or tenure < 3 else "no"
        plan = ("pro" if visits > 12 else "plus" if age > 45 else "basic")
        spend = round(5 + 1.5 * visits + 0.2 * tenure + rng.normal(0, 3), 2)
        likes = [i for i, p in zip(INTERESTS, (age < 35, age > 50, device == "android",
                                               device == "web")) if p or rng.random() < 0.1]
        row = {"age": age, "city": city, "device": device, "tenure_months": tenure,
               "monthly_visits": visits, "churned": churned, "plan": plan, "spend": spend,
               "interests": "|".join(likes) or "none"}
        for column, p in (("age", 0.05), ("city", 0.05), ("monthly_visits", 0.03),
                          ("churned", 0.1), ("plan", 0.1), ("spend", 0.15), ("interests", 0.1)):
            if rng.random() < p:
                row[column] = ""  # an empty cell: missing feature (imputed) or missing label
        yield row


def main(path=os.path.join(os.path.dirname(__file__), "customers.csv"), count=160):
    fields = ["age", "city", "device", "tenure_months", "monthly_visits", "churned", "plan",
              "spend", "interests"]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows(count))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
