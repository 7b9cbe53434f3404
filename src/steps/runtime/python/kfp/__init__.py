"""A stand-in for the few names of Kubeflow Pipelines v1 that a pipeline program in the lab's
template format touches when it is imported. argo-entrypoint runs such a program's running
component function itself (kfp_runner.py), so nothing here builds or compiles a pipeline: the
wrappers only record which function is wrapped with which image."""
from . import compiler, components, dsl


class Client:
    """A program that talks to a Kubeflow server cannot run as a step."""

    def __init__(self, *args, **kwargs):
        raise RuntimeError("kfp.Client is not available inside an argo-entrypoint step")


__all__ = ["Client", "compiler", "components", "dsl"]
