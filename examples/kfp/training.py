"""A training pipeline in the lab's KFP v1 template format (the GitBook's layout).

argo-entrypoint runs only `training` (the running function) with the config's `learning_rate` and
`epochs`. It fits a linear model by gradient descent on training_dataset.npy (last column the
target) and writes model.zip (model.h5 at its root: here the weights as JSON, standing in for
Keras's HDF5 in this standard-library example) and model_accuracy.txt (R², clipped to 0..1).
"""
import kfp
from kfp import dsl
import kfp.components as components
from kfp.components import func_to_container_op


def download_training_dataset(output: components.OutputPath(), training_dataset_uid: str, host: str, port: str,
                              access_key: str, secret_key: str):
    import os
    from mitlab_aiml_tools.auth.credential import CredentialServer
    from mitlab_aiml_tools.pipeline.file import FileUtility

    os.makedirs(output, exist_ok=True)
    credential = CredentialServer(host=host, port=port, access_key=access_key, secret_key=secret_key)
    response = FileUtility(credential_manager=credential).download("dataset", file_path=training_dataset_uid)
    with open(os.path.join(output, "training_dataset.zip"), "wb") as file:
        file.write(response.content)


def training(input: components.InputPath(), output: components.OutputPath(), learning_rate: float, epochs: int):
    import ast
    import json
    import os
    import struct
    from mitlab_aiml_tools.pipeline.compress import CompressionUtility

    print(CompressionUtility.decompress(compressed_file_path=os.path.join(input, "training_dataset.zip"),
                                       extract_path="training_dataset"))
    with open(os.path.join("training_dataset", "training_dataset.npy"), "rb") as file:
        assert file.read(8) == b"\x93NUMPY\x01\x00", "not a version 1.0 .npy file"
        (header_length,) = struct.unpack("<H", file.read(2))
        rows, width = ast.literal_eval(file.read(header_length).decode("latin1"))["shape"]
        values = struct.unpack("<%dd" % (rows * width), file.read(8 * rows * width))
    data = [values[index * width:(index + 1) * width] for index in range(rows)]

    weights = [0.0] * width  # one per feature, then the bias
    for _ in range(epochs):
        gradient = [0.0] * width
        for row in data:
            error = sum(w * x for w, x in zip(weights, row[:-1])) + weights[-1] - row[-1]
            for index, x in enumerate(row[:-1]):
                gradient[index] += error * x / rows
            gradient[-1] += error / rows
        weights = [w - learning_rate * g for w, g in zip(weights, gradient)]

    mean = sum(row[-1] for row in data) / rows
    residual = sum((sum(w * x for w, x in zip(weights, row[:-1])) + weights[-1] - row[-1]) ** 2 for row in data)
    total = sum((row[-1] - mean) ** 2 for row in data) or 1.0
    accuracy = max(0.0, min(1.0, 1.0 - residual / total))

    os.makedirs("model", exist_ok=True)
    with open(os.path.join("model", "model.h5"), "w") as file:
        json.dump({"weights": weights, "learning_rate": learning_rate, "epochs": epochs}, file)
    os.makedirs(output, exist_ok=True)
    print(CompressionUtility.compress(source_path="model/", compressed_file_path=os.path.join(output, "model.zip")))
    with open(os.path.join(output, "model_accuracy.txt"), "w") as file:
        file.write(str(accuracy))
    print("trained on %d rows: accuracy %.4f" % (rows, accuracy))


def upload_model(input: components.InputPath(), model_uid: str, host: str, port: str, access_key: str, secret_key: str):
    import os
    from mitlab_aiml_tools.auth.credential import CredentialServer
    from mitlab_aiml_tools.pipeline.file import FileUtility
    from mitlab_aiml_tools.pipeline.metrics import MetricUtility

    credential = CredentialServer(host=host, port=port, access_key=access_key, secret_key=secret_key)
    with open(os.path.join(input, "model.zip"), "rb") as file:
        print(FileUtility(credential_manager=credential).upload("model", model_uid, file={"file": file}))
    with open(os.path.join(input, "model_accuracy.txt")) as file:
        accuracy = float(file.read())
    print(MetricUtility(credential, "http", host, port, "api", "v1.1.5").upload_accuracy(os.path.basename(model_uid)[:-4], accuracy))


download_op = func_to_container_op(download_training_dataset, base_image=img_name_map["download_training_dataset"])
training_op = func_to_container_op(training, base_image=img_name_map["training"])
upload_op = func_to_container_op(upload_model, base_image=img_name_map["upload_model"])


@dsl.pipeline(name="training", description="a linear model by gradient descent")
def training_pipeline(training_task_uid: str, training_dataset_uid: str, model_uid: str, learning_rate: float,
                      epochs: int, host: str, port: str, access_key: str, secret_key: str):
    downloaded = download_op(training_dataset_uid, host, port, access_key, secret_key)
    trained = training_op(downloaded.output, learning_rate, epochs)
    upload_op(trained.output, model_uid, host, port, access_key, secret_key)


if __name__ == "__main__":
    kfp.compiler.Compiler().compile(training_pipeline, "pipeline.yaml")
