"""kfp.components as far as the lab's templates use it: wrapping functions and path markers."""


class InputPath:
    """Marks a parameter that receives the previous step's files (a directory)."""

    def __init__(self, type=None):
        self.type = type


class OutputPath:
    """Marks a parameter that names where the function writes its output."""

    def __init__(self, type=None):
        self.type = type


class _Task:
    """What calling a wrapped function inside a pipeline gives: every setter is accepted and ignored."""

    def __init__(self, name):
        self.name = name
        self.output = self
        self.outputs = {}

    def __getattr__(self, _name):
        def ignored(*args, **kwargs):
            return self

        return ignored


class WrappedFunction:
    """A component made from a function; `func` and `base_image` are what the runner reads."""

    def __init__(self, func, base_image):
        self.func = func
        self.base_image = base_image
        self.__name__ = getattr(func, "__name__", "component")

    def __call__(self, *args, **kwargs):
        return _Task(self.__name__)


#: Every wrapped function, in the order the program wrapped them.
WRAPPED = []


def func_to_container_op(func, output_component_file=None, base_image=None, packages_to_install=None, **kwargs):
    wrapped = WrappedFunction(func, base_image)
    WRAPPED.append(wrapped)
    return wrapped


create_component_from_func = func_to_container_op
