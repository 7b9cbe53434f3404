"""Training step of the sample: fits y = w.x + b by gradient descent.

Step contract (README): reads $INPUTS_DIR/dataset.zip and $CONFIG_FILE, writes the model
to $OUTPUTS_DIR/$OUTPUT_FILE_NAME and metrics to $METRICS_FILE. Standard library only.
Set "fail": true in the config to see a failing step.
"""
import csv
import io
import json
import os
import sys
import zipfile

inputs, outputs = os.environ["INPUTS_DIR"], os.environ["OUTPUTS_DIR"]
config = json.load(open(os.environ["CONFIG_FILE"]))
if config.get("fail"):
    print("config asked this run to fail", file=sys.stderr)
    sys.exit(3)

with zipfile.ZipFile(os.path.join(inputs, "dataset.zip")) as archive:
    rows = list(csv.reader(io.TextIOWrapper(archive.open("data.csv"), encoding="utf-8")))
header = rows[0]
target = config.get("target", "y")
t = header.index(target)
xs = [[float(v) for i, v in enumerate(row) if i != t] for row in rows[1:]]
ys = [float(row[t]) for row in rows[1:]]

# Standardize features so one learning rate suits any input scale; the model keeps the scaling.
means = [sum(column) / len(column) for column in zip(*xs)]
spreads = [max((sum((v - m) ** 2 for v in column) / len(column)) ** 0.5, 1e-12) for column, m in zip(zip(*xs), means)]
xs = [[(v - m) / s for v, m, s in zip(x, means, spreads)] for x in xs]

rate, epochs = float(config.get("learning_rate", 0.1)), int(config.get("epochs", 200))
weights, bias = [0.0] * len(xs[0]), 0.0
for epoch in range(epochs):
    grad_w, grad_b = [0.0] * len(weights), 0.0
    for x, y in zip(xs, ys):
        error = sum(w * v for w, v in zip(weights, x)) + bias - y
        grad_w = [g + error * v for g, v in zip(grad_w, x)]
        grad_b += error
    weights = [w - rate * g / len(xs) for w, g in zip(weights, grad_w)]
    bias -= rate * grad_b / len(xs)
    if epoch % max(1, epochs // 5) == 0:
        loss = sum((sum(w * v for w, v in zip(weights, x)) + bias - y) ** 2 for x, y in zip(xs, ys)) / len(xs)
        print(f"epoch {epoch} loss {loss:.4f}", flush=True)

mean = sum(ys) / len(ys)
predictions = [sum(w * v for w, v in zip(weights, x)) + bias for x in xs]
r2 = 1 - sum((p - y) ** 2 for p, y in zip(predictions, ys)) / sum((y - mean) ** 2 for y in ys)
with zipfile.ZipFile(os.path.join(outputs, os.environ["OUTPUT_FILE_NAME"]), "w") as archive:
    archive.writestr("model.json", json.dumps({
        "features": [h for h in header if h != target], "means": means, "spreads": spreads, "weights": weights, "bias": bias,
    }))
json.dump({"accuracy": round(r2, 4)}, open(os.environ["METRICS_FILE"], "w"))
print(f"trained on {len(xs)} rows, r2={r2:.4f}")
