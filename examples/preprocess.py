"""Preprocessing step of the sample: min-max scales every feature of data.csv.

Step contract (README): reads $INPUTS_DIR/dataset.zip and $CONFIG_FILE, writes
$OUTPUTS_DIR/$OUTPUT_FILE_NAME. Standard library only.
"""
import csv
import io
import json
import os
import sys
import zipfile

inputs, outputs = os.environ["INPUTS_DIR"], os.environ["OUTPUTS_DIR"]
config = json.load(open(os.environ["CONFIG_FILE"]))
print(f"preprocessing with config {config}")

with zipfile.ZipFile(os.path.join(inputs, "dataset.zip")) as archive:
    # Read members by name, never extract by path: a hostile archive cannot write outside.
    rows = list(csv.reader(io.TextIOWrapper(archive.open("data.csv"), encoding="utf-8")))

header, body = rows[0], [[float(value) for value in row] for row in rows[1:]]
columns = list(zip(*body))
scaled_columns = []
for index, column in enumerate(columns):
    if header[index] == config.get("target", "y"):
        scaled_columns.append(column)
        continue
    low, high = min(column), max(column)
    scaled_columns.append([(v - low) / (high - low) if high > low else 0.0 for v in column])

out = io.StringIO()
writer = csv.writer(out)
writer.writerow(header)
writer.writerows(zip(*scaled_columns))
target = os.path.join(outputs, os.environ["OUTPUT_FILE_NAME"])
with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
    archive.writestr("data.csv", out.getvalue())
print(f"scaled {len(body)} rows, {len(header)} columns -> {os.path.basename(target)}")
sys.exit(0)
