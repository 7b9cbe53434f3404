"""Runs the running component function of a KFP v1 pipeline program in the lab's template format.

The lab's programs wrap three functions with func_to_container_op: download, running, upload.
argo-entrypoint downloads and uploads itself, so only the running function runs here, as KFP
would have run it in its pod:

- `kfp` is the stand-in next to this file, and `img_name_map` is a global of the program;
- the InputPath parameter gets a directory holding the files under the names the lab's download
  functions gave them (`original_dataset.zip`, `training_dataset.zip`, `pretrain_model.zip`, ...);
- the OutputPath parameter gets a path the function creates;
- each config key is passed by name, cast to the parameter's annotation;
- afterwards the output file goes to $OUTPUTS_DIR/$OUTPUT_FILE_NAME for the upload step, and
  `model_accuracy.txt` (or an evaluation's `metrics`) becomes the task's metrics.

Python 3.8 compatible: it runs in the build file's image.
"""
import inspect
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# The stand-in kfp wins over any installed kfp; an installed lab SDK wins over the fallback.
sys.path.insert(0, os.path.join(HERE, "python"))
sys.path.append(os.path.join(HERE, "python-fallback"))

from kfp import components  # noqa: E402

#: How the lab's download functions named each input, by task kind (original-clients.md §3).
INPUT_NAMES = {
    "preprocessing": {"dataset": "original_dataset"},
    "training": {"dataset": "training_dataset"},
    "optimization": {"dataset": "training_dataset", "pretrain_model": "pretrain_model"},
    "evaluation": {"dataset": "testing_dataset", "pretrain_model": "pretrain_model"},
}

#: The steps' keys in img_name_map, by task kind (download, running, upload).
STEP_KEYS = {
    "preprocessing": ["download_original_dataset", "preprocessing", "upload_training_dataset"],
    "training": ["download_training_dataset", "training", "upload_model"],
    "optimization": ["download_training_dataset", "retrain", "upload_model"],
    "evaluation": ["download_evaluation_files", "evaluation", "upload_metrics"],
}


class Failure(Exception):
    """A problem with the program or its results, reported in one line."""


class ImageNames(dict):
    """img_name_map: every step key names itself, so the runner can tell which function is which."""

    def __missing__(self, key):
        return key


def env(name):
    value = os.environ.get(name)
    if not value:
        raise Failure("%s is not set" % name)
    return value


def load_program(path, kind):
    source = open(path, encoding="utf-8").read()
    namespace = {"__name__": "pipeline_program", "__file__": path, "img_name_map": ImageNames((k, k) for k in STEP_KEYS[kind])}
    exec(compile(source, path, "exec"), namespace)
    return components.WRAPPED


def running_function(wrapped, step_name):
    """The function wrapped with the running step's image; else, of three, the second."""
    for candidate in wrapped:
        if candidate.base_image == step_name:
            return candidate.func
    if len(wrapped) == 3:
        return wrapped[1].func
    names = ", ".join("%s (%s)" % (w.__name__, w.base_image) for w in wrapped) or "none"
    raise Failure(
        "the program wraps no function with img_name_map[%r] and not three functions to take the second of; wrapped: %s"
        % (step_name, names)
    )


def stage_inputs(inputs_dir, target, kind):
    """The previous step's files under the names the lab's download functions used."""
    os.makedirs(target)
    names = INPUT_NAMES[kind]
    for entry in sorted(os.listdir(inputs_dir)):
        stem, extension = os.path.splitext(entry)
        if stem in names:
            os.symlink(os.path.join(inputs_dir, entry), os.path.join(target, names[stem] + (extension or ".zip")))
    return target


def cast(value, annotation, name):
    if annotation is inspect.Parameter.empty or annotation is None:
        return value
    try:
        if annotation is bool:
            if isinstance(value, str):
                return value.strip().lower() in ("1", "true", "yes")
            return bool(value)
        if annotation in (int, float, str):
            return annotation(value)
        if annotation in (dict, list):
            parsed = json.loads(value) if isinstance(value, str) else value
            if not isinstance(parsed, annotation):
                raise ValueError("not a %s" % annotation.__name__)
            return parsed
    except (TypeError, ValueError) as error:
        raise Failure("config key %s (%r) cannot be a %s: %s" % (name, value, getattr(annotation, "__name__", annotation), error))
    return value


def arguments(function, input_dir, output_path, config):
    """Keyword arguments: the paths by their markers, the config's keys by name."""
    passed = {}
    signature = inspect.signature(function)
    for name, parameter in signature.parameters.items():
        marker = parameter.annotation
        if isinstance(marker, components.InputPath):
            passed[name] = input_dir
        elif isinstance(marker, components.OutputPath):
            passed[name] = output_path
        elif name in config:
            passed[name] = cast(config[name], marker, name)
        elif parameter.kind is inspect.Parameter.VAR_KEYWORD:
            passed.update((key, value) for key, value in config.items() if key not in signature.parameters)
        elif parameter.default is inspect.Parameter.empty and parameter.kind not in (
            inspect.Parameter.VAR_POSITIONAL,
            inspect.Parameter.VAR_KEYWORD,
        ):
            raise Failure("%s needs %s, which the task's config does not have (config keys: %s)" % (
                function.__name__, name, ", ".join(sorted(config)) or "none"))
    unused = sorted(set(config) - set(passed))
    if unused:
        print("kfp_runner: config keys %s are not parameters of %s" % (", ".join(unused), function.__name__))
    return passed


def collect(output_path, outputs_dir, output_name, kind):
    """The function's output where the upload step takes it from, and its metrics."""
    if output_name:
        if os.path.isdir(output_path):
            produced = os.path.join(output_path, output_name)
            if not os.path.isfile(produced):
                archives = [name for name in os.listdir(output_path) if name.endswith(".zip")]
                if len(archives) != 1:
                    raise Failure("the running function wrote no %s into its output (found: %s)" % (
                        output_name, ", ".join(sorted(os.listdir(output_path))) or "nothing"))
                produced = os.path.join(output_path, archives[0])
        elif os.path.isfile(output_path):
            produced = output_path
        else:
            raise Failure("the running function did not create its output %s" % output_path)
        shutil.copyfile(produced, os.path.join(outputs_dir, output_name))
        print("kfp_runner: %s -> %s" % (os.path.basename(produced), output_name))

    metrics = {}
    accuracy_file = os.path.join(output_path, "model_accuracy.txt")
    if os.path.isfile(accuracy_file):
        text = open(accuracy_file, encoding="utf-8").read().strip()
        try:
            metrics["accuracy"] = float(text)
        except ValueError:
            raise Failure("model_accuracy.txt must hold one number (it holds %r)" % text[:80])
    for name in ("metrics", "metrics.json"):
        path = os.path.join(output_path, name)
        if kind == "evaluation" and os.path.isfile(path):
            try:
                reported = json.load(open(path, encoding="utf-8"))
            except ValueError as error:
                raise Failure("%s is not JSON: %s" % (name, error))
            if not isinstance(reported, dict):
                raise Failure("%s must be a JSON object" % name)
            metrics.update(reported)
    if metrics:
        with open(os.environ.get("METRICS_FILE") or os.path.join(outputs_dir, "metrics.json"), "w", encoding="utf-8") as out:
            json.dump(metrics, out)
        print("kfp_runner: metrics %s" % json.dumps(metrics))


def main(program):
    kind = env("TASK_KIND")
    if kind not in STEP_KEYS:
        raise Failure("unknown task kind %s" % kind)
    step_name = env("STEP_NAME")
    config = json.loads(os.environ.get("TASK_CONFIG") or "{}")
    inputs_dir, outputs_dir = env("INPUTS_DIR"), env("OUTPUTS_DIR")
    work = os.getcwd()

    function = running_function(load_program(program, kind), step_name)
    print("kfp_runner: running %s of %s" % (function.__name__, os.path.basename(program)))
    input_dir = stage_inputs(inputs_dir, os.path.join(work, "kfp-input"), kind)
    output_path = os.path.join(work, "kfp-output", "data")
    os.makedirs(os.path.dirname(output_path))
    function(**arguments(function, input_dir, output_path, config))
    collect(output_path, outputs_dir, os.environ.get("OUTPUT_FILE_NAME", ""), kind)


if __name__ == "__main__":
    try:
        main(sys.argv[1])
    except Failure as failure:
        print("kfp_runner: %s" % failure, file=sys.stderr)
        sys.exit(1)
