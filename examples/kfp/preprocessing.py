"""A preprocessing pipeline in the lab's KFP v1 template format (the GitBook's layout).

argo-entrypoint runs only `preprocessing` (the running function): its own download and upload
steps replace the two SDK functions. Standard library only, so it runs in any Python 3 image:
the array is written as a .npy file by hand, as numpy would write it.
"""
import kfp
from kfp import dsl
import kfp.components as components
from kfp.components import func_to_container_op


def download_original_dataset(output: components.OutputPath(), original_dataset_uid: str, host: str, port: str,
                              access_key: str, secret_key: str):
    import os
    from mitlab_aiml_tools.auth.credential import CredentialServer
    from mitlab_aiml_tools.pipeline.file import FileUtility

    os.makedirs(output, exist_ok=True)
    credential = CredentialServer(host=host, port=port, access_key=access_key, secret_key=secret_key)
    response = FileUtility(credential_manager=credential).download("dataset", file_path=original_dataset_uid)
    with open(os.path.join(output, "original_dataset.zip"), "wb") as file:
        file.write(response.content)


def preprocessing(input: components.InputPath(), output: components.OutputPath()):
    import csv
    import os
    import struct
    from mitlab_aiml_tools.pipeline.compress import CompressionUtility

    print(CompressionUtility.decompress(compressed_file_path=os.path.join(input, "original_dataset.zip"),
                                       extract_path="original_dataset"))
    with open(os.path.join("original_dataset", "original_dataset.csv"), newline="") as file:
        rows = list(csv.DictReader(file))
    features = [name for name in rows[0] if name != "time"]
    columns = {name: [float(row[name]) for row in rows] for name in features}
    scaled = {}
    for name in features[:-1]:  # the last column is the target; the others are min-max scaled
        low, high = min(columns[name]), max(columns[name])
        scaled[name] = [(value - low) / (high - low) if high > low else 0.0 for value in columns[name]]
    scaled[features[-1]] = columns[features[-1]]

    os.makedirs("training_dataset", exist_ok=True)
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (%d, %d), }" % (len(rows), len(features))
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    with open(os.path.join("training_dataset", "training_dataset.npy"), "wb") as file:
        file.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1"))
        for index in range(len(rows)):
            file.write(struct.pack("<%dd" % len(features), *(scaled[name][index] for name in features)))
    os.makedirs(output, exist_ok=True)
    print(CompressionUtility.compress(source_path="training_dataset/",
                                      compressed_file_path=os.path.join(output, "training_dataset.zip")))
    print("preprocessed %d rows of %s" % (len(rows), ", ".join(features)))


def upload_training_dataset(input: components.InputPath(), training_dataset_uid: str, host: str, port: str,
                            access_key: str, secret_key: str):
    import os
    from mitlab_aiml_tools.auth.credential import CredentialServer
    from mitlab_aiml_tools.pipeline.file import FileUtility

    credential = CredentialServer(host=host, port=port, access_key=access_key, secret_key=secret_key)
    with open(os.path.join(input, "training_dataset.zip"), "rb") as file:
        print(FileUtility(credential_manager=credential).upload("dataset", training_dataset_uid, file={"file": file}))


download_op = func_to_container_op(download_original_dataset, base_image=img_name_map["download_original_dataset"])
preprocessing_op = func_to_container_op(preprocessing, base_image=img_name_map["preprocessing"])
upload_op = func_to_container_op(upload_training_dataset, base_image=img_name_map["upload_training_dataset"])


@dsl.pipeline(name="preprocessing", description="min-max scales the features of original_dataset.csv")
def preprocessing_pipeline(preprocessing_task_uid: str, original_dataset_uid: str, training_dataset_uid: str,
                           host: str, port: str, access_key: str, secret_key: str):
    downloaded = download_op(original_dataset_uid, host, port, access_key, secret_key)
    processed = preprocessing_op(downloaded.output)
    upload_op(processed.output, training_dataset_uid, host, port, access_key, secret_key)


if __name__ == "__main__":
    kfp.compiler.Compiler().compile(preprocessing_pipeline, "pipeline.yaml")
