"""An optimization (retrain) pipeline in the lab's KFP v1 template format (the GitBook's layout).

argo-entrypoint runs only `retrain`: it starts from the base model's weights (model.h5 at the root
of pretrain_model.zip, as training.py writes it), takes `epochs` more steps of gradient descent at
`learning_rate` on training_dataset.npy and writes the new model.zip. Standard library only.
"""
import kfp
from kfp import dsl
import kfp.components as components
from kfp.components import func_to_container_op


def download_training_dataset(output: components.OutputPath(), training_dataset_uid: str, pretrain_model_uid: str,
                              model_access_token: str, host: str, port: str, access_key: str, secret_key: str):
    import os
    from mitlab_aiml_tools.auth.credential import CredentialServer
    from mitlab_aiml_tools.pipeline.file import FileUtility

    os.makedirs(output, exist_ok=True)
    files = FileUtility(credential_manager=CredentialServer(host=host, port=port, access_key=access_key, secret_key=secret_key))
    with open(os.path.join(output, "training_dataset.zip"), "wb") as file:
        file.write(files.download("dataset", file_path=training_dataset_uid).content)
    with open(os.path.join(output, "pretrain_model.zip"), "wb") as file:
        file.write(files.download("model", model_uid=pretrain_model_uid, model_access_token=model_access_token).content)


def retrain(input: components.InputPath(), output: components.OutputPath(), learning_rate: float, epochs: int):
    import ast
    import json
    import os
    import struct
    from mitlab_aiml_tools.pipeline.compress import CompressionUtility

    for archive, folder in (("training_dataset.zip", "training_dataset"), ("pretrain_model.zip", "pretrain_model")):
        print(CompressionUtility.decompress(compressed_file_path=os.path.join(input, archive), extract_path=folder))
    with open(os.path.join("pretrain_model", "model.h5")) as file:
        weights = json.load(file)["weights"]
    with open(os.path.join("training_dataset", "training_dataset.npy"), "rb") as file:
        assert file.read(8) == b"\x93NUMPY\x01\x00", "not a version 1.0 .npy file"
        (header_length,) = struct.unpack("<H", file.read(2))
        rows, width = ast.literal_eval(file.read(header_length).decode("latin1"))["shape"]
        values = struct.unpack("<%dd" % (rows * width), file.read(8 * rows * width))
    data = [values[index * width:(index + 1) * width] for index in range(rows)]
    assert len(weights) == width, "the base model was trained on %d columns, the dataset has %d" % (len(weights), width)

    predict = lambda row: sum(w * x for w, x in zip(weights, row[:-1])) + weights[-1]  # noqa: E731
    before = sum((predict(row) - row[-1]) ** 2 for row in data) / rows
    for _ in range(epochs):
        errors = [predict(row) - row[-1] for row in data]
        gradient = [sum(e * row[index] for e, row in zip(errors, data)) / rows for index in range(width - 1)] + [sum(errors) / rows]
        weights = [w - learning_rate * g for w, g in zip(weights, gradient)]
    after = sum((predict(row) - row[-1]) ** 2 for row in data) / rows

    os.makedirs("model", exist_ok=True)
    with open(os.path.join("model", "model.h5"), "w") as file:
        json.dump({"weights": weights, "learning_rate": learning_rate, "epochs": epochs, "retrained": True}, file)
    os.makedirs(output, exist_ok=True)
    print(CompressionUtility.compress(source_path="model/", compressed_file_path=os.path.join(output, "model.zip")))
    print("retrained on %d rows: mean squared error %.5f -> %.5f" % (rows, before, after))


def upload_model(input: components.InputPath(), model_uid: str, host: str, port: str, access_key: str, secret_key: str):
    import os
    from mitlab_aiml_tools.auth.credential import CredentialServer
    from mitlab_aiml_tools.pipeline.file import FileUtility

    credential = CredentialServer(host=host, port=port, access_key=access_key, secret_key=secret_key)
    with open(os.path.join(input, "model.zip"), "rb") as file:
        print(FileUtility(credential_manager=credential).upload("model", model_uid, file={"file": file}))


download_op = func_to_container_op(download_training_dataset, base_image=img_name_map["download_training_dataset"])
retrain_op = func_to_container_op(retrain, base_image=img_name_map["retrain"])
upload_op = func_to_container_op(upload_model, base_image=img_name_map["upload_model"])


@dsl.pipeline(name="retrain", description="more gradient descent from a base model")
def retrain_pipeline(retrain_task_uid: str, training_dataset_uid: str, pretrain_model_uid: str, model_access_token: str,
                     model_uid: str, learning_rate: float, epochs: int, host: str, port: str, access_key: str,
                     secret_key: str):
    downloaded = download_op(training_dataset_uid, pretrain_model_uid, model_access_token, host, port, access_key, secret_key)
    retrained = retrain_op(downloaded.output, learning_rate, epochs)
    upload_op(retrained.output, model_uid, host, port, access_key, secret_key)


if __name__ == "__main__":
    kfp.compiler.Compiler().compile(retrain_pipeline, "pipeline.yaml")
